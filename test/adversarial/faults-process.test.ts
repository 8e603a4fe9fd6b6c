/**
 * Faults mid-run, in real child processes: the CSV turned into a folder, a full disk (a small
 * tmpfs), a CSV lock held by a paused process past the wait, a writer paused while its lock is
 * broken, kill -9 at random moments of runs with large checkpoints, a sampler thread that dies,
 * and output folders that cannot be used. No row may be lost or written twice, and every case
 * must end (each test has a timeout; a hang fails it).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkpointDir, recoverOrphanedRuns } from "../../src/output/checkpoint";
import { readEmissionsCsv, writeEmissionsRow } from "../../src/output/csv-file";
import { makeRow } from "../output/fixture-rows";
import { captureLog } from "../helpers/log-capture";
import { makeSandbox, startChild, waitFor, type Sandbox } from "../helpers/sandbox";
import { Tally } from "./tally";
import { seededRandom } from "../helpers/seeded-random";

const tally = new Tally("faults mid-run");
after(() => console.log(tally.line()));

const COMPILED_CSV_FILE = path.resolve(__dirname, "..", "..", "src", "output", "csv-file.js");
const COMPILED_FIXTURES = path.resolve(__dirname, "..", "output", "fixture-rows.js");
const COMPILED_FILE_LOCK = path.resolve(__dirname, "..", "..", "src", "fs", "file-lock.js");
const TRACKER_OPTIONS = `{ countryIsoCode: "FRA", forceCpuPower: 20, forceRamPower: 5, measurePowerSecs: 0.1, logLevel: "warning" }`;

const rowsOf = async (file: string) => {
  try {
    return await readEmissionsCsv(file);
  } catch {
    return [];
  }
};

/** Counts the rows of `runId` in `csv`: one is right, none is a lost row, more are duplicates. */
async function expectOnce(csv: string, runId: string, what: string): Promise<void> {
  const count = (await rowsOf(csv)).filter((row) => row["run_id"] === runId).length;
  if (count === 0) tally.fail("rowsLost", what);
  if (count > 1) tally.fail("rowsDuplicated", `${what}: ${count} rows`);
}

/** Runs one case in a sandbox; its own failures (not earlier cases') fail it. */
async function withSandbox(body: (box: Sandbox) => Promise<void>): Promise<void> {
  const box = makeSandbox();
  const log = captureLog();
  const failuresBefore = tally.failures();
  const problemsBefore = tally.problems.length;
  try {
    await body(box);
    assert.equal(tally.failures(), failuresBefore, tally.problems.slice(problemsBefore).join("\n"));
  } finally {
    log.restore();
    box.cleanup();
  }
}

/** A tracker child that starts, runs `middle` (source), stops, and prints its run id. */
function trackerChild(box: Sandbox, outputDir: string, middle: string) {
  return startChild(
    `
    const fs = require("node:fs");
    const path = require("node:path");
    const { OfflineEmissionsTracker } = require(CODECARBON);
    (async () => {
      const outputDir = ${JSON.stringify(outputDir)};
      const tracker = new OfflineEmissionsTracker({ ...${TRACKER_OPTIONS}, outputDir });
      tracker.start();
      await tracker.startTask("warm-up");
      await tracker.stopTask();
      console.log("RUN " + tracker.runId);
      ${middle}
      await tracker.stop();
      console.log("STOPPED");
    })();
    `,
    box,
  );
}

const runIdOf = (stdout: string) => /RUN (\S+)/.exec(stdout)?.[1] ?? "";

test("the CSV turned into a folder: the run is kept and written once the folder is gone", { timeout: 60_000 }, () =>
  withSandbox(async (box) => {
    tally.inputs += 1;
    const out = path.join(box.cwd, "out");
    const csv = path.join(out, "emissions.csv");
    const { done } = trackerChild(box, out, `fs.mkdirSync(path.join(outputDir, "emissions.csv"));`);
    const result = await done;
    assert.match(result.stdout, /STOPPED/);
    assert.match(result.stderr, /could not be written to .*emissions\.csv.*kept in/s);
    fs.rmdirSync(csv);
    await recoverOrphanedRuns(out);
    await recoverOrphanedRuns(out);
    await expectOnce(csv, runIdOf(result.stdout), "CSV replaced by a folder");
  }),
);

test("a full disk at stop: the checkpoint is kept and written once there is room", { timeout: 60_000 }, () =>
  withSandbox(async (box) => {
    const mountPoint = path.join(box.dir, "small-disk");
    fs.mkdirSync(mountPoint);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint]);
    if (mounted.status !== 0) {
      console.log(`skipped the disk-full case: cannot mount a tmpfs here (${mounted.stderr.toString().trim()})`);
      return;
    }
    try {
      tally.inputs += 1;
      const filler = path.join(mountPoint, "filler");
      const { done } = trackerChild(
        box,
        mountPoint,
        `
        // Fill the disk to the last byte: the final CSV write gets ENOSPC.
        const fd = fs.openSync(${JSON.stringify(filler)}, "w");
        try { for (;;) fs.writeSync(fd, Buffer.alloc(4096)); } catch {}
        fs.closeSync(fd);
        `,
      );
      const result = await done;
      assert.match(result.stdout, /STOPPED/);
      assert.match(result.stderr, /kept in/);
      fs.rmSync(filler);
      await recoverOrphanedRuns(mountPoint);
      await expectOnce(path.join(mountPoint, "emissions.csv"), runIdOf(result.stdout), "disk full");
    } finally {
      spawnSync("umount", [mountPoint]);
    }
  }),
);

test("the CSV lock held by a paused process past the wait: the row waits in the checkpoint", { timeout: 90_000 }, () =>
  withSandbox(async (box) => {
    tally.inputs += 1;
    const out = path.join(box.cwd, "out");
    fs.mkdirSync(out);
    const csv = path.join(out, "emissions.csv");
    // A process takes the CSV lock, then stops itself (SIGSTOP): a frozen network drive.
    const holder = startChild(
      `
      const { tryLockFileSync } = require(${JSON.stringify(COMPILED_FILE_LOCK)});
      const attempt = tryLockFileSync(${JSON.stringify(`${csv}.lock`)}, { timeoutMs: 0 });
      console.log("held" in attempt ? "HELD" : "NOT HELD");
      process.kill(process.pid, "SIGSTOP");
      setInterval(() => {}, 1000);
      `,
      box,
    );
    await waitFor(() => (fs.existsSync(`${csv}.lock`) ? true : undefined), "the lock holder");
    try {
      const result = await trackerChild(box, out, "").done;
      assert.match(result.stderr, /kept in/);
      holder.child.kill("SIGKILL");
      await holder.done;
      // The next start in the folder writes it: here, its recovery step.
      await recoverOrphanedRuns(out);
      await expectOnce(csv, runIdOf(result.stdout), "lock held past the wait");
    } finally {
      holder.child.kill("SIGKILL");
    }
  }),
);

test("a writer paused while its lock is broken never erases newer rows", { timeout: 60_000 }, () =>
  withSandbox(async (box) => {
    const out = path.join(box.cwd, "out");
    fs.mkdirSync(out);
    const csv = path.join(out, "emissions.csv");
    const CHILD_ROWS = 40;
    const writer = startChild(
      `
      const { writeEmissionsRow } = require(${JSON.stringify(COMPILED_CSV_FILE)});
      const { makeRow } = require(${JSON.stringify(COMPILED_FIXTURES)});
      (async () => {
        for (let i = 0; i < ${CHILD_ROWS}; i++)
          await writeEmissionsRow(makeRow({ run_id: "child-" + i }), { outputDir: ${JSON.stringify(out)}, outputFile: "emissions.csv", onCsvWrite: "append" });
        console.log("DONE");
      })();
      `,
      box,
    );
    const random = seededRandom(7);
    const parentIds: string[] = [];
    let exited = false;
    void writer.done.then(() => (exited = true));
    for (let pause = 0; pause < 8 && !exited; pause++) {
      await new Promise((resolve) => setTimeout(resolve, 20 + random() * 120));
      if (exited) break;
      writer.child.kill("SIGSTOP");
      // A waiter that judged the paused holder's lock stale breaks it and writes its own row.
      fs.rmSync(`${csv}.lock`, { force: true });
      const id = `parent-${pause}`;
      await writeEmissionsRow(makeRow({ run_id: id }), {
        outputDir: out,
        outputFile: "emissions.csv",
        onCsvWrite: "append",
      });
      parentIds.push(id);
      writer.child.kill("SIGCONT");
    }
    const result = await writer.done;
    assert.match(result.stdout, /DONE/, result.stderr);
    const ids = [...Array.from({ length: CHILD_ROWS }, (_, i) => `child-${i}`), ...parentIds];
    tally.inputs += ids.length;
    for (const id of ids) await expectOnce(csv, id, `row ${id}`);
    if (tally.failures() > 0) console.log(result.stderr);
  }),
);

test("kill -9 at random moments of runs with large checkpoints: each run recovered once", { timeout: 120_000 }, () =>
  withSandbox(async (box) => {
    const out = path.join(box.cwd, "out");
    const random = seededRandom(99);
    const KILLS = 10;
    const killed: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const { child, done } = startChild(
        `
        const { OfflineEmissionsTracker } = require(CODECARBON);
        (async () => {
          const tracker = new OfflineEmissionsTracker({ ...${TRACKER_OPTIONS}, measurePowerSecs: 0.02, outputDir: ${JSON.stringify(out)} });
          tracker.start();
          await tracker.startTask("first");
          await tracker.stopTask();
          console.log("RUN " + tracker.runId);
          // Many tasks with long names: the checkpoint grows well past a page.
          for (let i = 0; ; i++) {
            await tracker.startTask("task-" + i + "-" + "x".repeat(200));
            await tracker.stopTask();
          }
        })();
        `,
        box,
      );
      let stdout = "";
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      await waitFor(() => (/RUN \S+/.test(stdout) ? true : undefined), "a started run");
      await new Promise((resolve) => setTimeout(resolve, 150 + random() * 900));
      child.kill("SIGKILL");
      await done;
      killed.push(runIdOf(stdout));
    }
    tally.inputs += KILLS;
    const runs = checkpointDir(out);
    const sizes = fs
      .readdirSync(runs)
      .filter((n) => n.endsWith(".json"))
      .map((n) => fs.statSync(path.join(runs, n)).size);
    assert.ok(
      sizes.some((size) => size > 4096),
      `large checkpoints (${sizes.join(", ")} bytes)`,
    );
    await recoverOrphanedRuns(out);
    await recoverOrphanedRuns(out);
    for (const name of fs.readdirSync(runs))
      if (name.endsWith(".corrupt")) tally.fail("rowsLost", `torn checkpoint ${name}`);
    for (const runId of killed) await expectOnce(path.join(out, "emissions.csv"), runId, `killed run ${runId}`);
  }),
);

test("a sampler thread that dies is said at once and its run written then, once", { timeout: 60_000 }, () =>
  withSandbox(async (box) => {
    tally.inputs += 1;
    const out = path.join(box.cwd, "out");
    const csv = path.join(out, "emissions.csv");
    const result = await trackerChild(
      box,
      out,
      `
      // The worker dies (as on an uncaught error in it); the tracker is not told by a request.
      await tracker.client.worker.terminate();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const rows = fs.existsSync(${JSON.stringify(csv)}) ? fs.readFileSync(${JSON.stringify(csv)}, "utf8").trim().split("\\n").length - 1 : 0;
      console.log("ROWS BEFORE STOP " + rows);
      `,
    ).done;
    assert.match(result.stderr, /sampling thread stopped/);
    assert.match(result.stdout, /ROWS BEFORE STOP 1/);
    assert.match(result.stdout, /STOPPED/);
    await expectOnce(csv, runIdOf(result.stdout), "sampler death");
  }),
);

test(
  "output folders that cannot be used: one clear line, no stack trace, and stop() returns",
  { timeout: 90_000 },
  () =>
    withSandbox(async (box) => {
      const aFile = path.join(box.cwd, "a-file");
      fs.writeFileSync(aFile, "");
      const folders = ["/proc/self/codecarbon-test/deeper", "/proc/codecarbon", path.join(aFile, "sub"), aFile];
      for (const folder of folders) {
        tally.inputs += 1;
        const result = await startChild(
          `
        const { OfflineEmissionsTracker } = require(CODECARBON);
        (async () => {
          const tracker = new OfflineEmissionsTracker({ ...${TRACKER_OPTIONS}, outputDir: ${JSON.stringify(folder)} });
          tracker.start();
          await tracker.stop();
          console.log("RETURNED");
        })();
        `,
          box,
        ).done;
        if (!/RETURNED/.test(result.stdout)) tally.fail("hangs", `${folder}: ${result.stderr}`);
        assert.match(result.stderr, /cannot use output_dir/, result.stderr);
        assert.doesNotMatch(result.stderr, /^\s+at /m, `no stack trace for ${folder}:\n${result.stderr}`);
      }
    }),
);
