/**
 * Chooses a power source for each device and builds its reader, walking CodeCarbon's fallback
 * chain: CPU forced → RAPL → TDP × load (matched TDP, else 4 W per thread, else 85 W); RAM
 * forced → DIMM model; GPU through nvidia-smi when present. Each choice is recorded as a
 * PowerSource so every figure says where it came from.
 */
import type { DetectedHardware, EnergyReader, PowerSource } from "./types";
import type { SystemFacts } from "./system-info";
import { readSocketCount } from "./system-info";
import { probeRapl, createRaplReader } from "./rapl";
import { probeGpus } from "./gpu";
import type { GpuReader } from "./gpu-backend";
import { gpuIdsFromEnvironment, normalizeGpuIds, selectGpus } from "./gpu-ids";
import { resolveCpuTdp, type CpuTdp } from "./cpu-tdp";
import { createMachineLoadSampler } from "./cpu-load";
import { createProcessTreeSampler } from "./process-tree";
import { createForcedPowerReader, createRamReader, createTdpCpuReader } from "./modelled-readers";
import { BYTES_PER_GIB } from "../units";
import { log } from "../log";

export interface HardwareSettings {
  trackingMode: "machine" | "process";
  forceCpuPower: number | null;
  forceRamPower: number | null;
  forceModeCpuLoad: boolean;
  raplIncludeDram: boolean;
  raplPreferPsys: boolean;
  raplDir: string;
  gpuIds: Array<number | string> | null;
}

/**
 * The machine load sampler, shared by the CPU model and the utilisation figure: one "since last
 * call" window, as psutil has. Every sample is recorded, weighted by the time it covers, so the
 * utilisation is a true time-weighted mean whoever asked for the sample.
 */
const FRESH_SAMPLE_NS = 100_000_000;

export class SharedLoadSampler {
  private readonly inner = createMachineLoadSampler();
  private lastCallHr = process.hrtime.bigint();
  private weightedPercentS = 0;
  private coveredS = 0;

  sample(): number | null {
    const now = process.hrtime.bigint();
    const load = this.inner.sample();
    const seconds = Number(now - this.lastCallHr) / 1e9;
    this.lastCallHr = now;
    if (load !== null && seconds > 0) {
      this.weightedPercentS += load * seconds;
      this.coveredS += seconds;
    }
    return load;
  }

  /**
   * Samples unless a reader just did (the CPU load model samples on every read): the utilisation
   * figure then needs no second read of the counters.
   */
  refresh(): void {
    if (Number(process.hrtime.bigint() - this.lastCallHr) > FRESH_SAMPLE_NS) this.sample();
  }

  /** Mean machine load since the sampler was made, in percent. */
  meanPercent(): number {
    return this.coveredS > 0 ? this.weightedPercentS / this.coveredS : 0;
  }
}

export interface HardwarePlan {
  readers: EnergyReader[];
  sources: PowerSource[];
  hardware: DetectedHardware;
  loadSampler: SharedLoadSampler;
  /** Mean utilisation of the tracked GPUs at the latest read, or null without GPU. */
  gpuUtilisation: () => number | null;
}

export async function planHardware(
  settings: HardwareSettings,
  facts: SystemFacts,
  env: NodeJS.ProcessEnv = process.env,
  /** In process mode, the root of the measured tree: this process by default, or another one (a notebook's kernel). */
  trackedPid: number = process.pid,
): Promise<HardwarePlan> {
  const loadSampler = new SharedLoadSampler();
  const processSampler =
    settings.trackingMode === "process" ? createProcessTreeSampler({ pid: trackedPid }) : undefined;
  const readers: EnergyReader[] = [];
  // GPU tools (nvidia-smi) run in child processes: ask them now and do the CPU work meanwhile.
  const gpuProbe = probeGpus(env);

  // CodeCarbon treats a forced CPU power as the TDP of the load model, not as a constant draw.
  let cpuReader: EnergyReader | undefined = undefined;
  let socketCount = 1;
  if (settings.forceCpuPower === null && process.platform === "linux") {
    const probe = probeRapl({
      root: settings.raplDir,
      includeDram: settings.raplIncludeDram,
      preferPsys: settings.raplPreferPsys,
    });
    if (probe.ok && !settings.forceModeCpuLoad) {
      cpuReader = createRaplReader(probe.domains, {
        root: settings.raplDir,
        includeDram: settings.raplIncludeDram,
        preferPsys: settings.raplPreferPsys,
      });
    } else if (!probe.ok) {
      log.once(
        "info",
        `rapl-unavailable:${probe.reason}`,
        `RAPL is not available (${probe.reason}); estimating CPU power from its TDP and load.`,
      );
    }
  }
  if (cpuReader === undefined) {
    let tdp: CpuTdp;
    if (settings.forceCpuPower !== null) {
      tdp = { tdpW: settings.forceCpuPower, origin: "forced", matchedName: null };
    } else {
      socketCount = await readSocketCount();
      tdp = resolveCpuTdp({ model: facts.cpuModel, logicalCpuCount: facts.logicalCpuCount, socketCount });
      if (tdp.origin !== "matched") {
        log.once(
          "warning",
          `tdp-unmatched:${facts.cpuModel ?? ""}`,
          facts.cpuModel === null
            ? `The CPU model could not be detected; assuming a generic ${tdp.tdpW} W TDP. Set force_cpu_power for a better figure.`
            : `The CPU "${facts.cpuModel}" is not in the TDP table; assuming ${tdp.tdpW} W (4 W per thread). Set force_cpu_power for a better figure.`,
        );
      }
    }
    cpuReader = createTdpCpuReader({
      tdp,
      mode: settings.trackingMode,
      logicalCpuCount: facts.logicalCpuCount,
      loadSampler,
      ...(processSampler ? { processSampler } : {}),
    });
  }
  readers.push(cpuReader);

  readers.push(
    settings.forceRamPower !== null
      ? createForcedPowerReader("ram", settings.forceRamPower)
      : createRamReader({
          mode: settings.trackingMode,
          totalBytes: facts.totalMemoryBytes,
          isArm: facts.isArm,
          ...(processSampler ? { processSampler } : {}),
        }),
  );

  let gpuCount = 0;
  let gpuModel = "";
  let gpuReader: GpuReader | undefined;
  let selected: number[] | null = null;
  const requestedIds = normalizeGpuIds(settings.gpuIds) ?? gpuIdsFromEnvironment(env);
  const gpus = await gpuProbe;
  if (gpus.ok) {
    gpuCount = gpus.gpus.length;
    gpuModel = gpus.model;
    if (requestedIds !== null) {
      const selection = selectGpus(requestedIds, gpus.gpus);
      for (const warning of selection.warnings) log.once("warning", `gpu-select:${warning}`, warning);
      selected = selection.indices;
    }
    const indices = selected ?? gpus.gpus.map((g) => g.index);
    if (indices.length > 0) {
      gpuReader = gpus.createReader(indices);
      readers.push(gpuReader);
    }
  } else {
    log.once("debug", "no-gpu", `No GPU found (${gpus.reason}); GPU energy is 0.`);
  }

  const sources = readers.map((r) => r.source);
  return {
    readers,
    sources,
    loadSampler,
    gpuUtilisation: () => gpuReader?.utilizationPercent() ?? null,
    hardware: {
      ram_total_size: facts.totalMemoryBytes / BYTES_PER_GIB,
      cpu_count: facts.logicalCpuCount,
      cpu_physical_count: socketCount,
      cpu_model: facts.cpuModel ?? "Unknown",
      gpu_count: gpuCount,
      gpu_model: gpuModel,
      gpu_ids: selected,
    },
  };
}
