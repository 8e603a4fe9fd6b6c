/**
 * The run's clock with an injected time source: slots, skipped slots, sub-samples and the
 * chaining of intervals, without waiting.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RunClock, type TimeSource } from "../../src/tracker/clock";

/** A time source whose clock only moves when the test says so; timers fire as it passes them. */
class ManualTime implements TimeSource {
  nowNs = 0n;
  private timers: { id: number; dueNs: bigint; callback: () => void; everyMs: number | null }[] = [];
  private nextId = 1;
  readonly delays: number[] = [];

  now(): bigint {
    return this.nowNs;
  }
  wallNow(): number {
    return Number(this.nowNs / 1_000_000n);
  }
  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    return this.add(callback, ms, null);
  }
  setInterval(callback: () => void, ms: number): unknown {
    return this.add(callback, ms, ms);
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  clearInterval(handle: unknown): void {
    this.clearTimeout(handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Moves the clock to `ms` (absolute), firing due timers in order. */
  advanceTo(ms: number): void {
    const target = BigInt(Math.round(ms * 1e6));
    for (;;) {
      const due = this.timers.filter((t) => t.dueNs <= target).sort((a, b) => (a.dueNs < b.dueNs ? -1 : 1))[0];
      if (due === undefined) break;
      this.nowNs = due.dueNs;
      if (due.everyMs === null) this.timers = this.timers.filter((t) => t !== due);
      else due.dueNs += BigInt(due.everyMs * 1e6);
      due.callback();
    }
    this.nowNs = target;
  }
  private add(callback: () => void, ms: number, everyMs: number | null): number {
    const id = this.nextId++;
    this.timers.push({ id, dueNs: this.nowNs + BigInt(Math.round(ms * 1e6)), callback, everyMs });
    return id;
  }
}

test("measurements aim at start + k × period, so a late timer does not shift the next slot", () => {
  const time = new ManualTime();
  const clock = new RunClock(0n, 1, time);
  const slots: number[] = [];
  clock.start(() => slots.push(Number(time.nowNs / 1_000_000n)));
  time.advanceTo(3500);
  assert.deepEqual(slots, [1000, 2000, 3000]);
  // A slot taken 300 ms late (a busy thread) aims the next one at 5000 ms, not 5300 ms.
  time.nowNs = 4_300_000_000n;
  assert.equal(Math.round(clock.delayToNextSlotMs()), 700);
  clock.stop();
  assert.equal(time.pending, 0, "stop() leaves no timer behind");
});

test("a timer that fired after several slots skips the missed ones instead of measuring twice in a row", () => {
  const time = new ManualTime();
  const clock = new RunClock(0n, 1, time);
  time.nowNs = 3_200_000_000n;
  assert.equal(Math.round(clock.delayToNextSlotMs()), 800, "next slot is 4 s");
  // Fired a hair (0.5 ms) before its slot: the 1 ms slack aims at the slot after it.
  time.nowNs = 3_999_500_000n;
  assert.equal(Math.round(clock.delayToNextSlotMs() * 10) / 10, 1000.5);
});

test("intervals are chained from the start, so they add up to the run's duration exactly", () => {
  const time = new ManualTime();
  const clock = new RunClock(1_000_000_000n, 2, time);
  const ends = [1.3, 3.0, 5.123456789, 7.5];
  let sum = 0;
  for (const end of ends) {
    time.nowNs = BigInt(Math.round(end * 1e9));
    const interval = clock.endInterval();
    sum += interval.intervalS;
    assert.ok(Math.abs(interval.elapsedS - (end - 1)) < 1e-9, `elapsed ${interval.elapsedS}`);
  }
  assert.ok(Math.abs(sum - 6.5) < 1e-9, `sum ${sum}`);
});

test("sub-samples run once a second only when measurements are more than 2 s apart, and restart at each measurement", () => {
  const time = new ManualTime();
  const slow = new RunClock(0n, 5, time);
  let ticks = 0;
  slow.start(
    () => undefined,
    () => ticks++,
  );
  time.advanceTo(4500);
  assert.equal(ticks, 4);
  time.nowNs = 4_600_000_000n;
  slow.endInterval();
  time.nowNs = 4_900_000_000n;
  assert.ok(Math.abs(slow.endTick() - 0.3) < 1e-9, "a tick window starts at the latest measurement");
  slow.stop();

  const fast = new RunClock(0n, 2, time);
  let fastTicks = 0;
  fast.start(
    () => undefined,
    () => fastTicks++,
  );
  time.advanceTo(10_000);
  assert.equal(fastTicks, 0, "at 2 s the measurements follow load changes themselves");
  fast.stop();
});
