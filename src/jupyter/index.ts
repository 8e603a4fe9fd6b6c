/**
 * The kernel side of the notebook experience: one typed, versioned entry point that the
 * JupyterLab extension (toolbar, sidebar) and cells both use to start, stop and query the
 * kernel's tracker, so a tracker started by `tracker.start()` in a cell is the one the toolbar
 * shows and stops.
 *
 * The extension runs, in the kernel (as an execute request of its own, not a cell):
 *   import { runKernelCommand as codecarbonRunKernelCommand } from "codecarbon";
 *   await codecarbonRunKernelCommand('{"version":1,"action":"status"}');
 * and reads the one line `CODECARBON_REPLY {...}` it prints (lab-extension/src/model/kernel-code.ts).
 */
import * as path from "node:path";
import { isCodeCarbonError } from "../errors";
import { toCamelCase } from "../config";
import type { TrackerOptions } from "../config/options.generated";
import { EmissionsTracker, OfflineEmissionsTracker, kernelTracker } from "../tracker/emissions-tracker";
import { detectKernel } from "../output/kernel-context";
import { LIVE_FEED_FOLDER } from "../output/kernel-context";
import type { EmissionsData } from "../output/emissions-data";

export const KERNEL_API_VERSION = 1;
export const REPLY_PREFIX = "CODECARBON_REPLY ";

export interface KernelRequest {
  version: typeof KERNEL_API_VERSION;
  action: "start" | "stop" | "status";
  /** Settings for `start`, snake_case or camelCase keys (the schema's), above config files and env vars. */
  settings?: Record<string, unknown>;
  /** Use the offline tracker (needs country_iso_code). */
  offline?: boolean;
}

export interface KernelReply {
  version: typeof KERNEL_API_VERSION;
  ok: boolean;
  /** idle: no tracker has run in this kernel; running; stopped: the last run has ended. */
  state: "idle" | "running" | "stopped";
  runId: string | null;
  kernelId: string | null;
  /** The live feed, relative to the kernel's working folder (the notebook's). */
  feed: string | null;
  /** Total of the last stopped run. */
  emissionsKg: number | null;
  error?: string;
}

let lastTracker: EmissionsTracker | undefined;

function reply(ok: boolean, error?: string): KernelReply {
  const tracker = kernelTracker() ?? lastTracker;
  const kernel = detectKernel();
  const state = tracker === undefined ? "idle" : tracker.isRunning ? "running" : "stopped";
  return {
    version: KERNEL_API_VERSION,
    ok,
    state,
    runId: tracker?.runId ?? null,
    kernelId: kernel?.kernelId ?? null,
    feed: kernel ? path.posix.join(LIVE_FEED_FOLDER, `${kernel.kernelId}.json`) : null,
    emissionsKg: state === "stopped" ? (tracker?.finalEmissions ?? null) : null,
    ...(error === undefined ? {} : { error }),
  };
}

function parseRequest(input: unknown): KernelRequest {
  if (typeof input !== "object" || input === null) throw new Error("the request must be an object");
  const o = input as Record<string, unknown>;
  if (o["version"] !== KERNEL_API_VERSION) throw new Error(`unsupported request version ${JSON.stringify(o["version"])}; this package speaks version ${KERNEL_API_VERSION}`);
  const action = o["action"];
  if (action !== "start" && action !== "stop" && action !== "status") throw new Error(`unknown action ${JSON.stringify(action)}`);
  const settings = o["settings"];
  if (settings !== undefined && (typeof settings !== "object" || settings === null || Array.isArray(settings))) throw new Error("settings must be an object");
  return {
    version: KERNEL_API_VERSION,
    action,
    ...(settings === undefined ? {} : { settings: settings as Record<string, unknown> }),
    ...(o["offline"] === true ? { offline: true } : {}),
  };
}

/** Settings from the extension arrive as the schema's snake_case keys; code options are camelCase. */
function toOptions(settings: Record<string, unknown> | undefined): TrackerOptions {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    options[key.includes("_") ? toCamelCase(key) : key] = value;
  }
  return options as TrackerOptions;
}

/** Starts, stops or describes this kernel's tracker. Never throws: failures come back as `ok: false`. */
export async function codecarbonKernel(input: unknown): Promise<KernelReply> {
  try {
    const request = parseRequest(input);
    switch (request.action) {
      case "status":
        return reply(true);
      case "start": {
        const running = kernelTracker();
        if (running?.isRunning) return reply(true);
        const options = toOptions(request.settings);
        const tracker = request.offline ? new OfflineEmissionsTracker(options) : new EmissionsTracker(options);
        tracker.start();
        lastTracker = tracker;
        return reply(tracker.isRunning, tracker.isRunning ? undefined : "the tracker did not start (see the log above)");
      }
      case "stop": {
        const tracker = kernelTracker();
        if (tracker?.isRunning) {
          lastTracker = tracker;
          await tracker.stop();
        }
        return reply(true);
      }
    }
  } catch (error) {
    const message = isCodeCarbonError(error) || error instanceof Error ? error.message : String(error);
    return reply(false, message);
  }
}

/** For the extension: runs a JSON request and prints the reply as one `CODECARBON_REPLY {...}` line. */
export async function runKernelCommand(json: string): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const answer = await codecarbonKernel(parsed);
  process.stdout.write(`${REPLY_PREFIX}${JSON.stringify(answer)}\n`);
}

/** Shows a tracker's summary, or a result row, in the notebook (HTML in tslab, text elsewhere). */
export function showEmissions(value: EmissionsTracker | EmissionsData): string {
  if (value instanceof EmissionsTracker) return value.display();
  // Loaded on use: importing the package stays cheap outside notebooks.
  const { figuresFromRow, summaryHtml, summaryText, tslabDisplay } = require("../output/notebook-display") as typeof import("../output/notebook-display");
  const input = { figures: figuresFromRow(value), sources: [], intensityGPerKWh: null, intensitySource: null, state: "stopped" as const };
  const tslab = tslabDisplay();
  if (tslab) {
    tslab.html(summaryHtml(input));
    return "";
  }
  return summaryText(input);
}

export { kernelTracker };
