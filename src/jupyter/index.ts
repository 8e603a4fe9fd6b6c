/**
 * The kernel side of the notebook experience: one typed, versioned entry point that the
 * JupyterLab extension (toolbar, sidebar) and cells both use to start, stop and query the
 * kernel's tracker, so a tracker started by `tracker.start()` in a cell is the one the toolbar
 * shows and stops.
 *
 * The extension runs, in the kernel (as an execute request of its own, not a cell):
 *   import { runKernelCommand as codecarbonRunKernelCommand } from "codecarbon";
 *   await codecarbonRunKernelCommand('{"version":1,"action":"status"}');
 * and reads the one line it prints (src/protocol/kernel-command.ts).
 */
import { isCodeCarbonError } from "../errors";
import { toCamelCase } from "../config";
import type { TrackerOptions } from "../config/options.generated";
import {
  EmissionsTracker,
  OfflineEmissionsTracker,
  kernelTracker,
  type TrackingTarget,
} from "../tracker/emissions-tracker";
import { detectKernel } from "../notebook/kernel";
import type { EmissionsData } from "../output/emissions-data";
import {
  formatKernelReply,
  KERNEL_API_VERSION,
  parseKernelRequest,
  type KernelReply,
} from "../protocol/kernel-command";
import { feedRelativePath } from "../protocol/live-feed";

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
    feed: kernel ? feedRelativePath(kernel.kernelId) : null,
    emissionsKg: state === "stopped" ? (tracker?.finalEmissions ?? null) : null,
    ...(error === undefined ? {} : { error }),
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
export async function codecarbonKernel(input: unknown, target: TrackingTarget = {}): Promise<KernelReply> {
  try {
    const request = parseKernelRequest(input);
    switch (request.action) {
      case "status":
        return reply(true);
      case "start": {
        const running = kernelTracker();
        if (running?.isRunning) return reply(true);
        const options = toOptions(request.settings);
        const tracker = request.offline
          ? new OfflineEmissionsTracker(options, target)
          : new EmissionsTracker(options, target);
        tracker.start();
        lastTracker = tracker;
        return reply(
          tracker.isRunning,
          tracker.isRunning ? undefined : "the tracker did not start (see the log above)",
        );
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
  process.stdout.write(`${formatKernelReply(answer)}\n`);
}

/** Shows a tracker's summary, or a result row, in the notebook (HTML in tslab, text elsewhere). */
export function showEmissions(value: EmissionsTracker | EmissionsData): string {
  if (value instanceof EmissionsTracker) return value.display();
  // Loaded on use: importing the package stays cheap outside notebooks.
  const { figuresFromRow, summaryHtml, summaryText, tslabDisplay } =
    require("../notebook/display") as typeof import("../notebook/display");
  const input = {
    figures: figuresFromRow(value),
    sources: [],
    intensityGPerKWh: null,
    intensitySource: null,
    state: "stopped" as const,
  };
  const tslab = tslabDisplay();
  if (tslab) {
    tslab.html(summaryHtml(input));
    return "";
  }
  return summaryText(input);
}

export { kernelTracker };
