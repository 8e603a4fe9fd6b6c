/**
 * The live feed: the contract between the tracker that writes it (in the kernel, or beside it)
 * and the JupyterLab extension that reads it. A small JSON file, rewritten atomically at every
 * measurement, at `<notebook folder>/codecarbon-live/<kernel id>.json` (not a dot folder: Jupyter
 * servers refuse hidden paths by default), read through the server's contents API.
 *
 * The reader's side checks the file field by field: it arrives from a folder anyone may write
 * to. Browser-safe.
 */
import type { RunSeries } from "./attribution";

/** The folder, beside the notebook, that holds the live feeds. */
export const LIVE_FEED_FOLDER = "codecarbon-live";
/** 2: points carry cumulative energy per device, and the newest points are kept at full resolution. */
export const LIVE_FEED_VERSION = 2;
/** A feed never holds more points than this; see `appendPoint`. */
export const MAX_POINTS = 360;
/**
 * The newest points are never thinned, so a cell that ended in the last couple of minutes is
 * attributed at measurement resolution from the feed alone (two minutes at the 1 s notebook cadence).
 */
export const FULL_RESOLUTION_POINTS = 120;

/** A kernel's feed relative to its working folder (the notebook's), posix separators. */
export function feedRelativePath(kernelId: string): string {
  return `${LIVE_FEED_FOLDER}/${kernelId}.json`;
}

/**
 * The feed of a kernel, beside its notebook: both paths are the contents API's (posix, relative to the server root).
 */
export function feedPathFor(notebookPath: string, kernelId: string): string {
  return joinPath(parentFolder(notebookPath), feedRelativePath(kernelId));
}

export function parentFolder(contentsPath: string): string {
  const slash = contentsPath.lastIndexOf("/");
  return slash < 0 ? "" : contentsPath.slice(0, slash);
}

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

/** One point of the feed; short keys keep the file small. */
export interface LiveFeedPoint {
  /** ISO time. */
  t: string;
  /** Seconds since start. */
  s: number;
  cpuW: number;
  gpuW: number;
  ramW: number;
  /** Cumulative kWh (PUE applied) and kg at this point, in total and per device. */
  kWh: number;
  kg: number;
  cpuKWh: number;
  gpuKWh: number;
  ramKWh: number;
  /** gCO2eq/kWh in force, null while unknown. */
  g: number | null;
}

export interface LiveFeed {
  version: typeof LIVE_FEED_VERSION;
  kernelId: string;
  runId: string;
  projectName: string;
  pid: number;
  state: "running" | "stopped";
  startedAt: string;
  updatedAt: string;
  measurePowerSecs: number;
  /** Power source per device in words, e.g. "CPU from RAPL (package-0)". */
  sources: string[];
  intensity: { gPerKWh: number | null; source: string | null };
  totals: { durationS: number; energyKWh: number; emissionsKg: number };
  points: LiveFeedPoint[];
  /**
   * The CSV this run writes, relative to the kernel's working folder (posix separators), so the
   * extension can export and open it; null when the CSV output is off or lies outside that folder.
   */
  csv: string | null;
}

/**
 * Appends a point; once the feed holds more than `maxPoints`, every other point older than the
 * newest `fullResolution` is dropped (the first point always stays). The points kept are real
 * measurements, so cumulative energy and emissions are exact at every point; older stretches of
 * a long run are shown at a coarser step than the recent ones, and the file never grows past
 * `maxPoints`.
 */
export function appendPoint<P>(
  points: P[],
  point: P,
  maxPoints = MAX_POINTS,
  fullResolution = Math.min(FULL_RESOLUTION_POINTS, Math.floor(maxPoints / 2)),
): P[] {
  points.push(point);
  if (points.length <= maxPoints) return points;
  const recentFrom = points.length - fullResolution;
  return points.filter((_, i) => i >= recentFrom || i % 2 === 0);
}

/** The feed as a series for per-cell attribution (see attribution.ts). */
export function seriesFromFeed(feed: LiveFeed): RunSeries {
  return {
    startMs: Date.parse(feed.startedAt),
    stopped: feed.state === "stopped",
    points: feed.points.map((p) => ({
      tMs: Date.parse(p.t),
      cpuKWh: p.cpuKWh,
      gpuKWh: p.gpuKWh,
      ramKWh: p.ramKWh,
      g: p.g,
    })),
  };
}

export type FeedParse = { ok: true; feed: LiveFeed } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === "string";

function parsePoint(raw: unknown): LiveFeedPoint | null {
  if (!isObject(raw)) return null;
  const { t, s, cpuW, gpuW, ramW, kWh, kg, g, cpuKWh, gpuKWh, ramKWh } = raw;
  const numbers = [s, cpuW, gpuW, ramW, kWh, kg, cpuKWh, gpuKWh, ramKWh];
  if (!isString(t) || !Number.isFinite(Date.parse(t)) || !numbers.every(isFiniteNumber)) return null;
  if (g !== null && !isFiniteNumber(g)) return null;
  return {
    t,
    s: s as number,
    cpuW: cpuW as number,
    gpuW: gpuW as number,
    ramW: ramW as number,
    kWh: kWh as number,
    kg: kg as number,
    cpuKWh: cpuKWh as number,
    gpuKWh: gpuKWh as number,
    ramKWh: ramKWh as number,
    g,
  };
}

export function parseLiveFeed(text: string): FeedParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the feed is not JSON (it may be mid-write)" };
  }
  if (!isObject(raw)) return { ok: false, reason: "the feed is not an object" };
  if (raw["version"] !== LIVE_FEED_VERSION) {
    return {
      ok: false,
      reason: `feed version ${JSON.stringify(raw["version"])} is not ${LIVE_FEED_VERSION}: update the codecarbon package in the kernel or the extension`,
    };
  }
  const {
    kernelId,
    runId,
    projectName,
    pid,
    state,
    startedAt,
    updatedAt,
    measurePowerSecs,
    sources,
    intensity,
    totals,
    points,
  } = raw;
  if (![kernelId, runId, projectName, startedAt, updatedAt].every(isString))
    return { ok: false, reason: "the feed lacks its ids or times" };
  if (state !== "running" && state !== "stopped")
    return { ok: false, reason: `unknown feed state ${JSON.stringify(state)}` };
  if (!isFiniteNumber(pid) || !isFiniteNumber(measurePowerSecs) || measurePowerSecs <= 0)
    return { ok: false, reason: "the feed's pid or interval is not a number" };
  if (!Array.isArray(sources) || !sources.every(isString))
    return { ok: false, reason: "the feed's sources are not a list of words" };
  if (
    !isObject(intensity) ||
    (intensity["gPerKWh"] !== null && !isFiniteNumber(intensity["gPerKWh"])) ||
    (intensity["source"] !== null && !isString(intensity["source"]))
  ) {
    return { ok: false, reason: "the feed's intensity is malformed" };
  }
  if (!isObject(totals) || ![totals["durationS"], totals["energyKWh"], totals["emissionsKg"]].every(isFiniteNumber)) {
    return { ok: false, reason: "the feed's totals are malformed" };
  }
  if (!Array.isArray(points)) return { ok: false, reason: "the feed's points are not a list" };
  const parsedPoints: LiveFeedPoint[] = [];
  for (const point of points) {
    const parsed = parsePoint(point);
    if (parsed === null) return { ok: false, reason: "a feed point is malformed" };
    parsedPoints.push(parsed);
  }
  const csv = raw["csv"];
  return {
    ok: true,
    feed: {
      version: LIVE_FEED_VERSION,
      kernelId: kernelId as string,
      runId: runId as string,
      projectName: projectName as string,
      pid,
      state,
      startedAt: startedAt as string,
      updatedAt: updatedAt as string,
      measurePowerSecs,
      sources: sources as string[],
      intensity: { gPerKWh: intensity["gPerKWh"] as number | null, source: intensity["source"] as string | null },
      totals: {
        durationS: totals["durationS"] as number,
        energyKWh: totals["energyKWh"] as number,
        emissionsKg: totals["emissionsKg"] as number,
      },
      points: parsedPoints,
      csv: isString(csv) ? csv : null,
    },
  };
}

/** Mean power per device over the latest interval, the figure the sidebar and status bar show. */
export function latestPowerW(feed: LiveFeed): { cpu: number; gpu: number; ram: number; total: number } | null {
  const last = feed.points[feed.points.length - 1];
  if (last === undefined) return null;
  return { cpu: last.cpuW, gpu: last.gpuW, ram: last.ramW, total: last.cpuW + last.gpuW + last.ramW };
}

/** Emissions rate in kg per hour over the run so far (the status bar's figure). */
export function emissionsRateKgPerH(feed: LiveFeed): number | null {
  if (feed.totals.durationS <= 0) return null;
  return (feed.totals.emissionsKg / feed.totals.durationS) * 3600;
}
