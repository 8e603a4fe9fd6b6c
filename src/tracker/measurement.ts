/**
 * One measurement, built once per interval: every reader read (counters corrected for their late
 * baseline), utilisation sampled, the interval added to the running totals and priced, and the
 * result turned into the one `Measurement` every sink and listener reads.
 */
import * as os from "node:os";
import { log } from "../log";
import type { HardwarePlan } from "../measure/hardware";
import { readerKind, type DeviceKind } from "../measure/types";
import type { EmissionsData } from "../output/emissions-data";
import type { Measurement } from "../output/sink";
import { BYTES_PER_GIB, wattsFromKwhOver } from "../units";
import { RunAccumulator, type DeviceEnergy, type RunTotals } from "./accumulator";
import type { Interval } from "./clock";
import { buildEmissionsRow, type RunMeta, type UtilisationMeans } from "./rows";

/** Means of the RAM and GPU utilisation samples (CPU load is averaged by the load sampler). */
export class UtilisationMeter {
  private ramPercentSum = 0;
  private ramUsedSum = 0;
  private ramSamples = 0;
  private gpuSum = 0;
  private gpuSamples = 0;

  constructor(
    private readonly totalMemoryBytes: number,
    private readonly freeMemoryBytes: () => number = os.freemem,
  ) {}

  addRam(): void {
    const total = this.totalMemoryBytes;
    const used = total - this.freeMemoryBytes();
    this.ramPercentSum += (used / total) * 100;
    this.ramUsedSum += used / BYTES_PER_GIB;
    this.ramSamples += 1;
  }

  addGpu(percent: number): void {
    this.gpuSum += percent;
    this.gpuSamples += 1;
  }

  means(cpuPercent: number): UtilisationMeans {
    return {
      cpuPercent,
      gpuPercent: this.gpuSamples > 0 ? this.gpuSum / this.gpuSamples : 0,
      ramPercent: this.ramSamples > 0 ? this.ramPercentSum / this.ramSamples : 0,
      ramUsedGiB: this.ramSamples > 0 ? this.ramUsedSum / this.ramSamples : 0,
    };
  }
}

/** What a measurement needs from the hardware plan: the readers and the utilisation samplers. */
export type MeasuredHardware = Pick<HardwarePlan, "readers" | "loadSampler" | "gpuUtilisation">;

export class MeasurementBuilder {
  readonly accumulator: RunAccumulator;
  private readonly utilisation: UtilisationMeter;
  /** How long after the start the counters took their baselines (0 when at once). */
  private readonly baselineLagS: number;

  constructor(
    private readonly hardware: MeasuredHardware,
    readonly meta: RunMeta,
    baselineLagS: number,
    utilisation?: UtilisationMeter,
  ) {
    this.accumulator = new RunAccumulator(meta.pue, meta.wue);
    this.utilisation = utilisation ?? new UtilisationMeter(meta.ramTotalSizeGiB * BYTES_PER_GIB);
    this.baselineLagS = Math.max(0, baselineLagS);
  }

  /** Whether a reader follows load changes between measurements (see RunClock's sub-samples). */
  get subSamples(): boolean {
    return this.hardware.readers.some((r) => r.tick !== undefined);
  }

  /** One sub-sample of every load model, over the `intervalS` since the previous one. */
  subSample(intervalS: number): void {
    for (const reader of this.hardware.readers) {
      try {
        reader.tick?.(intervalS);
      } catch (error) {
        log.once("warning", `tick:${reader.device}`, `Sampling ${reader.device} failed: ${String(error)}`);
      }
    }
  }

  utilisationMeans(): UtilisationMeans {
    return this.utilisation.means(this.hardware.loadSampler.meanPercent());
  }

  /** The CSV row for some totals (the run's, a task's or a report's delta), with the run's facts. */
  row(totals: RunTotals, now = new Date()): EmissionsData {
    return buildEmissionsRow(this.meta, totals, this.utilisationMeans(), now);
  }

  /** Reads every device over `interval` and adds it to the run, priced at `intensityGPerKWh` (null: not known yet). */
  async take(interval: Interval, intensityGPerKWh: number | null): Promise<Measurement> {
    const first = this.accumulator.snapshot().measurementCount === 0;
    const readings = await Promise.all(
      this.hardware.readers.map((reader) => this.read(reader, interval.intervalS, first)),
    );
    this.hardware.loadSampler.refresh();
    this.utilisation.addRam();
    const gpuPercent = this.hardware.gpuUtilisation();
    if (gpuPercent !== null) this.utilisation.addGpu(gpuPercent);
    this.accumulator.add(interval.intervalS, readings, intensityGPerKWh);
    const totals = this.accumulator.snapshot();
    // Stamped when the interval ended (before the readers answered), so per-cell attribution
    // compares the kernel's message times with the instants the energy was measured at.
    const now = new Date(interval.wallMs);
    const powerW = { cpu: 0, gpu: 0, ram: 0 };
    for (const r of readings) powerW[r.device] += wattsFromKwhOver(r.energyKWh, interval.intervalS);
    const energy = { cpu: totals.cpuEnergyKWh, gpu: totals.gpuEnergyKWh, ram: totals.ramEnergyKWh };
    return {
      sample: {
        timestamp: now.toISOString(),
        elapsedS: interval.elapsedS,
        intervalS: interval.intervalS,
        powerW,
        energyKWh: { ...energy, total: energy.cpu + energy.gpu + energy.ram },
        emissionsKg: totals.emissionsKg,
        intensityGPerKWh,
      },
      row: this.row(totals, now),
    };
  }

  private async read(
    reader: MeasuredHardware["readers"][number],
    intervalS: number,
    first: boolean,
  ): Promise<DeviceEnergy> {
    const device: DeviceKind = reader.device;
    try {
      const reading = await reader.read(intervalS);
      let energyKWh = reading.energyKWh;
      // Counters started a little after start(); extend the first interval's energy at the
      // measured power so the run has no gap at its beginning.
      const lag = this.baselineLagS;
      if (first && readerKind(reader.source) === "counter" && intervalS > lag && lag > 0)
        energyKWh *= intervalS / (intervalS - lag);
      return { device, energyKWh };
    } catch (error) {
      log.once("warning", `read:${device}`, `Reading ${device} power failed (${String(error)}); counting 0 for now.`);
      return { device, energyKWh: 0 };
    }
  }
}
