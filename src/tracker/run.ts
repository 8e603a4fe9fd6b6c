/**
 * One tracking run, as it lives inside the sampler worker: it owns the readers, the clock, the
 * running totals, the checkpoint and the outputs. Nothing here runs on the user's thread, so a
 * cell that blocks the event loop for minutes is still measured on time.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import * as os from "node:os";
import type { TrackerSettings } from "../config/options.generated";
import type { EmissionsData, TaskEmissionsData } from "../output/emissions-data";
import type { MeasurementSample, OutputSink } from "../output/sink";
import { writeEmissionsRow, writeTaskRows } from "../output/csv-file";
import { makeDirectorySync } from "../fs/atomic-write";
import { CheckpointWriter, recoverOrphanedRuns, removeCheckpoint } from "../output/checkpoint";
import { currentProcessIdentity } from "../fs/process-identity";
import type { IntensityResolution } from "../intensity/offline";
import { offlineIntensityProvider, resolveFromSettings, type IntensityProvider, type LocatedResolution } from "../intensity/provider";
import type { GeoLocation } from "../intensity/online";
import type { RunFacts } from "../api/outputs";
import { createLiveFeedSink, type LiveFeedSink, type LiveFeedTarget } from "../output/live-feed";
import { describeSource } from "./summary";
import { appendProvenance, buildProvenance, provenanceFile, type RunProvenance } from "../output/provenance";
import { planHardware, type HardwarePlan } from "../measure/hardware";
import { readSystemFacts } from "../measure/system-info";
import type { DetectedHardware, PowerSource } from "../measure/types";
import { log } from "../log";
import { BYTES_PER_GIB } from "../units";
import { RunAccumulator, subtractTotals, type RunTotals, emptyTotals } from "./accumulator";
import { buildEmissionsRow, buildTaskRow, type RunMeta, type UtilisationMeans } from "./rows";

export interface RunInit {
  runId: string;
  /** `process.hrtime.bigint()` at `start()`, as a decimal string (the clock is shared by all threads). */
  startHr: string;
  settings: TrackerSettings;
  packageVersion: string;
  /** Online trackers locate themselves and may use live intensity; offline ones use the bundled data only. */
  mode: "online" | "offline";
  /** A location found by an earlier run in this process, so it is not looked up again. */
  knownLocation: GeoLocation | null;
  liveFeed: LiveFeedTarget | null;
}

/** What the tracker learns about a run once its worker is ready. */
export interface RunDescription {
  hardware: DetectedHardware;
  sources: PowerSource[];
  intensity: IntensityResolution;
  /** Where an online run found itself (null offline, or when it fell back to a default). */
  geoLocation: GeoLocation | null;
}

interface TaskState {
  name: string;
  startTotals: RunTotals;
  startedAt: bigint;
  result: TaskEmissionsData | null;
}

const secondsBetween = (from: bigint, to: bigint) => Number(to - from) / 1e9;

/** Means of the RAM and GPU utilisation samples (CPU load is averaged by the load sampler). */
class UtilisationMeter {
  private ramPercentSum = 0;
  private ramUsedSum = 0;
  private ramSamples = 0;
  private gpuSum = 0;
  private gpuSamples = 0;

  constructor(private readonly totalMemoryBytes: number) {}

  addRam(): void {
    const total = this.totalMemoryBytes;
    const used = total - os.freemem();
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

export class Run {
  private readonly accumulator: RunAccumulator;
  private readonly utilisation: UtilisationMeter;
  private readonly startHr: bigint;
  private lastMeasureHr: bigint;
  private lastTickHr: bigint;
  private lastReportTotals: RunTotals = emptyTotals();
  private readonly tasks: TaskState[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private measurementsSinceLive = 0;
  private stopped = false;
  private latestRow: EmissionsData;
  private readonly outputs: OutputSink[];
  private liveFeed: LiveFeedSink | undefined;
  private readonly checkpointWriter: CheckpointWriter;
  private readonly identity = currentProcessIdentity();
  /** Set when the first read after start comes from a counter whose baseline was taken late. */
  private readonly baselineLagS: number;

  private constructor(
    private readonly init: RunInit,
    private readonly plan: HardwarePlan,
    private readonly intensity: IntensityProvider & { location?(): GeoLocation | null },
    private readonly meta: RunMeta,
    baselineHr: bigint,
  ) {
    const s = init.settings;
    this.accumulator = new RunAccumulator(s.pue, s.wue);
    this.utilisation = new UtilisationMeter(meta.ramTotalSizeGiB * BYTES_PER_GIB);
    this.startHr = BigInt(init.startHr);
    this.lastMeasureHr = this.startHr;
    this.lastTickHr = this.startHr;
    this.baselineLagS = Math.max(0, secondsBetween(this.startHr, baselineHr));
    this.latestRow = this.row(this.accumulator.snapshot());
    this.outputs = buildOutputs(s, init, () => this.runFacts(), () => this.latestRow);
    if (init.liveFeed !== null) {
      try {
        this.liveFeed = createLiveFeedSink(init.liveFeed);
        this.outputs.push(this.liveFeed);
      } catch (error) {
        log.once("warning", "live-feed", `The live feed ${init.liveFeed.file} cannot be written (${String(error)}); the notebook's chart will stay empty.`);
      }
    }
    this.checkpointWriter = new CheckpointWriter(s.outputDir, init.runId);
  }

  static async open(init: RunInit): Promise<Run> {
    const s = init.settings;
    try {
      makeDirectorySync(s.outputDir);
    } catch (error) {
      throw new Error(
        `cannot create output_dir "${s.outputDir}" (${(error as NodeJS.ErrnoException).code ?? String(error)}): ` +
          "set output_dir (or outputDir in code) to a folder this process may write to",
      );
    }
    const recovery = recoverOrphanedRuns(s.outputDir).then(
      (recovered) => {
        for (const r of recovered) log.info(`Recovered interrupted run ${r.runId} into ${r.file}.`);
      },
      (error: unknown) => log.warning(`Could not recover interrupted runs in ${s.outputDir}: ${String(error)}`),
    );
    const facts = readSystemFacts();
    const intensity = createIntensityProvider(init);
    const [plan] = await Promise.all([planHardware(s, facts), recovery]);
    // Until the online lookup answers, the CSV location is what the settings say.
    const preliminary = intensity.current() ?? resolveFromSettings(s);
    const trackedGpuCount = plan.hardware.gpu_ids?.length ?? plan.hardware.gpu_count;
    const meta: RunMeta = {
      projectName: s.projectName,
      runId: init.runId,
      experimentId: s.experimentId,
      location: { ...preliminary.location, latitude: preliminary.latitude, longitude: preliminary.longitude },
      osDescription: facts.osDescription,
      nodeVersion: process.versions.node,
      packageVersion: init.packageVersion,
      cpuCount: facts.logicalCpuCount,
      cpuModel: facts.cpuModel ?? "Unknown",
      gpuCount: trackedGpuCount,
      gpuModel: plan.hardware.gpu_model,
      ramTotalSizeGiB: facts.totalMemoryBytes / BYTES_PER_GIB,
      trackingMode: s.trackingMode,
      pue: s.pue,
      wue: s.wue,
    };
    await Promise.all(plan.readers.map((r) => r.start()));
    const run = new Run(init, plan, intensity, meta, process.hrtime.bigint());
    run.schedule();
    // The first measurement is taken at once (as CodeCarbon does): it covers the start-up and
    // puts a checkpoint on disk straight away.
    await run.enqueue(() => run.measure());
    // Energy measured while the location is looked up stays unpriced, and is priced by the
    // first measurement after the answer; the run reports ready once it has one.
    run.adoptLocation(await intensity.ready);
    return run;
  }

  private adoptLocation(answer: LocatedResolution): void {
    this.meta.location = { ...answer.location, latitude: answer.latitude, longitude: answer.longitude };
    this.latestRow = this.row(this.accumulator.snapshot());
    this.liveFeed?.describe(this.plan.sources.map(describeSource), { gPerKWh: answer.intensityGPerKWh, source: answer.source.label });
  }

  describe(): RunDescription {
    const intensity = this.intensity.current() ?? resolveFromSettings(this.init.settings);
    return {
      hardware: this.plan.hardware,
      sources: this.plan.sources,
      intensity: { intensityGPerKWh: intensity.intensityGPerKWh, source: intensity.source, location: intensity.location },
      geoLocation: this.intensity.location?.() ?? null,
    };
  }

  private runFacts(): RunFacts {
    const m = this.meta;
    return {
      os: m.osDescription,
      runtimeVersion: m.nodeVersion,
      packageVersion: m.packageVersion,
      cpuCount: m.cpuCount,
      cpuModel: m.cpuModel,
      gpuCount: m.gpuCount,
      gpuModel: m.gpuModel,
      latitude: m.location.latitude,
      longitude: m.location.longitude,
      cloudRegion: m.location.onCloud ? m.location.cloudRegion : null,
      cloudProvider: m.location.onCloud ? m.location.cloudProvider : null,
      ramTotalSizeGiB: m.ramTotalSizeGiB,
      trackingMode: m.trackingMode,
    };
  }

  private utilisationMeans(): UtilisationMeans {
    return this.utilisation.means(this.plan.loadSampler.meanPercent());
  }

  private row(totals: RunTotals): EmissionsData {
    return buildEmissionsRow(this.meta, totals, this.utilisationMeans());
  }

  private schedule(): void {
    const periodMs = this.init.settings.measurePowerSecs * 1000;
    // Aim each measurement at start + k × period so timing errors never accumulate; a timer that
    // fired late skips the slots it missed rather than measuring twice in a row. The 1 ms slack
    // keeps a timer that fires a hair before its slot from scheduling the same slot again.
    const next = () => {
      const elapsedMs = secondsBetween(this.startHr, process.hrtime.bigint()) * 1000;
      const nextSlotMs = (Math.floor((elapsedMs + 1) / periodMs) + 1) * periodMs;
      this.timer = setTimeout(() => {
        void this.enqueue(() => this.measure()).catch(() => undefined);
        if (!this.stopped) next();
      }, nextSlotMs - elapsedMs);
    };
    next();
    // Load models sub-sample every second between measurements (CodeCarbon's 1 Hz), so power
    // follows load changes inside an interval; at a cadence of 2 s or less the measurements do.
    if (periodMs > 2000 && this.plan.readers.some((r) => r.tick !== undefined)) {
      const tickMs = 1000;
      this.tickTimer = setInterval(() => this.tick(), tickMs);
    }
  }

  private tick(): void {
    if (this.stopped) return;
    const now = process.hrtime.bigint();
    const intervalS = secondsBetween(this.lastTickHr, now);
    this.lastTickHr = now;
    for (const reader of this.plan.readers) {
      try {
        reader.tick?.(intervalS);
      } catch (error) {
        log.once("warning", `tick:${reader.device}`, `Sampling ${reader.device} failed: ${String(error)}`);
      }
    }
  }

  /** Runs `task` after every task queued before it: measurements never overlap. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async measure(): Promise<EmissionsData> {
    const now = process.hrtime.bigint();
    const intervalS = secondsBetween(this.lastMeasureHr, now);
    const firstMeasurement = this.accumulator.snapshot().measurementCount === 0;
    this.lastMeasureHr = now;
    this.lastTickHr = now;
    const readings = await Promise.all(
      this.plan.readers.map(async (reader) => {
        try {
          const reading = await reader.read(intervalS);
          let energyKWh = reading.energyKWh;
          // Counters started a little after start(); extend the first interval's energy at the
          // measured power so the run has no gap at its beginning.
          if (firstMeasurement && isCounter(reader.source) && intervalS > this.baselineLagS && this.baselineLagS > 0) {
            energyKWh *= intervalS / (intervalS - this.baselineLagS);
          }
          return { device: reader.device, energyKWh };
        } catch (error) {
          log.once("warning", `read:${reader.device}`, `Reading ${reader.device} power failed (${String(error)}); counting 0 for now.`);
          return { device: reader.device, energyKWh: 0 };
        }
      }),
    );
    this.plan.loadSampler.refresh();
    this.utilisation.addRam();
    const gpuPercent = this.plan.gpuUtilisation();
    if (gpuPercent !== null) this.utilisation.addGpu(gpuPercent);
    const intensity = this.intensity.current();
    this.accumulator.add(intervalS, readings, intensity?.intensityGPerKWh ?? null);
    const totals = this.accumulator.snapshot();
    this.latestRow = this.row(totals);
    this.checkpoint();
    this.publish(now, intervalS, readings, totals, intensity?.intensityGPerKWh ?? null);
    this.measurementsSinceLive += 1;
    const every = this.init.settings.apiCallInterval;
    if (every > 0 && this.measurementsSinceLive >= every && !this.stopped) {
      this.measurementsSinceLive = 0;
      await this.report("live");
    }
    return this.latestRow;
  }

  private measurementListeners: ((sample: MeasurementSample) => void)[] = [];

  /** Calls `listener` after every measurement (the tracker relays them to the user's thread on request). */
  onMeasurement(listener: (sample: MeasurementSample) => void): void {
    this.measurementListeners.push(listener);
  }

  private publish(
    now: bigint,
    intervalS: number,
    readings: readonly { device: string; energyKWh: number }[],
    totals: RunTotals,
    intensityGPerKWh: number | null,
  ): void {
    const powerW = { cpu: 0, gpu: 0, ram: 0 };
    for (const r of readings) {
      if ((r.device === "cpu" || r.device === "gpu" || r.device === "ram") && intervalS > 0) powerW[r.device] += (r.energyKWh * 3.6e6) / intervalS;
    }
    const energy = { cpu: totals.cpuEnergyKWh, gpu: totals.gpuEnergyKWh, ram: totals.ramEnergyKWh };
    const sample: MeasurementSample = {
      timestamp: new Date().toISOString(),
      elapsedS: secondsBetween(this.startHr, now),
      intervalS,
      powerW,
      energyKWh: { ...energy, total: energy.cpu + energy.gpu + energy.ram },
      emissionsKg: totals.emissionsKg,
      intensityGPerKWh,
    };
    for (const sink of this.outputs) {
      if (!sink.measurementOut) continue;
      try {
        sink.measurementOut(sample);
      } catch (error) {
        log.once("warning", `sink-measure:${sink.name}`, `Output "${sink.name}" failed: ${String(error)}`);
      }
    }
    for (const listener of this.measurementListeners) listener(sample);
  }

  private checkpoint(): void {
    const s = this.init.settings;
    if (!s.outputMethods.includes("csv")) return;
    try {
      this.checkpointWriter.write({
        version: 1,
        runId: this.init.runId,
        ...this.identity,
        target: { outputDir: s.outputDir, outputFile: s.outputFile, onCsvWrite: s.onCsvWrite },
        row: this.latestRow,
        taskRows: this.finishedTasks(),
        taskFile: this.tasks.length > 0 ? this.taskFile() : null,
        updatedAt: new Date().toISOString(),
      });
    } catch (error) {
      log.once("warning", "checkpoint", `Could not write the run checkpoint in ${s.outputDir}: ${String(error)}`);
    }
  }

  private taskFile(): string {
    const s = this.init.settings;
    return path.join(s.outputDir, `emissions_${s.experimentName}_${this.init.runId}.csv`);
  }

  private finishedTasks(): TaskEmissionsData[] {
    return this.tasks.flatMap((t) => (t.result ? [t.result] : []));
  }

  private async report(kind: "live" | "out"): Promise<void> {
    const totals = this.accumulator.snapshot();
    const delta = subtractTotals(totals, this.lastReportTotals);
    this.lastReportTotals = totals;
    const total = this.row(totals);
    const deltaRow = this.row(delta);
    for (const sink of this.outputs) {
      try {
        if (kind === "out") await sink.out(total, deltaRow);
        else await sink.liveOut?.(total, deltaRow);
      } catch (error) {
        log.once("error", `sink:${sink.name}:${String(error)}`, `Output "${sink.name}" failed: ${String(error)}`);
      }
    }
  }

  private async reportTasks(): Promise<void> {
    const tasks = this.finishedTasks();
    if (tasks.length === 0) return;
    for (const sink of this.outputs) {
      try {
        await sink.taskOut?.(tasks);
      } catch (error) {
        log.once("error", `sink-task:${sink.name}`, `Output "${sink.name}" failed to write tasks: ${String(error)}`);
      }
    }
  }

  flush(): Promise<EmissionsData> {
    return this.enqueue(async () => {
      const row = await this.measure();
      await this.report("out");
      await this.reportTasks();
      return row;
    });
  }

  stop(): Promise<EmissionsData & { provenance: RunProvenance }> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    return this.enqueue(async () => {
      // Never write a final row with energy still unpriced: wait for the (bounded) lookup.
      this.adoptLocation(await this.intensity.ready);
      for (const task of this.tasks) if (task.result === null) await this.finishTask(task);
      const row = await this.measure();
      this.intensity.close();
      await this.report("out");
      await this.reportTasks();
      for (const sink of this.outputs) await sink.exit?.().catch(() => undefined);
      const provenance = await this.recordProvenance();
      this.checkpointWriter.close();
      await removeCheckpoint(this.init.settings.outputDir, this.init.runId).catch(() => undefined);
      return { ...row, provenance };
    });
  }

  /** The run's provenance, written beside the CSV (when there is one) and returned with the last row. */
  private async recordProvenance(): Promise<RunProvenance> {
    const s = this.init.settings;
    const intensity = this.intensity.current() ?? resolveFromSettings(s);
    const record = buildProvenance(this.init.runId, this.plan.sources, intensity.intensityGPerKWh, intensity.source);
    if (s.outputMethods.includes("csv")) {
      await appendProvenance(provenanceFile(s.outputDir, s.outputFile), record).catch((error: unknown) =>
        log.once("warning", "provenance", `Could not write the run's provenance beside the CSV: ${String(error)}`),
      );
    }
    return record;
  }

  startTask(name: string): Promise<string> {
    return this.enqueue(async () => {
      const active = this.tasks.find((t) => t.result === null);
      if (active) {
        log.warning(`Task "${active.name}" is still running; stop it before starting "${name}".`);
        return active.name;
      }
      const unique = this.tasks.some((t) => t.name === name) ? `${name}_${this.tasks.length}` : name;
      await this.measure();
      this.tasks.push({ name: unique, startTotals: this.accumulator.snapshot(), startedAt: process.hrtime.bigint(), result: null });
      return unique;
    });
  }

  stopTask(name?: string): Promise<TaskEmissionsData | null> {
    return this.enqueue(async () => {
      const task = this.tasks.find((t) => t.result === null && (name === undefined || t.name === name));
      if (!task) {
        log.warning(name === undefined ? "stopTask(): no task is running." : `stopTask(): no running task named "${name}".`);
        return null;
      }
      return this.finishTask(task);
    });
  }

  private async finishTask(task: TaskState): Promise<TaskEmissionsData> {
    await this.measure();
    const delta = subtractTotals(this.accumulator.snapshot(), task.startTotals);
    task.result = buildTaskRow(task.name, this.meta, delta, this.utilisationMeans());
    this.checkpoint();
    return task.result;
  }

}

function isCounter(source: PowerSource): boolean {
  return source.method === "rapl" || source.method === "nvidia-smi-energy-counter";
}

function createIntensityProvider(init: RunInit): IntensityProvider & { location?(): GeoLocation | null } {
  if (init.mode === "offline") return offlineIntensityProvider(init.settings);
  // Loaded only by online runs: geolocation and Electricity Maps bring the HTTP client along.
  const { createOnlineIntensityProvider } = require("../intensity/online") as typeof import("../intensity/online");
  return createOnlineIntensityProvider(init.settings, { knownLocation: init.knownLocation });
}

function buildOutputs(s: TrackerSettings, init: RunInit, runFacts: () => RunFacts, currentRow: () => EmissionsData): OutputSink[] {
  const sinks: OutputSink[] = [];
  if (s.outputMethods.includes("csv")) {
    const target = { outputDir: s.outputDir, outputFile: s.outputFile, onCsvWrite: s.onCsvWrite };
    let taskFile: string | undefined;
    sinks.push({
      name: "csv",
      out: async (total) => {
        taskFile = path.join(s.outputDir, `emissions_${s.experimentName}_${total.run_id}.csv`);
        await writeEmissionsRow(total, target);
      },
      taskOut: async (tasks) => {
        if (taskFile) await writeTaskRows([...tasks], taskFile);
      },
    });
  }
  if (s.outputMethods.includes("logger")) {
    const line = (row: EmissionsData) => `${s.loggerPreamble ? `[${s.loggerPreamble}] ` : ""}${JSON.stringify(row)}`;
    sinks.push({
      name: "logger",
      out: async (total) => log.info(line(total)),
      liveOut: async (total) => log.info(line(total)),
    });
  }
  if (s.outputMethods.includes("api") || s.emissionsEndpoint !== null) {
    const { createNetworkOutputs } = require("../api/outputs") as typeof import("../api/outputs");
    sinks.push(...createNetworkOutputs(s, { runId: init.runId, runFacts }));
  }
  if (s.prometheusPort !== null || s.outputMethods.includes("prometheus") || s.outputMethods.includes("otel")) {
    const { createFleetOutputs } = require("../output/fleet") as typeof import("../output/fleet");
    sinks.push(...createFleetOutputs(s, { runId: init.runId, packageVersion: init.packageVersion, currentRow }));
  }
  return sinks;
}
