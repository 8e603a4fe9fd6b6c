/**
 * Config fuzzing with a fixed seed, over every key of the schema and every way in (a config
 * file line, a CODECARBON_* variable, a code option): hostile numbers (1e309, 2.01, 65536,
 * 2^53 + 1), paths that climb out (../), blanks, terminal escapes, megabytes, URL passwords.
 * Each input is either refused with a ConfigError whose message is short, escape-free and masks
 * the password, or accepted with settings the tracker can really use: finite numbers, whole
 * milliseconds, ports up to 65535, a non-blank host, CSV and task files inside output_dir.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveConfig } from "../../src/config/load-config";
import { renderConfig } from "../../src/cli/config-command";
import { configSpecs, type KeySpec } from "../../src/config/schema";
import type { TrackerSettings } from "../../src/config/options.generated";
import { ConfigError } from "../../src/errors";
import { taskFileFor } from "../../src/output/csv-sink";
import { timeoutMsFromSeconds } from "../../src/units";
import { hostileString, pick, Tally } from "./tally";
import { seededRandom } from "../helpers/seeded-random";

const tally = new Tally("config fuzzing");
after(() => console.log(tally.line()));

const PASSWORD = "hunter2-secret";
const TEXT_POOL = [
  "",
  " ",
  "0",
  "-0",
  "1",
  "-1",
  "2.01",
  "0.0001",
  "1e-300",
  "1e309",
  "-1e309",
  "NaN",
  "Infinity",
  "-Infinity",
  "65535",
  "65536",
  "70000",
  "99999999999999999999",
  "9007199254740993",
  "0x10",
  "1_000",
  "true",
  "none",
  "null",
  "[0, 1]",
  "[",
  "a,b",
  "../../etc/passwd",
  "/etc/passwd",
  "sub/../../x",
  "..",
  "\u001b[31mred\u001b[0m",
  "\u009b31m",
  "😀",
  "a".repeat(5000),
  `http://user:${PASSWORD}@127.0.0.1:1/x`,
  "=cmd|' /C calc'!A0",
  "0.0.0.0",
  "localhost",
];
const CODE_POOL: unknown[] = [
  Infinity,
  -Infinity,
  NaN,
  Number("1e309"),
  70000,
  65536,
  65535,
  -1,
  0,
  2.01,
  1e-300,
  2 ** 53 + 1,
  "",
  " ",
  null,
  {},
  [],
  [Infinity],
  ["../x"],
  true,
  "x".repeat(10_000),
  "../../outside.csv",
  `https://u:${PASSWORD}@127.0.0.1:1`,
];
const RANDOM_TEXTS_PER_KEY = 12;
const MAX_MESSAGE_CHARS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

const home = fs.mkdtempSync(path.join(os.tmpdir(), "cc-fuzz-home-"));
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "cc-fuzz-cwd-"));
after(() => {
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(cwd, { recursive: true, force: true });
});

/** Whether `file` (a path already joined to `folder`) lies inside `folder`. */
const inside = (folder: string, file: string) => {
  const relative = path.relative(path.resolve(folder), path.resolve(file));
  return relative !== "" && relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
};

/** What the tracker needs of settings that passed validation; the first broken rule, or null. */
function brokenRule(settings: TrackerSettings): string | null {
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value === "number" && !Number.isFinite(value)) return `${key} is ${value}`;
    if (Array.isArray(value) && value.some((v) => typeof v === "number" && !Number.isSafeInteger(v)))
      return `${key} has ${String(value)}`;
  }
  for (const seconds of [settings.apiTimeoutSecs, settings.geolocationTimeoutSecs, settings.measurePowerSecs]) {
    const ms = timeoutMsFromSeconds(seconds);
    if (!Number.isInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) return `a time of ${seconds} s is ${ms} ms`;
  }
  const port = settings.prometheusPort;
  if (port !== null && (!Number.isInteger(port) || port < 0 || port > 65535)) return `prometheus_port ${port}`;
  if (!/^\S+$/.test(settings.prometheusHost)) return `prometheus_host ${JSON.stringify(settings.prometheusHost)}`;
  if (!Number.isInteger(settings.apiCallInterval)) return `api_call_interval ${settings.apiCallInterval}`;
  if (!inside(settings.outputDir, path.join(settings.outputDir, settings.outputFile)))
    return `output_file ${JSON.stringify(settings.outputFile)} escapes`;
  if (!inside(settings.outputDir, taskFileFor(settings, "run")))
    return `experiment_name ${JSON.stringify(settings.experimentName)} escapes`;
  return null;
}

function judge(what: string, attempt: () => TrackerSettings): void {
  tally.inputs += 1;
  let settings: TrackerSettings;
  try {
    settings = attempt();
  } catch (error) {
    if (!(error instanceof ConfigError)) return tally.fail("crashes", `${what}: ${String(error)}`);
    const message = error.message;
    if (message.length > MAX_MESSAGE_CHARS) tally.fail("crashes", `${what}: a ${message.length}-character message`);
    // eslint-disable-next-line no-control-regex -- raw control characters are what must not reach a terminal
    if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(message))
      tally.fail("crashes", `${what}: raw control characters`);
    if (message.includes(PASSWORD)) tally.fail("secretsSentOrWritten", `${what}: the password is in the message`);
    return;
  }
  const rule = brokenRule(settings);
  if (rule !== null) tally.fail("crashes", `${what}: accepted, yet ${rule}`);
}

const context = (env: NodeJS.ProcessEnv = {}) => ({ env, cwd, home });
const configFile = path.join(home, ".codecarbon.config");

test("every key, every way in, fixed seed: refused clearly or usable", { timeout: 120_000 }, () => {
  const random = seededRandom(13);
  const specs: readonly KeySpec[] = configSpecs();
  for (const spec of specs) {
    const texts = [...TEXT_POOL, ...Array.from({ length: RANDOM_TEXTS_PER_KEY }, () => hostileString(random))];
    for (const text of texts) {
      const envName = `CODECARBON_${spec.key.toUpperCase()}`;
      judge(
        `${envName}=${JSON.stringify(text).slice(0, 60)}`,
        () => resolveConfig({}, context({ [envName]: text })).settings,
      );
      // A value with a line break would be two lines of the file: written as the line it starts.
      const line = text.split(/[\r\n]/)[0] ?? "";
      fs.writeFileSync(configFile, `[codecarbon]\n${spec.key} = ${line}\n`);
      judge(`file ${spec.key} = ${JSON.stringify(line).slice(0, 60)}`, () => resolveConfig({}, context()).settings);
      fs.rmSync(configFile, { force: true });
    }
    for (const value of [...CODE_POOL, pick(random, CODE_POOL)]) {
      judge(`code ${spec.option}`, () => resolveConfig({ [spec.option]: value } as never, context()).settings);
    }
  }
  assert.equal(tally.failures(), 0, tally.problems.join("\n"));
});

test("config files that are not text: a FIFO, a megabyte, binary escapes, a directory", { timeout: 30_000 }, () => {
  const cases: Array<[string, () => void]> = [
    ["a FIFO", () => undefined],
    [
      "two megabytes",
      () => fs.writeFileSync(configFile, `[codecarbon]\nproject_name = ${"x".repeat(2 * 1024 * 1024)}\n`),
    ],
    [
      "binary with escapes",
      () => fs.writeFileSync(configFile, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0, 1, 2, 0x9b, 0x0a, 0x5b])),
    ],
    [
      "escapes on a line",
      () => fs.writeFileSync(configFile, `[codecarbon]\n\u001b]0;owned\u0007 = 1\nmeasure_power_secs = \u001b[2J\n`),
    ],
    ["a directory", () => fs.mkdirSync(configFile)],
  ];
  for (const [what, plant] of cases) {
    fs.rmSync(configFile, { recursive: true, force: true });
    if (what === "a FIFO") {
      // Node has no mkfifo: the shell's, when there is one.
      const made = spawnSync("mkfifo", [configFile]).status === 0;
      if (!made) {
        console.log("skipped the FIFO config case: mkfifo is not available here");
        continue;
      }
    } else plant();
    judge(`config file: ${what}`, () => resolveConfig({}, context()).settings);
  }
  fs.rmSync(configFile, { recursive: true, force: true });
  assert.equal(tally.failures(), 0, tally.problems.join("\n"));
});

test("codecarbon config masks passwords inside URLs, in every form it prints", () => {
  const resolved = resolveConfig(
    {
      emissionsEndpoint: `https://collector:${PASSWORD}@127.0.0.1:1/in`,
      apiEndpoint: `http://${PASSWORD}@127.0.0.1:2`,
    },
    context(),
  );
  for (const options of [
    { showOrigin: false, json: false },
    { showOrigin: true, json: false },
    { showOrigin: false, json: true },
  ]) {
    tally.inputs += 1;
    const text = renderConfig(resolved, options);
    if (text.includes(PASSWORD)) tally.fail("secretsSentOrWritten", `codecarbon config ${JSON.stringify(options)}`);
    assert.match(text, /collector:\*\*\*@127\.0\.0\.1:1/);
  }
  assert.equal(tally.failures(), 0, tally.problems.join("\n"));
});
