import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { resolveConfig, type TrackerOptions } from "../../src/config";
import { ConfigError, isCodeCarbonError } from "../../src/errors";
import { section, useConfigSandbox } from "./config-sandbox";

const sandbox = useConfigSandbox();

/** The ConfigError that resolving throws; fails the test when nothing is thrown. */
function errorOf(options: TrackerOptions = {}, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    resolveConfig(options, { env, cwd: sandbox.box.cwd, home: sandbox.box.home });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(isCodeCarbonError(error));
    return error;
  }
  assert.fail("resolveConfig did not throw");
}

function globalFileError(...lines: string[]): string {
  sandbox.box.writeGlobal(section(...lines));
  const error = errorOf();
  assert.equal(error.code, "ERR_CODECARBON_CONFIG_INVALID");
  return error.message;
}

describe("bad values in a config file name the file, the line, the value and what is expected", () => {
  test("a number that is not a number", () => {
    assert.equal(
      globalFileError("# my settings", "project_name = demo", "measure_power_secs = fast"),
      '~/.codecarbon.config line 4: measure_power_secs = "fast" is not a number (expected a number of seconds, e.g. measure_power_secs = 15)',
    );
  });

  test("a number out of range", () => {
    assert.equal(
      globalFileError("measure_power_secs = 0"),
      '~/.codecarbon.config line 2: measure_power_secs = "0" is not valid (must be greater than 0)',
    );
    assert.equal(
      globalFileError("pue = 0.9"),
      '~/.codecarbon.config line 2: pue = "0.9" is not valid (must be at least 1)',
    );
    assert.equal(
      globalFileError("force_carbon_intensity_g_co2e_kwh = -1"),
      '~/.codecarbon.config line 2: force_carbon_intensity_g_co2e_kwh = "-1" is not valid (must be at least 0)',
    );
  });

  test("an empty value for a key that cannot be null", () => {
    assert.equal(
      globalFileError("wue ="),
      '~/.codecarbon.config line 2: wue = "" is empty (expected a number of litres per kWh, e.g. wue = 1.8)',
    );
  });

  test("integers", () => {
    assert.equal(
      globalFileError("api_call_interval = 1.5"),
      '~/.codecarbon.config line 2: api_call_interval = "1.5" is not an integer (expected a whole number, e.g. api_call_interval = 8)',
    );
    assert.equal(
      globalFileError("api_call_interval = 0"),
      '~/.codecarbon.config line 2: api_call_interval = "0" is not valid (must not be 0)',
    );
    assert.equal(
      globalFileError("api_call_interval = -2"),
      '~/.codecarbon.config line 2: api_call_interval = "-2" is not valid (must be at least -1)',
    );
  });

  test("booleans", () => {
    assert.equal(
      globalFileError("rapl_include_dram = local-overwrite"),
      '~/.codecarbon.config line 2: rapl_include_dram = "local-overwrite" is not a boolean (expected true or false; yes/no, on/off and 1/0 work too, e.g. rapl_include_dram = false)',
    );
  });

  test("enums list the allowed values", () => {
    assert.equal(
      globalFileError("tracking_mode = thread"),
      '~/.codecarbon.config line 2: tracking_mode = "thread" is not one of machine, process (e.g. tracking_mode = machine)',
    );
    assert.equal(
      globalFileError("log_level = loud"),
      '~/.codecarbon.config line 2: log_level = "loud" is not one of debug, info, warning, error, critical (e.g. log_level = info)',
    );
  });

  test("list items", () => {
    assert.equal(
      globalFileError("output_methods = csv, s3"),
      '~/.codecarbon.config line 2: output_methods = "csv, s3" has "s3", which is not one of csv, api, logger, prometheus, otel (e.g. output_methods = csv, logger)',
    );
    assert.equal(
      globalFileError("gpu_ids = 0, -1"),
      '~/.codecarbon.config line 2: gpu_ids = "0, -1" has "-1", which is not valid (must be at least 0)',
    );
  });

  test("patterns", () => {
    assert.equal(
      globalFileError("country_iso_code = FRANCE"),
      '~/.codecarbon.config line 2: country_iso_code = "FRANCE" is not valid (must match ^[A-Za-z]{3}$)',
    );
  });

  test("the local file is named by its path", () => {
    sandbox.box.writeLocal(section("pue = x"));
    const error = errorOf();
    assert.equal(
      error.message,
      `${sandbox.box.localFile} line 2: pue = "x" is not a number (expected a number, e.g. pue = 1.2)`,
    );
  });

  test("every problem is reported at once", () => {
    sandbox.box.writeGlobal(section("pue = x"));
    sandbox.box.writeLocal(section("wue = y"));
    const lines = errorOf({ measurePowerSecs: -1 }, { CODECARBON_TRACKING_MODE: "thread" }).message.split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? "", /^~\/\.codecarbon\.config line 2: pue/);
    assert.match(lines[1] ?? "", /line 2: wue/);
    assert.match(lines[2] ?? "", /^CODECARBON_TRACKING_MODE=/);
    assert.match(lines[3] ?? "", /^measurePowerSecs: -1/);
  });
});

describe("malformed files are refused with the line to fix", () => {
  test("a file without a section header names the first key line", () => {
    sandbox.box.writeGlobal("measure_power_secs = 10\n");
    assert.equal(
      errorOf().message,
      "~/.codecarbon.config line 1: measure_power_secs comes before any section; put a [codecarbon] line above it",
    );
    sandbox.box.writeGlobal("# settings\n\npue = 1.2\n[codecarbon]\n");
    assert.equal(
      errorOf().message,
      "~/.codecarbon.config line 3: pue comes before any section; put a [codecarbon] line above it",
    );
  });

  test("a file whose only section is not [codecarbon]", () => {
    sandbox.box.writeGlobal("[CodeCarbon]\npue = 1.2\n");
    assert.equal(
      errorOf().message,
      "~/.codecarbon.config line 1: there is no [codecarbon] section (found [CodeCarbon]; section names are case-sensitive)",
    );
    sandbox.box.writeGlobal("# old\n[tracker]\npue = 1.2\n");
    assert.equal(errorOf().message, "~/.codecarbon.config line 2: there is no [codecarbon] section (found [tracker])");
  });

  test("a line that is not key = value (key: value is one, as in configparser)", () => {
    sandbox.box.writeGlobal(section("just words"));
    assert.equal(errorOf().message, '~/.codecarbon.config line 2: "just words" is not a key = value line');
    sandbox.box.writeGlobal(section("= 3"));
    assert.equal(errorOf().message, '~/.codecarbon.config line 2: "= 3" is not a key = value line');
  });

  test("the same key twice (configparser refuses it too)", () => {
    sandbox.box.writeGlobal(section("pue = 1.1", "PUE = 1.2"));
    assert.equal(errorOf().message, "~/.codecarbon.config line 3: pue is already set on line 2; keep one of them");
  });

  test("the same section twice in one file (configparser's DuplicateSectionError)", () => {
    sandbox.box.writeGlobal("[codecarbon]\npue = 1\n[codecarbon]\nwue = 1\n");
    assert.equal(
      errorOf().message,
      "~/.codecarbon.config line 3: [codecarbon] already starts on line 1; merge the two sections",
    );
  });

  test("a config path that cannot be read", () => {
    fs.mkdirSync(sandbox.box.localFile);
    assert.match(
      errorOf().message,
      new RegExp(`^${sandbox.box.localFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} cannot be read \\(`),
    );
  });
});

describe("bad values in environment variables and code", () => {
  test("an environment variable", () => {
    const error = errorOf({}, { CODECARBON_PUE: "x" });
    assert.equal(error.code, "ERR_CODECARBON_CONFIG_INVALID");
    assert.equal(error.message, 'CODECARBON_PUE="x" is not a number (expected a number, e.g. CODECARBON_PUE=1.2)');
    assert.equal(
      errorOf({}, { codecarbon_force_cpu_power: "lots" }).message,
      'codecarbon_force_cpu_power="lots" is not a number (expected a number of watts, e.g. codecarbon_force_cpu_power=65)',
    );
  });

  test("a code option out of range", () => {
    const error = errorOf({ measurePowerSecs: -1 });
    assert.equal(error.code, "ERR_CODECARBON_OPTION_INVALID");
    assert.equal(error.message, "measurePowerSecs: -1 is not valid (must be greater than 0)");
  });

  test("code options of the wrong type", () => {
    const wrong = (options: Record<string, unknown>) => errorOf(options as TrackerOptions).message;
    assert.equal(
      wrong({ measurePowerSecs: "fast" }),
      'measurePowerSecs: "fast" is not a number (expected a number of seconds, e.g. measurePowerSecs: 15)',
    );
    assert.equal(
      wrong({ measurePowerSecs: Number.NaN }),
      "measurePowerSecs: NaN is not a number (expected a number of seconds, e.g. measurePowerSecs: 15)",
    );
    assert.equal(
      wrong({ apiCallInterval: 2.5 }),
      "apiCallInterval: 2.5 is not an integer (expected a whole number, e.g. apiCallInterval: 8)",
    );
    assert.equal(
      wrong({ saveToFile: "yes" }),
      'saveToFile: "yes" is not a boolean (expected true or false, e.g. saveToFile: true)',
    );
    assert.equal(
      wrong({ projectName: null }),
      'projectName: null is not a string (expected a string, e.g. projectName: "codecarbon")',
    );
    assert.equal(
      wrong({ trackingMode: "thread" }),
      'trackingMode: "thread" is not one of machine, process (e.g. trackingMode: "machine")',
    );
    assert.equal(
      wrong({ outputMethods: "csv" }),
      'outputMethods: "csv" is not a list (expected an array, e.g. outputMethods: ["csv","logger"])',
    );
    assert.equal(
      wrong({ outputMethods: ["csv", "s3"] }),
      'outputMethods: ["csv","s3"] has "s3", which is not one of csv, api, logger, prometheus, otel (e.g. outputMethods: ["csv","logger"])',
    );
    assert.equal(
      wrong({ gpuIds: [0, 1.5] }),
      "gpuIds: [0,1.5] has 1.5, which is not an integer (expected a whole number, e.g. gpuIds: [0,1])",
    );
  });

  test("only code problems give ERR_CODECARBON_OPTION_INVALID; any file or env problem gives ERR_CODECARBON_CONFIG_INVALID", () => {
    assert.equal(errorOf({ pue: 0 }).code, "ERR_CODECARBON_OPTION_INVALID");
    assert.equal(errorOf({ pue: 0 }, { CODECARBON_WUE: "-1" }).code, "ERR_CODECARBON_CONFIG_INVALID");
  });
});
