/**
 * The real-environment path: a separate Node process with a real HOME, working directory and
 * environment variables, loading the compiled loader with no injected context.
 */
import { afterEach, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { makeConfigSandbox, section, type ConfigSandbox } from "./config-sandbox";

const COMPILED_CONFIG = path.resolve(__dirname, "..", "..", "src", "config", "index.js");

let box: ConfigSandbox;
beforeEach(() => {
  box = makeConfigSandbox();
});
afterEach(() => box.cleanup());

function runChild(
  script: string,
  extraEnv: NodeJS.ProcessEnv,
): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toUpperCase().startsWith("CODECARBON_")) env[name] = value;
  }
  Object.assign(env, { HOME: box.home, USERPROFILE: box.home }, extraEnv);
  const source = `const config = require(${JSON.stringify(COMPILED_CONFIG)});\n${script}`;
  return spawnSync(process.execPath, ["-e", source], { cwd: box.cwd, env, encoding: "utf8" });
}

test("a child process resolves its real HOME file, working-directory file and environment", () => {
  assert.ok(fs.existsSync(COMPILED_CONFIG), `${COMPILED_CONFIG} is built`);
  box.writeGlobal(section("measure_power_secs = 10", "project_name = from-home", "output_dir = ~/emissions"));
  box.writeLocal(section("measure_power_secs = 20", "gpu_ids = 0, 1"));
  const result = runChild(
    "const resolved = config.resolveConfig({ wue: 1.1 });\n" +
      "process.stdout.write(JSON.stringify({ settings: resolved.settings, origins: resolved.origins, lines: config.describeConfig(resolved) }));",
    { CODECARBON_GPU_IDS: "[2, GPU-abc]", codecarbon_pue: "1.3", CODECARBON_LOG_LEVEL: "error" },
  );
  assert.equal(result.status, 0, result.stderr);
  const output = JSON.parse(result.stdout) as {
    settings: Record<string, unknown>;
    origins: Record<string, { layer: string; file?: string; line?: number; variable?: string }>;
    lines: string[];
  };
  assert.equal(output.settings["projectName"], "from-home");
  assert.equal(output.settings["outputDir"], path.join(box.home, "emissions"));
  assert.equal(output.settings["measurePowerSecs"], 20);
  assert.deepEqual(output.origins["measurePowerSecs"], {
    layer: "local-file",
    file: fs.realpathSync(box.localFile),
    line: 2,
  });
  assert.deepEqual(output.settings["gpuIds"], [2, "GPU-abc"]);
  assert.deepEqual(output.origins["gpuIds"], { layer: "env", variable: "CODECARBON_GPU_IDS" });
  assert.equal(output.settings["pue"], 1.3);
  assert.equal(output.settings["logLevel"], "error");
  assert.equal(output.settings["wue"], 1.1);
  assert.deepEqual(output.origins["wue"], { layer: "code" });
  assert.ok(output.lines.includes("file:~/.codecarbon.config:3\tproject_name=from-home"));
});

test("a child process with a malformed config file fails with the file and line", () => {
  box.writeLocal("pue = 1.2\n");
  const result = runChild(
    "try { config.resolveConfig(); } catch (error) { process.stderr.write(error.name + ' ' + error.code + ': ' + error.message); process.exit(3); }",
    {},
  );
  assert.equal(result.status, 3);
  const localShown = fs.realpathSync(box.localFile);
  assert.equal(
    result.stderr,
    `ConfigError ERR_CODECARBON_CONFIG_INVALID: ${localShown} line 1: pue comes before any section; put a [codecarbon] line above it`,
  );
});
