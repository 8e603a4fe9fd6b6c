/**
 * The live feed: a small JSON file, rewritten atomically by the sampling thread at every
 * measurement, that the JupyterLab extension reads through the Jupyter server's contents API
 * while a cell runs (even one that blocks the kernel's event loop for minutes).
 *
 * Where: `<kernel working folder>/codecarbon-live/<kernel id>.json`. The folder is the
 * notebook's (a kernel starts in its notebook's folder), so the extension finds the feed from
 * the notebook path and the kernel id alone, whoever started the tracker (a cell or the
 * toolbar). Not a dot folder: Jupyter servers refuse hidden paths by default.
 *
 * Size: at most MAX_POINTS points. When full, every other point is dropped, so the feed always
 * covers the whole run, and a read costs the same after an hour as after a minute.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { TrackerSettings } from "../config/options.generated";
import { writeFileAtomicSync } from "../fs/atomic-write";
import { detectKernel, LIVE_FEED_FOLDER } from "./kernel-context";
import { isPidAlive } from "../fs/process-identity";
import type { MeasurementSample, OutputSink } from "./sink";

export { LIVE_FEED_FOLDER };
export const LIVE_FEED_VERSION = 1;
export const MAX_POINTS = 360;

/** Where a run's live feed goes. Plain data: it crosses into the sampler worker. */
export interface LiveFeedTarget {
  file: string;
  kernelId: string;
  runId: string;
  projectName: string;
  measurePowerSecs: number;
  pid: number;
  startedAt: string;
  csv: string | null;
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
  /** Cumulative kWh and kg at this point. */
  kWh: number;
  kg: number;
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

const ONE_HOUR_MS = 3600_000;
const ONE_WEEK_MS = 7 * 24 * ONE_HOUR_MS;

/** Called on the user's thread at start(): cheap and synchronous; null outside a Jupyter kernel. */
export function findLiveFeedTarget(settings: TrackerSettings, runId: string): LiveFeedTarget | null {
  const kernel = detectKernel();
  if (kernel === null) return null;
  return {
    file: path.join(process.cwd(), LIVE_FEED_FOLDER, `${kernel.kernelId}.json`),
    kernelId: kernel.kernelId,
    runId,
    projectName: settings.projectName,
    measurePowerSecs: settings.measurePowerSecs,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    csv: csvRelativeToKernel(settings),
  };
}

function csvRelativeToKernel(settings: TrackerSettings): string | null {
  if (!settings.outputMethods.includes("csv")) return null;
  const relative = path.relative(process.cwd(), path.resolve(settings.outputDir, settings.outputFile));
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return null;
  return relative.split(path.sep).join("/");
}

/**
 * Appends a point; once the feed holds more than `maxPoints`, every other point is dropped
 * (the first and the latest always stay). The points kept are real measurements, so cumulative
 * energy and emissions are exact at every point; older stretches of a long run are shown at a
 * coarser step than the recent ones, and the file never grows past `maxPoints`.
 */
export function appendPoint(points: LiveFeedPoint[], point: LiveFeedPoint, maxPoints = MAX_POINTS): LiveFeedPoint[] {
  points.push(point);
  if (points.length <= maxPoints) return points;
  const thinned = points.filter((_, i) => i % 2 === 0);
  if (thinned.at(-1) !== point) thinned.push(point);
  return thinned;
}

/** Removes feeds of kernels that are gone (their process ended an hour ago or more) and any week-old feed. */
export function cleanOldFeeds(folder: string, nowMs = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    const file = path.join(folder, name);
    try {
      const feed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LiveFeed>;
      const updatedMs = Date.parse(feed.updatedAt ?? "") || fs.statSync(file).mtimeMs;
      const ownerGone = typeof feed.pid === "number" && !isPidAlive(feed.pid);
      if (nowMs - updatedMs > ONE_WEEK_MS || (ownerGone && nowMs - updatedMs > ONE_HOUR_MS)) {
        fs.rmSync(file, { force: true });
        removed.push(file);
      }
    } catch {
      // Unreadable: someone else's file, or one being replaced right now. Leave it.
    }
  }
  return removed;
}

export interface LiveFeedSink extends OutputSink {
  /** Power sources and intensity are known a little after start; the run sets them when they are. */
  describe(sources: string[], intensity: { gPerKWh: number | null; source: string | null }): void;
}

/** Called in the sampler worker. */
export function createLiveFeedSink(target: LiveFeedTarget): LiveFeedSink {
  fs.mkdirSync(path.dirname(target.file), { recursive: true });
  cleanOldFeeds(path.dirname(target.file));
  const feed: LiveFeed = {
    version: LIVE_FEED_VERSION,
    kernelId: target.kernelId,
    runId: target.runId,
    projectName: target.projectName,
    pid: target.pid,
    state: "running",
    startedAt: target.startedAt,
    updatedAt: target.startedAt,
    measurePowerSecs: target.measurePowerSecs,
    sources: [],
    intensity: { gPerKWh: null, source: null },
    totals: { durationS: 0, energyKWh: 0, emissionsKg: 0 },
    points: [],
    csv: target.csv,
  };
  const write = () => {
    feed.updatedAt = new Date().toISOString();
    writeFileAtomicSync(target.file, JSON.stringify(feed));
  };
  write();
  return {
    name: `live feed ${target.file}`,
    describe(sources, intensity) {
      feed.sources = sources;
      feed.intensity = intensity;
      write();
    },
    measurementOut(sample: MeasurementSample) {
      feed.points = appendPoint(feed.points, {
        t: sample.timestamp,
        s: round(sample.elapsedS, 3),
        cpuW: round(sample.powerW.cpu, 3),
        gpuW: round(sample.powerW.gpu, 3),
        ramW: round(sample.powerW.ram, 3),
        kWh: sample.energyKWh.total,
        kg: sample.emissionsKg,
        g: sample.intensityGPerKWh,
      });
      feed.totals = { durationS: sample.elapsedS, energyKWh: sample.energyKWh.total, emissionsKg: sample.emissionsKg };
      if (sample.intensityGPerKWh !== null) feed.intensity = { ...feed.intensity, gPerKWh: sample.intensityGPerKWh };
      write();
    },
    out: async () => undefined,
    exit: async () => {
      feed.state = "stopped";
      write();
    },
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
