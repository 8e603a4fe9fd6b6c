/**
 * One tracking run in the sampler worker: opens readers and outputs, measures at every slot of its
 * clock (clock.ts, measurement.ts), hands each measurement to the sinks (output/registry.ts), reports,
 * flushes and stops, off the user's thread: a cell that blocks the event loop is measured on time.
 */
import type { TrackerSettings } from "../config/options.generated";
import type { GeoLocation } from "../intensity/online";
import { log } from "../log";
import { createIntensityProvider, type LocatingProvider } from "../intensity/create-provider";
import { resolveFromSettings, type LocatedResolution } from "../intensity/provider";
import { planHardware, type HardwarePlan } from "../measure/hardware";
import { readSystemFacts } from "../measure/system-info";
import type { LiveFeedTarget } from "../notebook/live-feed-sink";
import type { EmissionsData, TaskEmissionsData } from "../output/emissions-data";
import { buildProvenance, type RunProvenance } from "../output/provenance";
import { createSinks, prepareOutputFolder, reportsToApi } from "../output/registry";
import type { Measurement, MeasurementSample, RunDescription } from "../output/sink";
import { SinkSet } from "../output/sink-set";
import { emptyTotals, subtractTotals, type RunTotals } from "./accumulator";
import { RunClock, secondsBetween, systemTime, type TimeSource } from "./clock";
import type { Pacer } from "./pacer";
import { MeasurementBuilder } from "./measurement";
import { buildRunMeta, runLocation } from "./rows";
import { TaskBook } from "./tasks";

type NotebookRun = typeof import("./notebook-run"); // loaded only in a notebook

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
  /** The root of the process tree measured in process mode (this process unless another was given). */
  trackedPid: number;
}

export class Run {
  private readonly clock: RunClock;
  private readonly tasks: TaskBook;
  /** In a notebook: the full series, for the cells' task rows. */
  private readonly cells: ReturnType<NotebookRun["notebookParts"]>["cells"] | null;
  private readonly sinks: SinkSet;
  private latest: Measurement | undefined;
  private lastReportTotals: RunTotals = emptyTotals();
  private queue: Promise<unknown> = Promise.resolve();
  private measurementsSinceReport = 0;
  private stopped = false;
  /** The Code Carbon API's id for this run once it made it; null until then (undefined: no api output). */
  private apiRunId: string | null | undefined;
  private readonly listeners: ((sample: MeasurementSample) => void)[] = [];

  private constructor(
    private readonly init: RunInit,
    private readonly plan: HardwarePlan,
    private readonly intensity: LocatingProvider,
    private readonly builder: MeasurementBuilder,
    time: TimeSource,
  ) {
    this.clock = new RunClock(BigInt(init.startHr), init.settings.measurePowerSecs, time);
    this.tasks = new TaskBook(builder, () => this.measure());
    const nb = init.liveFeed && (require("./notebook-run") as NotebookRun).notebookParts(init.liveFeed, this.tasks);
    this.cells = nb ? nb.cells : null;
    const initialRow = builder.row(emptyTotals());
    this.apiRunId = reportsToApi(init.settings) ? null : undefined;
    const latestRow = () => this.latest?.row ?? initialRow;
    const context = { ...init, latestRow, onApiRunId: (id: string) => (this.apiRunId = id) };
    this.sinks = new SinkSet(createSinks(context, nb ? [nb.output] : []));
  }

  static async open(init: RunInit, time: TimeSource = systemTime): Promise<Run> {
    const s = init.settings;
    const recovery = prepareOutputFolder(s);
    const facts = readSystemFacts();
    const intensity = createIntensityProvider(init.mode, s, init.knownLocation);
    const [plan] = await Promise.all([planHardware(s, facts, process.env, init.trackedPid), recovery]);
    // Until the online lookup answers, the CSV location is what the settings say.
    const location = intensity.current() ?? resolveFromSettings(s);
    const meta = buildRunMeta(s, { runId: init.runId, packageVersion: init.packageVersion, location }, facts, plan);
    await Promise.all(plan.readers.map((r) => r.start()));
    const baselineLagS = secondsBetween(BigInt(init.startHr), process.hrtime.bigint());
    const run = new Run(init, plan, intensity, new MeasurementBuilder(plan, meta, baselineLagS), time);
    const ticks = run.builder.subSamples ? () => run.stopped || run.builder.subSample(run.clock.endTick()) : undefined;
    // A measurement that fails is said at once (once), never dropped in silence.
    const failed = (error: unknown) => log.once("error", "measure", `A measurement failed: ${String(error)}`);
    run.clock.start(() => void run.enqueue(() => run.measure()).catch(failed), ticks);
    // The first measurement is taken at once (as CodeCarbon does): it covers the start-up.
    await run.enqueue(() => run.measure());
    // Energy measured while the location is looked up stays unpriced, and is priced by the
    // first measurement after the answer; the run reports ready once it has one.
    run.adoptLocation(await intensity.ready);
    return run;
  }

  private adoptLocation(answer: LocatedResolution): void {
    this.builder.meta.location = runLocation(answer);
    this.sinks.described(this.describe());
  }

  describe(): RunDescription {
    const geoLocation = this.intensity.location?.() ?? null;
    return { hardware: this.plan.hardware, sources: this.plan.sources, intensity: this.intensityNow(), geoLocation };
  }

  private intensityNow(): LocatedResolution {
    return this.intensity.current() ?? resolveFromSettings(this.init.settings);
  }

  /** With outputs and intensity that work only when called, sleeps between measurements until stopped (tracker/pacer.ts). */
  sleepUntilStopped(pacer: Pacer, takeRequests: () => void): Promise<void> {
    if (!this.sinks.quiet || this.intensity.quiet !== true) return Promise.resolve();
    return pacer.sleepBetweenDeadlines({ done: () => this.stopped, woken: takeRequests, settled: () => this.queue });
  }

  /** Calls `listener` after every measurement (the tracker relays them to the user's thread on request). */
  onMeasurement(listener: (sample: MeasurementSample) => void): void {
    this.listeners.push(listener);
  }

  /** Runs `task` after every task queued before it: measurements never overlap. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async measure(): Promise<EmissionsData> {
    const measurement = await this.builder.take(
      this.clock.endInterval(),
      this.intensity.current()?.intensityGPerKWh ?? null,
    );
    this.latest = measurement;
    this.cells?.record(measurement);
    this.sinks.measured(measurement);
    for (const listener of this.listeners) listener(measurement.sample);
    this.measurementsSinceReport += 1;
    const every = this.init.settings.apiCallInterval;
    if (every > 0 && this.measurementsSinceReport >= every && !this.stopped) {
      this.measurementsSinceReport = 0;
      await this.report("live");
    }
    return measurement.row;
  }

  private async report(kind: "live" | "out"): Promise<void> {
    const totals = this.builder.accumulator.snapshot();
    const delta = subtractTotals(totals, this.lastReportTotals);
    this.lastReportTotals = totals;
    await this.sinks.report(kind, this.builder.row(totals), this.builder.row(delta));
  }

  flush(): Promise<EmissionsData> {
    return this.enqueue(async () => {
      const row = await this.measure();
      await this.report("out");
      await this.sinks.tasks(this.allTasks());
      return row;
    });
  }

  stop(): Promise<EmissionsData & { provenance: RunProvenance; api_run_id?: string | null }> {
    this.stopped = true;
    this.clock.stop();
    return this.enqueue(async () => {
      // Never write a final row with energy still unpriced: wait for the (bounded) lookup.
      this.adoptLocation(await this.intensity.ready);
      await this.tasks.finishAll();
      this.sinks.tasksChanged(this.tasks.finished());
      const row = await this.measure();
      this.intensity.close();
      await this.report("out");
      await this.sinks.tasks(this.allTasks());
      const { intensityGPerKWh: g, source } = this.intensityNow();
      const provenance = buildProvenance(this.init.runId, this.plan.sources, g, source, new Date(), this.apiRunId);
      await this.sinks.exit(provenance);
      return { ...row, provenance, ...(this.apiRunId === undefined ? {} : { api_run_id: this.apiRunId }) };
    });
  }

  /** The run's tasks and, in a notebook, one task per cell execution. */
  private allTasks(): TaskEmissionsData[] {
    return [...this.tasks.finished(), ...(this.cells?.taskRows(this.stopped) ?? [])];
  }

  startTask(name: string): Promise<string> {
    return this.enqueue(() => this.tasks.start(name));
  }

  stopTask(name?: string): Promise<TaskEmissionsData | null> {
    return this.enqueue(async () => {
      const result = await this.tasks.stop(name);
      if (result !== null) this.sinks.tasksChanged(this.tasks.finished());
      return result;
    });
  }
}
