/**
 * The sampler's pacer: real timers while the thread is awake, one blocking wait between
 * deadlines while it sleeps, woken early by a notification; and, through the public tracker,
 * a sleeping sampler still answers at once, lets the process exit and never runs the event loop
 * between measurements.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { Pacer, WAKE_INDEX } from "../../src/tracker/pacer";
import { RunClock } from "../../src/tracker/clock";
import { OfflineEmissionsTracker } from "../../src";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("awake, the pacer's timeouts and intervals fire like Node's and can be cleared", async () => {
  const pacer = new Pacer(null);
  const fired: string[] = [];
  pacer.setTimeout(() => fired.push("b"), 30);
  pacer.setTimeout(() => fired.push("a"), 5);
  const cleared = pacer.setTimeout(() => fired.push("never"), 10);
  pacer.clearTimeout(cleared);
  let ticks = 0;
  const interval = pacer.setInterval(() => (ticks += 1), 10);
  // However loaded the machine, the interval keeps firing (bounded wait, not a timing check).
  for (let waited = 0; (ticks < 3 || fired.length < 2) && waited < 10_000; waited += 10) await sleep(10);
  pacer.clearInterval(interval);
  const ticksAtClear = ticks;
  await sleep(40);
  assert.deepEqual(fired, ["a", "b"]);
  assert.ok(ticksAtClear >= 3, `interval fired ${ticksAtClear} times`);
  assert.equal(ticks, ticksAtClear, "a cleared interval never fires again");
});

test("without a wake word the pacer never sleeps: sleepBetweenDeadlines returns at once", async () => {
  const pacer = new Pacer(null);
  let woken = 0;
  await pacer.sleepBetweenDeadlines({
    done: () => false,
    woken: () => (woken += 1),
    settled: async () => undefined,
  });
  assert.equal(woken, 0);
});

test("asleep, deadlines fire on time, a notification wakes it early and done() ends the sleep", async () => {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const pacer = new Pacer(word);
  const start = performance.now();
  const firedAt: number[] = [];
  const interval = pacer.setInterval(() => firedAt.push(performance.now() - start), 20);
  let wokenCalls = 0;
  let stop = false;
  // Another thread notifies after ~70 ms; the sleeping loop must take it before the next deadline.
  const notifier = new Worker(
    `const { workerData } = require("node:worker_threads");
     const w = new Int32Array(workerData);
     setTimeout(() => { Atomics.add(w, ${WAKE_INDEX}, 1); Atomics.notify(w, ${WAKE_INDEX}); }, 70);`,
    { eval: true, workerData: word.buffer },
  );
  let wokenAt = -1;
  let immediateRan = false;
  setImmediate(() => (immediateRan = true));
  await pacer.sleepBetweenDeadlines({
    done: () => stop,
    woken: () => {
      wokenCalls += 1;
      if (wokenCalls === 2) {
        wokenAt = performance.now() - start;
        stop = true;
      }
    },
    settled: async () => undefined,
  });
  // The whole sleep ran without one event-loop turn: the immediate queued before it is still waiting.
  assert.equal(immediateRan, false, "the event loop ran while the pacer slept");
  pacer.clearInterval(interval);
  await notifier.terminate();
  // Woken by the notification (sent 70 ms after the notifier started), not by a deadline alone.
  assert.ok(wokenAt >= 60, `woken at ${wokenAt.toFixed(1)} ms`);
  assert.ok(firedAt.length >= 1, `deadlines fired ${firedAt.length} times while asleep`);
  for (const [i, at] of firedAt.entries()) assert.ok(at >= (i + 1) * 20 - 1, `deadline ${i} fired early at ${at}`);
});

test("a clock driven by a sleeping pacer measures at its slots and chains its intervals", async () => {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const pacer = new Pacer(word);
  const clock = new RunClock(pacer.now(), 0.025, pacer);
  const intervals: number[] = [];
  clock.start(() => intervals.push(clock.endInterval().intervalS));
  await pacer.sleepBetweenDeadlines({
    done: () => intervals.length >= 4,
    woken: () => undefined,
    settled: async () => undefined,
  });
  clock.stop();
  assert.equal(intervals.length, 4);
  for (const s of intervals) assert.ok(s > 0.015 && s < 5, `interval ${s} s`);
});

test("work that waits on real I/O still completes while the pacer sleeps", async () => {
  const word = new Int32Array(new SharedArrayBuffer(4));
  const pacer = new Pacer(word);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-pacer-"));
  let queue: Promise<unknown> = Promise.resolve();
  let written = 0;
  const interval = pacer.setInterval(() => {
    queue = queue.then(async () => {
      await fs.promises.writeFile(path.join(dir, `f${written}`), "x");
      written += 1;
    });
  }, 10);
  await pacer.sleepBetweenDeadlines({
    done: () => written >= 3,
    woken: () => undefined,
    settled: () => queue,
  });
  pacer.clearInterval(interval);
  await queue;
  assert.equal(fs.readdirSync(dir).length >= 3, true);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a tracker whose outputs are files answers flush and tasks at once while its sampler sleeps", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-pacer-"));
  const tracker = new OfflineEmissionsTracker({
    countryIsoCode: "CAN",
    measurePowerSecs: 60,
    outputDir: dir,
    logLevel: "error",
    allowMultipleRuns: true,
  });
  tracker.start();
  await sleep(300); // past the first measurement: the sampler now sleeps until the next slot, 60 s away
  const before = performance.now();
  await tracker.startTask("t");
  await tracker.stopTask("t");
  const flushed = await tracker.flush();
  const waited = performance.now() - before;
  await tracker.stop();
  assert.ok(flushed !== undefined && flushed !== null);
  assert.ok(waited < 10_000, `requests took ${waited.toFixed(0)} ms against a 60 s slot`);
  const csv = fs.readFileSync(path.join(dir, "emissions.csv"), "utf8").trim().split("\n");
  assert.equal(csv.length, 3, "a header, the flush's row and the stop's row");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a process that starts a tracker and never stops it exits while the sampler sleeps", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-pacer-"));
  const entry = path.join(__dirname, "..", "..", "src", "index.js");
  const script = `
    const { OfflineEmissionsTracker } = require(${JSON.stringify(entry)});
    new OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 1, outputDir: ${JSON.stringify(dir)}, logLevel: "error" }).start();
    setTimeout(() => console.log("done"), 1500);`;
  const started = Date.now();
  const result = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000 });
  const tookMs = Date.now() - started;
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "done");
  assert.ok(tookMs < 15_000, `exit took ${tookMs} ms`);
  // Its checkpoint stays behind for the next run to recover.
  assert.equal(fs.readdirSync(path.join(dir, ".codecarbon", "runs")).filter((f) => f.endsWith(".json")).length, 1);
  fs.rmSync(dir, { recursive: true, force: true });
});
