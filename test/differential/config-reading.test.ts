/**
 * One `.codecarbon.config`, two readers: Python CodeCarbon's own (get_hierarchical_config, i.e.
 * configparser, from `.venv`) and ours, over a table of files. For every key both read, the raw
 * value and its meaning for the key's type (CodeCarbon's _set_from_conf rules, in
 * config_oracle.py) must be the same, or our reader must warn about that file and line. A file
 * Python refuses must be refused or warned about here. The README's own ini examples are in the
 * table too, and must read the same in both tools without any warning.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveConfig, type ResolvedConfig } from "../../src/config";
import { parseConfigText } from "../../src/config/ini-source";
import { configSpecs, type KeySpec } from "../../src/config/schema";
import { captureLog } from "../helpers/log-capture";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");
const ORACLE = path.join(REPO_ROOT, "test", "differential", "config_oracle.py");

interface Case {
  name: string;
  text: string;
  /** README examples: no warning at all is allowed. */
  readme?: boolean;
}

const S = "[codecarbon]\n";
const CASES: Case[] = [
  { name: "key: value lines", text: `${S}project_name: demo\nmeasure_power_secs: 5\npue : 1.25\n` },
  { name: "= and : in one line (the first splits)", text: `${S}project_name = a:b\noutput_file: x=y.csv\n` },
  {
    name: "continuation lines",
    text: `${S}project_name = first\n  second\n\n  third\n  # not a line\nmeasure_power_secs = 3\n`,
  },
  { name: "empty value, continued", text: `${S}project_name =\n    wrapped\npue = 1.1\n` },
  { name: "# and ; inside a value", text: `${S}api_key = cpt_ab#cd;ef\nproject_name = a#b\n` },
  {
    name: "inline comment after a value",
    text: `${S}project_name = demo  # my project\nexperiment_name = run ; note\n`,
  },
  { name: "double quotes", text: `${S}project_name = "my project"\n` },
  { name: "single quotes", text: `${S}region = 'quebec'\n` },
  { name: "%% (one % for configparser)", text: `${S}project_name = 50%% done\n` },
  { name: "a lone % (configparser stops)", text: `${S}project_name = 100% green\n` },
  { name: "%(name)s interpolation", text: `${S}experiment_name = base\nproject_name = %(experiment_name)s-2\n` },
  { name: "~ in output_dir", text: `${S}output_dir = ~/runs\n` },
  { name: "upper-case enum value", text: `${S}tracking_mode = Process\n` },
  { name: "upper-case list value", text: `${S}output_methods = CSV\n` },
  {
    name: "yes / on / 1 booleans",
    text: `${S}allow_multiple_runs = yes\nforce_mode_cpu_load = on\nrapl_include_dram = 1\n`,
  },
  {
    name: "no / off / 0 / True booleans",
    text: `${S}allow_multiple_runs = no\nforce_mode_cpu_load = off\nrapl_include_dram = 0\nrapl_prefer_psys = True\n`,
  },
  { name: "none and null words", text: `${S}country_iso_code = none\nforce_cpu_power = null\n` },
  { name: "[DEFAULT] keys", text: `[DEFAULT]\nproject_name = shared\n${S}pue = 1.2\n` },
  { name: "byte-order mark", text: `\uFEFF${S}pue = 1.1\n` },
  { name: "indented section header", text: `  [codecarbon]\npue = 1.1\n` },
  { name: "header with trailing text", text: `[codecarbon] ; main\npue = 1.1\n` },
  { name: "CRLF line ends", text: `${S.replace("\n", "\r\n")}pue = 1.1\r\nmeasure_power_secs = 2\r\n` },
  { name: "upper-case keys", text: `${S}PUE = 1.3\nMeasure_Power_Secs = 4\n` },
  { name: "other sections", text: `[other]\npue = 9\n${S}pue = 1.1\n` },
  { name: "a number with a comment", text: `${S}measure_power_secs = 10 # seconds\n` },
  { name: "the same key twice", text: `${S}pue = 1.1\nPUE = 1.2\n` },
  { name: "the same section twice", text: `${S}pue = 1.1\n${S}wue = 1\n` },
  { name: "a key before any section", text: `pue = 1.1\n${S}` },
  { name: "a line without a delimiter", text: `${S}just words\n` },
  ...readmeExamples(),
];

/** The README's ```ini blocks, each a case that must read the same in both tools. */
function readmeExamples(): Case[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const cases: Case[] = [];
  for (const match of readme.matchAll(/```ini\n([\s\S]*?)```/g)) {
    const line = readme.slice(0, match.index).split("\n").length;
    cases.push({ name: `README.md line ${line}`, text: match[1] ?? "", readme: true });
  }
  return cases;
}

type OracleResult = { raw: Record<string, string>; meaning: Record<string, unknown> } | { error: string };

function kindOf(spec: KeySpec): "bool" | "float" | "int" | "str" | undefined {
  // Keys with a parser of their own (log_level: CodeCarbon upper-cases it too) and lists are compared raw only.
  if (spec.parser !== undefined) return undefined;
  switch (spec.type) {
    case "boolean":
      return "bool";
    case "number":
      return "float";
    case "integer":
      return "int";
    case "string":
      return "str";
    case "array":
      return undefined;
  }
}

function runOracle(): Record<string, OracleResult> {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: scripts/setup.sh installs CodeCarbon into .venv`);
  const kinds: Record<string, string> = {};
  for (const spec of configSpecs()) {
    const kind = kindOf(spec);
    if (kind !== undefined) kinds[spec.key] = kind;
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.toUpperCase().startsWith("CODECARBON_")) env[key] = value;
  const result = spawnSync(PYTHON, [ORACLE], {
    input: JSON.stringify({ cases: CASES.map(({ name, text }) => ({ name, text })), kinds }),
    encoding: "utf8",
    env,
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`the oracle failed (${result.status}): ${result.stderr}`);
  const last = result.stdout.trim().split("\n").pop() ?? "";
  return (JSON.parse(last) as { results: Record<string, OracleResult> }).results;
}

function ours(text: string): { resolved: ResolvedConfig | null; error: string | null; file: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-config-diff-"));
  const home = path.join(dir, "home");
  const cwd = path.join(dir, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const file = path.join(cwd, ".codecarbon.config");
  fs.writeFileSync(file, text);
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    return { resolved: resolveConfig({}, { env: {}, cwd, home }), error: null, file, cleanup };
  } catch (error) {
    return { resolved: null, error: error instanceof Error ? error.message : String(error), file, cleanup };
  }
}

test("configparser (Python CodeCarbon's reader) and ours: every difference is gone or warned about", (t) => {
  const python = runOracle();
  const table: string[] = [];
  const failures: string[] = [];
  // The warnings are read from the resolved config; the log would only repeat them.
  const log = captureLog();
  t.after(() => log.restore());
  for (const c of CASES) {
    const py = python[c.name];
    assert.ok(py, `the oracle answered ${c.name}`);
    const mine = ours(c.text);
    try {
      const warnings = mine.resolved?.warnings ?? [];
      const warnedAt = (line: number) => warnings.some((w) => w.includes(`.codecarbon.config line ${line}:`));
      const pythonWarnings = warnings.filter((w) => /Python CodeCarbon|configparser/.test(w));
      let outcome: string;
      if ("error" in py) {
        if (mine.error !== null) outcome = `refused by both (Python: ${py.error.split(":")[0]})`;
        else if (pythonWarnings.length > 0) outcome = `Python stops (${py.error.split(":")[0]}); warned here`;
        else {
          outcome = `Python stops (${py.error}); NOT warned here`;
          failures.push(`${c.name}: ${outcome}`);
        }
      } else if (mine.error !== null) {
        outcome = `refused here with the line to fix; Python reads it (${mine.error.split("\n")[0]})`;
      } else {
        const lines = new Map(parseConfigText(c.text).entries.map((e) => [e.key, e] as const));
        const differences: string[] = [];
        for (const [key, pyRaw] of Object.entries(py.raw)) {
          const spec = configSpecs().find((s) => s.key === key);
          const entry = lines.get(key);
          if (spec === undefined || entry === undefined) continue;
          const settings = mine.resolved!.settings as unknown as Record<string, unknown>;
          const kind = kindOf(spec);
          const rawDiffers = entry.value !== pyRaw;
          const meaningDiffers = kind !== undefined && settings[spec.option] !== py.meaning[key];
          if (!rawDiffers && !meaningDiffers) continue;
          const what = `${key} (line ${entry.line}): Python ${JSON.stringify(py.meaning[key] ?? pyRaw)}, here ${JSON.stringify(settings[spec.option])}`;
          differences.push(what);
          if (!warnedAt(entry.line)) failures.push(`${c.name}: ${what}, NOT warned`);
        }
        outcome = differences.length === 0 ? "same" : `differs, warned: ${differences.join("; ")}`;
      }
      if (c.readme && (pythonWarnings.length > 0 || mine.error !== null))
        failures.push(`${c.name}: the README's example warns or fails: ${[...pythonWarnings, mine.error].join(" | ")}`);
      table.push(
        `${c.name.padEnd(42)} ${outcome}${pythonWarnings.length > 0 ? ` [${pythonWarnings.length} warning(s)]` : ""}`,
      );
    } finally {
      mine.cleanup();
    }
  }
  for (const row of table) t.diagnostic(row);
  assert.deepEqual(failures, []);
});
