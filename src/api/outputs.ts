/**
 * The network outputs: the CodeCarbon API (output_methods contains api) and emissions_endpoint.
 *
 * CONTRACT STUB: the API client work fills this in.
 */
import type { TrackerSettings } from "../config/options.generated";
import type { OutputSink } from "../output/sink";

/** What the API's run record says about the machine, filled in by the tracker. */
export interface RunFacts {
  os: string;
  /** The runtime version (the API calls it python_version). */
  runtimeVersion: string;
  packageVersion: string;
  cpuCount: number;
  cpuModel: string;
  gpuCount: number;
  gpuModel: string;
  latitude: number | null;
  longitude: number | null;
  /** Cloud region and provider, null off-cloud. */
  cloudRegion: string | null;
  cloudProvider: string | null;
  ramTotalSizeGiB: number;
  trackingMode: "machine" | "process";
}

export interface NetworkOutputContext {
  /** The tracker's run id (a local UUID), written in the CSV. */
  runId: string;
  /** Read when the run record is first sent: the location may be known only after start. */
  runFacts(): RunFacts;
  env?: NodeJS.ProcessEnv;
}

export function createNetworkOutputs(_settings: TrackerSettings, _context: NetworkOutputContext): OutputSink[] {
  return [];
}
