/**
 * The tracker's handle on its sampler worker: starts it, sends requests, matches replies.
 *
 * The worker is unreferenced while idle, so a script that forgets `stop()` can still exit (its
 * checkpoint is recovered by the next run), and referenced while a request is pending, so an
 * awaited `stop()` is never cut short by the process exiting.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { getLogLevel, log, type LogLevel } from "../log";
import type { MeasurementSample, RunDescription } from "../output/sink";
import { WAKE_INDEX } from "./pacer";
import type { RunInit } from "./run";
import {
  CLAIM_INDEX,
  RunClaim,
  type WorkerData,
  type WorkerMessage,
  type WorkerReplies,
  type WorkerRequest,
} from "./worker-protocol";

function emitLog(level: LogLevel, message: string): void {
  log[level === "critical" ? "error" : level](message);
}

const SAMPLER_YOUNG_GENERATION_MB = 2;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class SamplerClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  readonly ready: Promise<RunDescription>;
  private exited = false;
  private readonly measurementListeners: ((sample: MeasurementSample) => void)[] = [];
  private readonly onLog: (level: LogLevel, message: string) => void;

  private terminating = false;
  /** Set when this thread took the run (`claimRun`): the worker's exit is then no failure. */
  private claimedHere = false;
  /** Whether a request other than "watch" was posted: the sampler must then answer it. */
  private asked = false;
  /** The request word and the claim word (see `WorkerData.sharedWords`). */
  private readonly sharedWords = new Int32Array(new SharedArrayBuffer(8));

  /**
   * `onLog` receives the sampler's log lines (a notebook holds them back); by default they are
   * logged here. `onDeath` is called at once when the worker dies after it was ready (an uncaught
   * error, an exit), not at the next request: the tracker says so while the run is still going.
   */
  constructor(
    readonly init: RunInit,
    options: {
      onLog?: (level: LogLevel, message: string) => void;
      onDeath?: (error: Error) => void;
    } = {},
  ) {
    this.onLog = options.onLog ?? emitLog;
    const data: WorkerData = {
      init,
      logLevel: getLogLevel(),
      sharedWords: this.sharedWords.buffer as SharedArrayBuffer,
    };
    this.worker = new Worker(path.join(__dirname, "sampler-worker.js"), {
      workerData: data,
      // The sampler allocates a few KB a measurement; V8's default young generation grows to
      // several MB during its start-up and keeps them resident.
      resourceLimits: { maxYoungGenerationSizeMb: SAMPLER_YOUNG_GENERATION_MB },
    });
    let readyOnce = false;
    const died = (error: Error) => {
      if (readyOnce && !this.terminating) options.onDeath?.(error);
    };
    this.worker.ref();
    let markReady!: (d: RunDescription) => void;
    let markFailed!: (e: Error) => void;
    this.ready = new Promise<RunDescription>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    // Nobody may await `ready`; its failure is reported through the log, not as an unhandled rejection.
    this.ready.catch(() => undefined);

    this.worker.on("message", (message: WorkerMessage) => {
      switch (message.type) {
        case "ready":
          readyOnce = true;
          this.updateRef();
          markReady(message.description);
          break;
        case "failed":
          this.fail(new Error(message.message));
          markFailed(this.failure!);
          break;
        case "reply": {
          const waiter = this.pending.get(message.id);
          if (!waiter) break;
          this.pending.delete(message.id);
          if (message.ok) waiter.resolve(message.value);
          else waiter.reject(new Error(message.message));
          this.updateRef();
          break;
        }
        case "log":
          this.onLog(message.level, message.message);
          break;
        case "measurement":
          for (const listener of this.measurementListeners) {
            try {
              listener(message.sample);
            } catch (error) {
              log.once("error", "measurement-listener", `A measurement listener threw: ${String(error)}`);
            }
          }
          break;
      }
    });
    this.worker.on("error", (error) => {
      if (this.claimedHere) return; // ended unused: nothing of the run was there to fail
      this.fail(error);
      markFailed(error);
    });
    this.worker.on("exit", (code) => {
      this.exited = true;
      if (this.claimedHere) return;
      if (code !== 0) this.fail(new Error(`the sampler worker exited with code ${code}`));
      died(this.failure ?? new Error("the sampler worker exited"));
      markFailed(this.failure ?? new Error("the sampler worker exited"));
      for (const waiter of this.pending.values()) waiter.reject(this.failure ?? new Error("the sampler worker exited"));
      this.pending.clear();
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
  }

  private updateRef(): void {
    if (this.exited) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  request<R extends DistributiveOmit<WorkerRequest, "id">>(request: R): Promise<WorkerReplies[R["type"]]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.exited) return Promise.reject(new Error("the sampler worker has exited"));
    const id = this.nextId++;
    return new Promise<WorkerReplies[R["type"]]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (request.type !== "watch") this.asked = true;
      this.worker.ref();
      this.worker.postMessage({ ...request, id });
      Atomics.add(this.sharedWords, WAKE_INDEX, 1);
      Atomics.notify(this.sharedWords, WAKE_INDEX);
    });
  }

  /** Asks the worker to relay every measurement from now on (off by default: it costs a message each). */
  watchMeasurements(listener: (sample: MeasurementSample) => void): void {
    this.measurementListeners.push(listener);
    if (this.measurementListeners.length === 1) this.request({ type: "watch" }).catch(() => undefined);
  }

  /**
   * Takes the run for this thread if the sampler has not begun it (and was asked nothing it would
   * have to answer): true when taken, and the worker is then ended. The caller opens and stops
   * the run itself (`Run.open(client.init)`), which costs far less than waiting for a new thread
   * to boot when `stop()` follows `start()` at once.
   */
  claimRun(): boolean {
    if (this.asked || this.failure !== undefined || this.exited) return false;
    const previous = Atomics.compareExchange(this.sharedWords, CLAIM_INDEX, RunClaim.open, RunClaim.byTracker);
    if (previous !== RunClaim.open) return false;
    this.claimedHere = true;
    for (const waiter of this.pending.values()) waiter.resolve(null); // a "watch": nothing to relay
    this.pending.clear();
    void this.terminate().catch(() => undefined);
    return true;
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    if (!this.exited) await this.worker.terminate();
  }
}
