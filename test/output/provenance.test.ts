/**
 * Provenance beside the CSV, for each kind of power source, through real trackers in child
 * processes (RAPL fixture tree, TDP, forced power, the fake nvidia-smi with and without its
 * energy counter).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, runChild, type Sandbox } from "../helpers/sandbox";
import { buildRaplTree } from "../helpers/rapl-tree";
import { installFakeNvidiaSmi, twoGpuState } from "../helpers/fake-nvidia-smi";
import type { RunProvenance } from "../../src/output/provenance";

async function provenanceOf(
  sandbox: Sandbox,
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
): Promise<{ record: RunProvenance; returned: RunProvenance }> {
  const result = await runChild(
    `const { OfflineEmissionsTracker } = require(CODECARBON);
     (async () => {
       const tracker = new OfflineEmissionsTracker(${JSON.stringify({ countryIsoCode: "CAN", region: "ontario", measurePowerSecs: 0.2, ...options })}).start();
       await new Promise((r) => setTimeout(r, 400));
       await tracker.stop();
       console.log("PROVENANCE=" + JSON.stringify(tracker.finalEmissionsData.provenance));
     })();`,
    sandbox,
    env,
  );
  const returned = JSON.parse(/PROVENANCE=(.*)/.exec(result.stdout)![1]!) as RunProvenance;
  const lines = fs.readFileSync(path.join(sandbox.cwd, "emissions.provenance.jsonl"), "utf8").trim().split("\n");
  return { record: JSON.parse(lines.at(-1)!) as RunProvenance, returned };
}

describe("the provenance of every number", () => {
  const sandbox = makeSandbox();
  after(() => sandbox.cleanup());

  test("RAPL: the domains; and the intensity's source, edition, year and zone", async () => {
    const tree = buildRaplTree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 1_000_000 }]);
    try {
      const { record, returned } = await provenanceOf(sandbox, { raplDir: tree.root });
      assert.deepEqual(returned, record, "finalEmissionsData.provenance is the line written beside the CSV");
      const cpu = record.power_sources.find((s) => s.device === "cpu")!;
      assert.equal(cpu.method, "rapl");
      assert.match(cpu.description, /RAPL \(package-0\)/);
      assert.deepEqual(
        [record.intensity.kind, record.intensity.edition, record.intensity.year, record.intensity.zone],
        ["zone", "latest", 2025, "CA-ON"],
      );
      assert.match(record.intensity.dataset, /Electricity Maps/);
      const [row] = fs.readFileSync(path.join(sandbox.cwd, "emissions.csv"), "utf8").trim().split("\n").slice(-1);
      assert.ok(row?.includes(record.run_id), "keyed by the CSV's run_id");
    } finally {
      tree.cleanup();
    }
  });

  test("TDP with the matched CPU name, and the codecarbon edition when asked", async () => {
    const { record } = await provenanceOf(sandbox, {
      raplDir: path.join(sandbox.dir, "no-rapl"),
      intensityData: "codecarbon",
    });
    const cpu = record.power_sources.find((s) => s.device === "cpu")!;
    assert.equal(cpu.method, "tdp");
    assert.ok("tdpOrigin" in cpu);
    assert.match(cpu.description, /CPU from TDP/);
    assert.deepEqual(
      [record.intensity.kind, record.intensity.edition, record.intensity.zone],
      ["canada-province", "codecarbon", null],
    );
    const ram = record.power_sources.find((s) => s.device === "ram")!;
    assert.equal(ram.method, "dimm-model");
  });

  test("forced power", async () => {
    const { record } = await provenanceOf(sandbox, {
      raplDir: path.join(sandbox.dir, "no-rapl"),
      forceCpuPower: 42,
      forceRamPower: 7,
    });
    const cpu = record.power_sources.find((s) => s.device === "cpu")!;
    assert.equal(cpu.method, "tdp", "a forced CPU power is the TDP of the load model, as in CodeCarbon");
    assert.match(cpu.description, /42 W/);
    const ram = record.power_sources.find((s) => s.device === "ram")!;
    assert.deepEqual([ram.method, ram.description], ["forced", "RAM forced at 7 W"]);
  });

  test("NVIDIA: the energy counter, or power draw when the driver lacks it", async () => {
    for (const [energyFieldValid, method] of [
      [true, "nvidia-smi-energy-counter"],
      [false, "nvidia-smi-power-draw"],
    ] as const) {
      const fake = installFakeNvidiaSmi({ ...twoGpuState(), energyFieldValid });
      try {
        const { record } = await provenanceOf(
          sandbox,
          { raplDir: path.join(sandbox.dir, "no-rapl") },
          {
            PATH: `${fake.binDir}:${process.env["PATH"] ?? ""}`,
            FAKE_NVIDIA_SMI_STATE: fake.env["FAKE_NVIDIA_SMI_STATE"],
          },
        );
        const gpu = record.power_sources.find((s) => s.device === "gpu")!;
        assert.equal(gpu.method, method);
        assert.match(gpu.description, /GPU 0,1/);
      } finally {
        fake.cleanup();
      }
    }
  });
});
