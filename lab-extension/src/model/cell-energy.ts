/**
 * Per-cell energy as pure functions: what one execution of a code cell gets once the run's feed
 * covers it, the line under the cell, the sidebar's Cells table and the chart's bands. The
 * kernel's message timestamps time each execution (notebook-cells.ts collects them); the
 * attribution itself is the protocol's (protocol/attribution.ts), shared with the tracker's task rows.
 */
import { attributeExecution, idleShare, type Attribution, type CellExecution } from "../protocol/attribution";
import type { CellCarbon } from "../protocol/cells";
import { formatDuration, formatEnergy, formatMass } from "../protocol/format";
import { seriesFromFeed, type LiveFeed } from "../protocol/live-feed";

/** An execution the kernel has finished, with when the browser saw it end (its own clock, for ordering reads). */
export interface FinishedExecution extends CellExecution {
  /** The execute request's msg_id: one execution, even when the same cell runs twice. */
  requestId: string;
  seenEndMs: number;
}

export type Resolution =
  /** Wait for a later read of the feed; runId when the execution already belongs to that (running) run. */
  | { state: "pending"; runId: string | null }
  | { state: "untracked" }
  /** `final` false: the energy is known but not yet priced (the intensity is still being looked up). */
  | { state: "attributed"; runId: string; carbon: CellCarbon; final: boolean };

/**
 * What a feed read says about an execution. `readStartedMs` is when the read that gave `feed`
 * began (browser clock): only a read begun after the execution ended can say it was not tracked,
 * since a tracker started by the cell itself may not have written its feed yet.
 */
export function resolveExecution(
  feed: LiveFeed | null,
  readStartedMs: number,
  execution: FinishedExecution,
): Resolution {
  const settled = readStartedMs >= execution.seenEndMs;
  if (feed === null) return settled ? { state: "untracked" } : { state: "pending", runId: null };
  const attribution = attributeExecution(seriesFromFeed(feed), execution);
  switch (attribution.state) {
    case "pending":
      return { state: "pending", runId: feed.runId };
    case "untracked":
      return settled ? { state: "untracked" } : { state: "pending", runId: null };
    case "attributed": {
      const carbon = cellCarbonFrom(feed.runId, execution, attribution);
      const priced = carbon.intensityGPerKWh !== null || carbon.energyKWh.total === 0 || feed.state === "stopped";
      return { state: "attributed", runId: feed.runId, carbon, final: priced };
    }
  }
}

export function cellCarbonFrom(
  runId: string,
  execution: Pick<CellExecution, "start" | "end">,
  attribution: Extract<Attribution, { state: "attributed" }>,
): CellCarbon {
  return {
    runId,
    start: execution.start,
    end: execution.end,
    durationS: attribution.durationS,
    energyKWh: {
      cpu: attribution.cpuKWh,
      gpu: attribution.gpuKWh,
      ram: attribution.ramKWh,
      total: attribution.energyKWh,
    },
    emissionsKg: attribution.emissionsKg,
    intensityGPerKWh: attribution.intensityGPerKWh,
  };
}

/** What a cell's footer says. */
export type FooterState =
  | { kind: "carbon"; carbon: CellCarbon }
  /** Finished in a tracked run; its share waits for the next measurement. */
  | { kind: "measuring" }
  /** Ran while nothing was tracked, in a kernel that has tracked before. */
  | { kind: "untracked" };

/** Emissions in words, or "pricing…" while energy is known but its intensity is not. */
export function emissionsText(emissionsKg: number, energyKWh: number, priced: boolean): string {
  return !priced && energyKWh > 0 ? "pricing…" : formatMass(emissionsKg);
}

/** `⚡ 12.3 mWh · 5.80 mg CO₂eq · 14.2 s`, in the style of jupyterlab-execute-time. */
export function footerText(state: FooterState): string {
  switch (state.kind) {
    case "measuring":
      return "⚡ measuring…";
    case "untracked":
      return "⚡ not tracked";
    case "carbon": {
      const { carbon } = state;
      const priced = carbon.intensityGPerKWh !== null;
      return `⚡ ${formatEnergy(carbon.energyKWh.total)} · ${emissionsText(carbon.emissionsKg, carbon.energyKWh.total, priced)} · ${formatDuration(carbon.durationS)}`;
    }
  }
}

/** One execution of the run and its share, for the table and the bands. */
export interface AttributedExecution {
  execution: CellExecution;
  carbon: CellCarbon;
}

export interface CellRow {
  /** null for the line of the time spent outside cells. */
  cellId: string | null;
  label: string;
  executions: number;
  energyKWh: number;
  emissionsKg: number;
  durationS: number;
  priced: boolean;
}

/** `[7] df.groupby(...)`: the latest execution count and the cell's first line. */
export function rowLabel(execution: Pick<CellExecution, "executionCount" | "label">): string {
  const count = execution.executionCount === null ? " " : String(execution.executionCount);
  return `[${count}] ${execution.label || "(empty cell)"}`;
}

export const IDLE_LABEL = "Outside cells (idle kernel)";

/**
 * The sidebar's Cells table: one row per cell with the totals of its executions in the run,
 * sorted by energy (most first), then the run's share spent outside every cell, when the feed is given.
 */
export function cellRows(executions: readonly AttributedExecution[], feed: LiveFeed | null): CellRow[] {
  const byCell = new Map<string, CellRow & { latest: number }>();
  for (const { execution, carbon } of executions) {
    const endMs = Date.parse(execution.end);
    let row = byCell.get(execution.cellId);
    if (row === undefined) {
      row = {
        cellId: execution.cellId,
        label: rowLabel(execution),
        executions: 0,
        energyKWh: 0,
        emissionsKg: 0,
        durationS: 0,
        priced: true,
        latest: endMs,
      };
      byCell.set(execution.cellId, row);
    }
    row.executions += 1;
    row.energyKWh += carbon.energyKWh.total;
    row.emissionsKg += carbon.emissionsKg;
    row.durationS += carbon.durationS;
    row.priced &&= carbon.intensityGPerKWh !== null || carbon.energyKWh.total === 0;
    if (endMs >= row.latest) {
      row.latest = endMs;
      row.label = rowLabel(execution);
    }
  }
  const rows: CellRow[] = [...byCell.values()]
    .map(({ latest: _latest, ...row }) => row)
    .sort((a, b) => b.energyKWh - a.energyKWh || a.label.localeCompare(b.label));
  if (feed !== null && feed.points.length > 0) {
    const idle = idleShare(
      seriesFromFeed(feed),
      executions.map((e) => e.execution),
    );
    rows.push({
      cellId: null,
      label: IDLE_LABEL,
      executions: 0,
      energyKWh: idle.energyKWh,
      emissionsKg: idle.emissionsKg,
      durationS: idle.durationS,
      priced: feed.intensity.gPerKWh !== null || idle.energyKWh === 0,
    });
  }
  return rows;
}

export interface CellBand {
  /** Seconds since the run's start, as the chart's x axis. */
  x0: number;
  x1: number;
  /** `[7]`: the execution count, for the band's caption. */
  caption: string;
}

/** Each execution of the run as a band on the chart's time axis. */
export function cellBands(feed: LiveFeed, executions: readonly AttributedExecution[]): CellBand[] {
  const startMs = Date.parse(feed.startedAt);
  return executions
    .filter((e) => e.carbon.runId === feed.runId)
    .map(({ execution }) => ({
      x0: Math.max(0, (Date.parse(execution.start) - startMs) / 1000),
      x1: Math.max(0, (Date.parse(execution.end) - startMs) / 1000),
      caption: `[${execution.executionCount ?? " "}]`,
    }))
    .filter((band) => band.x1 > band.x0);
}
