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
   * One shared 32-bit word: the tracker adds one and notifies after each request it posts, so a
   * sampler asleep between measurements (tracker/pacer.ts) wakes at once to take it.
   */
  wake: SharedArrayBuffer;
}
