/** The interface every GPU vendor's backend implements (see gpu.ts for the list of backends). */
import type { GpuDevice } from "./gpu-ids";
import type { EnergyReader } from "./types";

/** A reader of some GPUs that also reports their utilisation at the latest read. */
export interface GpuReader extends EnergyReader {
  /** Mean utilisation of the measured GPUs at the latest successful read, in percent; null before one. */
  utilizationPercent(): number | null;
}

export type GpuProbe =
  | {
      ok: true;
      /** Every GPU the tool sees, by index and UUID (what gpu_ids selects on). */
      gpus: GpuDevice[];
      /** CodeCarbon's gpu_model text for these GPUs. */
      model: string;
      createReader(selectedIndices: number[]): GpuReader;
    }
  | { ok: false; reason: string };

export interface GpuBackend {
  readonly vendor: string;
  probe(env: NodeJS.ProcessEnv): Promise<GpuProbe>;
}
