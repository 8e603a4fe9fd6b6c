/**
 * The live feed as the extension reads it: the JSON file the kernel's sampling thread rewrites at
 * every measurement (`codecarbon-live/<kernel id>.json` beside the notebook). It arrives through
 * the contents API from a file anyone can edit, so it is checked field by field before use.
 */
import type { LiveFeed, LiveFeedPoint } from "codecarbon";

export type { LiveFeed, LiveFeedPoint };

export const FEED_FOLDER = "codecarbon-live";
export const FEED_VERSION = 1;

export type FeedParse = { ok: true; feed: LiveFeed } | { ok: false; reason: string };

/** The feed of a kernel, beside its notebook: both paths are the contents API's (posix, relative to the server root). */
export function feedPathFor(notebookPath: string, kernelId: string): string {
  return joinPath(parentFolder(notebookPath), FEED_FOLDER, `${kernelId}.json`);
}

export function parentFolder(contentsPath: string): string {
  const slash = contentsPath.lastIndexOf("/");
  return slash < 0 ? "" : contentsPath.slice(0, slash);
}

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isString = (v: unknown): v is string => typeof v === "string";

function parsePoint(raw: unknown): LiveFeedPoint | null {
  if (!isObject(raw)) return null;
  const { t, s, cpuW, gpuW, ramW, kWh, kg, g } = raw;
  if (!isString(t) || ![s, cpuW, gpuW, ramW, kWh, kg].every(isFiniteNumber)) return null;
  if (g !== null && !isFiniteNumber(g)) return null;
  return { t, s: s as number, cpuW: cpuW as number, gpuW: gpuW as number, ramW: ramW as number, kWh: kWh as number, kg: kg as number, g };
}

export function parseLiveFeed(text: string): FeedParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the feed is not JSON (it may be mid-write)" };
  }
  if (!isObject(raw)) return { ok: false, reason: "the feed is not an object" };
  if (raw["version"] !== FEED_VERSION) {
    return { ok: false, reason: `feed version ${JSON.stringify(raw["version"])} is not ${FEED_VERSION}: update the codecarbon package in the kernel or the extension` };
  }
  const { kernelId, runId, projectName, pid, state, startedAt, updatedAt, measurePowerSecs, sources, intensity, totals, points } = raw;
  if (![kernelId, runId, projectName, startedAt, updatedAt].every(isString)) return { ok: false, reason: "the feed lacks its ids or times" };
  if (state !== "running" && state !== "stopped") return { ok: false, reason: `unknown feed state ${JSON.stringify(state)}` };
  if (!isFiniteNumber(pid) || !isFiniteNumber(measurePowerSecs) || measurePowerSecs <= 0) return { ok: false, reason: "the feed's pid or interval is not a number" };
  if (!Array.isArray(sources) || !sources.every(isString)) return { ok: false, reason: "the feed's sources are not a list of words" };
  if (!isObject(intensity) || (intensity["gPerKWh"] !== null && !isFiniteNumber(intensity["gPerKWh"])) || (intensity["source"] !== null && !isString(intensity["source"]))) {
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
      version: FEED_VERSION,
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
      totals: { durationS: totals["durationS"] as number, energyKWh: totals["energyKWh"] as number, emissionsKg: totals["emissionsKg"] as number },
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
