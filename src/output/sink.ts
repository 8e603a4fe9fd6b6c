/**
 * The contract every output honours. Sinks run in the sampler worker, off the user's thread;
 * each one's failures are caught and logged by the caller, so one broken output never stops the
 * others or the user's computation.
 */
import type { EmissionsData, TaskEmissionsData } from "./emissions-data";

/** One measurement as it happened: power over the last interval and the run's running totals. */
export interface MeasurementSample {
  /** ISO-8601 UTC time of the measurement. */
  timestamp: string;
  /** Seconds since the run started. */
  elapsedS: number;
  /** Length of the interval this measurement covers, in seconds. */
  intervalS: number;
  /** Mean power over the interval, W (before PUE), per device type. */
  powerW: { cpu: number; gpu: number; ram: number };
  /** Cumulative energy since start, kWh (PUE applied), per device type and in total. */
  energyKWh: { cpu: number; gpu: number; ram: number; total: number };
  /** Cumulative emissions since start, kg CO2eq (energy not priced yet is left out). */
  emissionsKg: number;
  /** Carbon intensity in force, gCO2eq/kWh, or null while it is still being looked up. */
  intensityGPerKWh: number | null;
}

export interface OutputSink {
  readonly name: string;
  /** At flush and stop: the run's totals and the part since the previous report. */
  out(total: EmissionsData, delta: EmissionsData): Promise<void>;
  /** Every `api_call_interval` measurements, for outputs that stream. */
  liveOut?(total: EmissionsData, delta: EmissionsData): Promise<void>;
  /**
   * After every measurement. Called synchronously on the measurement path, so it must be cheap
   * (a small atomic file write at most) and must not wait on the network.
   */
  measurementOut?(sample: MeasurementSample): void;
  /** At stop (and flush), with every task of the run so far. */
  taskOut?(tasks: readonly TaskEmissionsData[]): Promise<void>;
  /** After the final report. */
  exit?(): Promise<void>;
}
