import { test, describe, afterEach } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  createNvidiaReader,
  describeGpuModel,
  probeNvidia,
  type NvidiaGpu,
  type NvidiaProbe,
} from "../../src/measure/gpu-nvidia";
import { JOULES_PER_KWH } from "../../src/protocol/units";
import { useLogCapture } from "../helpers/log-capture";
import {
  installFakeNvidiaSmi,
  twoGpuState,
  type FakeNvidiaSmi,
  type FakeNvidiaState,
} from "../helpers/fake-nvidia-smi";

let fakes: FakeNvidiaSmi[] = [];
const captured = useLogCapture();

function fake(state: FakeNvidiaState): FakeNvidiaSmi {
  const installed = installFakeNvidiaSmi(state);
  fakes.push(installed);
  return installed;
}

function gpusOf(probe: NvidiaProbe): NvidiaGpu[] {
  assert.ok(probe.ok, probe.ok ? "" : probe.reason);
  return probe.gpus;
}

function reasonOf(probe: NvidiaProbe): string {
  assert.equal(probe.ok, false);
  return probe.ok ? "" : probe.reason;
}

const kwhFromJoules = (joules: number): number => joules / JOULES_PER_KWH;

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * 1e-12 + 1e-15, `${what}: ${actual} ≠ ${expected}`);
}

afterEach(() => {
  for (const f of fakes) f.cleanup();
  fakes = [];
});

describe("probeNvidia", () => {
  test("no nvidia-smi on PATH: unavailable, and the reason says so", async () => {
    const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    try {
      const probe = await probeNvidia({ env: { PATH: emptyBin } });
      assert.match(reasonOf(probe), /nvidia-smi not found on PATH/);
    } finally {
      fs.rmSync(emptyBin, { recursive: true, force: true });
    }
  });

  test("lists the GPUs with their static facts", async () => {
    const f = fake(twoGpuState());
    const probe = await probeNvidia({ env: f.env });
    assert.ok(probe.ok);
    assert.equal(probe.hasEnergyCounter, true);
    assert.deepEqual(probe.gpus, [
      {
        index: 0,
        uuid: "GPU-4e81c2a0-9d1f-4c2b-8a55-0f2e6b7d9c11",
        name: "NVIDIA A100-SXM4-40GB",
        memoryTotalMiB: 40960,
        powerLimitW: 400,
        hasEnergyCounter: true,
      },
      {
        index: 1,
        uuid: "GPU-9b02d7f4-1e3a-4f6c-b7d8-2a4c6e8f0b13",
        name: "Tesla T4",
        memoryTotalMiB: 15360,
        powerLimitW: 70,
        hasEnergyCounter: true,
      },
    ]);
  });

  test("an explicit command path works without PATH", async () => {
    const f = fake(twoGpuState());
    const probe = await probeNvidia({
      command: path.join(f.binDir, "nvidia-smi"),
      env: { FAKE_NVIDIA_SMI_STATE: f.env["FAKE_NVIDIA_SMI_STATE"] },
    });
    assert.equal(gpusOf(probe).length, 2);
  });

  test("[N/A] and [Not Supported] values are unavailable, not zero", async () => {
    const f = fake(twoGpuState([{ energyMJ: "[N/A]", powerLimitW: "[Not Supported]" }, {}]));
    const probe = await probeNvidia({ env: f.env });
    assert.ok(probe.ok);
    assert.equal(probe.hasEnergyCounter, false);
    assert.equal(probe.gpus[0]?.hasEnergyCounter, false);
    assert.equal(probe.gpus[0]?.powerLimitW, null);
    assert.equal(probe.gpus[1]?.hasEnergyCounter, true);
  });

  test("a driver that rejects total_energy_consumption falls back to the query without it", async () => {
    const f = fake({ ...twoGpuState(), energyFieldValid: false });
    const probe = await probeNvidia({ env: f.env });
    assert.ok(probe.ok);
    assert.equal(probe.hasEnergyCounter, false);
    assert.equal(probe.gpus.length, 2);
    assert.equal(probe.gpus[1]?.name, "Tesla T4");
  });

  test("a failing nvidia-smi gives its own message as the reason", async () => {
    const f = fake({
      ...twoGpuState(),
      failNext: 10,
      failMessage: "Failed to initialize NVML: Driver/library version mismatch",
      failExitCode: 18,
    });
    const reason = reasonOf(await probeNvidia({ env: f.env }));
    assert.match(reason, /exited with code 18/);
    assert.match(reason, /Driver\/library version mismatch/);
  });

  test("no driver: the reason quotes nvidia-smi", async () => {
    const f = fake(twoGpuState());
    const reason = reasonOf(await probeNvidia({ env: { PATH: f.binDir } }));
    assert.match(reason, /couldn't communicate with the NVIDIA driver/);
  });

  test("an nvidia-smi that hangs is stopped by the timeout", async () => {
    const f = fake({ ...twoGpuState(), delayMs: 30_000 });
    const reason = reasonOf(await probeNvidia({ env: f.env, timeoutMs: 200 }));
    assert.match(reason, /did not answer within 0.2 s/);
  });

  test("no GPU listed: unavailable", async () => {
    const f = fake({ gpus: [] });
    assert.match(reasonOf(await probeNvidia({ env: f.env })), /lists no GPU/);
  });

  test("a GPU name holding a comma is kept whole", async () => {
    const f = fake(twoGpuState([{ name: "NVIDIA RTX A6000, rev 2" }]));
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    assert.equal(gpus[0]?.name, "NVIDIA RTX A6000, rev 2");
    assert.equal(gpus[0]?.memoryTotalMiB, 40960);
  });
});

describe("createNvidiaReader: energy counter", () => {
  test("energy is the counter delta, power its mean over the interval", async () => {
    const f = fake({ ...twoGpuState(), secondsPerCall: 5 });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0, 1], { env: f.env });
    assert.equal(reader.device, "gpu");
    await reader.start();
    const reading = await reader.read(5);
    // The fake advances each counter by powerW × 5 s per call: (250 + 50) W × 5 s.
    assertClose(reading.energyKWh, kwhFromJoules(1500), "energy");
    assertClose(reading.powerW, 300, "power");
    assert.deepEqual(reader.source, { device: "gpu", method: "nvidia-smi-energy-counter", gpuIndices: [0, 1] });
  });

  test("CodeCarbon's vectors: three counters over 5 s", async () => {
    const before = [100701, 180001, 190001];
    const after = [149702, 180002, 200002];
    const state: FakeNvidiaState = {
      gpus: before.map((energyMJ, index) => ({
        index,
        uuid: `GPU-000${index}`,
        name: "Tesla V100",
        energyMJ,
        powerW: 1,
      })),
      secondsPerCall: 0,
    };
    const f = fake(state);
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const all = createNvidiaReader(gpus, [0, 1, 2], { env: f.env });
    const onlyOne = createNvidiaReader(gpus, [1], { env: f.env });
    await all.start();
    await onlyOne.start();
    f.update((s) => s.gpus.forEach((gpu, i) => (gpu.energyMJ = after[i] ?? 0)));
    assertClose((await all.read(5)).powerW, (49001 + 1 + 10001) / 1000 / 5, "all GPUs");
    assertClose((await onlyOne.read(5)).powerW, 1 / 1000 / 5, "gpu_ids [1]");
  });

  test("indices the probe did not list are ignored", async () => {
    const f = fake({ ...twoGpuState(), secondsPerCall: 1 });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [1, 7, 1], { env: f.env });
    assert.deepEqual(reader.source, { device: "gpu", method: "nvidia-smi-energy-counter", gpuIndices: [1] });
    await reader.start();
    assertClose((await reader.read(1)).energyKWh, kwhFromJoules(50), "energy");
  });

  test("a failed read counts 0 and the next one catches up the energy", async () => {
    const f = fake({ ...twoGpuState(), secondsPerCall: 5 });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0], { env: f.env });
    await reader.start();
    f.update((s) => (s.failNext = 2)); // the full query and the fallback without the energy field
    const failed = await reader.read(5);
    assert.deepEqual(failed, { energyKWh: 0, powerW: 0 });
    assert.ok(captured.lines.some((l) => l.level === "warning" && /exited with code 9/.test(l.message)));
    const next = await reader.read(5);
    // Three fake calls advanced the counter meanwhile (two failed, one answered): 3 × 250 W × 5 s.
    assertClose(next.energyKWh, kwhFromJoules(3750), "energy");
    assertClose(next.powerW, 3750 / 10, "power over the 10 s since the last good read");
  });

  test("a counter that goes backwards (driver reload) integrates power.draw instead", async () => {
    const f = fake({ ...twoGpuState(), secondsPerCall: 0 });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0], { env: f.env });
    await reader.start();
    f.update((s) => {
      const gpu = s.gpus[0];
      if (gpu) gpu.energyMJ = 10;
    });
    assertClose((await reader.read(4)).energyKWh, kwhFromJoules(250 * 4), "energy");
    assert.ok(captured.lines.some((l) => /went backwards/.test(l.message)));
  });
});

describe("createNvidiaReader: no energy counter (#1316)", () => {
  test("[N/A] counter: power.draw is integrated with the trapezoid rule", async () => {
    const f = fake(twoGpuState([{ energyMJ: "[N/A]", powerW: 100 }]));
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0], { env: f.env });
    assert.equal(reader.source.method, "nvidia-smi-power-draw");
    await reader.start();
    f.update((s) => {
      const gpu = s.gpus[0];
      if (gpu) gpu.powerW = 200;
    });
    const reading = await reader.read(10);
    assertClose(reading.energyKWh, kwhFromJoules(((100 + 200) / 2) * 10), "energy");
    assertClose(reading.powerW, 150, "power");
    assert.equal(reader.source.method, "nvidia-smi-power-draw");
  });

  test("a rejected energy field: power.draw is integrated, and the field is not asked again", async () => {
    const f = fake({ ...twoGpuState(), energyFieldValid: false });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0, 1], { env: f.env });
    await reader.start();
    const callsBefore = f.read().calls ?? 0;
    const reading = await reader.read(2);
    assertClose(reading.energyKWh, kwhFromJoules((250 + 50) * 2), "energy");
    assert.equal((f.read().calls ?? 0) - callsBefore, 1);
    assert.deepEqual(reader.source, { device: "gpu", method: "nvidia-smi-power-draw", gpuIndices: [0, 1] });
  });

  test("a failed read in power mode integrates the whole gap at the next read", async () => {
    const f = fake(twoGpuState([{ energyMJ: "[N/A]", powerW: 100 }]));
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0], { env: f.env });
    await reader.start();
    f.update((s) => (s.failNext = 1)); // no counter on this GPU, so one query per read
    assert.equal((await reader.read(3)).energyKWh, 0);
    f.update((s) => {
      const gpu = s.gpus[0];
      if (gpu) gpu.powerW = 300;
    });
    const reading = await reader.read(3);
    assertClose(reading.energyKWh, kwhFromJoules(((100 + 300) / 2) * 6), "energy");
    assertClose(reading.powerW, 200, "power");
  });

  test("a mix of counter and no counter: each GPU by its own method, reported as power draw", async () => {
    const f = fake({ ...twoGpuState([{ energyMJ: "[N/A]", powerW: 100 }, { powerW: 50 }]), secondsPerCall: 2 });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0, 1], { env: f.env });
    await reader.start();
    const reading = await reader.read(2);
    assertClose(reading.energyKWh, kwhFromJoules(100 * 2 + 50 * 2), "energy");
    assert.equal(reader.source.method, "nvidia-smi-power-draw");
  });

  test("neither counter nor power: 0, with a warning rather than silence", async () => {
    const f = fake(twoGpuState([{ energyMJ: "[N/A]", powerW: "[N/A]" }]));
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [0], { env: f.env });
    await reader.start();
    assert.equal((await reader.read(1)).energyKWh, 0);
    assert.ok(
      captured.lines.some((l) => l.level === "warning" && /neither an energy counter nor power.draw/.test(l.message)),
    );
  });

  test("a failed start still gives a first reading from power.draw", async () => {
    const f = fake({ ...twoGpuState(), secondsPerCall: 0, failNext: 0 });
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const reader = createNvidiaReader(gpus, [1], { env: f.env });
    f.update((s) => (s.failNext = 2));
    await reader.start();
    assertClose((await reader.read(4)).energyKWh, kwhFromJoules(50 * 4), "energy");
  });
});

describe("utilisation and model", () => {
  test("utilizationPercent is the mean over the measured GPUs at the latest read", async () => {
    const f = fake(twoGpuState());
    const gpus = gpusOf(await probeNvidia({ env: f.env }));
    const both = createNvidiaReader(gpus, [0, 1], { env: f.env });
    const second = createNvidiaReader(gpus, [1], { env: f.env });
    assert.equal(both.utilizationPercent(), null);
    await both.start();
    await second.start();
    assert.equal(both.utilizationPercent(), 60);
    assert.equal(second.utilizationPercent(), 40);
    f.update((s) => {
      const gpu = s.gpus[1];
      if (gpu) gpu.utilizationPercent = 100;
    });
    await both.read(1);
    assert.equal(both.utilizationPercent(), 90);
  });

  test("describeGpuModel counts each model, separated by commas", () => {
    const a100 = { name: "NVIDIA A100-SXM4-40GB" };
    assert.equal(describeGpuModel([a100, { name: "Tesla T4" }, a100]), "2 x NVIDIA A100-SXM4-40GB, 1 x Tesla T4");
    assert.equal(describeGpuModel([a100]), "1 x NVIDIA A100-SXM4-40GB");
    assert.equal(describeGpuModel([]), "");
  });
});
