/**
 * Sends the spool, in order, from the sampler thread. One drain at a time per process (and, via
 * a drain lock, per output folder); retryable failures (no answer, 408, 429, 5xx) back off
 * exponentially within a bounded budget and leave the rest for the next trigger or the next
 * run; a refusal for good (any other 4xx, or an item that cannot be sent at all) moves the item
 * to the rejected file and goes on. So does an item the server fails on while it accepts the
 * items behind it: one poisoned item must not hold back every later upload.
 *
 * Only items bound for the configured endpoint (and spooled under the same credentials) are
 * sent, and always to the configured URL with the configured key: a spool item cannot choose
 * where this tracker's API key goes. Items of another configuration stay in the spool for it.
 */
import * as os from "node:os";
import { log } from "../log";
import { backoffMs } from "../net/backoff";
import { HttpError, HttpStatusError, httpRequest, redactUrl } from "../net/http";
import { withFileLock } from "../fs/file-lock";
import { CodeCarbonApiClient } from "./client";
import { credentialsFingerprint, destinationOf, Spool, type SpoolItem } from "./spool";
import { ApiBodyError } from "./types";

export interface UploaderOptions {
  spool: Spool;
  /** Where this configuration sends: the API's base URL and emissions_endpoint (null when unused). */
  destinations: { api: string | null; http: string | null };
  apiKey: string | null;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv | undefined;
  /** Called when the API creates a run for one of ours. */
  onRunCreated?: (runKey: string, apiRunId: string) => void;
}

/** Worth trying again later: no answer at all, or an answer that says "not now". Anything else never will be. */
function retryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.status === 408 || error.status === 429 || error.status >= 500;
  return error instanceof HttpError && error.code === "ERR_CODECARBON_NETWORK";
}

/** The server answered, and failed on this item: if it accepts the next one, this one is poisoned. */
const serverFailed = (error: unknown) => error instanceof HttpStatusError && error.status !== 429;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Uploader {
  private draining: Promise<boolean> | null = null;
  private again = false;
  private outage: { since: number; reason: string } | null = null;
  private readonly clients = new Map<string, CodeCarbonApiClient>();

  constructor(private readonly options: UploaderOptions) {}

  /**
   * Where an item may go, or null when it belongs to another configuration: its destination
   * must be one this uploader is configured with, and its credentials fingerprint (when it has
   * one; older spools have none) that configuration's.
   */
  private routeOf(item: SpoolItem): string | null {
    const configured = item.kind === "http" ? this.options.destinations.http : this.options.destinations.api;
    if (configured === null) return null;
    const bound = item.kind === "http" ? item.url : item.endpoint;
    if (destinationOf(bound) !== destinationOf(configured)) return null;
    if (item.auth !== undefined && item.auth !== credentialsFingerprint(configured, this.options.apiKey)) return null;
    return configured;
  }

  private client(endpoint: string): CodeCarbonApiClient {
    let client = this.clients.get(endpoint);
    if (!client) {
      client = new CodeCarbonApiClient({
        endpoint,
        apiKey: this.options.apiKey,
        timeoutMs: this.options.timeoutMs,
        ...(this.options.env === undefined ? {} : { env: this.options.env }),
      });
      this.clients.set(endpoint, client);
    }
    return client;
  }

  /**
   * Sends what is pending until the spool is empty, an attempt fails `maxAttempts` times, or
   * `budgetMs` runs out. Resolves to whether the spool was emptied; never rejects.
   */
  drain(budgetMs: number, maxAttempts = 4): Promise<boolean> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    const run = async (): Promise<boolean> => {
      let emptied: boolean;
      do {
        this.again = false;
        emptied = await this.drainOnce(Date.now() + budgetMs, maxAttempts);
      } while (this.again && emptied);
      return emptied;
    };
    this.draining = run()
      .catch((error: unknown) => {
        log.once("error", `spool:${errorText(error)}`, `Sending the spooled points failed: ${errorText(error)}`);
        return false;
      })
      .finally(() => {
        this.draining = null;
      });
    return this.draining;
  }

  private async drainOnce(deadline: number, maxAttempts: number): Promise<boolean> {
    const spool = this.options.spool;
    if (!spool.hasPending()) return true;
    // One drainer per folder at a time, or two processes would post the same points.
    return withFileLock(`${spool.file}.drain`, () => this.sendAll(deadline, maxAttempts), {
      timeoutMs: Math.max(0, Math.min(2000, deadline - Date.now())),
    }).catch((error: unknown) => {
      log.debug(`Another process is sending the spool (${errorText(error)}); leaving it to them.`);
      return false;
    });
  }

  private async sendAll(deadline: number, maxAttempts: number): Promise<boolean> {
    const spool = this.options.spool;
    let sent = 0;
    const foreign = new Set<string>();
    for (;;) {
      const items = (await spool.read()).filter((item) => !foreign.has(item.id));
      const mine = items.filter((item) => {
        if (this.routeOf(item) !== null) return true;
        foreign.add(item.id);
        this.foreignItems(item);
        return false;
      });
      const item = mine[0];
      if (item === undefined) {
        this.recovered(sent);
        return true;
      }
      const outcome = await this.sendWithRetries(item, deadline, maxAttempts, mine.length);
      if (outcome === "sent") sent += 1;
      if (outcome !== "failed") continue;
      const error = this.lastError;
      // The server answered with an error every time: if it takes the next independent item,
      // the fault is this item's, and it is moved aside rather than block every later upload.
      const next = mine.find((other) => other.id !== item.id && independent(item, other));
      if (!serverFailed(error) || next === undefined) return false;
      if ((await this.sendWithRetries(next, deadline, 1, mine.length)) !== "sent") return false;
      sent += 1;
      const reason = `the server fails on this item (${errorText(error)}) while it accepts others`;
      log.error(`A ${describe(item)} could not be sent (${reason}); it was moved to ${spool.rejectedFile}.`);
      await spool.reject(item, reason);
    }
  }

  private lastError: unknown;

  /** "sent", "rejected" (refused for good, moved aside) or "failed" (retryable; attempts or time ran out). */
  private async sendWithRetries(
    item: SpoolItem,
    deadline: number,
    maxAttempts: number,
    pending: number,
  ): Promise<"sent" | "rejected" | "failed"> {
    const spool = this.options.spool;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.send(item);
        await spool.remove(new Set([item.id]));
        return "sent";
      } catch (error) {
        this.lastError = error;
        if (!retryable(error)) {
          const reason = errorText(error);
          log.once(
            "error",
            `spool-reject:${reason}`,
            `The server refused a ${describe(item)} for good (${reason}); it was moved to ${spool.rejectedFile}.` +
              hintFor(error, item),
          );
          await spool.reject(item, reason);
          return "rejected";
        }
        this.down(errorText(error), pending);
        const backoff = backoffMs(attempt);
        if (attempt >= maxAttempts || Date.now() + backoff > deadline) return "failed";
        await sleep(backoff);
      }
    }
  }

  private foreignItems(item: SpoolItem): void {
    log.once(
      "warning",
      "spool-foreign",
      `${this.options.spool.file} holds points bound for another endpoint or API key than this tracker's ` +
        `(first: a ${describe(item)}); they are left there, and never sent with this configuration's key.`,
    );
  }

  private async send(item: SpoolItem): Promise<void> {
    const spool = this.options.spool;
    const route = this.routeOf(item);
    if (route === null) throw new ApiBodyError("the item is bound for another endpoint");
    switch (item.kind) {
      case "run": {
        if ((await spool.apiRunId(item.runKey)) !== undefined) return;
        const apiRunId = await this.client(route).createRun(item.body);
        await spool.saveApiRunId(item.runKey, apiRunId);
        log.info(
          `CodeCarbon API: run ${item.runKey} was created as ${apiRunId} (experiment ${item.body.experiment_id}).`,
        );
        this.options.onRunCreated?.(item.runKey, apiRunId);
        return;
      }
      case "emission": {
        const apiRunId = await spool.apiRunId(item.runKey);
        if (apiRunId === undefined) throw new ApiBodyError(`run ${item.runKey} was never created in the API`);
        await this.client(route).addEmission({ ...item.body, run_id: apiRunId });
        return;
      }
      case "http": {
        const response = await httpRequest(
          { method: "POST", url: route, json: item.body, timeoutMs: this.options.timeoutMs },
          this.options.env === undefined ? {} : { env: this.options.env },
        );
        if (response.status < 200 || response.status >= 300) {
          throw new HttpStatusError(
            response.status,
            response.text,
            `POST ${redactUrl(route)} answered HTTP ${response.status}`,
          );
        }
        return;
      }
    }
  }

  private down(reason: string, pending: number): void {
    if (this.outage !== null) return;
    this.outage = { since: Date.now(), reason };
    log.warning(
      `Could not send emissions (${reason}); ${pending} point(s) kept in ${this.options.spool.file}, to be sent when the server answers again.`,
    );
  }

  private recovered(sent: number): void {
    if (this.outage === null) return;
    log.info(`The server answers again: ${sent} spooled point(s) sent.`);
    this.outage = null;
  }
}

/** What to fix when the Code Carbon API refuses the token (it answers 403, sometimes 401). */
function hintFor(error: unknown, item: SpoolItem): string {
  if (item.kind === "http" || !(error instanceof HttpStatusError) || (error.status !== 401 && error.status !== 403))
    return "";
  return (
    " Check api_key (CODECARBON_API_KEY): it must be a project token (cpt_…) with write access to the project " +
    "that owns experiment_id."
  );
}

/** Whether `other` may be sent before `item`: the API's points of one run must arrive in order, after the run. */
function independent(item: SpoolItem, other: SpoolItem): boolean {
  if (item.kind === "http" || other.kind === "http") return true;
  return item.runKey !== other.runKey;
}

function describe(item: SpoolItem): string {
  switch (item.kind) {
    case "run":
      return "run creation";
    case "emission":
      return "emission point";
    case "http":
      return `post to ${redactUrl(item.url)}`;
  }
}

/** The user CodeCarbon's HTTP output names in each record. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return "";
  }
}
