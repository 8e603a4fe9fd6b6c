/**
 * Energy readers for devices whose power is modelled rather than metered: the CPU from its TDP
 * and load, RAM from its size (or the process tree's resident memory), and user-forced values.
 *
 * A modelled reader integrates: each `tick` takes a fresh sample and charges its power for the
 * sub-interval since the previous one, and `read` closes the interval with one last sample. The
 * energy is Σ power × Δt and the reported power is that energy over the whole interval, a
 * time-weighted mean (CodeCarbon averages its 1 Hz samples without weights).
 */
import type { EnergyReader, DeviceReading, PowerSource } from "./types";
import type { CpuTdp } from "./cpu-tdp";
import { createMachineLoadSampler, machineLoadPowerW, processLoadPowerW, type MachineLoadSampler } from "./cpu-load";
import { createProcessTreeSampler, type ProcessTreeSampler } from "./process-tree";
import { estimateDimmCount, ramPowerW } from "./ram-model";
import { JOULES_PER_KWH } from "../protocol/units";
import { BYTES_PER_GIB } from "../units";
import { log } from "../log";

export type TrackingMode = "machine" | "process";

/** The machine's busy % since the previous call (see cpu-load.ts). */
export type LoadSampler = Pick<MachineLoadSampler, "sample">;
/** CPU seconds of the tracked process tree (see process-tree.ts). */
export type CpuTimeSampler = Pick<ProcessTreeSampler, "cpuSeconds">;
/** Resident bytes of the tracked process tree (see process-tree.ts). */
export type MemorySampler = Pick<ProcessTreeSampler, "rssBytes">;

export interface TdpCpuReaderOptions {
  tdp: CpuTdp;
  mode: TrackingMode;
  logicalCpuCount: number;
  /** Machine mode; share the tracker's sampler so both see one "since last call" window. */
  loadSampler?: LoadSampler;
  /** Process mode. */
  processSampler?: CpuTimeSampler;
}

/**
 * The CPU model reader. Machine mode charges TDP × (0.1 + 0.9 × load³) over each sub-interval,
 * with the machine's load over that sub-interval; process mode charges the process tree's CPU
 * time at TDP per logical CPU, which is the same as its load % applied over the interval.
 */
export function createTdpCpuReader(options: TdpCpuReaderOptions): EnergyReader {
  const { tdp, mode } = options;
  const tdpW = tdp.tdpW;
  const logicalCpuCount =
    Number.isFinite(options.logicalCpuCount) && options.logicalCpuCount >= 1 ? options.logicalCpuCount : 1;
  const source: PowerSource = {
    device: "cpu",
    method: "tdp",
    tdpW,
    tdpOrigin: tdp.origin,
    matchedName: tdp.matchedName,
    loadModel: mode,
  };

  if (mode === "machine") {
    const sampler = options.loadSampler ?? createMachineLoadSampler();
    // A missed sample (unreadable counters) repeats the last known load; before any, the idle floor.
    let lastLoadPercent = 0;
    return integratingReader("cpu", source, {
      begin() {
        const load = safeSample(() => sampler.sample(), "cpu-load");
        if (load !== null) lastLoadPercent = load;
      },
      energyOver(seconds) {
        const load = safeSample(() => sampler.sample(), "cpu-load");
        if (load !== null) lastLoadPercent = load;
        return machineLoadPowerW(tdpW, lastLoadPercent) * seconds;
      },
    });
  }

  const sampler = options.processSampler ?? createProcessTreeSampler();
  let lastCpuSeconds = 0;
  return integratingReader("cpu", source, {
    begin() {
      lastCpuSeconds = safeSample(() => sampler.cpuSeconds(), "process-cpu") ?? 0;
    },
    energyOver(seconds) {
      const cpuSeconds = safeSample(() => sampler.cpuSeconds(), "process-cpu");
      if (cpuSeconds === null) return 0;
      // A child that exits unwaited-for takes its time with it: the tree's total can fall.
      const usedS = Math.max(0, cpuSeconds - lastCpuSeconds);
      lastCpuSeconds = cpuSeconds;
      // load % = usedS / seconds × 100, so the wall time cancels out of power × seconds; a
      // zero-length interval (a read right after a tick) charges the same energy directly.
      return seconds > 0
        ? processLoadPowerW(tdpW, (usedS / seconds) * 100, logicalCpuCount) * seconds
        : (tdpW * usedS) / logicalCpuCount;
    },
  });
}

/** A constant power the user set (`force_cpu_power`, `force_ram_power`). */
export function createForcedPowerReader(device: "cpu" | "ram", powerW: number): EnergyReader {
  if (!Number.isFinite(powerW) || powerW < 0)
    throw new RangeError(`forced ${device} power must be a finite number of watts ≥ 0, got ${powerW}`);
  const source: PowerSource = { device, method: "forced", powerW };
  return {
    device,
    source,
    async start(): Promise<void> {},
    async read(intervalS: number): Promise<DeviceReading> {
      const seconds = validSeconds(intervalS);
      return { energyKWh: (powerW * seconds) / JOULES_PER_KWH, powerW };
    },
  };
}

export interface RamReaderOptions {
  mode: TrackingMode;
  /** The machine's memory, for machine mode and for the record. */
  totalBytes: number;
  isArm: boolean;
  /** Process mode: the tree's resident memory, sampled at each tick. */
  processSampler?: MemorySampler;
}

/**
 * The RAM model reader. Machine mode charges the model power of the whole memory, a constant;
 * process mode charges the model power of the tree's resident memory as sampled at each tick
 * (the model's floor included, as in CodeCarbon).
 */
export function createRamReader(options: RamReaderOptions): EnergyReader {
  const { isArm, mode } = options;
  const describe = (sizeGiB: number): PowerSource => ({
    device: "ram",
    method: "dimm-model",
    sizeGiB,
    dimmCount: estimateDimmCount(sizeGiB),
    arm: isArm,
    mode,
  });

  if (mode === "machine") {
    const sizeGiB = Math.max(0, options.totalBytes) / BYTES_PER_GIB;
    const powerW = ramPowerW(sizeGiB, isArm);
    const source = describe(sizeGiB);
    return {
      device: "ram",
      source,
      async start(): Promise<void> {},
      async read(intervalS: number): Promise<DeviceReading> {
        return { energyKWh: (powerW * validSeconds(intervalS)) / JOULES_PER_KWH, powerW };
      },
    };
  }

  const sampler = options.processSampler ?? createProcessTreeSampler();
  // The size the source reports follows the latest sample; it starts with one taken now.
  let latestGiB = residentGiB(sampler) ?? 0;
  return integratingReader("ram", () => describe(latestGiB), {
    begin() {
      latestGiB = residentGiB(sampler) ?? latestGiB;
    },
    energyOver(seconds) {
      const sizeGiB = residentGiB(sampler);
      // CodeCarbon charges 0 W when the memory cannot be read.
      if (sizeGiB === null) return 0;
      latestGiB = sizeGiB;
      return ramPowerW(sizeGiB, isArm) * seconds;
    },
  });
}

// ---------------------------------------------------------------------------------------------

interface PowerModel {
  /** Takes the baselines at the start of a run. */
  begin(): void;
  /** Takes one sample and returns the energy, in W·s, for the `seconds` that ended now. */
  energyOver(seconds: number): number;
}

/** Turns a sampled power model into a reader that integrates over ticks and reads. */
function integratingReader(
  device: "cpu" | "ram",
  source: PowerSource | (() => PowerSource),
  model: PowerModel,
): EnergyReader {
  let energyWs = 0;
  let tickedS = 0;
  let lastPowerW = 0;

  const advance = (seconds: number): void => {
    const increment = model.energyOver(seconds);
    energyWs += increment;
    tickedS += seconds;
    if (seconds > 0) lastPowerW = increment / seconds;
  };

  return {
    device,
    get source(): PowerSource {
      return typeof source === "function" ? source() : source;
    },
    async start(): Promise<void> {
      energyWs = 0;
      tickedS = 0;
      lastPowerW = 0;
      model.begin();
    },
    tick(intervalS: number): void {
      // A clock that went backwards or a bogus interval gives no sample, so no window is lost.
      if (!Number.isFinite(intervalS) || intervalS <= 0) return;
      advance(intervalS);
    },
    async read(intervalS: number): Promise<DeviceReading> {
      const seconds = validSeconds(intervalS);
      // The ticks covered part of the interval; the last sample covers the rest.
      advance(Math.max(0, seconds - tickedS));
      const energyKWh = energyWs / JOULES_PER_KWH;
      const powerW = seconds > 0 ? energyWs / seconds : lastPowerW;
      energyWs = 0;
      tickedS = 0;
      return { energyKWh, powerW };
    },
  };
}

function residentGiB(sampler: MemorySampler): number | null {
  const bytes = safeSample(() => sampler.rssBytes(), "process-rss");
  return bytes === null ? null : bytes / BYTES_PER_GIB;
}

/** Runs a sampler; a failure is logged once and reads as "no sample". */
function safeSample<T>(take: () => T | null, key: string): T | null {
  try {
    const value = take();
    return typeof value === "number" && !Number.isFinite(value) ? null : value;
  } catch (error) {
    log.once("warning", `sample-failed:${key}`, `Sampling ${key} failed (${String(error)}); that sample is skipped.`);
    return null;
  }
}

function validSeconds(intervalS: number): number {
  return Number.isFinite(intervalS) && intervalS > 0 ? intervalS : 0;
}
