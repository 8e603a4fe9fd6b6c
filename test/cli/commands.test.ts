/** `codecarbon --version`, `--help`, `config` and `detect`, run as real child processes. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, type Sandbox } from "../helpers/sandbox";
import { buildRaplTree, type RaplTree } from "../helpers/rapl-tree";
import { installFakeNvidiaSmi, twoGpuState, type FakeNvidiaSmi } from "../helpers/fake-nvidia-smi";
import { runCli } from "./cli-run";

const version = (
  JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "package.json"), "utf8")) as { version: string }
).version;

let sandbox: Sandbox;
before(() => {
  sandbox = makeSandbox();
});
after(() => sandbox.cleanup());

describe("version and help", () => {
  test("--version and -v print `codecarbon <version>` and exit 0", async () => {
    for (const flag of ["--version", "-v"]) {
      const result = await runCli([flag], sandbox);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `codecarbon ${version}\n`);
    }
  });

  test("--help lists the commands; each command has its own --help", async () => {
    const top = await runCli(["--help"], sandbox);
    assert.equal(top.code, 0);
    for (const command of ["init", "monitor", "config", "detect"])
      assert.match(top.stdout, new RegExp(`^  ${command}\\b`, "m"));

    const expected: Record<string, string[]> = {
      init: ["--name", "--description", "--project-id"],
      monitor: [
        "--measure-power-secs",
        "--api-call-interval",
        "--no-api",
        "--offline",
        "--country-iso-code",
        "--region",
        "--output-dir",
        "--log-level",
        "-- <command>",
      ],
      config: ["--show-origin", "--json"],
      detect: ["--json"],
    };
    for (const [command, words] of Object.entries(expected)) {
      const result = await runCli([command, "--help"], sandbox);
      assert.equal(result.code, 0, `${command} --help: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^Usage: codecarbon ${command}`));
      for (const word of words) assert.ok(result.stdout.includes(word), `${command} --help mentions ${word}`);
    }
  });

  test("usage errors exit 2 with the problem on stderr", async () => {
    const unknown = await runCli(["frobnicate"], sandbox);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^codecarbon: unknown command 'frobnicate'/);
    assert.equal(unknown.stdout, "");

    const badValue = await runCli(["monitor", "--measure-power-secs", "fast"], sandbox);
    assert.equal(badValue.code, 2);
    assert.match(badValue.stderr, /--measure-power-secs.*'fast' is invalid/);
  });
});

describe("config", () => {
  test("--show-origin says which file, line or variable each value comes from", async () => {
    fs.writeFileSync(
      path.join(sandbox.home, ".codecarbon.config"),
      "[codecarbon]\nproject_name = from-home\npue = 1.1\n",
    );
    fs.writeFileSync(
      path.join(sandbox.cwd, ".codecarbon.config"),
      "[codecarbon]\n# local\npue = 1.3\napi_key = cpt_abcdefghijklmnop1234\n",
    );
    try {
      const result = await runCli(["config", "--show-origin"], sandbox, { CODECARBON_MEASURE_POWER_SECS: "2.5" });
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split("\n");
      const localFile = path.join(sandbox.cwd, ".codecarbon.config");
      assert.ok(lines.includes("file:~/.codecarbon.config:2\tproject_name=from-home"), result.stdout);
      assert.ok(lines.includes(`file:${localFile}:3\tpue=1.3`), result.stdout);
      assert.ok(lines.includes("env:CODECARBON_MEASURE_POWER_SECS\tmeasure_power_secs=2.5"), result.stdout);
      assert.ok(lines.includes("default\texperiment_name=base"), result.stdout);
      assert.ok(lines.includes(`file:${localFile}:4\tapi_key=cpt_…1234`), "the token is masked");
      assert.ok(!result.stdout.includes("abcdefghijklmnop"));

      const plain = await runCli(["config"], sandbox);
      assert.ok(plain.stdout.split("\n").includes("pue=1.3"));
      assert.ok(!plain.stdout.includes("file:"));

      const json = await runCli(["config", "--json", "--show-origin"], sandbox, {
        CODECARBON_MEASURE_POWER_SECS: "2.5",
      });
      const parsed = JSON.parse(json.stdout) as Record<
        string,
        { value: unknown; origin: { layer: string; file?: string; line?: number; variable?: string } }
      >;
      assert.deepEqual(parsed["pue"], { value: 1.3, origin: { layer: "local-file", file: localFile, line: 3 } });
      assert.deepEqual(parsed["measure_power_secs"], {
        value: 2.5,
        origin: { layer: "env", variable: "CODECARBON_MEASURE_POWER_SECS" },
      });
      assert.equal(parsed["api_key"]?.value, "cpt_…1234");
    } finally {
      fs.rmSync(path.join(sandbox.home, ".codecarbon.config"));
      fs.rmSync(path.join(sandbox.cwd, ".codecarbon.config"));
    }
  });

  test("--show-origin shows the GPUs CUDA_VISIBLE_DEVICES names when gpu_ids is unset", async () => {
    const result = await runCli(["config", "--show-origin"], sandbox, { CUDA_VISIBLE_DEVICES: "0,2" });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.split("\n").includes("env:CUDA_VISIBLE_DEVICES\tgpu_ids=0, 2"), result.stdout);
    const json = await runCli(["config", "--json", "--show-origin"], sandbox, { ROCR_VISIBLE_DEVICES: "1" });
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual(parsed["gpu_ids"], { value: ["1"], origin: { layer: "env", variable: "ROCR_VISIBLE_DEVICES" } });
    // A configured gpu_ids wins, as it does for a tracker.
    const set = await runCli(["config", "--show-origin"], sandbox, {
      CUDA_VISIBLE_DEVICES: "0,2",
      CODECARBON_GPU_IDS: "1",
    });
    assert.ok(set.stdout.split("\n").includes("env:CODECARBON_GPU_IDS\tgpu_ids=1"), set.stdout);
  });

  test("an invalid value is reported with its place and exit 1", async () => {
    const result = await runCli(["config"], sandbox, { CODECARBON_PUE: "lots" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^codecarbon: CODECARBON_PUE="lots"/);
    assert.equal(result.stdout, "");
  });
});

describe("detect", () => {
  let rapl: RaplTree;
  let nvidia: FakeNvidiaSmi;
  before(() => {
    rapl = buildRaplTree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 1_000_000 },
      { id: "intel-rapl:0:0", name: "core", energyUJ: 500_000 },
    ]);
    nvidia = installFakeNvidiaSmi(twoGpuState());
  });
  after(() => {
    rapl.cleanup();
    nvidia.cleanup();
  });

  test("reports the RAPL package domains of the configured tree and the GPUs chosen by gpu_ids", async () => {
    const result = await runCli(["detect"], sandbox, {
      ...nvidia.env,
      CODECARBON_RAPL_DIR: rapl.root,
      CODECARBON_GPU_IDS: "1",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Detected hardware\n/);
    assert.match(result.stdout, /^ {2}CPU: {2}.+\(\d+ threads?, \d+ sockets?\)$/m);
    assert.match(result.stdout, /^ {2}RAM: {2}[\d.]+ GiB$/m);
    assert.match(result.stdout, /^ {2}GPU: {2}1 x NVIDIA A100-SXM4-40GB, 1 x Tesla T4 \(only tracking GPU ids 1\)$/m);
    assert.ok(result.stdout.includes(`  CPU:  RAPL package domains package-0 (${rapl.root})`), result.stdout);
    assert.match(result.stdout, /^ {2}GPU: {2}nvidia-smi .*GPU 1$/m);

    const json = await runCli(["detect", "--json"], sandbox, {
      ...nvidia.env,
      CODECARBON_RAPL_DIR: rapl.root,
      CODECARBON_GPU_IDS: "1",
    });
    const report = JSON.parse(json.stdout) as {
      hardware: { gpu_count: number; gpu_ids: number[] | null };
      power: Array<{ device: string; source: { method: string } | null }>;
    };
    assert.equal(report.hardware.gpu_count, 2);
    assert.deepEqual(report.hardware.gpu_ids, [1]);
    assert.deepEqual(
      report.power.map((p) => [p.device, p.source?.method]),
      [
        ["cpu", "rapl"],
        ["ram", "dimm-model"],
        ["gpu", "nvidia-smi-energy-counter"],
      ],
    );
  });

  test("force_cpu_power replaces RAPL and says why; no nvidia-smi means no GPU, with the reason", async () => {
    const emptyBin = path.join(sandbox.dir, "empty-bin");
    fs.mkdirSync(emptyBin, { recursive: true });
    const result = await runCli(["detect"], sandbox, {
      PATH: emptyBin,
      CODECARBON_RAPL_DIR: rapl.root,
      CODECARBON_FORCE_CPU_POWER: "65",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      result.stdout.includes("  CPU:  force_cpu_power: 65 W used as the TDP, × machine CPU load"),
      result.stdout,
    );
    assert.ok(result.stdout.includes("RAPL not used: force_cpu_power is set"));
    assert.match(result.stdout, /^ {2}GPU: {2}none$/m);
    assert.match(result.stdout, /^ {8}no GPU: .*nvidia-smi/m);
  });

  test("a tree without RAPL zones gives the TDP model and the probe's reason", async () => {
    const noRapl = path.join(sandbox.dir, "no-powercap");
    const emptyBin = path.join(sandbox.dir, "empty-bin");
    fs.mkdirSync(noRapl, { recursive: true });
    fs.mkdirSync(emptyBin, { recursive: true });
    const result = await runCli(["detect", "--json"], sandbox, { PATH: emptyBin, CODECARBON_RAPL_DIR: noRapl });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      power: Array<{ device: string; source: { method: string } | null; notes: string[] }>;
    };
    const cpu = report.power.find((p) => p.device === "cpu");
    assert.equal(cpu?.source?.method, "tdp");
    assert.match(cpu?.notes[0] ?? "", /^no RAPL: /);
  });
});
