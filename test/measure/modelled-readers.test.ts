import { test, describe, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createForcedPowerReader, createRamReader, createTdpCpuReader } from "../../src/measure/modelled-readers";
import type { CpuTdp } from "../../src/measure/cpu-tdp";
import { machineLoadPowerW } from "../../src/measure/cpu-load";
import { resetLogOnce, setLogSink, type LogLevel } from "../../src/log";
import { JOULES_PER_KWH } from "../../src/protocol/units";
import { BYTES_PER_GIB } from "../../src/units";

const TDP: CpuTdp = { tdpW: 100, origin: "matched", matchedName: "Test CPU 100" };
/** The model at 50 % load for this TDP: 21.25 W, give or take the last bit of the double. */
const HALF_LOAD_W = machineLoadPowerW(100, 50);

/** A sampler fake that hands out queued values and counts its calls. */
function queue<T>(values: T[]): { next(): T; calls: number } {
  const fake = {
    calls: 0,
    next(): T {
      fake.calls += 1;
      if (values.length === 0) throw new Error("the test asked for more samples than it queued");
      return values.shift() as T;
    },
  };
  return fake;
}

function kwh(wattSeconds: number): number {
  return wattSeconds / JOULES_PER_KWH;
}

afterEach(() => {
  setLogSink(undefined);
  resetLogOnce();
});

describe("createTdpCpuReader, machine mode", () => {
  test("integrates TDP × (0.1 + 0.9 × load³) over each sub-interval; read closes the interval", async () => {
    const loads = queue<number | null>([10, 50, 100, 0]);
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => loads.next() },
    });
    await reader.start(); // primes the window with the first sample
    reader.tick?.(1); // 50 % → 21.25 W for 1 s
    reader.tick?.(2); // 100 % → 100 W for 2 s
    const reading = await reader.read(4); // 0 % → 10 W for the remaining 1 s
    const energyWs = HALF_LOAD_W * 1 + 100 * 2 + 10 * 1;
    assert.equal(reading.energyKWh, kwh(energyWs));
    assert.equal(reading.powerW, energyWs / 4);
    assert.equal(loads.calls, 4);
  });

  test("each read returns only the energy since the previous one", async () => {
    const loads = queue<number | null>([0, 100, 100, 50]);
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => loads.next() },
    });
    await reader.start();
    assert.equal((await reader.read(2)).energyKWh, kwh(200));
    reader.tick?.(1);
    const second = await reader.read(3);
    assert.equal(second.energyKWh, kwh(100 * 1 + HALF_LOAD_W * 2));
  });

  test("a missing sample repeats the last load; before any, the 10 % floor", async () => {
    const loads = queue<number | null>([null, null, 100, null]);
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => loads.next() },
    });
    await reader.start();
    reader.tick?.(1); // null → floor, 10 W
    reader.tick?.(1); // 100 W
    const reading = await reader.read(3); // null → 100 W again
    assert.equal(reading.energyKWh, kwh(10 + 100 + 100));
  });

  test("a sampler that throws is logged once and treated as a missing sample", async () => {
    const messages: Array<[LogLevel, string]> = [];
    setLogSink((level, message) => messages.push([level, message]));
    let calls = 0;
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: {
        sample: () => {
          calls += 1;
          if (calls === 1) return 100;
          throw new Error("boom");
        },
      },
    });
    await reader.start();
    reader.tick?.(1);
    const reading = await reader.read(2);
    assert.equal(reading.energyKWh, kwh(200));
    assert.equal(messages.filter(([level]) => level === "warning").length, 1);
  });

  test("bogus tick intervals take no sample and charge nothing", async () => {
    const loads = queue<number | null>([100, 100]);
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => loads.next() },
    });
    await reader.start();
    reader.tick?.(0);
    reader.tick?.(-1);
    reader.tick?.(Number.NaN);
    reader.tick?.(Number.POSITIVE_INFINITY);
    assert.equal(loads.calls, 1);
    assert.equal((await reader.read(1)).energyKWh, kwh(100));
  });

  test("start() drops energy gathered before it", async () => {
    const loads = queue<number | null>([100, 100, 100, 100]);
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => loads.next() },
    });
    await reader.start();
    reader.tick?.(5);
    await reader.start();
    assert.equal((await reader.read(1)).energyKWh, kwh(100));
  });

  test("a zero-length read reports the last power and no energy", async () => {
    const loads = queue<number | null>([100, 50, 50, 50]);
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => loads.next() },
    });
    await reader.start();
    reader.tick?.(1);
    await reader.read(1);
    const reading = await reader.read(0);
    assert.equal(reading.energyKWh, 0);
    assert.equal(reading.powerW, HALF_LOAD_W);
  });

  test("its source records the TDP, where it came from and the load model", () => {
    const reader = createTdpCpuReader({
      tdp: TDP,
      mode: "machine",
      logicalCpuCount: 8,
      loadSampler: { sample: () => null },
    });
    assert.equal(reader.device, "cpu");
    assert.deepEqual(reader.source, {
      device: "cpu",
      method: "tdp",
      tdpW: 100,
      tdpOrigin: "matched",
      matchedName: "Test CPU 100",
      loadModel: "machine",
    });
  });

  test("without an injected sampler it reads this machine's load", async () => {
    const reader = createTdpCpuReader({ tdp: TDP, mode: "machine", logicalCpuCount: 8 });
    await reader.start();
    reader.tick?.(1);
    const reading = await reader.read(2);
    // Between the 10 % floor and the full TDP for 2 s.
    assert.ok(reading.powerW >= 10 && reading.powerW <= 100, String(reading.powerW));
    assert.ok(Math.abs(reading.energyKWh - kwh(reading.powerW * 2)) < 1e-15);
  });
});

describe("createTdpCpuReader, process mode", () => {
  const tdp: CpuTdp = { tdpW: 80, origin: "per-core-default", matchedName: null };

  test("charges the tree's CPU time at TDP per logical CPU", async () => {
    const cpu = queue([10, 10.5, 12.5]);
    const reader = createTdpCpuReader({
      tdp,
      mode: "process",
      logicalCpuCount: 4,
      processSampler: { cpuSeconds: () => cpu.next() },
    });
    await reader.start(); // baseline 10 s
    reader.tick?.(1); // 0.5 s used in 1 s: 50 % → 80 × 12.5 / 100 = 10 W
    const reading = await reader.read(3); // 2 s used in 2 s: 100 % → 20 W
    assert.equal(reading.energyKWh, kwh(10 * 1 + 20 * 2));
    assert.equal(reading.powerW, 50 / 3);
    assert.deepEqual(reader.source, {
      device: "cpu",
      method: "tdp",
      tdpW: 80,
      tdpOrigin: "per-core-default",
      matchedName: null,
      loadModel: "process",
    });
  });

  test("an idle tree costs nothing, and a total that falls counts as no use", async () => {
    const cpu = queue([5, 5, 4, 4.5]);
    const reader = createTdpCpuReader({
      tdp,
      mode: "process",
      logicalCpuCount: 4,
      processSampler: { cpuSeconds: () => cpu.next() },
    });
    await reader.start();
    reader.tick?.(1); // unchanged
    reader.tick?.(1); // fell from 5 to 4 (a child left the tree)
    const reading = await reader.read(3); // 0.5 s used since the 4 s sample → 80 × 0.5 / 4
    assert.equal(reading.energyKWh, kwh(10));
  });

  test("CPU time used right before a read that ticks no further is still charged", async () => {
    const cpu = queue([0, 1, 3]);
    const reader = createTdpCpuReader({
      tdp,
      mode: "process",
      logicalCpuCount: 4,
      processSampler: { cpuSeconds: () => cpu.next() },
    });
    await reader.start();
    reader.tick?.(2); // 1 s used → 80 × 1 / 4 = 20 W·s
    const reading = await reader.read(2); // no time left, 2 s used → 80 × 2 / 4 = 40 W·s
    assert.equal(reading.energyKWh, kwh(60));
  });
});

describe("createForcedPowerReader", () => {
  test("charges the forced power for the whole interval", async () => {
    const reader = createForcedPowerReader("cpu", 42);
    await reader.start();
    assert.deepEqual(await reader.read(10), { energyKWh: kwh(420), powerW: 42 });
    assert.deepEqual(reader.source, { device: "cpu", method: "forced", powerW: 42 });
    assert.equal(reader.device, "cpu");
    assert.equal(reader.tick, undefined);
  });

  test("works for RAM too, and a zero interval gives no energy", async () => {
    const reader = createForcedPowerReader("ram", 7.5);
    assert.deepEqual(reader.source, { device: "ram", method: "forced", powerW: 7.5 });
    assert.deepEqual(await reader.read(0), { energyKWh: 0, powerW: 7.5 });
  });

  test("rejects a negative or non-finite power", () => {
    assert.throws(() => createForcedPowerReader("cpu", -1), RangeError);
    assert.throws(() => createForcedPowerReader("ram", Number.NaN), RangeError);
  });
});

describe("createRamReader", () => {
  test("machine mode: the model power of the whole memory, constant", async () => {
    const reader = createRamReader({ mode: "machine", totalBytes: 16 * BYTES_PER_GIB, isArm: false });
    await reader.start();
    assert.deepEqual(await reader.read(3600), { energyKWh: kwh(10 * 3600), powerW: 10 });
    assert.deepEqual(reader.source, {
      device: "ram",
      method: "dimm-model",
      sizeGiB: 16,
      dimmCount: 2,
      arm: false,
      mode: "machine",
    });
    assert.equal(reader.tick, undefined);
  });

  test("machine mode on a large ARM server", async () => {
    const reader = createRamReader({ mode: "machine", totalBytes: 64 * BYTES_PER_GIB, isArm: true });
    assert.deepEqual(await reader.read(2), { energyKWh: kwh(12), powerW: 6 });
  });

  test("process mode: the model power of the tree's RSS at each sample, floor included", async () => {
    const rss = queue([1, 1, 100, 0.5].map((gib) => gib * BYTES_PER_GIB));
    const reader = createRamReader({
      mode: "process",
      totalBytes: 512 * BYTES_PER_GIB,
      isArm: false,
      processSampler: { rssBytes: () => rss.next() },
    });
    assert.equal(reader.source.method === "dimm-model" && reader.source.sizeGiB, 1);
    await reader.start();
    reader.tick?.(1); // 100 GiB → 8 DIMMs → 38 W
    const reading = await reader.read(3); // 0.5 GiB → the 10 W floor for 2 s
    assert.equal(reading.energyKWh, kwh(38 + 20));
    assert.equal(reading.powerW, 58 / 3);
    assert.deepEqual(reader.source, {
      device: "ram",
      method: "dimm-model",
      sizeGiB: 0.5,
      dimmCount: 1,
      arm: false,
      mode: "process",
    });
  });

  test("process mode on ARM charges the 3 W floor", async () => {
    const reader = createRamReader({
      mode: "process",
      totalBytes: 8 * BYTES_PER_GIB,
      isArm: true,
      processSampler: { rssBytes: () => 50 * 1024 * 1024 },
    });
    await reader.start();
    assert.equal((await reader.read(10)).energyKWh, kwh(30));
  });

  test("process mode: memory that cannot be read costs 0 W, with one warning", async () => {
    const messages: Array<[LogLevel, string]> = [];
    setLogSink((level, message) => messages.push([level, message]));
    const reader = createRamReader({
      mode: "process",
      totalBytes: 8 * BYTES_PER_GIB,
      isArm: false,
      processSampler: {
        rssBytes: () => {
          throw new Error("no such process");
        },
      },
    });
    await reader.start();
    reader.tick?.(1);
    assert.deepEqual(await reader.read(2), { energyKWh: 0, powerW: 0 });
    assert.equal(messages.filter(([level]) => level === "warning").length, 1);
  });

  test("process mode without an injected sampler measures this process", async () => {
    const reader = createRamReader({ mode: "process", totalBytes: 8 * BYTES_PER_GIB, isArm: false });
    await reader.start();
    reader.tick?.(1);
    const reading = await reader.read(2);
    // Node's own RSS is far below 16 GB: the 10 W floor.
    assert.equal(reading.powerW, 10);
    assert.equal(reading.energyKWh, kwh(20));
  });
});
