import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { describeConfig, expandHome, maskSecret, resolveConfig, type TrackerOptions } from "../../src/config";
import { ConfigError } from "../../src/errors";
import { section, useConfigSandbox } from "./config-sandbox";

const sandbox = useConfigSandbox();

const resolve = (options: TrackerOptions = {}, env: NodeJS.ProcessEnv = {}) =>
  resolveConfig(options, { env, cwd: sandbox.box.cwd, home: sandbox.box.home });

describe("unknown keys warn once, with the closest known key", () => {
  test("in files, the environment and code", () => {
    sandbox.box.writeGlobal(section("outptu_dir = out", "output_directory = out"));
    sandbox.box.writeLocal(section("measure_power_sec = 3", "flux_capacitor = 1"));
    const resolved = resolve({ measurePowerSec: 3, measure_power_secs: 4 } as TrackerOptions, { CODECARBON_PUEE: "1" });
    assert.deepEqual(resolved.warnings, [
      "~/.codecarbon.config line 2: unknown key outptu_dir is ignored (did you mean `output_dir`?)",
      "~/.codecarbon.config line 3: unknown key output_directory is ignored (did you mean `output_dir`?)",
      `${sandbox.box.localFile} line 2: unknown key measure_power_sec is ignored (did you mean \`measure_power_secs\`?)`,
      `${sandbox.box.localFile} line 3: unknown key flux_capacitor is ignored (see the configuration table in the README for the known keys)`,
      "CODECARBON_PUEE: unknown key puee is ignored (did you mean `pue`?)",
      "option measurePowerSec: unknown key measurePowerSec is ignored (did you mean `measurePowerSecs`?)",
      "option measure_power_secs: unknown key measure_power_secs is ignored (did you mean `measurePowerSecs`?)",
    ]);
    assert.equal(resolved.settings.outputDir, ".");
    assert.equal(resolved.settings.measurePowerSecs, 15);
  });

  test("a JupyterLab display key (x-scope lab) is no tracker setting: named as such and ignored everywhere", () => {
    sandbox.box.writeLocal(section("cell_footer = false"));
    const resolved = resolve({ cellFooter: false } as TrackerOptions, { CODECARBON_CELL_FOOTER: "false" });
    const labWarning = (place: string, name: string) =>
      `${place}: ${name} is a JupyterLab display setting (Settings Editor → CodeCarbon), not a tracker setting: the tracker ignores it`;
    assert.deepEqual(resolved.warnings, [
      labWarning(`${sandbox.box.localFile} line 2`, "cell_footer"),
      labWarning("CODECARBON_CELL_FOOTER", "cell_footer"),
      labWarning("option cellFooter", "cellFooter"),
    ]);
    assert.ok(!("cellFooter" in resolved.settings));
  });

  test("each warning is logged once per process but returned by every call", () => {
    sandbox.box.writeGlobal(section("outptu_dir = out"));
    const first = resolve();
    const second = resolve();
    assert.equal(first.warnings.length, 1);
    assert.deepEqual(second.warnings, first.warnings);
    const logged = sandbox.logs.lines.filter((line) => line.level === "warning");
    assert.deepEqual(logged, [{ level: "warning", message: first.warnings[0] }]);
  });
});

describe("deprecated keys", () => {
  test("save_to_* fill output_methods when it is not set anywhere", () => {
    sandbox.box.writeGlobal(section("save_to_logger = true"));
    const resolved = resolve();
    assert.deepEqual(resolved.settings.outputMethods, ["csv", "logger"]);
    assert.deepEqual(resolved.origins.outputMethods, {
      layer: "global-file",
      file: sandbox.box.globalFile,
      line: 2,
      derivedFrom: "save_to_logger",
    });
    assert.deepEqual(resolved.warnings, [
      "~/.codecarbon.config line 2: save_to_logger is deprecated: list logger in output_methods instead.",
    ]);
  });

  test("the strongest layer among the flags is the origin, and false flags remove outputs", () => {
    sandbox.box.writeGlobal(section("save_to_logger = true"));
    const resolved = resolve({ saveToFile: false });
    assert.deepEqual(resolved.settings.outputMethods, ["logger"]);
    assert.deepEqual(resolved.origins.outputMethods, { layer: "code", derivedFrom: "save_to_file, save_to_logger" });
    assert.equal(resolved.warnings.length, 2);
    assert.equal(
      resolved.warnings[0],
      "option saveToFile: save_to_file is deprecated: list csv in output_methods instead.",
    );
  });

  test("save_to_api adds the api output", () => {
    const resolved = resolve({}, { CODECARBON_SAVE_TO_API: "yes" });
    assert.deepEqual(resolved.settings.outputMethods, ["csv", "api"]);
    assert.deepEqual(resolved.warnings, [
      "CODECARBON_SAVE_TO_API: save_to_api is deprecated: list api in output_methods instead.",
    ]);
  });

  test("save_to_prometheus adds the prometheus (Pushgateway) output", () => {
    const resolved = resolve({}, { CODECARBON_SAVE_TO_PROMETHEUS: "yes" });
    assert.deepEqual(resolved.settings.outputMethods, ["csv", "prometheus"]);
    assert.deepEqual(resolved.warnings, [
      "CODECARBON_SAVE_TO_PROMETHEUS: save_to_prometheus is deprecated: list prometheus in output_methods instead.",
    ]);
  });

  test("an explicit output_methods wins over the flags, whatever their layers", () => {
    sandbox.box.writeGlobal(section("output_methods = logger"));
    const resolved = resolve({ saveToFile: true });
    assert.deepEqual(resolved.settings.outputMethods, ["logger"]);
    assert.equal(resolved.origins.outputMethods.layer, "global-file");
    assert.deepEqual(resolved.warnings, [
      "option saveToFile: save_to_file is deprecated: list csv in output_methods instead. It is ignored because output_methods is set.",
    ]);
  });

  test("co2_signal_api_token fills electricitymaps_api_token when that is unset", () => {
    sandbox.box.writeLocal(section("co2_signal_api_token = legacy-token-0123456789"));
    const resolved = resolve();
    assert.equal(resolved.settings.electricitymapsApiToken, "legacy-token-0123456789");
    assert.deepEqual(resolved.origins.electricitymapsApiToken, {
      layer: "local-file",
      file: sandbox.box.localFile,
      line: 2,
      derivedFrom: "co2_signal_api_token",
    });
    assert.deepEqual(resolved.warnings, [
      `${sandbox.box.localFile} line 2: co2_signal_api_token is deprecated: rename it electricitymaps_api_token.`,
    ]);
  });

  test("electricitymaps_api_token wins over the old name, from any layer", () => {
    sandbox.box.writeGlobal(section("electricitymaps_api_token = new-token-0123456789"));
    const resolved = resolve({ co2SignalApiToken: "old-token-0123456789" });
    assert.equal(resolved.settings.electricitymapsApiToken, "new-token-0123456789");
    assert.equal(resolved.origins.electricitymapsApiToken.layer, "global-file");
    assert.deepEqual(resolved.warnings, [
      "option co2SignalApiToken: co2_signal_api_token is deprecated: rename it electricitymaps_api_token. It is ignored because electricitymaps_api_token is set.",
    ]);
  });
});

describe("secrets are masked", () => {
  test("maskSecret keeps a short word prefix and the last four characters only when enough stays hidden", () => {
    assert.equal(maskSecret("cpt_0123456789abcdef"), "cpt_…cdef");
    assert.equal(maskSecret("0123456789abcdef"), "…cdef");
    assert.equal(maskSecret("cpt_01234567"), "…4567");
    assert.equal(maskSecret("short"), "…");
    assert.equal(maskSecret(""), "…");
  });

  test("no message, warning, log line or description shows a secret in full", () => {
    const secrets = { api: "cpt_SECRETapikey0001", maps: "SECRETmapstoken0002", legacy: "SECRETlegacytoken0003" };
    sandbox.box.writeGlobal(section(`api_key = ${secrets.api}`, `co2_signal_api_token = ${secrets.legacy}`));
    const resolved = resolve({ electricitymapsApiToken: secrets.maps });
    const texts = [
      ...describeConfig(resolved),
      ...resolved.warnings,
      ...sandbox.logs.lines.map((line) => line.message),
    ];
    let message = "";
    try {
      resolve({
        apiKey: 1234567890123 as unknown as string,
        electricitymapsApiToken: ["SECRETinlist0004"] as unknown as string,
      });
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      message = error.message;
    }
    assert.equal(
      message,
      'apiKey: (hidden) is not a string (expected a string, e.g. apiKey: "cpt_...")\nelectricitymapsApiToken: (hidden) is not a string (expected a string, e.g. electricitymapsApiToken: "your-token")',
    );
    texts.push(message);
    const all = texts.join("\n");
    for (const secret of [...Object.values(secrets), "1234567890123", "SECRETinlist0004"])
      assert.ok(!all.includes(secret), `${secret} leaked`);
    assert.ok(describeConfig(resolved).includes("file:~/.codecarbon.config:2\tapi_key=cpt_…0001"));
  });
});

describe("describeConfig", () => {
  test("prints origin, key and value like git config --show-origin", () => {
    sandbox.box.writeGlobal(section("measure_power_secs = 10", "save_to_logger = on"));
    sandbox.box.writeLocal(section("gpu_ids = 0, 1"));
    const resolved = resolve({ projectName: "demo", logLevel: "debug" }, { CODECARBON_OUTPUT_DIR: "~/out" });
    const lines = describeConfig(resolved);
    assert.equal(lines.length, Object.keys(resolved.settings).length);
    assert.equal(lines[0], "code\tproject_name=demo");
    assert.ok(lines.includes("file:~/.codecarbon.config:2\tmeasure_power_secs=10"));
    assert.ok(lines.includes("file:~/.codecarbon.config:3 (from save_to_logger)\toutput_methods=csv, logger"));
    assert.ok(lines.includes(`file:${sandbox.box.localFile}:2\tgpu_ids=0, 1`));
    assert.ok(lines.includes(`env:CODECARBON_OUTPUT_DIR\toutput_dir=${path.join(sandbox.box.home, "out")}`));
    assert.ok(lines.includes("default\tforce_cpu_power="));
    assert.ok(lines.includes("default\tlogger_preamble="));
    assert.ok(lines.includes("code\tlog_level=debug"));
    assert.ok(lines.includes("default\trapl_dir=/sys/class/powercap"));
  });

  test("an empty list is written [] so that it reads back as a list, not as null", () => {
    const lines = describeConfig(resolve({ gpuIds: [], outputMethods: [] }));
    assert.ok(lines.includes("code\tgpu_ids=[]"));
    assert.ok(lines.includes("code\toutput_methods=[]"));
    sandbox.box.writeLocal(section("gpu_ids = []"));
    assert.deepEqual(resolve().settings.gpuIds, []);
  });
});

describe("expandHome", () => {
  test("expands ~ and ~/ only", () => {
    assert.equal(expandHome("~", "/h"), "/h");
    assert.equal(expandHome("~/a/b", "/h"), path.join("/h", "a", "b"));
    assert.equal(expandHome("~other/a", "/h"), "~other/a");
    assert.equal(expandHome("/abs/~/x", "/h"), "/abs/~/x");
    assert.equal(expandHome("rel", "/h"), "rel");
  });
});
