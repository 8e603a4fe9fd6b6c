/**
 * The tracker's notebook collaborator: present only inside a Jupyter kernel. It knows the kernel,
 * keeps the kernel's one tracker, names the run after the notebook, holds the sampler's log lines
 * until the user next calls the tracker (output written after a cell has finished lands in
 * whichever cell runs next), and finds where the live feed goes.
 */
import * as path from "node:path";
import type { ResolvedConfig } from "../config";
import type { TrackerSettings } from "../config/options.generated";
import { log, type LogLevel } from "../log";
import { detectKernel, type KernelContext } from "./kernel";
import type { LiveFeedTarget } from "./live-feed-sink";

/** What the session needs of a tracker (the tracker room depends on this one, not the other way). */
export interface KernelTrackerLike {
  readonly isRunning: boolean;
  readonly runId: string | undefined;
  stop(): Promise<unknown>;
}

/**
 * The tracker running in this kernel, if any. On `globalThis` under a registered symbol so that
 * two copies of the package in one kernel still see each other.
 */
const KERNEL_TRACKER = Symbol.for("codecarbon.kernel-tracker");
type KernelSlot = { [KERNEL_TRACKER]?: KernelTrackerLike };
const kernelSlot = globalThis as KernelSlot;

export function currentKernelTracker(): KernelTrackerLike | undefined {
  return kernelSlot[KERNEL_TRACKER];
}

const MAX_HELD_LOGS = 50;
/** Seconds between measurements in a notebook when measure_power_secs is set nowhere. */
export const NOTEBOOK_MEASURE_POWER_SECS = 1;

export function emitLog(level: LogLevel, message: string): void {
  log[level === "critical" ? "error" : level](message);
}

export class NotebookSession {
  private heldLogs: { level: LogLevel; message: string }[] = [];

  constructor(readonly kernel: KernelContext) {}

  /**
   * Notebook defaults, each only where the user set nothing in any layer:
   * - the project is the notebook's name (a Jupyter server names it in JPY_SESSION_NAME), so two
   *   notebooks in one folder write rows that say which is which;
   * - a measurement every second (not CodeCarbon's 15 s), so a 12 s cell shows on the chart and
   *   gets its own share of the energy at measurement resolution.
   */
  applyDefaults(config: ResolvedConfig): ResolvedConfig {
    const settings = { ...config.settings };
    const session = process.env["JPY_SESSION_NAME"];
    const name = session ? path.basename(session).replace(/\.ipynb$/i, "") : "";
    if (config.origins.projectName.layer === "default" && name !== "") settings.projectName = name;
    if (config.origins.measurePowerSecs.layer === "default") settings.measurePowerSecs = NOTEBOOK_MEASURE_POWER_SECS;
    return { ...config, settings };
  }

  /**
   * In a notebook kernel there is one tracker: starting another (re-running the first cell)
   * stops the previous one cleanly (its row is written) instead of leaving two running.
   */
  claim(tracker: KernelTrackerLike): void {
    const previous = kernelSlot[KERNEL_TRACKER];
    if (previous !== undefined && previous !== tracker && previous.isRunning) {
      log.warning(
        `A tracker was already running in this kernel (run ${previous.runId?.slice(0, 8) ?? "?"}): it is stopped and its row written; a new run starts. ` +
          "Call stop() on the old tracker first to avoid this message.",
      );
      void previous.stop();
    }
    kernelSlot[KERNEL_TRACKER] = tracker;
  }

  release(tracker: KernelTrackerLike): void {
    if (kernelSlot[KERNEL_TRACKER] === tracker) delete kernelSlot[KERNEL_TRACKER];
  }

  liveFeedTarget(settings: TrackerSettings, runId: string): LiveFeedTarget | null {
    // Loaded on use, like this module: importing the package stays cheap outside notebooks.
    const { findLiveFeedTarget } = require("./live-feed-sink") as typeof import("./live-feed-sink");
    return findLiveFeedTarget(settings, runId);
  }

  /**
   * Keeps a sampler log line for later (see the class comment) in the kernel's own process; a
   * tracker beside the kernel prints it at once (its output goes to the server's log).
   */
  hold(level: LogLevel, message: string): void {
    if (!this.kernel.inKernel) emitLog(level, message);
    else if (this.heldLogs.length < MAX_HELD_LOGS) this.heldLogs.push({ level, message });
  }

  /** Prints the lines held back so far. */
  releaseLogs(): void {
    const held = this.heldLogs;
    if (held.length === 0) return;
    this.heldLogs = [];
    for (const line of held) emitLog(line.level, line.message);
  }
}

/** The session of this kernel, or null outside a Jupyter kernel. */
export function notebookSession(): NotebookSession | null {
  const kernel = detectKernel();
  return kernel === null ? null : new NotebookSession(kernel);
}
