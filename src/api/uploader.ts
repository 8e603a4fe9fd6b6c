/**
 * Sends the spool, in order, from the sampler thread. One drain at a time per process (and, via
 * a drain lock, per output folder); retryable failures (no answer, 408, 429, 5xx) back off
 * exponentially within a bounded budget and leave the rest for the next trigger or the next
 * run; a refusal for good (any other 4xx) moves the item to the rejected file and goes on.
 */
import * as os from "node:os";
import { log } from "../log";
import { backoffMs } from "../net/backoff";
import { HttpError, HttpStatusError, httpRequest, redactUrl } from "../net/http";
import { withFileLock } from "../fs/file-lock";
import { CodeCarbonApiClient } from "./client";
import { Spool, type SpoolItem } from "./spool";
import { ApiBodyError } from "./types";

export interface UploaderOptions {
  spool: Spool;
  apiKey: string | null;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv | undefined;
  /** Called when the API creates a run for one of ours. */
  onRunCreated?: (runKey: string, apiRunId: string) => void;
}

function retryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.status === 408 || error.status === 429 || error.status >= 500;
  return error instanceof HttpError || !(error instanceof ApiBodyError);
}

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
    for (;;) {
      const items = await spool.read();
      const item = items[0];
      if (item === undefined) {
        this.recovered(sent);
        return true;
      }
      let attempt = 0;
      for (;;) {
        try {
          await this.send(item);
          await spool.remove(new Set([item.id]));
          sent += 1;
          break;
        } catch (error) {
          if (!retryable(error)) {
            const reason = errorText(error);
            log.once(
              "error",
              `spool-reject:${reason}`,
              `The server refused a ${describe(item)} for good (${reason}); it was moved to ${spool.rejectedFile}.${hintFor(error, item)}`,
            );
            await spool.reject(item, reason);
            break;
          }
          attempt += 1;
          this.down(errorText(error), items.length);
          const backoff = backoffMs(attempt);
          if (attempt >= maxAttempts || Date.now() + backoff > deadline) return false;
          await sleep(backoff);
        }
      }
    }
  }

  private async send(item: SpoolItem): Promise<void> {
    const spool = this.options.spool;
    switch (item.kind) {
      case "run": {
        if ((await spool.apiRunId(item.runKey)) !== undefined) return;
        const apiRunId = await this.client(item.endpoint).createRun(item.body);
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
        await this.client(item.endpoint).addEmission({ ...item.body, run_id: apiRunId });
        return;
      }
      case "http": {
        const response = await httpRequest(
          { method: "POST", url: item.url, json: item.body, timeoutMs: this.options.timeoutMs },
          this.options.env === undefined ? {} : { env: this.options.env },
        );
        if (response.status < 200 || response.status >= 300) {
          throw new HttpStatusError(
            response.status,
            response.text,
            `POST ${redactUrl(item.url)} answered HTTP ${response.status}`,
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
