/**
 * The run's clock: when to measure and how long each interval was. Measurements aim at
 * start + k × period, so timing errors never accumulate, and every interval is chained from the
 * previous one, so the intervals add up to the run's duration exactly. Load models sub-sample
 * once a second between measurements (CodeCarbon's 1 Hz). Time and timers are injected, so the
 * arithmetic is tested without waiting.
 */

export interface TimeSource {
  /** Monotonic nanoseconds (`process.hrtime.bigint()`): shared by every thread of the process. */
  now(): bigint;
  /** Wall-clock milliseconds since the epoch (`Date.now()`), read at the same moment as `now()` for timestamps. */
  wallNow(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemTime: TimeSource = {
  now: () => process.hrtime.bigint(),
  wallNow: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export const secondsBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e9;

/** A measurement's place in time. */
export interface Interval {
  /** When it ended, on the monotonic clock and on the wall clock (ms since the epoch). */
  atHr: bigint;
  wallMs: number;
  /** Seconds since the previous measurement (or the start). */
  intervalS: number;
  /** Seconds since the start. */
  elapsedS: number;
}

/** Sub-samples happen only when measurements are further apart than this: closer, the measurements do it. */
const TICK_ABOVE_MS = 2000;
const TICK_MS = 1000;

export class RunClock {
  private lastMeasureHr: bigint;
  private lastTickHr: bigint;
  private slotTimer: unknown;
  private tickTimer: unknown;
  private running = false;

  constructor(
    readonly startHr: bigint,
    private readonly periodS: number,
    private readonly time: TimeSource = systemTime,
  ) {
    this.lastMeasureHr = startHr;
    this.lastTickHr = startHr;
  }

  now(): bigint {
    return this.time.now();
  }

  /**
   * Milliseconds from now to the next slot. A timer that fired late skips the slots it missed
   * rather than measuring twice in a row; the 1 ms slack keeps a timer that fires a hair before
   * its slot from scheduling the same slot again.
   */
  delayToNextSlotMs(): number {
    const periodMs = this.periodS * 1000;
    const elapsedMs = secondsBetween(this.startHr, this.time.now()) * 1000;
    const nextSlotMs = (Math.floor((elapsedMs + 1) / periodMs) + 1) * periodMs;
    return nextSlotMs - elapsedMs;
  }

  /** Calls `onSlot` at every slot, and `onTick` every second when the period is longer than 2 s. */
  start(onSlot: () => void, onTick?: () => void): void {
    this.running = true;
    const next = () => {
      this.slotTimer = this.time.setTimeout(() => {
        onSlot();
        if (this.running) next();
      }, this.delayToNextSlotMs());
    };
    next();
    if (onTick !== undefined && this.periodS * 1000 > TICK_ABOVE_MS) {
      this.tickTimer = this.time.setInterval(onTick, TICK_MS);
    }
  }

  stop(): void {
    this.running = false;
    if (this.slotTimer !== undefined) this.time.clearTimeout(this.slotTimer);
    if (this.tickTimer !== undefined) this.time.clearInterval(this.tickTimer);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Ends the current interval now: the next one starts here, and so does the next sub-sample window. */
  endInterval(): Interval {
    const atHr = this.time.now();
    const wallMs = this.time.wallNow();
    const intervalS = secondsBetween(this.lastMeasureHr, atHr);
    this.lastMeasureHr = atHr;
    this.lastTickHr = atHr;
    return { atHr, wallMs, intervalS, elapsedS: secondsBetween(this.startHr, atHr) };
  }

  /** Seconds since the previous sub-sample or measurement; starts the next window. */
  endTick(): number {
    const atHr = this.time.now();
    const intervalS = secondsBetween(this.lastTickHr, atHr);
    this.lastTickHr = atHr;
    return intervalS;
  }
}
