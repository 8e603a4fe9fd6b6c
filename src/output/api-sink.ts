/**
 * The network outputs: the Code Carbon API (output_methods contains api) and emissions_endpoint
 * (CodeCarbon's generic HTTP output). They run in the sampler thread and only ever append to the
 * spool on the measurement path; sending happens in the background (live reports) or within a
 * bounded budget (flush and stop), so neither the user's code nor the measurements wait on the
 * network, and a point is never lost to an outage.
 */
import { timeoutMsFromSeconds } from "../units";
import { credentialsFingerprint, destinationOf, Spool, type NewSpoolItem } from "../api/spool";
import type { EmissionCreate, RunCreate } from "../api/types";
import { Uploader, currentUser } from "../api/uploader";
import type { TrackerSettings } from "../config/options.generated";
import { log } from "../log";
import type { EmissionsData } from "./emissions-data";
import type { OutputSink } from "./sink";

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

/** The API's run record is made of the CSV row's machine columns. */
export function runFactsFromRow(row: EmissionsData): RunFacts {
  const onCloud = row.on_cloud === "Y";
  return {
    os: row.os,
    runtimeVersion: row.python_version,
    packageVersion: row.codecarbon_version,
    cpuCount: row.cpu_count,
    cpuModel: row.cpu_model,
    gpuCount: row.gpu_count,
    gpuModel: row.gpu_model,
    latitude: row.latitude,
    longitude: row.longitude,
    cloudRegion: onCloud ? row.cloud_region : null,
    cloudProvider: onCloud ? row.cloud_provider : null,
    ramTotalSizeGiB: row.ram_total_size,
    trackingMode: row.tracking_mode,
  };
}

export interface NetworkOutputContext {
  /** The tracker's run id (a local UUID), written in the CSV. */
  runId: string;
  /** Read when the run record is first sent: the location may be known only after start. */
  runFacts(): RunFacts;
  /** Which of the two network outputs the settings ask for. */
  api: boolean;
  env?: NodeJS.ProcessEnv;
  /** Called with the API's id for this run once the API has created it. */
  onApiRunId?: (apiRunId: string) => void;
}

/** Local time with its UTC offset, as the API's timestamps are written. */
export function localIsoTimestamp(date: Date = new Date()): string {
  const p = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}` +
    `.${String(date.getMilliseconds()).padStart(3, "0")}${offset >= 0 ? "+" : "-"}${p(offset / 60)}:${p(offset % 60)}`
  );
}

const round1 = (value: number | null) => (value === null ? 0 : Math.round(value * 10) / 10);

export function runCreateBody(experimentId: string, facts: RunFacts, now = new Date()): RunCreate {
  return {
    timestamp: localIsoTimestamp(now),
    experiment_id: experimentId,
    os: facts.os,
    python_version: facts.runtimeVersion,
    codecarbon_version: facts.packageVersion,
    cpu_count: facts.cpuCount,
    cpu_model: facts.cpuModel,
    gpu_count: facts.gpuCount,
    gpu_model: facts.gpuModel,
    longitude: round1(facts.longitude),
    latitude: round1(facts.latitude),
    region: facts.cloudRegion,
    provider: facts.cloudProvider,
    ram_total_size: facts.ramTotalSizeGiB,
    tracking_mode: facts.trackingMode,
  };
}

/**
 * Turns the run's deltas into API points. The API takes whole seconds > 0 only, so each point
 * carries the whole seconds the run has reached since the last point, and the fraction left
 * over stays for the next one: the durations sent add up to the run's duration (the last point
 * rounds, so within 1 s), where truncating each point would lose up to a second per point.
 * Energy, emissions and time-weighted means use the real durations.
 */
export class DeltaCarry {
  private pending: EmissionsData[] = [];
  /** Seconds of the run carried so far (sent or pending), and whole seconds already sent. */
  private runS = 0;
  private sentS = 0;

  add(delta: EmissionsData): void {
    this.pending.push(delta);
    this.runS += delta.duration;
  }

  /** The pending deltas merged into one point, or null while they do not make a whole second (`final`: any time). */
  take(final: boolean): Omit<EmissionCreate, "run_id"> | null {
    const rows = this.pending;
    const durationS = rows.reduce((sum, r) => sum + r.duration, 0);
    if (rows.length === 0 || durationS <= 0) return null;
    // The epsilon absorbs float sums such as 30 × 0.5 = 14.999999999999998.
    const whole = final ? Math.max(1, Math.round(this.runS) - this.sentS) : Math.floor(this.runS + 1e-6) - this.sentS;
    if (whole < 1) return null;
    this.pending = [];
    this.sentS += whole;
    const sum = (pick: (r: EmissionsData) => number) => rows.reduce((total, r) => total + pick(r), 0);
    const timeMean = (pick: (r: EmissionsData) => number) => sum((r) => pick(r) * r.duration) / durationS;
    const emissions = sum((r) => r.emissions);
    return {
      timestamp: localIsoTimestamp(),
      duration: whole,
      emissions_sum: emissions,
      emissions_rate: emissions / durationS,
      cpu_power: timeMean((r) => r.cpu_power),
      gpu_power: timeMean((r) => r.gpu_power),
      ram_power: timeMean((r) => r.ram_power),
      cpu_energy: sum((r) => r.cpu_energy),
      gpu_energy: sum((r) => r.gpu_energy),
      ram_energy: sum((r) => r.ram_energy),
      energy_consumed: sum((r) => r.energy_consumed),
      cpu_utilization_percent: clampPercent(timeMean((r) => r.cpu_utilization_percent)),
      gpu_utilization_percent: clampPercent(timeMean((r) => r.gpu_utilization_percent)),
      ram_utilization_percent: clampPercent(timeMean((r) => r.ram_utilization_percent)),
      wue: rows[rows.length - 1]!.wue,
    };
  }
}

const clampPercent = (value: number) => Math.min(100, Math.max(0, value));

export function createNetworkOutputs(settings: TrackerSettings, context: NetworkOutputContext): OutputSink[] {
  const spool = new Spool(settings.outputDir);
  const timeoutMs = timeoutMsFromSeconds(settings.apiTimeoutSecs);
  const destinations = {
    api: context.api ? settings.apiEndpoint : null,
    http: settings.emissionsEndpoint,
  };
  const uploader = new Uploader({
    spool,
    destinations,
    apiKey: settings.apiKey,
    timeoutMs,
    env: context.env,
    onRunCreated: (runKey, apiRunId) => {
      if (runKey === context.runId) context.onApiRunId?.(apiRunId);
    },
  });
  // Whatever an earlier run left behind goes first, in the background.
  void uploader.drain(4 * timeoutMs);
  /** How long flush() and stop() may wait for the network before leaving points in the spool. */
  const finalBudgetMs = 2 * timeoutMs;
  const sinks: OutputSink[] = [];

  if (context.api) {
    // Written without credentials, with a fingerprint of the key instead (see spool.ts).
    const endpoint = destinationOf(settings.apiEndpoint);
    const auth = credentialsFingerprint(settings.apiEndpoint, settings.apiKey);
    const carry = new DeltaCarry();
    let runQueued = false;
    const enqueue = async (delta: EmissionsData | null, final: boolean): Promise<void> => {
      if (delta !== null) carry.add(delta);
      const point = carry.take(final);
      if (point === null && !final)
        log.once(
          "debug",
          "api-short-delta",
          "A report that does not complete a whole second is carried into the next upload (the API counts whole seconds).",
        );
      const items: NewSpoolItem[] = [];
      // The run is created at the first report even without a point yet (as CodeCarbon creates it
      // at start), so its API id is known before the stop writes the provenance line.
      if (!runQueued) {
        items.push({
          kind: "run",
          runKey: context.runId,
          endpoint,
          auth,
          body: runCreateBody(settings.experimentId, context.runFacts()),
        });
        runQueued = true;
      }
      if (point !== null) items.push({ kind: "emission", runKey: context.runId, endpoint, auth, body: point });
      if (items.length > 0) await spool.append(items);
    };
    sinks.push({
      name: "api",
      liveOut: async (_total, delta) => {
        await enqueue(delta, false);
        void uploader.drain(4 * timeoutMs, 3);
      },
      out: async (_total, delta) => {
        await enqueue(delta, false);
        await uploader.drain(finalBudgetMs, 2);
      },
      exit: async () => {
        // The last fraction of a second is sent too, rounded up to the API's 1 s minimum.
        await enqueue(null, true);
        await uploader.drain(finalBudgetMs, 2);
      },
    });
  }

  if (settings.emissionsEndpoint !== null) {
    const url = destinationOf(settings.emissionsEndpoint);
    const auth = credentialsFingerprint(settings.emissionsEndpoint, settings.apiKey);
    sinks.push({
      name: "emissions_endpoint",
      out: async (total) => {
        await spool.append([{ kind: "http", url, auth, body: { ...total, user: currentUser() } }]);
        await uploader.drain(finalBudgetMs, 2);
      },
    });
  }
  return sinks;
}
