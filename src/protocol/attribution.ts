/**
 * Which cell spent the energy: a cell execution's share of a run, from the run's cumulative
 * series (the live feed's points, or the tracker's full series) and the execution's start and end
 * as the kernel stamped them (the same machine's clock as the sampler's, unlike the browser's).
 *
 * Between two measurements the power is taken as constant, so cumulative energy is interpolated
 * linearly; a cell shorter than one interval gets its time share of that interval. Emissions are
 * priced segment by segment with the intensity the tracker priced that energy with (the
 * intensity at the segment's end, or the first one known after it while it was still being
 * looked up), so the cells' emissions add up to the run's. Browser-safe.
 */
import { JOULES_PER_KWH } from "./units";

/** One measurement of the run's cumulative series: when (ms since the epoch) and how much so far (PUE applied). */
export interface SeriesPoint {
  tMs: number;
  cpuKWh: number;
  gpuKWh: number;
  ramKWh: number;
  /** gCO2eq/kWh in force at this measurement, null while still unknown. */
  g: number | null;
}

/** A code cell's execution, as the kernel's own messages time it. */
export interface CellExecution {
  /** The notebook cell's id (nbformat 4.5). */
  cellId: string;
  /** The kernel's execution count for this execution, null when it gave none. */
  executionCount: number | null;
  /** The cell's first line, for people. */
  label: string;
  /** ISO times of the kernel's busy and idle status messages for this execution. */
  start: string;
  end: string;
}

export interface EnergyShare {
  cpuKWh: number;
  gpuKWh: number;
  ramKWh: number;
  energyKWh: number;
  emissionsKg: number;
  /** Seconds of the execution inside the run. */
  durationS: number;
}

export type Attribution =
  | ({
      state: "attributed";
      /** The execution clipped to the run, ms since the epoch. */
      startMs: number;
      endMs: number;
      /** Mean power over the execution, W (PUE applied), and the intensity its energy was priced at. */
      meanPowerW: number;
      intensityGPerKWh: number | null;
    } & EnergyShare)
  /** The run's series does not reach the execution's end yet: ask again after the next measurement. */
  | { state: "pending" }
  /** The execution did not overlap the run (nothing was tracked then). */
  | { state: "untracked" };

/** Where the run's series stands: its start, its points (oldest first), and whether it has ended. */
export interface RunSeries {
  startMs: number;
  points: readonly SeriesPoint[];
  /** A stopped run covers nothing after its last point; a running one will. */
  stopped: boolean;
}

function emptyShare(): EnergyShare {
  return { cpuKWh: 0, gpuKWh: 0, ramKWh: 0, energyKWh: 0, emissionsKg: 0, durationS: 0 };
}

/** The share of the run between two instants (ms since the epoch), clipped to the run. */
export function shareBetween(series: RunSeries, fromMs: number, toMs: number): EnergyShare {
  const share = emptyShare();
  const points = series.points;
  let previous: SeriesPoint = { tMs: series.startMs, cpuKWh: 0, gpuKWh: 0, ramKWh: 0, g: null };
  // Energy measured before any intensity was known is priced by the first intensity after it.
  let pendingKWh = 0;
  for (let i = 0; i < points.length; i++) {
    const point = points[i]!;
    const spanMs = point.tMs - previous.tMs;
    if (spanMs > 0) {
      const overlapMs = Math.min(toMs, point.tMs) - Math.max(fromMs, previous.tMs);
      if (overlapMs > 0) {
        const f = overlapMs / spanMs;
        const cpu = f * (point.cpuKWh - previous.cpuKWh);
        const gpu = f * (point.gpuKWh - previous.gpuKWh);
        const ram = f * (point.ramKWh - previous.ramKWh);
        share.cpuKWh += cpu;
        share.gpuKWh += gpu;
        share.ramKWh += ram;
        share.durationS += overlapMs / 1000;
        pendingKWh += cpu + gpu + ram;
      }
    }
    if (point.g !== null && pendingKWh > 0) {
      share.emissionsKg += (pendingKWh * point.g) / 1000;
      pendingKWh = 0;
    }
    previous = point;
    if (point.tMs >= toMs && pendingKWh === 0) break;
  }
  share.energyKWh = share.cpuKWh + share.gpuKWh + share.ramKWh;
  return share;
}

/** A cell execution's share of the run (see the module comment). */
export function attributeExecution(series: RunSeries, execution: Pick<CellExecution, "start" | "end">): Attribution {
  const startMs = Date.parse(execution.start);
  const endMs = Date.parse(execution.end);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) return { state: "untracked" };
  const last = series.points.at(-1);
  const runEndMs = series.stopped ? (last?.tMs ?? series.startMs) : Infinity;
  const from = Math.max(startMs, series.startMs);
  const to = Math.min(endMs, runEndMs);
  if (to <= from) {
    // Not tracked then, unless the run is still to measure the time after its latest point.
    return !series.stopped && endMs > series.startMs && (last === undefined || endMs > last.tMs)
      ? { state: "pending" }
      : { state: "untracked" };
  }
  if (!series.stopped && (last === undefined || last.tMs < endMs)) return { state: "pending" };
  const share = shareBetween(series, from, to);
  return {
    state: "attributed",
    startMs: from,
    endMs: to,
    ...share,
    meanPowerW: share.durationS > 0 ? (share.energyKWh * JOULES_PER_KWH) / share.durationS : 0,
    intensityGPerKWh:
      share.energyKWh > 0 && share.emissionsKg > 0 ? (share.emissionsKg * 1000) / share.energyKWh : null,
  };
}

/** The run's total share, and the part spent outside every execution (the idle kernel). */
export function idleShare(series: RunSeries, executions: readonly Pick<CellExecution, "start" | "end">[]): EnergyShare {
  const last = series.points.at(-1);
  const total = shareBetween(series, series.startMs, last?.tMs ?? series.startMs);
  const idle = { ...total };
  for (const execution of executions) {
    const share = attributeExecution({ ...series, stopped: true }, execution);
    if (share.state !== "attributed") continue;
    for (const key of ["cpuKWh", "gpuKWh", "ramKWh", "energyKWh", "emissionsKg", "durationS"] as const)
      idle[key] -= share[key];
  }
  for (const key of ["cpuKWh", "gpuKWh", "ramKWh", "energyKWh", "emissionsKg", "durationS"] as const) {
    idle[key] = Math.max(0, idle[key]);
  }
  return idle;
}
