/**
 * The public trackers. Their methods never throw into the user's computation once constructed:
 * failures are logged once and tracking degrades. Construction, on the other hand, throws on any
 * invalid option or configuration, because that is a mistake the user can fix right away.
 */
import { inspect } from "node:util";
import { packageVersion } from "../assets";
import { randomUuid } from "../fs/random-id";
import type { ResolvedConfig } from "../config";
import type { TrackerOptions, TrackerSettings } from "../config/options.generated";
import { ConfigError } from "../errors";
import { log, parseLevel, setLogLevel, type LogLevel } from "../log";
import type { DetectedHardware } from "../measure/types";
import { describeSource } from "../measure/describe-source";
import { detectKernel } from "../notebook/kernel";
import type { SummaryInput } from "../notebook/display";
import type { NotebookSession } from "../notebook/session";
import type { EmissionsData, TaskEmissionsData } from "../output/emissions-data";
import type { MeasurementSample, RunDescription } from "../output/sink";
import type { GeoLocation } from "../intensity/online";
import type { SamplerClient } from "./sampler-client";
import type { FinalEmissionsData } from "./worker-protocol";

type TrackerState = "idle" | "running" | "stopping" | "stopped";

/** What a tracker measures besides what its configuration says. */
export interface TrackingTarget {
  /** Another process whose tree to measure (process mode), e.g. a Jupyter kernel's. */
  pid?: number;
}

/** Where an earlier online run in this process found itself: geolocation is asked once per process. */
let knownLocation: GeoLocation | null = null;

/** The tracker running in this Jupyter kernel (started from a cell or from the toolbar), if any. */
export function kernelTracker(): EmissionsTracker | undefined {
  const tracker = notebookModule().currentKernelTracker();
  return tracker instanceof EmissionsTracker ? tracker : undefined;
}

export class EmissionsTracker {
  /** The resolved configuration, with where each value came from. */
  readonly config: ResolvedConfig;
  /** Id of the current (or last) run; a new one for each `start()` after a `stop()`. */
  runId: string | undefined;
  /** Total kg CO2eq of the last stopped run. */
  finalEmissions: number | undefined;
  /**
   * The last stopped run's full record: the row written to emissions.csv, plus `provenance`
   * (each device's power source, the intensity's source, edition, year and zone) and, with the
   * api output, `api_run_id`: the Code Carbon API's id for the run whose `run_id` the CSV has.
   */
  finalEmissionsData: FinalEmissionsData | undefined;

  private state: TrackerState = "idle";
  private client: SamplerClient | undefined;
  private stopping: Promise<number | undefined> | undefined;
  private description: RunDescription | undefined;
  private releaseLock: (() => void) | undefined;
  private readonly measurementListeners = new Set<(sample: MeasurementSample) => void>();
  private latestSample: MeasurementSample | undefined;
  /** Online trackers locate themselves; the offline subclass says otherwise. */
  protected readonly mode: "online" | "offline" = "online";
  /** Present only inside a Jupyter kernel. */
  private readonly notebook: NotebookSession | null;

  /** The root of the process tree measured in process mode. */
  private readonly trackedPid: number;

  /**
   * `target.pid` measures another process and its descendants (e.g. a notebook's kernel) instead
   * of this one: it implies `trackingMode: "process"`.
   */
  constructor(options: TrackerOptions = {}, target: TrackingTarget = {}) {
    if (target.pid !== undefined && !(Number.isInteger(target.pid) && target.pid > 0)) {
      throw new ConfigError(
        "ERR_CODECARBON_OPTION_INVALID",
        `target pid must be a positive integer, got ${String(target.pid)}`,
      );
    }
    this.trackedPid = target.pid ?? process.pid;
    const kernel = detectKernel();
    this.notebook = kernel === null ? null : new (notebookModule().NotebookSession)(kernel);
    const resolved = lazy
      .config()
      .resolveConfig(target.pid === undefined ? options : { ...options, trackingMode: "process" });
    this.config = this.notebook?.applyDefaults(resolved) ?? resolved;
    this.validate(this.config.settings);
    const level = parseLevel(this.config.settings.logLevel);
    if (level) setLogLevel(level);
  }

  protected get settings(): TrackerSettings {
    return this.config.settings;
  }

  /** Hook for subclasses: checks that need the resolved settings. */
  protected validate(settings: TrackerSettings): void {
    if (settings.countryIsoCode !== null) requireKnownCountry(settings.countryIsoCode);
  }

  /** Starts measuring in a background thread and returns the tracker, so calls chain. */
  start(): this {
    if (this.state === "running" || this.state === "stopping") {
      log.warning("Already started tracking: start() is ignored; call stop() first to begin a new run.");
      return this;
    }
    try {
      const runId = randomUuid();
      const notebook = this.notebook;
      notebook?.claim(this);
      if (!this.settings.allowMultipleRuns) {
        const lock = lazy.runLock().acquireSingleRunLock(runId);
        if ("heldBy" in lock) {
          log.warning(
            `Another codecarbon tracker is already running on this machine (pid ${lock.heldBy.pid}, run ${lock.heldBy.runId}): ` +
              "start() is ignored. Stop that tracker first, or set allow_multiple_runs = true to let several run at once.",
          );
          return this;
        }
        this.releaseLock = lock.release;
      }
      this.state = "running";
      this.runId = runId;
      this.finalEmissions = undefined;
      this.finalEmissionsData = undefined;
      this.stopping = undefined;
      this.description = undefined;
      this.deathRecovery = undefined;
      const client = new (lazy.sampler().SamplerClient)(
        {
          runId: this.runId,
          startHr: process.hrtime.bigint().toString(),
          settings: this.settings,
          packageVersion: packageVersion(),
          mode: this.mode,
          knownLocation,
          liveFeed: notebook?.liveFeedTarget(this.settings, runId) ?? null,
          trackedPid: this.trackedPid,
        },
        {
          ...(notebook ? { onLog: (level: LogLevel, message: string) => notebook.hold(level, message) } : {}),
          onDeath: (error: Error) => this.samplerDied(client, error),
        },
      );
      this.client = client;
      this.latestSample = undefined;
      // A notebook shows the running totals when the tracker is displayed: keep the latest.
      if (this.measurementListeners.size > 0 || notebook)
        client.watchMeasurements((sample) => this.emitMeasurement(sample));
      if (notebook) {
        // Said now, while the cell that started the tracker is still running: anything printed
        // later would land in another cell. The power sources come with the stop line.
        log.info(
          `Tracking started (run ${runId.slice(0, 8)}, every ${this.settings.measurePowerSecs} s${this.csvTarget()}).`,
        );
      }
      client.ready.then(
        (description) => this.began(description),
        (error: unknown) => this.couldNotBegin(client, error),
      );
    } catch (error) {
      log.error(`Tracking could not start: ${errorText(error)}`);
    }
    return this;
  }

  /**
   * Stops the run, writes its row and returns its total emissions in kg CO2eq. Calling it again
   * returns the same figure without writing another row.
   */
  stop(): Promise<number | undefined> {
    if (this.state === "stopped") return Promise.resolve(this.finalEmissions);
    if (this.state === "idle") {
      log.error("stop() was called before start(): there is nothing to stop.");
      return Promise.resolve(undefined);
    }
    this.stopping ??= this.finish();
    return this.stopping;
  }

  private began(description: RunDescription): void {
    this.description = description;
    if (description.geoLocation !== null) knownLocation = description.geoLocation;
    if (!this.notebook) log.info(`Tracking started: ${lazy.summary().describeSources(description, this.settings)}.`);
  }

  private couldNotBegin(client: SamplerClient, error: unknown): void {
    this.startFailed = client;
    log.error(`Tracking could not start: ${errorText(error)}`);
  }

  /**
   * The run of a `stop()` that came before the sampler thread began it: opened, measured and
   * stopped on this thread, with the same code, files and row as in the thread; a thread's
   * start-up is most of such a short run's cost.
   */
  private async stopHere(client: SamplerClient): Promise<FinalEmissionsData> {
    log.debug("stop() came before the sampler thread began the run: the run is measured on this thread.");
    const { fileCallsBlock, runFileCallsBlocking } = lazy.threadMode();
    const wasBlocking = fileCallsBlock();
    runFileCallsBlocking(); // the caller awaits this stop: its few file calls need no event-loop turns
    try {
      let run: import("./run").Run;
      try {
        run = await lazy.run().Run.open(client.init);
      } catch (error) {
        this.couldNotBegin(client, error);
        throw error;
      }
      this.began(run.describe());
      if (this.measurementListeners.size > 0 || this.notebook)
        run.onMeasurement((sample) => this.emitMeasurement(sample));
      return await run.stop();
    } finally {
      runFileCallsBlocking(wasBlocking);
    }
  }

  /** The client whose run never started (already said, with its reason, when it failed). */
  private startFailed: SamplerClient | undefined;

  /** The run's row written from its last checkpoint when the sampler thread died (see `samplerDied`). */
  private deathRecovery: Promise<EmissionsData | null> | undefined;

  /**
   * The sampling thread died mid-run: measurements have stopped, so the run is finished at once
   * from its last checkpoint (at most one interval old) and said so now, not at stop().
   */
  private samplerDied(client: SamplerClient, error: Error): void {
    if (this.client !== client || this.state !== "running") return;
    this.deathRecovery = this.recoverCheckpoint();
    log.error(
      `The sampling thread stopped (${errorText(error)}): no more measurements are taken. The run's last ` +
        "checkpoint is written to the CSV now; stop() ends the run.",
    );
  }

  private recoverCheckpoint(): Promise<EmissionsData | null> {
    const { recoverRun } = require("../output/checkpoint") as typeof import("../output/checkpoint");
    const csv = { ...this.settings, escapeFormulas: this.settings.csvEscapeFormulas };
    return recoverRun(this.settings.outputDir, this.runId ?? "", csv).catch(() => null);
  }

  private async finish(): Promise<number | undefined> {
    this.state = "stopping";
    const client = this.client;
    this.notebook?.releaseLogs();
    let row: FinalEmissionsData | undefined;
    let failure: unknown;
    try {
      if (client !== undefined)
        row = client.claimRun() ? await this.stopHere(client) : await client.request({ type: "stop" });
    } catch (error) {
      failure = error;
    }
    // The sampler has written the row and replied: its thread ends in the background, and stop()
    // does not wait the few milliseconds that takes. After a failure it must be gone before its
    // checkpoint is read.
    const terminated = client?.terminate().catch(() => undefined);
    if (failure !== undefined) {
      await terminated;
      // The sampler thread failed: write its last checkpoint (at most one interval old) here.
      row = (await (this.deathRecovery ?? this.recoverCheckpoint())) ?? undefined;
      // A run that never started was reported then, in one line: not again here.
      if (client !== undefined && this.startFailed === client && row === undefined) log.debug(errorText(failure));
      else
        log.error(
          `Stopping the tracker failed (${errorText(failure)}).` +
            (row
              ? " The run's last checkpoint was written to the CSV instead."
              : " No measurement of this run was saved."),
        );
    }
    this.client = undefined;
    this.releaseLock?.();
    this.releaseLock = undefined;
    this.state = "stopped";
    this.finalEmissionsData = row;
    this.finalEmissions = row?.emissions;
    this.notebook?.release(this);
    if (row) {
      const sources =
        this.notebook !== null && this.description
          ? `${lazy.summary().describeSources(this.description, this.settings)}; `
          : "";
      log.info(`Tracking stopped: ${sources}${lazy.summary().summariseRun(row, this.settings)}.`);
    }
    return this.finalEmissions;
  }

  /**
   * Calls `listener` after every measurement with the interval's power and the running totals,
   * for live displays (the CLI's status line). Returns a function that removes the listener.
   * Listeners run on this thread, so a blocked event loop delays them, never the measurements.
   */
  onMeasurement(listener: (sample: MeasurementSample) => void): () => void {
    const first = this.measurementListeners.size === 0;
    this.measurementListeners.add(listener);
    if (first && this.client) this.client.watchMeasurements((sample) => this.emitMeasurement(sample));
    return () => {
      this.measurementListeners.delete(listener);
    };
  }

  private emitMeasurement(sample: MeasurementSample): void {
    this.latestSample = sample;
    for (const listener of this.measurementListeners) listener(sample);
  }

  /** Whether a run is in progress (started and not yet stopped). */
  get isRunning(): boolean {
    return this.state === "running";
  }

  private csvTarget(): string {
    return lazy.registry().csvFile(this.settings) === null
      ? ""
      : ` → ${this.settings.outputDir === "." ? "" : `${this.settings.outputDir}/`}${this.settings.outputFile}`;
  }

  /** Writes a row with the totals so far and keeps tracking; returns the kg CO2eq so far. */
  async flush(): Promise<number | undefined> {
    if (this.state !== "running" || !this.client) {
      log.error("flush() needs a running tracker: call start() first.");
      return undefined;
    }
    try {
      this.notebook?.releaseLogs();
      const row = await this.client.request({ type: "flush" });
      return row.emissions;
    } catch (error) {
      log.error(`flush() failed: ${errorText(error)}`);
      return undefined;
    }
  }

  /** Starts a named task inside the run (starting the run if needed); returns the task's name. */
  async startTask(name: string = randomUuid()): Promise<string | undefined> {
    if (this.state !== "running") this.start();
    try {
      return await this.client?.request({ type: "start-task", name });
    } catch (error) {
      log.error(`startTask() failed: ${errorText(error)}`);
      return undefined;
    }
  }

  /** Stops the running task (or the one named) and returns its share of the run. */
  async stopTask(name?: string): Promise<TaskEmissionsData | undefined> {
    if (this.state !== "running" || !this.client) {
      log.error("stopTask() needs a running tracker.");
      return undefined;
    }
    try {
      const result = await this.client.request(
        name === undefined ? { type: "stop-task" } : { type: "stop-task", name },
      );
      return result ?? undefined;
    } catch (error) {
      log.error(`stopTask() failed: ${errorText(error)}`);
      return undefined;
    }
  }

  /** What the tracker measures on this machine (CPU, RAM, GPUs), as CodeCarbon reports it. */
  async getDetectedHardware(): Promise<DetectedHardware> {
    const description = this.description ?? (await this.client?.ready.catch(() => undefined));
    if (description) return description.hardware;
    // Loaded on demand: the hardware readers are only needed here and in the sampler thread,
    // and importing the package must stay cheap.
    const { planHardware } = require("../measure/hardware") as typeof import("../measure/hardware");
    const { readSystemFacts } = require("../measure/system-info") as typeof import("../measure/system-info");
    const plan = await planHardware(this.settings, readSystemFacts());
    return plan.hardware;
  }

  /** The run so far (or the last run) in figures and words, as a notebook shows it. */
  summary(): SummaryInput | undefined {
    const d = this.description;
    const common = {
      sources: d?.sources.map(describeSource) ?? [],
      intensityGPerKWh: d?.intensity.intensityGPerKWh ?? null,
      intensitySource: d?.intensity.source.label ?? null,
    };
    if (this.state !== "running" && this.finalEmissionsData) {
      return { ...common, figures: notebookDisplay().figuresFromRow(this.finalEmissionsData), state: "stopped" };
    }
    const sample = this.latestSample;
    if (this.state === "running" && sample) {
      return {
        ...common,
        intensityGPerKWh: sample.intensityGPerKWh ?? common.intensityGPerKWh,
        figures: {
          energyKWh: sample.energyKWh.total,
          emissionsKg: sample.emissionsKg,
          durationS: sample.elapsedS,
          powerW: sample.powerW,
          projectName: this.settings.projectName,
          runId: this.runId ?? "",
        },
        state: "running",
      };
    }
    return undefined;
  }

  /**
   * Shows the summary in the notebook (HTML through tslab's display API) or returns it as text
   * elsewhere. A tracker that is the last expression of a tslab cell displays itself this way.
   */
  display(): string {
    this.notebook?.releaseLogs();
    const { summaryHtml, summaryText, tslabDisplay } = notebookDisplay();
    const summary = this.summary();
    const text = summary ? summaryText(summary) : `codecarbon (${this.state}): no measurement yet`;
    const tslab = tslabDisplay();
    if (tslab && summary) {
      tslab.html(summaryHtml(summary));
      return "";
    }
    return text;
  }

  [inspect.custom](): string {
    if (this.notebook !== null) {
      // Right after start() (a first cell's last expression) there is nothing to show yet.
      if (this.summary() === undefined)
        return `EmissionsTracker (${this.state}${this.runId ? `, run ${this.runId.slice(0, 8)}` : ""})`;
      const shown = this.display();
      if (shown === "") return `EmissionsTracker (${this.state}${this.runId ? `, run ${this.runId.slice(0, 8)}` : ""})`;
      return shown;
    }
    return `EmissionsTracker { state: ${this.state}, runId: ${this.runId ?? "none"} }`;
  }

  /** `await using tracker = new EmissionsTracker().start()` stops it when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.state === "running" || this.state === "stopping") await this.stop();
  }
}

/**
 * The offline tracker never goes on the network for its location: the country must be given
 * (`countryIsoCode`, ISO 3166-1 alpha-3), or a cloud provider and region.
 */
export class OfflineEmissionsTracker extends EmissionsTracker {
  protected override readonly mode = "offline";
  protected override validate(settings: TrackerSettings): void {
    if (settings.countryIsoCode === null && settings.cloudProvider === null) {
      throw new ConfigError(
        "ERR_CODECARBON_COUNTRY_MISSING",
        "OfflineEmissionsTracker needs the countryIsoCode option (country_iso_code in a config file or CODECARBON_COUNTRY_ISO_CODE): " +
          'the 3-letter ISO code of the country where the computation runs, e.g. new OfflineEmissionsTracker({ countryIsoCode: "CAN" }). ' +
          "A cloudProvider and cloudRegion may be given instead.",
      );
    }
    super.validate(settings);
  }
}

/**
 * Modules a tracker needs only once it is constructed or started, loaded then: importing the
 * package loads a handful of small modules, starts nothing, and leaves the process's heap small
 * enough that V8's memory reducer never wakes up in a process that only imported it.
 */
const lazy = {
  config: () => require("../config") as typeof import("../config"),
  offline: () => require("../intensity/offline") as typeof import("../intensity/offline"),
  registry: () => require("../output/registry") as typeof import("../output/registry"),
  run: () => require("./run") as typeof import("./run"),
  runLock: () => require("./single-run-lock") as typeof import("./single-run-lock"),
  sampler: () => require("./sampler-client") as typeof import("./sampler-client"),
  summary: () => require("./summary") as typeof import("./summary"),
  threadMode: () => require("../fs/thread-mode") as typeof import("../fs/thread-mode"),
};

// Notebook-only modules, loaded on first use: importing the package stays cheap elsewhere.
function notebookDisplay(): typeof import("../notebook/display") {
  return require("../notebook/display") as typeof import("../notebook/display");
}

function notebookModule(): typeof import("../notebook/session") {
  return require("../notebook/session") as typeof import("../notebook/session");
}

function requireKnownCountry(code: string): void {
  if (lazy.offline().findCountry(code) === undefined) {
    throw new ConfigError(
      "ERR_CODECARBON_COUNTRY_UNKNOWN",
      `countryIsoCode "${code}" is not a known ISO 3166-1 alpha-3 country code. ` +
        'Use 3 letters such as "FRA", "USA" or "CAN"; listCountryCodes() from "codecarbon" returns every code the bundled data knows.',
    );
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
