/**
 * One measurement built from fake readers with an injected clock: counters' late baselines,
 * power from energy, pricing, the sample and the row agreeing, and a failing reader.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setLogSink } from "../../src/log";
import type { EnergyReader, PowerSource } from "../../src/measure/types";
import { RunClock, type TimeSource } from "../../src/tracker/clock";
import { MeasurementBuilder, UtilisationMeter, type MeasuredHardware } from "../../src/tracker/measurement";
import { buildEmissionsRow, type RunMeta } from "../../src/tracker/rows";
import { emptyTotals } from "../../src/tracker/accumulator";
import { JOULES_PER_KWH } from "../../src/protocol/units";

const meta: RunMeta = {
  forcedPowerW: {},
  projectName: "p",
  runId: "r",
  experimentId: "e",
  location: {
    countryName: "France",
    countryIsoCode: "FRA",
    region: "",
    cloudProvider: "",
    cloudRegion: "",
    onCloud: false,
    latitude: null,
    longitude: null,
  },
  osDescription: "test",
  nodeVersion: "20",
  packageVersion: "0",
  cpuCount: 2,
  cpuModel: "cpu",
  gpuCount: 0,
  gpuModel: "",
  ramTotalSizeGiB: 1,
  trackingMode: "machine",
  pue: 1,
  wue: 0,
};

/** A reader drawing a constant power; `source` says whether it is a counter or a model. */
function constantReader(device: "cpu" | "ram", powerW: number, source: PowerSource): EnergyReader {
  return {
    device,
    source,
    start: async () => undefined,
    read: async (intervalS) => ({ energyKWh: (powerW * intervalS) / JOULES_PER_KWH, powerW }),
  };
}

const rapl: PowerSource = { device: "cpu", method: "rapl", domains: ["package-0"], includesDram: false };
const forcedRam: PowerSource = { device: "ram", method: "forced", powerW: 5 };

function hardware(readers: EnergyReader[]): MeasuredHardware {
  return {
    readers,
    loadSampler: { refresh: () => undefined, meanPercent: () => 42 } as never,
    gpuUtilisation: () => null,
  };
}

const manualTime = (t: { ns: bigint }): TimeSource => ({
  now: () => t.ns,
  wallNow: () => Number(t.ns / 1_000_000n),
  setTimeout: () => 0,
  clearTimeout: () => undefined,
  setInterval: () => 0,
  clearInterval: () => undefined,
});

test("a counter's first interval is extended over its late baseline; a model's is not", async () => {
  const t = { ns: 0n };
  const clock = new RunClock(0n, 1, manualTime(t));
  // Counters took their baseline 0.2 s after start: their first read covers 0.8 s of a 1 s interval.
  const counter = constantReader("cpu", 10, rapl);
  const counterRead = counter.read;
  counter.read = async (intervalS) => counterRead(intervalS - 0.2);
  const builder = new MeasurementBuilder(
    hardware([counter, constantReader("ram", 5, forcedRam)]),
    meta,
    0.2,
    new UtilisationMeter(2 ** 30, () => 2 ** 29),
  );
  t.ns = 1_000_000_000n;
  const first = await builder.take(clock.endInterval(), 100);
  assert.ok(Math.abs(first.sample.powerW.cpu - 10) < 1e-9, `cpu ${first.sample.powerW.cpu} W`);
  assert.ok(Math.abs(first.sample.powerW.ram - 5) < 1e-9);
  t.ns = 2_000_000_000n;
  counter.read = counterRead;
  const second = await builder.take(clock.endInterval(), 100);
  assert.ok(Math.abs(second.sample.powerW.cpu - 10) < 1e-9, "later intervals are read as they are");
  assert.ok(Math.abs(second.sample.energyKWh.total - (15 * 2) / JOULES_PER_KWH) < 1e-15);
});

test("the sample and the row of one measurement agree, priced at the intensity given", async () => {
  const t = { ns: 0n };
  const clock = new RunClock(0n, 2, manualTime(t));
  const builder = new MeasurementBuilder(
    hardware([constantReader("cpu", 20, rapl), constantReader("ram", 5, forcedRam)]),
    meta,
    0,
    new UtilisationMeter(2 ** 30, () => 2 ** 29),
  );
  t.ns = 2_000_000_000n;
  const unpriced = await builder.take(clock.endInterval(), null);
  assert.equal(unpriced.sample.emissionsKg, 0, "energy is not priced before the intensity is known");
  assert.equal(unpriced.sample.intensityGPerKWh, null);
  t.ns = 4_000_000_000n;
  const m = await builder.take(clock.endInterval(), 50);
  const energyKWh = (25 * 4) / JOULES_PER_KWH;
  assert.ok(Math.abs(m.sample.energyKWh.total - energyKWh) < 1e-15);
  assert.ok(
    Math.abs(m.sample.emissionsKg - (energyKWh * 50) / 1000) < 1e-15,
    "the unpriced interval is priced by the next one",
  );
  assert.equal(m.row.energy_consumed, m.sample.energyKWh.total);
  assert.equal(m.row.emissions, m.sample.emissionsKg);
  assert.equal(m.row.duration, m.sample.elapsedS);
  assert.ok(Math.abs(m.row.cpu_power - 20) < 1e-9 && Math.abs(m.row.ram_power - 5) < 1e-9);
  assert.equal(m.row.cpu_utilization_percent, 42);
  assert.equal(m.row.ram_utilization_percent, 50);
});

test("a reader that fails counts 0 for that interval, says so once, and the others are still read", async () => {
  const lines: string[] = [];
  setLogSink((level, message) => lines.push(`${level}: ${message}`));
  try {
    const t = { ns: 0n };
    const clock = new RunClock(0n, 1, manualTime(t));
    const broken: EnergyReader = {
      ...constantReader("cpu", 10, rapl),
      read: async () => Promise.reject(new Error("EIO")),
    };
    const builder = new MeasurementBuilder(
      hardware([broken, constantReader("ram", 5, forcedRam)]),
      meta,
      0,
      new UtilisationMeter(2 ** 30, () => 0),
    );
    for (let i = 1; i <= 3; i++) {
      t.ns = BigInt(i) * 1_000_000_000n;
      const m = await builder.take(clock.endInterval(), 10);
      assert.equal(m.sample.powerW.cpu, 0);
      assert.ok(Math.abs(m.sample.powerW.ram - 5) < 1e-9);
    }
    assert.equal(lines.filter((l) => l.includes("Reading cpu power failed")).length, 1, lines.join("\n"));
  } finally {
    setLogSink(undefined);
  }
});

test("a forced power is the row's mean power as given, not energy ÷ time with its rounding", () => {
  const totals = emptyTotals();
  // Thirty 0.5 s intervals at 7 W, summed as the accumulator sums them.
  for (let i = 0; i < 30; i++) {
    totals.durationS += 0.5;
    totals.ramRawKWh += (7 * 0.5) / JOULES_PER_KWH;
  }
  const means = { cpuPercent: 0, gpuPercent: 0, ramPercent: 0, ramUsedGiB: 0 };
  assert.notEqual((totals.ramRawKWh * JOULES_PER_KWH) / totals.durationS, 7, "energy ÷ time is off by rounding");
  assert.equal(buildEmissionsRow({ ...meta, forcedPowerW: { ram: 7 } }, totals, means).ram_power, 7);
  assert.equal(buildEmissionsRow({ ...meta, forcedPowerW: { ram: 7 } }, emptyTotals(), means).ram_power, 0);
});
