/**
 * Per-cell energy in the extension, as pure functions: an execution's resolution against the
 * feed (attributed, pending, not tracked), the footer's line, the Cells table and the chart's bands.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  cellBands,
  cellRows,
  footerText,
  IDLE_LABEL,
  resolveExecution,
  rowLabel,
  type AttributedExecution,
  type FinishedExecution,
} from "../../lab-extension/src/model/cell-energy";
import { LIVE_FEED_VERSION, type LiveFeed, type LiveFeedPoint } from "../../src/protocol/live-feed";
import type { CellCarbon } from "../../src/protocol/cells";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** A run from T0 at 1 s, `cpuW` watts in second i (i from 1), RAM 10 W, priced at `g` from `pricedFrom` s. */
function feed(
  cpuW: number[],
  options: { state?: "running" | "stopped"; g?: number; pricedFrom?: number; runId?: string } = {},
): LiveFeed {
  const g = options.g ?? 50;
  const pricedFrom = options.pricedFrom ?? 0;
  let cpuKWh = 0;
  let ramKWh = 0;
  let kg = 0;
  const points: LiveFeedPoint[] = cpuW.map((w, i) => {
    cpuKWh += w / 3.6e6;
    ramKWh += 10 / 3.6e6;
    const priced = i + 1 >= pricedFrom;
    kg = priced ? ((cpuKWh + ramKWh) * g) / 1000 : 0;
    return {
      t: at(i + 1),
      s: i + 1,
      cpuW: w,
      gpuW: 0,
      ramW: 10,
      kWh: cpuKWh + ramKWh,
      kg,
      cpuKWh,
      gpuKWh: 0,
      ramKWh,
      g: priced ? g : null,
    };
  });
  const last = points.at(-1);
  return {
    version: LIVE_FEED_VERSION,
    kernelId: "k1",
    runId: options.runId ?? "r1",
    projectName: "nb",
    pid: 1,
    state: options.state ?? "running",
    startedAt: at(0),
    updatedAt: last?.t ?? at(0),
    measurePowerSecs: 1,
    sources: [],
    intensity: { gPerKWh: pricedFrom <= cpuW.length ? g : null, source: null },
    totals: { durationS: cpuW.length, energyKWh: last?.kWh ?? 0, emissionsKg: kg },
    points,
    csv: "emissions.csv",
  };
}

function execution(cellId: string, from: number, to: number, count: number, seenEndMs = 0): FinishedExecution {
  return {
    cellId,
    executionCount: count,
    label: `cell ${cellId}`,
    start: at(from),
    end: at(to),
    requestId: `req-${cellId}-${count}`,
    seenEndMs,
  };
}

describe("an execution's share, from the feed", () => {
  test("a cell inside the run gets its interpolated share per device, priced, and is final", () => {
    const f = feed([20, 20, 40, 40, 40, 20], { state: "running" });
    const r = resolveExecution(f, 0, execution("a", 2, 5, 1));
    assert.equal(r.state, "attributed");
    if (r.state !== "attributed") return;
    assert.equal(r.runId, "r1");
    assert.ok(r.final);
    // Seconds 3..5 at 40 W CPU, 10 W RAM.
    assert.ok(Math.abs(r.carbon.energyKWh.cpu - 120 / 3.6e6) < 1e-15);
    assert.ok(Math.abs(r.carbon.energyKWh.ram - 30 / 3.6e6) < 1e-15);
    assert.ok(Math.abs(r.carbon.durationS - 3) < 1e-9);
    assert.ok(Math.abs(r.carbon.emissionsKg - (150 / 3.6e6) * 0.05) < 1e-15);
    assert.ok(Math.abs((r.carbon.intensityGPerKWh ?? 0) - 50) < 1e-9);
    assert.equal(r.carbon.start, at(2));
  });

  test("a cell the feed does not cover yet waits, and belongs to the running run", () => {
    const r = resolveExecution(feed([20, 20]), 0, execution("a", 1, 5, 1));
    assert.deepEqual(r, { state: "pending", runId: "r1" });
  });

  test("energy known but not priced yet is attributed, not final, and says pricing…", () => {
    const r = resolveExecution(feed([20, 20, 20], { pricedFrom: 10 }), 0, execution("a", 0, 2, 1));
    assert.equal(r.state, "attributed");
    if (r.state !== "attributed") return;
    assert.equal(r.final, false);
    assert.equal(r.carbon.intensityGPerKWh, null);
    assert.match(footerText({ kind: "carbon", carbon: r.carbon }), /^⚡ \S+ mWh · pricing… · 2 s$/);
  });

  test("not tracked: only a feed read begun after the cell ended may say so", () => {
    const ran = execution("a", 100, 102, 1, 5_000);
    assert.deepEqual(resolveExecution(null, 4_000, ran), { state: "pending", runId: null });
    assert.deepEqual(resolveExecution(null, 5_000, ran), { state: "untracked" });
    const stopped = feed([20, 20], { state: "stopped" });
    assert.deepEqual(resolveExecution(stopped, 6_000, ran), { state: "untracked" });
  });
});

describe("what the cells show", () => {
  const carbon = (runId: string, kWh: number, kg: number, s: number, g: number | null = 50): CellCarbon => ({
    runId,
    start: at(0),
    end: at(s),
    durationS: s,
    energyKWh: { cpu: kWh * 0.8, gpu: 0, ram: kWh * 0.2, total: kWh },
    emissionsKg: kg,
    intensityGPerKWh: g,
  });

  test("the footer reads like jupyterlab-execute-time's", () => {
    assert.equal(
      footerText({ kind: "carbon", carbon: carbon("r", 0.0000123, 0.0000058, 14.2) }),
      "⚡ 12.3 mWh · 5.80 mg CO₂eq · 14.2 s",
    );
    assert.equal(footerText({ kind: "measuring" }), "⚡ measuring…");
    assert.equal(footerText({ kind: "untracked" }), "⚡ not tracked");
  });

  test("the table: one row per cell, totals across executions, most energy first, then the idle kernel", () => {
    const f = feed(
      Array.from({ length: 20 }, () => 20),
      { state: "stopped" },
    );
    const entry = (cellId: string, from: number, to: number, count: number): AttributedExecution => {
      const r = resolveExecution(f, 0, execution(cellId, from, to, count));
      assert.equal(r.state, "attributed");
      return { execution: execution(cellId, from, to, count), carbon: (r as { carbon: CellCarbon }).carbon };
    };
    const executions = [entry("sleep", 2, 4, 1), entry("busy", 5, 10, 2), entry("sleep", 11, 12, 3)];
    const rows = cellRows(executions, f);
    assert.deepEqual(
      rows.map((r) => [r.label, r.executions]),
      [
        ["[2] cell busy", 1],
        ["[3] cell sleep", 2],
        [IDLE_LABEL, 0],
      ],
    );
    // Cells and idle add up to the run.
    const total = rows.reduce((sum, r) => sum + r.energyKWh, 0);
    assert.ok(Math.abs(total - f.totals.energyKWh) < 1e-15);
    assert.ok(Math.abs(rows[2]!.durationS - 12) < 1e-9, "20 s of run, 8 s in cells");
    assert.equal(rowLabel({ executionCount: null, label: "" }), "[ ] (empty cell)");
  });

  test("bands on the chart: each execution of the run, in seconds since its start", () => {
    const f = feed([20, 20, 20, 20]);
    const executions: AttributedExecution[] = [
      { execution: execution("a", 1, 2.5, 7), carbon: carbon("r1", 1e-6, 1e-9, 1.5) },
      { execution: execution("b", 3, 3, 8), carbon: carbon("r1", 0, 0, 0) },
      { execution: execution("c", 1, 2, 9), carbon: carbon("other-run", 1e-6, 1e-9, 1) },
    ];
    assert.deepEqual(cellBands(f, executions), [{ x0: 1, x1: 2.5, caption: "[7]" }]);
  });
});
