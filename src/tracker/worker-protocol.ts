/**
 * Messages between the tracker (user's thread) and its sampler worker. Plain data only, so
 * they cross the thread boundary by structured clone.
 */
import type { EmissionsData, TaskEmissionsData } from "../output/emissions-data";
import type { MeasurementSample, RunDescription } from "../output/sink";
import type { RunProvenance } from "../output/provenance";

/**
 * A stopped run's record: the CSV row, its provenance and, with the api output, the Code Carbon
 * API's id for the run (null when the API had not made it by the end).
 */
export type FinalEmissionsData = EmissionsData & { provenance?: RunProvenance; api_run_id?: string | null };
import type { LogLevel } from "../log";
import type { RunInit } from "./run";

export type WorkerRequest =
  | { type: "flush"; id: number }
  | { type: "stop"; id: number }
  | { type: "start-task"; id: number; name: string }
  | { type: "stop-task"; id: number; name?: string }
  | { type: "watch"; id: number };

export type WorkerRequestType = WorkerRequest["type"];

export interface WorkerReplies {
  flush: EmissionsData;
  stop: FinalEmissionsData;
  "start-task": string;
  "stop-task": TaskEmissionsData | null;
  watch: null;
}

export type WorkerMessage =
  | { type: "ready"; description: RunDescription }
  | { type: "failed"; message: string }
  | { type: "reply"; id: number; ok: true; value: WorkerReplies[WorkerRequestType] }
  | { type: "reply"; id: number; ok: false; message: string }
  | { type: "log"; level: LogLevel; message: string }
  /** Sent only after a "watch" request: most runs have nobody on the user's thread to read them. */
  | { type: "measurement"; sample: MeasurementSample };

export interface WorkerData {
  init: RunInit;
  logLevel: LogLevel;
  /**
   * Two shared 32-bit words. At `WAKE_INDEX` (tracker/pacer.ts) the tracker adds one and notifies
   * after each request it posts, so a sampler asleep between measurements wakes at once to take
   * it. At `CLAIM_INDEX`, who measures the run (`RunClaim`).
   */
  sharedWords: SharedArrayBuffer;
}

/** The word of `WorkerData.sharedWords` that says which thread took the run. */
export const CLAIM_INDEX = 1;

/**
 * The run is taken once, by whichever thread swaps `open` first: the sampler when it begins, or
 * the tracker when `stop()` comes before that (a run shorter than the thread's start-up, which
 * the user's thread then opens and stops itself rather than wait for the thread to boot).
 */
export const RunClaim = { open: 0, bySampler: 1, byTracker: 2 } as const;
