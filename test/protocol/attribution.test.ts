/**
 * Per-cell attribution from a run's cumulative series: interpolation between measurements,
 * short cells, intensity changes, executions at the run's edges, and a thinned feed against the
 * full series.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  attributeExecution,
  idleShare,
  shareBetween,
  type RunSeries,
  type SeriesPoint,
} from "../../src/protocol/attribution";
import { appendPoint, MAX_POINTS } from "../../src/protocol/live-feed";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const close = (actual: number, expected: number, what: string, tolerance = 1e-12) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} ≠ ${expected}`,
  );

/** A run measured every `step` s for `seconds` s, CPU at `cpuW(t)` and RAM at 10 W, priced at `g(t)`. */
function series(
  seconds: number,
  step: number,
  cpuW: (s: number) => number,
  g: (s: number) => number | null = () => 100,
): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  let cpu = 0;
  let ram = 0;
  for (let s = step; s <= seconds + 1e-9; s += step) {
    cpu += (cpuW(s - step / 2) * step) / 3.6e6;
    ram += (10 * step) / 3.6e6;
    points.push({ tMs: T0 + s * 1000, cpuKWh: cpu, gpuKWh: 0, ramKWh: ram, g: g(s) });
  }
  return points;
}

describe("per-cell attribution", () => {
  test("energy at instants between measurements is interpolated linearly (constant power in an interval)", () => {
    const run: RunSeries = { startMs: T0, points: series(10, 1, () => 36), stopped: true };
    const share = attributeExecution(run, { start: at(2.25), end: at(5.75) });
    assert.equal(share.state, "attributed");
    if (share.state !== "attributed") return;
    close(share.durationS, 3.5, "duration");
    close(share.cpuKWh, (36 * 3.5) / 3.6e6, "cpu");
    close(share.ramKWh, (10 * 3.5) / 3.6e6, "ram");
    close(share.meanPowerW, 46, "mean power");
    close(share.emissionsKg, (share.energyKWh * 100) / 1000, "emissions");
  });

  test("a cell shorter than one interval gets its time share of that interval", () => {
    const run: RunSeries = { startMs: T0, points: series(30, 15, () => 20), stopped: true };
    const share = attributeExecution(run, { start: at(16), end: at(16.5) });
    assert.ok(share.state === "attributed");
    close(share.cpuKWh, (20 * 0.5) / 3.6e6, "cpu");
  });

  test("a cell spanning an intensity change is priced with each interval's intensity", () => {
    const g = (s: number) => (s <= 5 ? 100 : 400);
    const run: RunSeries = { startMs: T0, points: series(10, 1, () => 0, g), stopped: true };
    const share = attributeExecution(run, { start: at(3), end: at(7) });
    assert.ok(share.state === "attributed");
    const ramKWhPerS = 10 / 3.6e6;
    close(share.emissionsKg, (2 * ramKWhPerS * 100 + 2 * ramKWhPerS * 400) / 1000, "emissions");
    close(share.intensityGPerKWh!, 250, "mean intensity");
  });

  test("energy measured before the intensity was known is priced by the first one after it, as the run is", () => {
    const g = (s: number) => (s < 4 ? null : 50);
    const run: RunSeries = { startMs: T0, points: series(6, 1, () => 0, g), stopped: true };
    const early = attributeExecution(run, { start: at(0.5), end: at(1.5) });
    assert.ok(early.state === "attributed");
    close(early.emissionsKg, (early.energyKWh * 50) / 1000, "priced later at 50 g/kWh");
    const whole = shareBetween(run, T0, T0 + 6000);
    close(whole.emissionsKg, (whole.energyKWh * 50) / 1000, "the run's total");
  });

  test("re-executions are attributed separately and the idle share is the rest of the run", () => {
    const busy = (s: number) => ((s > 2 && s < 4) || (s > 6 && s < 8) ? 30 : 3);
    const run: RunSeries = { startMs: T0, points: series(10, 1, busy), stopped: true };
    const first = attributeExecution(run, { start: at(2), end: at(4) });
    const again = attributeExecution(run, { start: at(6), end: at(8) });
    assert.ok(first.state === "attributed" && again.state === "attributed");
    close(first.energyKWh, again.energyKWh, "same work, same energy");
    const idle = idleShare(run, [
      { start: at(2), end: at(4) },
      { start: at(6), end: at(8) },
    ]);
    const total = shareBetween(run, T0, T0 + 10_000);
    close(idle.energyKWh + first.energyKWh + again.energyKWh, total.energyKWh, "cells + idle = run", 1e-9);
    close(idle.durationS, 6, "idle seconds", 1e-9);
  });

  test("a cell running while the run starts or stops gets only the tracked part", () => {
    const run: RunSeries = { startMs: T0, points: series(10, 1, () => 20), stopped: true };
    const straddlesStart = attributeExecution(run, { start: at(-3), end: at(2) });
    assert.ok(straddlesStart.state === "attributed");
    close(straddlesStart.durationS, 2, "clipped at the start");
    const straddlesStop = attributeExecution(run, { start: at(8), end: at(14) });
    assert.ok(straddlesStop.state === "attributed");
    close(straddlesStop.durationS, 2, "clipped at the stop");
    assert.deepEqual(attributeExecution(run, { start: at(-9), end: at(-1) }), { state: "untracked" });
    assert.deepEqual(attributeExecution(run, { start: at(12), end: at(13) }), { state: "untracked" });
  });

  test("while the run goes on, a cell that ended after the latest measurement waits for the next one", () => {
    const run: RunSeries = { startMs: T0, points: series(5, 1, () => 20), stopped: false };
    assert.deepEqual(attributeExecution(run, { start: at(4), end: at(5.5) }), { state: "pending" });
    assert.equal(attributeExecution(run, { start: at(3), end: at(4.5) }).state, "attributed");
    assert.deepEqual(attributeExecution(run, { start: at(-5), end: at(-1) }), { state: "untracked" });
    assert.deepEqual(attributeExecution(run, { start: "not a time", end: at(1) }), { state: "untracked" });
  });

  test("the thinned live feed agrees with the full series: exactly for recent cells, closely for old ones", () => {
    const load = (s: number) => 5 + 40 * Math.abs(Math.sin(s / 37));
    const full = series(7200, 1, load);
    let thinned: SeriesPoint[] = [];
    for (const point of full) thinned = appendPoint(thinned, point);
    assert.ok(thinned.length <= MAX_POINTS);
    const fullRun: RunSeries = { startMs: T0, points: full, stopped: true };
    const feedRun: RunSeries = { startMs: T0, points: thinned, stopped: true };
    // A 3 s cell late in a 2 h run: at measurement resolution from the feed alone.
    const late = { start: at(7150.5), end: at(7153.5) };
    const a = attributeExecution(fullRun, late);
    const b = attributeExecution(feedRun, late);
    assert.ok(a.state === "attributed" && b.state === "attributed");
    close(b.energyKWh, a.energyKWh, "late cell", 1e-12);
    // A 10 min cell early in the run: the feed's coarser points still give its energy within 2 %.
    const early = { start: at(600), end: at(1200) };
    const c = attributeExecution(fullRun, early);
    const d = attributeExecution(feedRun, early);
    assert.ok(c.state === "attributed" && d.state === "attributed");
    assert.ok(Math.abs(d.energyKWh - c.energyKWh) / c.energyKWh < 0.02, `${d.energyKWh} vs ${c.energyKWh}`);
  });
});
