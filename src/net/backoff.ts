/**
 * One retry policy for every network output (the Code Carbon API, the Pushgateway,
 * OpenTelemetry): 1 s after the first failure, doubling up to a minute.
 */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

/** The wait after the `failures`-th failure in a row (1, 2, …). */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * For outputs whose every report carries the run's totals: a report due during the backoff is
 * skipped rather than queued (the next one says everything), except a forced one (flush, stop).
 */
export class RetryGate {
  private failures = 0;
  private retryAtMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  allows(force: boolean): boolean {
    return force || this.now() >= this.retryAtMs;
  }

  /** Records a success; true when it ends a run of failures (worth saying so). */
  succeeded(): boolean {
    const recovered = this.failures > 0;
    this.failures = 0;
    this.retryAtMs = 0;
    return recovered;
  }

  failed(): void {
    this.failures += 1;
    this.retryAtMs = this.now() + backoffMs(this.failures);
  }
}
