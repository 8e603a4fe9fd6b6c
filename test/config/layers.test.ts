import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { resolveConfig, type ConfigLayer, type TrackerOptions, type TrackerSettings } from "../../src/config";
import { section, useConfigSandbox } from "./config-sandbox";

/**
 * One key per value type. Each layer writes its own text (files, env) or value (code), and the
 * expected setting after that layer is applied on top of the ones below.
 */
interface LayerCase {
  key: string;
  option: keyof TrackerSettings;
  defaultValue: unknown;
  global: [text: string, value: unknown];
  local: [text: string, value: unknown];
  env: [text: string, value: unknown];
  code: unknown;
}

const CASES: LayerCase[] = [
  {
    key: "measure_power_secs",
    option: "measurePowerSecs",
    defaultValue: 15,
    global: ["10", 10],
    local: ["20.5", 20.5],
    env: ["3e1", 30],
    code: 40,
  },
  {
    key: "api_call_interval",
    option: "apiCallInterval",
    defaultValue: 8,
    global: ["2", 2],
    local: ["-1", -1],
    env: ["+5", 5],
    code: 1,
  },
  {
    key: "force_mode_cpu_load",
    option: "forceModeCpuLoad",
    defaultValue: false,
    global: ["yes", true],
    local: ["Off", false],
    env: ["TRUE", true],
    code: false,
  },
  {
    key: "allow_multiple_runs",
    option: "allowMultipleRuns",
    defaultValue: true,
    global: ["0", false],
    local: ["on", true],
    env: ["no", false],
    code: true,
  },
  {
    key: "project_name",
    option: "projectName",
    defaultValue: "codecarbon",
    global: ["global project", "global project"],
    local: ["local", "local"],
    env: ["from env", "from env"],
    code: "from code",
  },
  {
    key: "tracking_mode",
    option: "trackingMode",
    defaultValue: "machine",
    global: ["Process", "process"],
    local: ["machine", "machine"],
    env: ["PROCESS", "process"],
    code: "machine",
  },
  {
    key: "log_level",
    option: "logLevel",
    defaultValue: "info",
    global: ["warn", "warning"],
    local: ["10", "debug"],
    env: ["FATAL", "critical"],
    code: "error",
  },
  {
    key: "gpu_ids",
    option: "gpuIds",
    defaultValue: null,
    global: ["0, 1", [0, 1]],
    local: ["[2, GPU-4e81ab]", [2, "GPU-4e81ab"]],
    env: ["(3)", [3]],
    code: ["MIG-1"],
  },
  {
    key: "output_methods",
    option: "outputMethods",
    defaultValue: ["csv"],
    global: ["logger", ["logger"]],
    local: ["CSV, logger", ["csv", "logger"]],
    env: ["[csv]", ["csv"]],
    code: ["logger"],
  },
  {
    key: "force_cpu_power",
    option: "forceCpuPower",
    defaultValue: null,
    global: ["65", 65],
    local: ["", null],
    env: ["95.5", 95.5],
    code: null,
  },
  {
    key: "country_iso_code",
    option: "countryIsoCode",
    defaultValue: null,
    global: ["FRA", "FRA"],
    local: ["null", null],
    env: ["CAN", "CAN"],
    code: "DEU",
  },
  {
    key: "force_carbon_intensity_g_co2e_kwh",
    option: "forceCarbonIntensityGCo2eKwh",
    defaultValue: null,
    global: ["123.4", 123.4],
    local: ["0", 0],
    env: ["None", null],
    code: 50,
  },
];

const ENV_PREFIX = "CODECARBON_";

describe("each layer overrides the one below, key by key", () => {
  const sandbox = useConfigSandbox();

  const globalText = section(...CASES.map((c) => `${c.key} = ${c.global[0]}`));
  const localText = section(...CASES.map((c) => `${c.key}=${c.local[0]}`));
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    CASES.map((c) => [`${ENV_PREFIX}${c.key.toUpperCase()}`, c.env[0]]),
  );
  const code = Object.fromEntries(CASES.map((c) => [c.option, c.code])) as TrackerOptions;

  function check(
    stage: string,
    options: TrackerOptions,
    envVars: NodeJS.ProcessEnv,
    expected: (c: LayerCase) => [unknown, ConfigLayer],
  ): void {
    const resolved = resolveConfig(options, { env: envVars, cwd: sandbox.box.cwd, home: sandbox.box.home });
    for (const c of CASES) {
      const [value, layer] = expected(c);
      assert.deepEqual(resolved.settings[c.option], value, `${stage}: ${c.key}`);
      assert.equal(resolved.origins[c.option].layer, layer, `${stage}: origin of ${c.key}`);
    }
    // The cases use spellings Python CodeCarbon reads otherwise (yes, Process): those are warned
    // about (python-reading.ts; the differential test covers them); nothing else is.
    const others = resolved.warnings.filter((w) => !w.includes("Python CodeCarbon"));
    assert.deepEqual(others, [], `${stage}: no other warnings`);
  }

  test("schema defaults when nothing is configured", () => {
    check("defaults", {}, {}, (c) => [c.defaultValue, "default"]);
  });

  test("the global file overrides the defaults", () => {
    sandbox.box.writeGlobal(globalText);
    check("global", {}, {}, (c) => [c.global[1], "global-file"]);
  });

  test("the local file overrides the global file", () => {
    sandbox.box.writeGlobal(globalText);
    sandbox.box.writeLocal(localText);
    check("local", {}, {}, (c) => [c.local[1], "local-file"]);
  });

  test("environment variables override both files", () => {
    sandbox.box.writeGlobal(globalText);
    sandbox.box.writeLocal(localText);
    check("env", {}, env, (c) => [c.env[1], "env"]);
  });

  test("code options override everything", () => {
    sandbox.box.writeGlobal(globalText);
    sandbox.box.writeLocal(localText);
    check("code", code, env, (c) => [c.code, "code"]);
  });

  test("a layer that does not set a key leaves the lower layer's value", () => {
    sandbox.box.writeGlobal(globalText);
    sandbox.box.writeLocal(section("pue = 1.3"));
    const resolved = resolveConfig(
      { wue: 1.5, measurePowerSecs: undefined },
      { env: { CODECARBON_PROJECT_NAME: "env project" }, cwd: sandbox.box.cwd, home: sandbox.box.home },
    );
    assert.equal(resolved.settings.measurePowerSecs, 10);
    assert.deepEqual(resolved.origins.measurePowerSecs, {
      layer: "global-file",
      file: sandbox.box.globalFile,
      line: 2,
    });
    assert.equal(resolved.settings.pue, 1.3);
    assert.deepEqual(resolved.origins.pue, { layer: "local-file", file: sandbox.box.localFile, line: 2 });
    assert.equal(resolved.settings.projectName, "env project");
    assert.deepEqual(resolved.origins.projectName, { layer: "env", variable: "CODECARBON_PROJECT_NAME" });
    assert.equal(resolved.settings.wue, 1.5);
    assert.deepEqual(resolved.origins.wue, { layer: "code" });
    assert.equal(resolved.settings.outputFile, "emissions.csv");
    assert.deepEqual(resolved.origins.outputFile, { layer: "default" });
  });

  test("null in code clears a nullable value set by a lower layer", () => {
    const resolved = resolveConfig(
      { forceCpuPower: null },
      { env: { CODECARBON_FORCE_CPU_POWER: "95" }, cwd: sandbox.box.cwd, home: sandbox.box.home },
    );
    assert.equal(resolved.settings.forceCpuPower, null);
    assert.equal(resolved.origins.forceCpuPower.layer, "code");
  });
});

describe("files, environment and code details", () => {
  const sandbox = useConfigSandbox();

  const resolve = (options: TrackerOptions = {}, env: NodeJS.ProcessEnv = {}) =>
    resolveConfig(options, { env, cwd: sandbox.box.cwd, home: sandbox.box.home });

  test("file keys are case-insensitive, values keep everything after the first =, comment lines are skipped", () => {
    sandbox.box.writeGlobal(
      [
        "# a comment",
        "; another comment",
        "[codecarbon]",
        "Measure_Power_Secs=5",
        "project_name= no/space= problem2",
        "  # indented comment",
        "output_file = a=b.csv",
      ].join("\n"),
    );
    const resolved = resolve();
    assert.equal(resolved.settings.measurePowerSecs, 5);
    assert.deepEqual(resolved.origins.measurePowerSecs, {
      layer: "global-file",
      file: sandbox.box.globalFile,
      line: 4,
    });
    assert.equal(resolved.settings.projectName, "no/space= problem2");
    assert.equal(resolved.settings.outputFile, "a=b.csv");
  });

  test("values are read as configparser reads them, quotes removed with a warning; # and ; do not cut them", () => {
    sandbox.box.writeGlobal(
      section(
        'project_name = "my project"',
        "experiment_name = run ; trailing note",
        "region = 'quebec'",
        "api_key = cpt_ab#cd;ef",
        "output_file: colon.csv",
        "tracking_mode =",
        "  process",
      ),
    );
    const resolved = resolve();
    assert.equal(resolved.settings.projectName, "my project");
    assert.equal(resolved.settings.experimentName, "run ; trailing note");
    assert.equal(resolved.settings.region, "quebec");
    assert.equal(resolved.settings.apiKey, "cpt_ab#cd;ef");
    assert.equal(resolved.settings.outputFile, "colon.csv");
    assert.equal(resolved.settings.trackingMode, "process");
    const shown = "~/.codecarbon.config";
    assert.ok(
      resolved.warnings.includes(
        `${shown} line 2: project_name: Python CodeCarbon (configparser) keeps the quotes around the value; this tool removes them. Write it without quotes`,
      ),
      resolved.warnings.join("\n"),
    );
    assert.ok(
      resolved.warnings.some((w) =>
        w.startsWith(`${shown} line 3: experiment_name: the # or ; after the value is part of the value`),
      ),
    );
    assert.ok(
      resolved.warnings.some((w) =>
        w.startsWith(`${shown} line 4: region: Python CodeCarbon (configparser) keeps the quotes`),
      ),
    );
    assert.ok(
      resolved.warnings.some((w) => w.startsWith(`${shown} line 7: tracking_mode: the value starts on the next line`)),
    );
    assert.equal(resolved.warnings.length, 4, resolved.warnings.join("\n"));
  });

  test("keys in other sections are ignored, and CRLF files and a byte-order mark are read", () => {
    sandbox.box.writeGlobal("\uFEFF[other]\r\npue = 9\r\n[codecarbon]\r\npue = 1.1\r\n");
    const resolved = resolve();
    assert.equal(resolved.settings.pue, 1.1);
    assert.equal(resolved.origins.pue.line, 4);
  });

  test("an empty file or a file of comments gives no values", () => {
    sandbox.box.writeGlobal("");
    sandbox.box.writeLocal("# nothing yet\n");
    const resolved = resolve({}, { CODECARBON_ALLOW_MULTIPLE_RUNS: "false" });
    assert.equal(resolved.settings.allowMultipleRuns, false);
    assert.equal(resolved.origins.measurePowerSecs.layer, "default");
  });

  test("environment variable names are case-insensitive and only the first prefix is removed", () => {
    const resolved = resolve({}, { codecarbon_Pue: "1.4", CODECARBON_CODECARBON_PUE: "2", PUE: "3" });
    assert.equal(resolved.settings.pue, 1.4);
    assert.deepEqual(resolved.origins.pue, { layer: "env", variable: "codecarbon_Pue" });
    assert.equal(resolved.warnings.length, 1);
    assert.match(resolved.warnings[0] ?? "", /^CODECARBON_CODECARBON_PUE: unknown key codecarbon_pue is ignored/);
  });

  test("two spellings of one variable: the upper-case one wins, with a warning", () => {
    const resolved = resolve({}, { codecarbon_pue: "1.4", CODECARBON_PUE: "1.6" });
    assert.equal(resolved.settings.pue, 1.6);
    assert.deepEqual(resolved.warnings, ["codecarbon_pue ignored: CODECARBON_PUE sets pue too, and wins"]);
  });

  test("files are read again at every call", () => {
    sandbox.box.writeLocal(section("measure_power_secs = 5"));
    assert.equal(resolve().settings.measurePowerSecs, 5);
    sandbox.box.writeLocal(section("measure_power_secs = 6"));
    assert.equal(resolve().settings.measurePowerSecs, 6);
  });

  test("when the working folder is the home folder the file counts once, as the global file", () => {
    sandbox.box.writeGlobal(section("pue = 1.2"));
    const resolved = resolveConfig({}, { env: {}, cwd: sandbox.box.home, home: sandbox.box.home });
    assert.equal(resolved.settings.pue, 1.2);
    assert.equal(resolved.origins.pue.layer, "global-file");
  });

  test("a leading ~ in output_dir and rapl_dir is expanded to the home folder", () => {
    sandbox.box.writeGlobal(section("output_dir = ~/emissions"));
    const fromFile = resolve({}, { CODECARBON_RAPL_DIR: "~" });
    assert.equal(fromFile.settings.outputDir, path.join(sandbox.box.home, "emissions"));
    assert.equal(fromFile.settings.raplDir, sandbox.box.home);
    assert.equal(resolve({ outputDir: "~/x" }).settings.outputDir, path.join(sandbox.box.home, "x"));
    assert.equal(resolve({ outputDir: "rel/~/x" }).settings.outputDir, "rel/~/x");
  });

  test("defaults are fresh copies: changing one resolved list does not change the next", () => {
    const first = resolve();
    first.settings.outputMethods.push("logger");
    assert.deepEqual(resolve().settings.outputMethods, ["csv"]);
  });

  test("code options are copied: changing the caller's list later does not change the settings", () => {
    const ids: Array<number | string> = [0];
    const resolved = resolve({ gpuIds: ids });
    ids.push(1);
    assert.deepEqual(resolved.settings.gpuIds, [0]);
  });

  test("code enum values are matched case-insensitively and log levels take CodeCarbon's spellings", () => {
    const resolved = resolve({ trackingMode: "Process" as "process", logLevel: 30 as unknown as "info" });
    assert.equal(resolved.settings.trackingMode, "process");
    assert.equal(resolved.settings.logLevel, "warning");
    assert.equal(resolve({ logLevel: "warn" as "warning" }).settings.logLevel, "warning");
  });
});
