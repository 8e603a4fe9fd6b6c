/**
 * The contract every output honours. Sinks run in the sampler worker, off the user's thread;
 * each one's failures are caught and logged by the caller, so one broken output never stops the
 * others or the user's computation.
 */
import type { EmissionsData, TaskEmissionsData } from "./emissions-data";

export interface OutputSink {
  readonly name: string;
  /** At flush and stop: the run's totals and the part since the previous report. */
  out(total: EmissionsData, delta: EmissionsData): Promise<void>;
  /** Every `api_call_interval` measurements, for outputs that stream. */
  liveOut?(total: EmissionsData, delta: EmissionsData): Promise<void>;
  /** At stop (and flush), with every task of the run so far. */
  taskOut?(tasks: readonly TaskEmissionsData[]): Promise<void>;
  /** After the final report. */
  exit?(): Promise<void>;
}
