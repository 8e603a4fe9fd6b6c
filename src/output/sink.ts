/**
 * The contract every output honours, and the values they read. Sinks run in the sampler worker,
 * off the user's thread; each one's failures are caught and logged by the run, so one broken
 * output never stops the others or the user's computation.
 */
import type { IntensityResolution } from "../intensity/offline";
import type { GeoLocation } from "../intensity/online";
import type { DetectedHardware, PowerSource } from "../measure/types";
import type { EmissionsData, TaskEmissionsData } from "./emissions-data";
import type { RunProvenance } from "./provenance";

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

/**
 * One interval, built once by the run and read by every sink: the sample (what listeners and the
 * live feed see) and the row (the CSV's, with the running totals).
 */
export interface Measurement {
  sample: MeasurementSample;
  row: EmissionsData;
}

/** What the run knows about itself once its readers and its carbon intensity are known. */
export interface RunDescription {
  hardware: DetectedHardware;
  sources: PowerSource[];
  intensity: IntensityResolution;
  /** Where an online run found itself (null offline, or when it fell back to a default). */
  geoLocation: GeoLocation | null;
}

export interface OutputSink {
  readonly name: string;
  /**
   * True when the output does its work only when called (files, the log): no server, socket or
   * timer of its own in between, so the sampler thread may sleep from one measurement to the next.
   */
  readonly quiet?: boolean;
  /** At flush and stop: the run's totals and the part since the previous report. */
  out(total: EmissionsData, delta: EmissionsData): Promise<void>;
  /** Every `api_call_interval` measurements, for outputs that stream. */
  liveOut?(total: EmissionsData, delta: EmissionsData): Promise<void>;
  /**
   * After every measurement. Called synchronously on the measurement path, so it must be cheap
   * (a small atomic file write at most) and must not wait on the network.
   */
  measured?(measurement: Measurement): void;
  /** When the power sources and the carbon intensity are known (a little after start), and again if they change. */
  described?(description: RunDescription): void;
  /** When a task ends (and at every report): every finished task of the run so far. */
  tasksChanged?(tasks: readonly TaskEmissionsData[]): void;
  /** At stop (and flush), with every task of the run so far. */
  taskOut?(tasks: readonly TaskEmissionsData[]): Promise<void>;
  /** After the final report, with the run's provenance. */
  exit?(final?: { provenance: RunProvenance }): Promise<void>;
}
