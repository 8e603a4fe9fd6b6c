/**
 * What the toolbar toggle shows, as a pure state machine. Two voices tell it what the kernel's
 * tracker is doing: the replies to the commands the extension sends, and the live feed, which
 * also reports trackers started or stopped by cells. The feed wins unless a command is in flight.
 */
import type { LiveFeed } from "../protocol/live-feed";
import { modeWords, type KernelSupport, type TrackerMode } from "./kernel-support";

export type TrackingPhase = "no-kernel" | "unsupported" | "idle" | "starting" | "tracking" | "stopping" | "error";

export interface TrackingState {
  phase: TrackingPhase;
  /** The run the kernel is tracking (or last tracked). */
  runId: string | null;
  /** Where the tracker runs: in the kernel (tslab with codecarbon) or beside it (the server extension); null: none. */
  mode: TrackerMode | null;
  /** Why the toggle is disabled or what failed, in words for a caption. */
  message: string | null;
  /** Runs known to have died with their kernel: a feed still saying "running" for them is stale. */
  deadRunIds: readonly string[];
  /**
   * A run the kernel said it started whose feed has not been read yet: until it is, a missing feed or the previous
   * run's stopped feed is old news, not the end of this run (the toggle would flicker to Track and back).
   */
  awaitingFeedOf: string | null;
}

/** The part of the kernel's reply the state needs (codecarbon's KernelReply). */
export interface KernelAnswer {
  ok: boolean;
  state: "idle" | "running" | "stopped";
  runId: string | null;
  error?: string;
}

export type TrackingEvent =
  | { type: "kernel"; kernel: KernelSupport | null }
  | { type: "start-requested" }
  | { type: "stop-requested" }
  | { type: "reply"; answer: KernelAnswer }
  | { type: "command-failed"; message: string }
  | { type: "feed"; feed: LiveFeed | null; stale: boolean }
  | { type: "kernel-restarted" };

export const INITIAL_STATE: TrackingState = {
  phase: "no-kernel",
  runId: null,
  mode: null,
  message: "No kernel",
  deadRunIds: [],
  awaitingFeedOf: null,
};

const MAX_DEAD_RUNS = 20;

function busy(phase: TrackingPhase): boolean {
  return phase === "starting" || phase === "stopping";
}

export function nextTrackingState(state: TrackingState, event: TrackingEvent): TrackingState {
  switch (event.type) {
    case "kernel": {
      if (event.kernel === null)
        return { ...state, phase: "no-kernel", runId: null, mode: null, message: "No kernel", awaitingFeedOf: null };
      if (!event.kernel.supported)
        return {
          ...state,
          phase: "unsupported",
          runId: null,
          mode: null,
          message: event.kernel.reason,
          awaitingFeedOf: null,
        };
      const { mode } = event.kernel;
      if (state.phase === "no-kernel" || state.phase === "unsupported")
        return { ...state, phase: "idle", runId: null, mode, message: null };
      return state.mode === mode ? state : { ...state, mode };
    }
    case "start-requested":
      if (state.phase !== "idle" && state.phase !== "error") return state;
      return { ...state, phase: "starting", message: null };
    case "stop-requested":
      if (state.phase !== "tracking") return state;
      return { ...state, phase: "stopping", message: null };
    case "reply": {
      if (state.phase === "no-kernel" || state.phase === "unsupported") return state;
      const { answer } = event;
      if (!answer.ok) return { ...state, phase: "error", message: answer.error ?? "the kernel refused the command" };
      if (answer.state === "running") {
        // A start's reply: the feed is not there yet (or still shows the previous run) for a few seconds.
        const awaitingFeedOf = state.phase === "starting" ? answer.runId : state.awaitingFeedOf;
        return { ...state, phase: "tracking", runId: answer.runId, message: null, awaitingFeedOf };
      }
      return { ...state, phase: "idle", runId: answer.runId, message: null, awaitingFeedOf: null };
    }
    case "command-failed":
      if (state.phase === "no-kernel" || state.phase === "unsupported") return state;
      return { ...state, phase: "error", message: event.message };
    case "feed": {
      if (state.phase === "no-kernel" || state.phase === "unsupported" || busy(state.phase)) return state;
      const { feed } = event;
      // The run just started from here: only its own feed speaks for it.
      if (state.phase === "tracking" && state.awaitingFeedOf !== null && feed?.runId !== state.awaitingFeedOf)
        return state;
      if (feed === null) return state.phase === "tracking" ? { ...state, phase: "idle" } : state;
      const seen = state.awaitingFeedOf === null ? state : { ...state, awaitingFeedOf: null };
      const running = feed.state === "running" && !event.stale && !seen.deadRunIds.includes(feed.runId);
      if (running) return { ...seen, phase: "tracking", runId: feed.runId, message: null };
      // A stopped feed for the run we show ends it; an old feed does not clear an error.
      if (seen.phase === "tracking") return { ...seen, phase: "idle", runId: feed.runId };
      return seen;
    }
    case "kernel-restarted": {
      const deadRunIds =
        state.runId === null ? state.deadRunIds : [...state.deadRunIds, state.runId].slice(-MAX_DEAD_RUNS);
      if (state.phase === "no-kernel" || state.phase === "unsupported")
        return { ...state, deadRunIds, awaitingFeedOf: null };
      return { ...state, phase: "idle", message: null, deadRunIds, awaitingFeedOf: null };
    }
  }
}

export interface ToggleView {
  label: string;
  pressed: boolean;
  enabled: boolean;
  caption: string;
}

/** How the toggle looks in a state: always a caption, so a disabled toggle says why. */
export function toggleView(state: TrackingState): ToggleView {
  const where = modeWords(state.mode ?? "in-kernel");
  // In the kernel, commands are executions: they queue behind a running cell.
  const waits = state.mode === "beside" ? "" : " (it waits for the running cell)";
  switch (state.phase) {
    case "no-kernel":
      return {
        label: "CodeCarbon",
        pressed: false,
        enabled: false,
        caption: "CodeCarbon: this notebook has no kernel",
      };
    case "unsupported":
      return {
        label: "CodeCarbon",
        pressed: false,
        enabled: false,
        caption: `CodeCarbon: ${state.message ?? "this kernel cannot run the tracker"}`,
      };
    case "idle":
      return {
        label: "Track",
        pressed: false,
        enabled: true,
        caption: `Start tracking this notebook's energy and CO2 ${where} (codecarbon)`,
      };
    case "starting":
      return {
        label: "Starting…",
        pressed: true,
        enabled: false,
        caption: `Starting the tracker ${where}${waits}`,
      };
    case "tracking":
      return {
        label: "Tracking",
        pressed: true,
        enabled: true,
        caption: `Tracking this notebook's energy and CO2 ${where}: click to stop and write the CSV row`,
      };
    case "stopping":
      return {
        label: "Stopping…",
        pressed: false,
        enabled: false,
        caption: `Stopping the tracker ${where}${waits}`,
      };
    case "error":
      return {
        label: "Track",
        pressed: false,
        enabled: true,
        caption: `CodeCarbon failed ${where}: ${state.message ?? "unknown error"}. Click to try again.`,
      };
  }
}

/**
 * A feed still saying "running" whose file stopped changing for several intervals belongs to a
 * kernel that died without a word (killed, or restarted by another client).
 */
export function isFeedStale(feed: LiveFeed, unchangedForMs: number): boolean {
  if (feed.state !== "running") return false;
  const graceMs = Math.max(3 * feed.measurePowerSecs * 1000, 10_000) + 5_000;
  return unchangedForMs > graceMs;
}
