import { test } from "node:test";
import assert from "node:assert/strict";
import { RunAccumulator, subtractTotals } from "../../src/tracker/accumulator";

test("emissions are priced interval by interval with the intensity of the moment", () => {
  const run = new RunAccumulator(1, 0);
  const results: number[] = [];
  for (const intensity of [100, 200, 300]) {
    run.add(1, [{ device: "cpu", energyKWh: 1 }], intensity);
    results.push(run.snapshot().emissionsKg);
  }
  assert.deepEqual(
    results.map((r) => Number(r.toFixed(12))),
    [0.1, 0.3, 0.6],
  );
});

test("PUE multiplies energy, water follows WUE on the energy after PUE", () => {
  const run = new RunAccumulator(1.5, 2);
  run.add(
    10,
    [
      { device: "cpu", energyKWh: 1 },
      { device: "ram", energyKWh: 0.5 },
      { device: "gpu", energyKWh: 2 },
    ],
    100,
  );
  const t = run.snapshot();
  assert.equal(t.cpuEnergyKWh, 1.5);
  assert.equal(t.ramEnergyKWh, 0.75);
  assert.equal(t.gpuEnergyKWh, 3);
  assert.equal(t.cpuRawKWh, 1);
  assert.equal(t.waterL, (1.5 + 0.75 + 3) * 2);
  assert.equal(t.emissionsKg, (5.25 * 100) / 1000);
  assert.equal(t.durationS, 10);
});

test("energy measured before the intensity is known is priced when it arrives", () => {
  const run = new RunAccumulator(1, 0);
  run.add(1, [{ device: "cpu", energyKWh: 2 }], null);
  assert.equal(run.snapshot().emissionsKg, 0);
  assert.equal(run.snapshot().unpricedKWh, 2);
  run.add(1, [{ device: "cpu", energyKWh: 1 }], 50);
  assert.equal(run.snapshot().emissionsKg, 0.15);
  assert.equal(run.snapshot().unpricedKWh, 0);
});

test("negative or non-finite readings never reduce the totals", () => {
  const run = new RunAccumulator(1, 0);
  run.add(
    1,
    [
      { device: "cpu", energyKWh: -5 },
      { device: "ram", energyKWh: Number.NaN },
    ],
    100,
  );
  assert.equal(run.snapshot().cpuEnergyKWh, 0);
  assert.equal(run.snapshot().ramEnergyKWh, 0);
});

test("a task's share is the difference of two snapshots", () => {
  const run = new RunAccumulator(1, 0);
  run.add(2, [{ device: "cpu", energyKWh: 1 }], 100);
  const before = run.snapshot();
  run.add(3, [{ device: "cpu", energyKWh: 2 }], 100);
  const delta = subtractTotals(run.snapshot(), before);
  assert.equal(delta.durationS, 3);
  assert.equal(delta.cpuEnergyKWh, 2);
  assert.ok(Math.abs(delta.emissionsKg - 0.2) < 1e-12);
  assert.equal(delta.measurementCount, 1);
});
