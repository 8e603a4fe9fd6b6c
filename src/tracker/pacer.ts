/**
 * The sampler thread's timers. Most runs write only files between measurements (the CSV's
 * checkpoint, a notebook's live feed); their sampler can sleep from one measurement to the next
 * in a single blocking wait (`Atomics.wait`), woken early when the tracker sends a request. While
 * it sleeps, no event-loop turn, no timer list and no V8 background task (the memory reducer's
 * full collections a few seconds after start) runs on the thread: at one measurement a second,
 * that is most of what a sampler costs. Runs that keep a server, a socket or a timer of their own
 * (fleet outputs, the API, online intensity) never sleep this way: their timers stay real ones.
 *
 * The pacer is one `TimeSource` for both: it keeps its own deadlines and arms one real timer for
 * the earliest while the thread is awake, and none while it sleeps.
 */
import { systemTime, type TimeSource } from "./clock";

interface Deadline {
  atMs: number;
  callback: () => void;
  everyMs: number | null;
}

const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The shared word the tracker bumps (and notifies) after each request it sends. */
export const WAKE_INDEX = 0;

/** What the sleeping loop asks of its run (see `sleepBetweenDeadlines`). */
export interface SleepHooks {
  done(): boolean;
  woken(): void;
  settled(): Promise<unknown>;
}

export class Pacer implements TimeSource {
  private readonly deadlines = new Map<number, Deadline>();
  private nextHandle = 1;
  private armed: NodeJS.Timeout | undefined;
  private sleeping = false;

  /** `wake`: the word the tracker notifies; null where there is none (the pacer then never sleeps). */
  constructor(private readonly wake: Int32Array | null) {}

  readonly now = systemTime.now;
  readonly wallNow = systemTime.wallNow;

  setTimeout(callback: () => void, ms: number): unknown {
    return this.add({ atMs: monotonicMs() + Math.max(0, ms), callback, everyMs: null });
  }

  setInterval(callback: () => void, ms: number): unknown {
    return this.add({ atMs: monotonicMs() + Math.max(1, ms), callback, everyMs: Math.max(1, ms) });
  }

  clearTimeout(handle: unknown): void {
    if (this.deadlines.delete(handle as number)) this.arm();
  }

  clearInterval(handle: unknown): void {
    this.clearTimeout(handle);
  }

  /**
   * Sleeps between deadlines until `done()` says the run is over. Each time the thread wakes
   * (a deadline, or the tracker's notification) it calls `woken()` (which takes the requests
   * waiting on the port), runs what is due, and awaits `settled()` (the run's work queue) before
   * sleeping again; work that waits on real I/O goes through the event loop as usual.
   */
  async sleepBetweenDeadlines({ done, woken, settled }: SleepHooks): Promise<void> {
    const wake = this.wake;
    if (wake === null || this.sleeping) return;
    this.sleeping = true;
    this.disarm();
    try {
      let notified = true;
      while (!done()) {
        // Read before taking the requests: one sent after this makes the wait return at once.
        const seen = Atomics.load(wake, WAKE_INDEX);
        if (notified) woken();
        this.runDue();
        await settled();
        if (done()) break;
        const waitMs = this.msToEarliest();
        notified =
          waitMs > 0
            ? Atomics.wait(wake, WAKE_INDEX, seen, waitMs) !== "timed-out"
            : Atomics.load(wake, WAKE_INDEX) !== seen;
      }
    } finally {
      this.sleeping = false;
      this.arm();
    }
  }

  private add(deadline: Deadline): number {
    const handle = this.nextHandle++;
    this.deadlines.set(handle, deadline);
    this.arm();
    return handle;
  }

  private msToEarliest(): number {
    let earliest = Infinity;
    for (const deadline of this.deadlines.values()) earliest = Math.min(earliest, deadline.atMs);
    return earliest === Infinity ? Infinity : Math.max(0, earliest - monotonicMs());
  }

  private runDue(): void {
    const nowMs = monotonicMs();
    for (const [handle, deadline] of [...this.deadlines]) {
      if (deadline.atMs > nowMs || !this.deadlines.has(handle)) continue;
      if (deadline.everyMs === null) this.deadlines.delete(handle);
      // An interval that fell behind skips what it missed, as Node's timers do.
      else deadline.atMs += Math.max(1, Math.ceil((nowMs - deadline.atMs) / deadline.everyMs)) * deadline.everyMs;
      deadline.callback();
    }
  }

  /** While awake: one real timer for the earliest deadline. */
  private arm(): void {
    if (this.sleeping) return;
    this.disarm();
    const waitMs = this.msToEarliest();
    if (waitMs === Infinity) return;
    this.armed = setTimeout(() => {
      this.armed = undefined;
      this.runDue();
      this.arm();
    }, waitMs);
  }

  private disarm(): void {
    if (this.armed !== undefined) clearTimeout(this.armed);
    this.armed = undefined;
  }
}
