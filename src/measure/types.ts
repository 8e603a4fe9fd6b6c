/**
 * The contract between the sampler and each hardware reader.
 *
 * A reader either reads a hardware energy counter (RAPL, the NVIDIA energy counter) or models
 * power (TDP × load, the RAM DIMM model, a forced value). Either way the sampler asks it for the
 * energy used since its previous read; the sampler owns the clock and applies PUE.
 */

export type DeviceKind = "cpu" | "gpu" | "ram";

/** Where a device's power figure comes from; recorded with every run so numbers can be trusted. */
export type PowerSource =
  | { device: "cpu"; method: "rapl"; domains: string[]; includesDram: boolean }
  | {
      device: "cpu";
      method: "tdp";
      /** Watts at full load for the whole machine (TDP × sockets). */
      tdpW: number;
      /** How the TDP was found. */
      tdpOrigin: "forced" | "matched" | "per-core-default" | "generic-default";
      /** The row of the TDP table that matched, when one did. */
      matchedName: string | null;
      loadModel: "machine" | "process";
    }
  | { device: "cpu" | "ram"; method: "forced"; powerW: number }
  | {
      device: "ram";
      method: "dimm-model";
      sizeGiB: number;
      dimmCount: number;
      arm: boolean;
      mode: "machine" | "process";
    }
  | { device: "gpu"; method: "nvidia-smi-energy-counter" | "nvidia-smi-power-draw"; gpuIndices: number[] };

/** How a reader gets its energy: a hardware counter read at both ends of each interval, or a power model. */
export type ReaderKind = "counter" | "model";
/** How much a figure can be trusted: read from hardware, estimated by a model, or set by the user. */
export type PowerBasis = "measured" | "estimated" | "forced";

/**
 * What each power method is. Every method must be listed (the compiler checks), so a new reader
 * declares whether it is a counter (the sampler extends a counter's late baseline over the first
 * interval) instead of being silently treated as a model.
 */
export const POWER_METHODS = {
  rapl: { kind: "counter", basis: "measured" },
  tdp: { kind: "model", basis: "estimated" },
  forced: { kind: "model", basis: "forced" },
  "dimm-model": { kind: "model", basis: "estimated" },
  "nvidia-smi-energy-counter": { kind: "counter", basis: "measured" },
  "nvidia-smi-power-draw": { kind: "model", basis: "measured" },
} as const satisfies Record<PowerSource["method"], { kind: ReaderKind; basis: PowerBasis }>;

/** measured: a hardware counter or reported power; estimated: a model; forced: the user's figure. */
export function powerBasis(source: PowerSource): PowerBasis {
  // A forced CPU power is the TDP of the load model (CodeCarbon's rule), so that model is forced.
  if (source.method === "tdp" && source.tdpOrigin === "forced") return "forced";
  return POWER_METHODS[source.method].basis;
}

/** Whether a reader's current source is a counter or a model (a GPU reader may fall back from one to the other). */
export function readerKind(source: PowerSource): ReaderKind {
  return POWER_METHODS[source.method].kind;
}

export interface DeviceReading {
  /** Energy used since the previous read, in kWh, before PUE. */
  energyKWh: number;
  /** Mean power over that interval, in W. */
  powerW: number;
}

export interface EnergyReader {
  readonly device: DeviceKind;
  readonly source: PowerSource;
  /** Takes counter baselines; called once at the start of each run. */
  start(): Promise<void>;
  /** Energy since the previous `start()` or `read()`; `intervalS` is the sampler's clock. */
  read(intervalS: number): Promise<DeviceReading>;
  /** Optional cheap sub-sample between reads (load models use it to follow load changes). */
  tick?(intervalS: number): void;
}

/** Static facts about the machine, as CodeCarbon's `get_detected_hardware()` reports them. */
export interface DetectedHardware {
  ram_total_size: number;
  cpu_count: number;
  cpu_physical_count: number;
  cpu_model: string;
  gpu_count: number;
  gpu_model: string;
  gpu_ids: number[] | null;
}
