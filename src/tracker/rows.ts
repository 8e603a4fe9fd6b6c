/**
 * Turns running totals into CodeCarbon's emissions record.
 */
import type { TrackerSettings } from "../config/options.generated";
import type { IntensityLocation } from "../intensity/offline";
import type { LocatedResolution } from "../intensity/provider";
import type { HardwarePlan } from "../measure/hardware";
import type { DeviceKind } from "../measure/types";
import type { SystemFacts } from "../measure/system-info";
import type { EmissionsData, TaskEmissionsData } from "../output/emissions-data";
import { BYTES_PER_GIB, wattsFromKwhOver } from "../units";
import type { RunTotals } from "./accumulator";

/** Where the run happens: the intensity data's location, plus coordinates when geolocated. */
export interface RunLocation extends IntensityLocation {
  latitude: number | null;
  longitude: number | null;
}

export interface RunMeta {
  projectName: string;
  runId: string;
  experimentId: string;
  location: RunLocation;
  osDescription: string;
  nodeVersion: string;
  packageVersion: string;
  cpuCount: number;
  cpuModel: string;
  gpuCount: number;
  gpuModel: string;
  ramTotalSizeGiB: number;
  trackingMode: "machine" | "process";
  pue: number;
  wue: number;
  /**
   * Devices whose power is forced to a constant (force_ram_power, force_gpu_power): their mean
   * power is that figure as given, not energy ÷ time, whose rounding turns 7 W into
   * 7.000000000000002 W.
   */
  forcedPowerW: Partial<Record<DeviceKind, number>>;
}

/** The constant power of each device that has only forced sources. */
function forcedPowers(plan: HardwarePlan): Partial<Record<DeviceKind, number>> {
  const forced: Partial<Record<DeviceKind, number>> = {};
  for (const device of ["cpu", "gpu", "ram"] as const) {
    const sources = plan.sources.filter((source) => source.device === device);
    if (sources.length === 0 || !sources.every((source) => source.method === "forced")) continue;
    forced[device] = sources.reduce((sum, source) => sum + (source.method === "forced" ? source.powerW : 0), 0);
  }
  return forced;
}

/** Where the run happens, as a row records it. */
export function runLocation(resolution: LocatedResolution): RunLocation {
  return { ...resolution.location, latitude: resolution.latitude, longitude: resolution.longitude };
}

/** The run's facts, the same in every row it writes. */
export function buildRunMeta(
  s: TrackerSettings,
  run: { runId: string; packageVersion: string; location: LocatedResolution },
  facts: SystemFacts,
  plan: HardwarePlan,
): RunMeta {
  return {
    projectName: s.projectName,
    runId: run.runId,
    experimentId: s.experimentId,
    location: runLocation(run.location),
    osDescription: facts.osDescription,
    nodeVersion: process.versions.node,
    packageVersion: run.packageVersion,
    cpuCount: facts.logicalCpuCount,
    cpuModel: facts.cpuModel ?? "Unknown",
    gpuCount: plan.hardware.gpu_ids?.length ?? plan.hardware.gpu_count,
    gpuModel: plan.hardware.gpu_model,
    ramTotalSizeGiB: facts.totalMemoryBytes / BYTES_PER_GIB,
    trackingMode: s.trackingMode,
    pue: s.pue,
    wue: s.wue,
    forcedPowerW: forcedPowers(plan),
  };
}

/** Time-weighted means over the run, in percent and GiB. */
export interface UtilisationMeans {
  cpuPercent: number;
  gpuPercent: number;
  ramPercent: number;
  ramUsedGiB: number;
}

/** Local time without zone, to the second, as CodeCarbon writes it. */
export function localTimestamp(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}` +
    `T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`
  );
}

/**
 * Mean power is energy over time (before PUE). CodeCarbon averages the per-measurement powers
 * instead; with a regular cadence the two agree, and ours stays right when intervals differ
 * (the short first interval, a final measurement at stop).
 */
function meanPower(meta: RunMeta, device: DeviceKind, rawKWh: number, durationS: number): number {
  const forced = meta.forcedPowerW[device];
  return forced !== undefined && durationS > 0 ? forced : wattsFromKwhOver(rawKWh, durationS);
}

export function buildEmissionsRow(
  meta: RunMeta,
  totals: RunTotals,
  utilisation: UtilisationMeans,
  now = new Date(),
): EmissionsData {
  const duration = totals.durationS;
  const energy = totals.cpuEnergyKWh + totals.gpuEnergyKWh + totals.ramEnergyKWh;
  return {
    timestamp: localTimestamp(now),
    project_name: meta.projectName,
    run_id: meta.runId,
    experiment_id: meta.experimentId,
    duration,
    emissions: totals.emissionsKg,
    emissions_rate: duration > 0 ? totals.emissionsKg / duration : 0,
    cpu_power: meanPower(meta, "cpu", totals.cpuRawKWh, duration),
    gpu_power: meanPower(meta, "gpu", totals.gpuRawKWh, duration),
    ram_power: meanPower(meta, "ram", totals.ramRawKWh, duration),
    cpu_energy: totals.cpuEnergyKWh,
    gpu_energy: totals.gpuEnergyKWh,
    ram_energy: totals.ramEnergyKWh,
    energy_consumed: energy,
    water_consumed: totals.waterL,
    country_name: meta.location.countryName,
    country_iso_code: meta.location.countryIsoCode,
    region: meta.location.region,
    cloud_provider: meta.location.cloudProvider,
    cloud_region: meta.location.cloudRegion,
    os: meta.osDescription,
    python_version: meta.nodeVersion,
    codecarbon_version: meta.packageVersion,
    cpu_count: meta.cpuCount,
    cpu_model: meta.cpuModel,
    gpu_count: meta.gpuCount,
    gpu_model: meta.gpuModel,
    longitude: meta.location.longitude,
    latitude: meta.location.latitude,
    ram_total_size: meta.ramTotalSizeGiB,
    tracking_mode: meta.trackingMode,
    cpu_utilization_percent: utilisation.cpuPercent,
    gpu_utilization_percent: utilisation.gpuPercent,
    ram_utilization_percent: utilisation.ramPercent,
    ram_used_gb: utilisation.ramUsedGiB,
    on_cloud: meta.location.onCloud ? "Y" : "N",
    pue: meta.pue,
    wue: meta.wue,
  };
}

export function buildTaskRow(
  taskName: string,
  meta: RunMeta,
  delta: RunTotals,
  utilisation: UtilisationMeans,
  now = new Date(),
): TaskEmissionsData {
  const { experiment_id: _e, pue: _p, wue: _w, ...rest } = buildEmissionsRow(meta, delta, utilisation, now);
  return { task_name: taskName, ...rest };
}
