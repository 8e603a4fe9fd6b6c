/**
 * The live feed: a small JSON file, rewritten atomically by the sampling thread at every
 * measurement, that the JupyterLab extension reads through the Jupyter server's contents API
 * while a cell runs (even one that blocks the kernel's event loop for minutes).
 *
 * Where: `<kernel working folder>/codecarbon-live/<kernel id>.json` (see protocol/live-feed.ts). The folder is the
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
import { isPidAlive } from "../fs/process-identity";
import { readUntrustedFileSync } from "../fs/untrusted-file";
import { describeSource } from "../measure/describe-source";
import { csvFile, type OutputEntry } from "../output/registry";
import type { OutputSink } from "../output/sink";
import { cellsRelativePath } from "../protocol/cells";
import { appendPoint, feedRelativePath, LIVE_FEED_VERSION, parseLiveFeed, type LiveFeed } from "../protocol/live-feed";
import { detectKernel } from "./kernel";

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

const ONE_HOUR_MS = 3600_000;
const ONE_WEEK_MS = 7 * 24 * ONE_HOUR_MS;

/** Called on the user's thread at start(): cheap and synchronous; null outside a Jupyter kernel. */
export function findLiveFeedTarget(settings: TrackerSettings, runId: string): LiveFeedTarget | null {
  const kernel = detectKernel();
  if (kernel === null) return null;
  return {
    file: path.join(process.cwd(), ...feedRelativePath(kernel.kernelId).split("/")),
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
  const file = csvFile(settings);
  if (file === null) return null;
  const relative = path.relative(process.cwd(), path.resolve(file));
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return null;
  return relative.split(path.sep).join("/");
}

/**
 * The feed folder, made if missing, as a real folder of this user: a notebook folder is shared
 * (a group project, /tmp), and a `codecarbon-live` planted as a symlink would have feeds written
 * and old feeds cleaned wherever it points. Anything else is refused with the reason.
 */
export function ensureFeedFolder(folder: string): void {
  try {
    fs.mkdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const why = feedFolderRefusal(folder);
  if (why !== null) throw new Error(`${folder} ${why}: remove it, and the tracker makes a folder of its own`);
}

function feedFolderRefusal(folder: string): string | null {
  const stat = fs.lstatSync(folder);
  if (stat.isSymbolicLink()) return "is a symbolic link";
  if (!stat.isDirectory()) return "is not a folder";
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `belongs to another user (uid ${stat.uid})`;
  return null;
}

/**
 * Removes feeds of kernels that are gone (their process ended an hour ago or more) and any
 * week-old feed. Only feeds this package wrote are touched: regular files of this user (never a
 * symlink, never through one) named after the kernel id they hold, in a folder that is itself
 * no symlink.
 */
export function cleanOldFeeds(folder: string, nowMs = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    if (feedFolderRefusal(folder) !== null) return removed;
    names = fs.readdirSync(folder);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    const file = path.join(folder, name);
    try {
      const parsed = parseLiveFeed(readUntrustedFileSync(file, { ownedByMe: true, maxBytes: MAX_FEED_BYTES }));
      if (!parsed.ok || `${parsed.feed.kernelId}.json` !== name) continue;
      const feed = parsed.feed;
      const updatedMs = Date.parse(feed.updatedAt) || fs.lstatSync(file).mtimeMs;
      const ownerGone = !isPidAlive(feed.pid);
      if (nowMs - updatedMs > ONE_WEEK_MS || (ownerGone && nowMs - updatedMs > ONE_HOUR_MS)) {
        fs.unlinkSync(file);
        removed.push(file);
        // The kernel's cells file (per-cell attribution) goes with its feed, if it is a plain file of ours.
        const cells = path.join(folder, path.basename(cellsRelativePath(feed.kernelId)));
        const stat = fs.lstatSync(cells, { throwIfNoEntry: false });
        if (stat?.isFile() && stat.uid === process.getuid?.()) {
          fs.unlinkSync(cells);
          removed.push(cells);
        }
      }
    } catch {
      // Unreadable: someone else's file, or one being replaced right now. Leave it.
    }
  }
  return removed;
}

/** A feed holds at most MAX_POINTS points: far below this. */
const MAX_FEED_BYTES = 4 * 1024 * 1024;

export interface LiveFeedSink extends OutputSink {
  /** Power sources and intensity are known a little after start; the run sets them when they are. */
  describe(sources: string[], intensity: { gPerKWh: number | null; source: string | null }): void;
}

/** Called in the sampler worker. */
export function createLiveFeedSink(target: LiveFeedTarget): LiveFeedSink {
  const folder = path.dirname(target.file);
  ensureFeedFolder(folder);
  cleanOldFeeds(folder);
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
    // Checked at every write: the folder may have been swapped for a symlink since start.
    const why = feedFolderRefusal(folder);
    if (why !== null) throw new Error(`${folder} ${why}; the live feed is no longer written`);
    writeFileAtomicSync(target.file, JSON.stringify(feed));
  };
  write();
  return {
    name: `live feed ${target.file}`,
    quiet: true,
    describe(sources, intensity) {
      feed.sources = sources;
      feed.intensity = intensity;
      write();
    },
    described(description) {
      this.describe(description.sources.map(describeSource), {
        gPerKWh: description.intensity.intensityGPerKWh,
        source: description.intensity.source.label,
      });
    },
    measured({ sample }) {
      feed.points = appendPoint(feed.points, {
        t: sample.timestamp,
        s: round(sample.elapsedS, 3),
        cpuW: round(sample.powerW.cpu, 3),
        gpuW: round(sample.powerW.gpu, 3),
        ramW: round(sample.powerW.ram, 3),
        kWh: sample.energyKWh.total,
        kg: sample.emissionsKg,
        cpuKWh: sample.energyKWh.cpu,
        gpuKWh: sample.energyKWh.gpu,
        ramKWh: sample.energyKWh.ram,
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

/** The live feed as one of a run's outputs: wanted when the run has a feed target (in a notebook kernel). */
export function liveFeedOutput(target: LiveFeedTarget | null): OutputEntry {
  return {
    name: "live feed",
    wanted: () => target !== null,
    create: () => {
      try {
        return createLiveFeedSink(target!);
      } catch (error) {
        const reason = `${target!.file} cannot be written (${String(error)}); the notebook's chart will stay empty`;
        throw new Error(reason, { cause: error });
      }
    },
  };
}
