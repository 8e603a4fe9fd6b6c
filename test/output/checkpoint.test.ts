import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import {
  checkpointDir,
  recoverOrphanedRuns,
  removeCheckpoint,
  writeCheckpointSync,
  type RunCheckpoint,
} from "../../src/output/checkpoint";
import { currentProcessIdentity } from "../../src/fs/process-identity";
import { readEmissionsCsv, writeEmissionsRow } from "../../src/output/csv-file";
import { captureLog, compiledModule, makeRow, makeTaskRow, makeTempDir, runNode, startNode } from "./fixture-rows";

const RUN_ID = "33333333-3333-4333-8333-333333333333";

function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", ""]);
  assert.ok(result.pid !== undefined && result.pid > 0);
  return result.pid;
}

function makeCheckpoint(outputDir: string, overrides: Partial<RunCheckpoint> = {}): RunCheckpoint {
  const runId = overrides.runId ?? RUN_ID;
  return {
    version: 1,
    runId,
    ...currentProcessIdentity(),
    target: { outputDir, outputFile: "emissions.csv", onCsvWrite: "append" },
    row: makeRow({ run_id: runId, project_name: "checkpointed", duration: 7.5 }),
    taskRows: [],
    taskFile: null,
    updatedAt: new Date().toISOString(),
    ...overrides,
  };
}

const runsDir = (outputDir: string) => checkpointDir(outputDir);
const listRuns = (outputDir: string) =>
  fs.existsSync(runsDir(outputDir)) ? fs.readdirSync(runsDir(outputDir)).sort() : [];
const csvRows = (outputDir: string) => readEmissionsCsv(path.join(outputDir, "emissions.csv"));

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = makeTempDir();
  const log = captureLog();
  try {
    await body(tmp.dir);
  } finally {
    log.restore();
    tmp.cleanup();
  }
}

describe("checkpoint files", () => {
  test("checkpointDir is <outputDir>/.codecarbon/runs", () => {
    assert.equal(checkpointDir(path.join("some", "dir")), path.join("some", "dir", ".codecarbon", "runs"));
  });

  test("writeCheckpointSync creates the folder and replaces <run_id>.json whole; removeCheckpoint deletes it", () =>
    inTempDir(async (dir) => {
      const first = makeCheckpoint(dir);
      writeCheckpointSync(first);
      const second = makeCheckpoint(dir, { row: makeRow({ run_id: RUN_ID, duration: 99 }) });
      writeCheckpointSync(second);
      assert.deepEqual(listRuns(dir), [`${RUN_ID}.json`]);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runsDir(dir), `${RUN_ID}.json`), "utf8")), second);

      await removeCheckpoint(dir, RUN_ID);
      assert.deepEqual(listRuns(dir), []);
      await removeCheckpoint(dir, RUN_ID); // a missing checkpoint is fine
    }));

  test("a run id that is not a safe file name stays inside the folder", () =>
    inTempDir(async (dir) => {
      writeCheckpointSync(makeCheckpoint(dir, { runId: "../../escape" }));
      assert.deepEqual(listRuns(dir), ["______escape.json"]);
      await removeCheckpoint(dir, "../../escape");
      assert.deepEqual(listRuns(dir), []);
    }));

  test("currentProcessIdentity names this process; on Linux with its /proc start time", () => {
    const identity = currentProcessIdentity();
    assert.equal(identity.pid, process.pid);
    assert.equal(identity.hostname, os.hostname());
    if (process.platform === "linux") {
      const stat = fs.readFileSync(`/proc/${process.pid}/stat`, "utf8");
      assert.equal(identity.processStartTime, stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    }
  });
});

describe("recoverOrphanedRuns", () => {
  test("a folder without checkpoints recovers nothing", () =>
    inTempDir(async (dir) => {
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.equal(fs.existsSync(path.join(dir, "emissions.csv")), false);
    }));

  test("a SIGKILLed process's run is written exactly once, even with three recoveries racing", () =>
    inTempDir(async (dir) => {
      const checkpoint = makeCheckpoint(dir);
      const script = `
        const { writeCheckpointSync } = require(${JSON.stringify(compiledModule("checkpoint"))});
        const { currentProcessIdentity } = require(${JSON.stringify(path.resolve(__dirname, "..", "..", "src", "fs", "process-identity.js"))});
        const checkpoint = JSON.parse(process.argv[1]);
        writeCheckpointSync({ ...checkpoint, ...currentProcessIdentity() });
        process.stdout.write("ready\\n");
        setInterval(() => {}, 1000);
      `;
      const child = startNode(script, [JSON.stringify(checkpoint)]);
      await new Promise<void>((resolve, reject) => {
        child.child.stdout.on("data", () => child.stdout().includes("ready") && resolve());
        void child.done.then((o) => reject(new Error(`child ended early: ${o.stderr}`)));
      });
      // The child is alive: its run is left alone.
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.deepEqual(listRuns(dir), [`${RUN_ID}.json`]);

      child.child.kill("SIGKILL");
      const ended = await child.done;
      assert.equal(ended.signal, "SIGKILL");

      const recoverScript = `
        const { recoverOrphanedRuns } = require(${JSON.stringify(compiledModule("checkpoint"))});
        recoverOrphanedRuns(process.argv[1]).then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });
      `;
      const [inProcess, ...children] = await Promise.all([
        recoverOrphanedRuns(dir),
        runNode(recoverScript, [dir]),
        runNode(recoverScript, [dir]),
      ]);
      for (const c of children) assert.equal(c.code, 0, c.stderr);
      const results = [
        inProcess,
        ...children.map((c) => JSON.parse(c.stdout) as Array<{ runId: string; file: string }>),
      ];
      assert.deepEqual(results.flat(), [{ runId: RUN_ID, file: path.join(dir, "emissions.csv") }]);

      const rows = await csvRows(dir);
      assert.equal(rows.filter((r) => r["run_id"] === RUN_ID).length, 1);
      assert.equal(rows[0]!["project_name"], "checkpointed");
      assert.equal(rows[0]!["duration"], "7.5");
      assert.deepEqual(listRuns(dir), [], "the checkpoint and its claim are gone");
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.equal((await csvRows(dir)).length, 1);
    }));

  test("this process's own run is left alone", () =>
    inTempDir(async (dir) => {
      writeCheckpointSync(makeCheckpoint(dir));
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.deepEqual(listRuns(dir), [`${RUN_ID}.json`]);
    }));

  test("a live pid whose start time differs is a reused pid, and the run is recovered", () =>
    inTempDir(async (dir) => {
      writeCheckpointSync(makeCheckpoint(dir, { processStartTime: "1" }));
      const recovered = await recoverOrphanedRuns(dir);
      if (currentProcessIdentity().processStartTime === null) {
        // Without /proc there is no start time to compare: a live pid counts as the owner.
        assert.deepEqual(recovered, []);
      } else {
        assert.deepEqual(recovered, [{ runId: RUN_ID, file: path.join(dir, "emissions.csv") }]);
      }
    }));

  test("another host's run is left alone while recent, and recovered once untouched for over a day", () =>
    inTempDir(async (dir) => {
      const recent = makeCheckpoint(dir, { runId: "recent-run", hostname: "other-host", pid: 1 });
      const old = makeCheckpoint(dir, {
        runId: "old-run",
        hostname: "other-host",
        pid: 1,
        updatedAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      });
      writeCheckpointSync(recent);
      writeCheckpointSync(old);
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      fs.utimesSync(path.join(runsDir(dir), "old-run.json"), twoDaysAgo, twoDaysAgo);

      assert.deepEqual(
        (await recoverOrphanedRuns(dir)).map((r) => r.runId),
        ["old-run"],
      );
      assert.deepEqual(listRuns(dir), ["recent-run.json"]);
      assert.deepEqual(
        (await csvRows(dir)).map((r) => r["run_id"]),
        ["old-run"],
      );
    }));

  test("a corrupt checkpoint is renamed to .corrupt and logged; the others are still recovered", () =>
    inTempDir(async (dir) => {
      const log = captureLog();
      try {
        writeCheckpointSync(makeCheckpoint(dir, { pid: deadPid() }));
        fs.writeFileSync(path.join(runsDir(dir), "broken.json"), '{"version": 1, "runId": "x"');
        fs.writeFileSync(
          path.join(runsDir(dir), "wrong-shape.json"),
          JSON.stringify({ version: 1, runId: "y", pid: "not a number" }),
        );
        fs.writeFileSync(path.join(runsDir(dir), "future.json"), JSON.stringify({ version: 2 }));
        const recovered = await recoverOrphanedRuns(dir);
        assert.deepEqual(
          recovered.map((r) => r.runId),
          [RUN_ID],
        );
      } finally {
        log.restore();
      }
      assert.deepEqual(listRuns(dir), ["broken.json.corrupt", "future.json.corrupt", "wrong-shape.json.corrupt"]);
      const warnings = log.lines.filter((l) => l.level === "warning").map((l) => l.message);
      for (const name of ["broken.json", "wrong-shape.json", "future.json"]) {
        assert.ok(
          warnings.some((w) => w.includes(name) && w.includes(".corrupt")),
          `${name}: ${warnings.join(" | ")}`,
        );
      }
      assert.deepEqual(await recoverOrphanedRuns(dir), [], "corrupt files are not read again");
    }));

  test("a checkpoint with a row cell of the wrong type is corrupt", () =>
    inTempDir(async (dir) => {
      const checkpoint = makeCheckpoint(dir, { pid: deadPid() });
      writeCheckpointSync({ ...checkpoint, row: { ...checkpoint.row, cpu_power: { watts: 3 } as unknown as number } });
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.deepEqual(listRuns(dir), [`${RUN_ID}.json.corrupt`]);
    }));

  test("writes the run's task rows into the task CSV beside the emissions CSV", () =>
    inTempDir(async (dir) => {
      const taskFile = path.join("relative", "elsewhere", `emissions_base_${RUN_ID}.csv`);
      const checkpoint = makeCheckpoint(dir, {
        pid: deadPid(),
        target: { outputDir: "relative/elsewhere", outputFile: "runs.csv", onCsvWrite: "append" },
        taskRows: [makeTaskRow("load"), makeTaskRow("train", { longitude: null })],
        taskFile,
      });
      // The checkpoint names a relative folder (from its own working directory); rows go next
      // to the checkpoint instead, into the recovering tracker's CSV (never the one it names).
      fs.mkdirSync(runsDir(dir), { recursive: true });
      fs.writeFileSync(path.join(runsDir(dir), `${RUN_ID}.json`), JSON.stringify(checkpoint));
      assert.deepEqual(await recoverOrphanedRuns(dir, { outputFile: "runs.csv", onCsvWrite: "append" }), [
        { runId: RUN_ID, file: path.join(dir, "runs.csv") },
      ]);
      const tasks = await readEmissionsCsv(path.join(dir, `emissions_base_${RUN_ID}.csv`));
      assert.deepEqual(
        tasks.map((t) => [t["task_name"], t["longitude"]]),
        [
          ["load", "2.35"],
          ["train", ""],
        ],
      );
    }));

  test("a run whose final row is already in the CSV is not written twice", () =>
    inTempDir(async (dir) => {
      const checkpoint = makeCheckpoint(dir, { pid: deadPid() });
      // The run wrote its final row, then died before removing its checkpoint.
      await writeEmissionsRow(checkpoint.row, checkpoint.target);
      writeCheckpointSync(checkpoint);
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.equal((await csvRows(dir)).length, 1);
      assert.deepEqual(listRuns(dir), []);
    }));

  test("in append mode a run that flushed earlier gets its later totals as a new row", () =>
    inTempDir(async (dir) => {
      const checkpoint = makeCheckpoint(dir, { pid: deadPid() });
      await writeEmissionsRow({ ...checkpoint.row, duration: 3 }, checkpoint.target);
      writeCheckpointSync(checkpoint);
      assert.equal((await recoverOrphanedRuns(dir)).length, 1);
      assert.deepEqual(
        (await csvRows(dir)).map((r) => r["duration"]),
        ["3.0", "7.5"],
      );
    }));

  test("in update mode the recovered row replaces the run's flushed row", () =>
    inTempDir(async (dir) => {
      const checkpoint = makeCheckpoint(dir, {
        pid: deadPid(),
        target: { outputDir: dir, outputFile: "emissions.csv", onCsvWrite: "update" },
      });
      await writeEmissionsRow({ ...checkpoint.row, duration: 3 }, checkpoint.target);
      writeCheckpointSync(checkpoint);
      // The recovering tracker's on_csv_write decides, not the checkpoint's.
      assert.equal((await recoverOrphanedRuns(dir, { outputFile: "emissions.csv", onCsvWrite: "update" })).length, 1);
      assert.deepEqual(
        (await csvRows(dir)).map((r) => r["duration"]),
        ["7.5"],
      );
    }));

  test("a claim left by a recovery that died is taken over; a live claimant's is not", () =>
    inTempDir(async (dir) => {
      const me = currentProcessIdentity();
      const dead = deadPid();
      const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, "_");
      writeCheckpointSync(makeCheckpoint(dir, { runId: "abandoned", pid: dead }));
      writeCheckpointSync(makeCheckpoint(dir, { runId: "in-progress", pid: dead }));
      const runs = runsDir(dir);
      fs.renameSync(path.join(runs, "abandoned.json"), path.join(runs, `abandoned.json.claimed-${dead}-none@${host}`));
      const liveClaim = `in-progress.json.claimed-${me.pid}-${me.processStartTime ?? "none"}@${host}`;
      fs.renameSync(path.join(runs, "in-progress.json"), path.join(runs, liveClaim));

      assert.deepEqual(
        (await recoverOrphanedRuns(dir)).map((r) => r.runId),
        ["abandoned"],
      );
      assert.deepEqual(listRuns(dir), [liveClaim]);
    }));

  test("a claim lock left by a recovery that died is taken over; a live claimant's checkpoint is left alone", () =>
    inTempDir(async (dir) => {
      const dead = deadPid();
      writeCheckpointSync(makeCheckpoint(dir, { runId: "abandoned", pid: dead }));
      writeCheckpointSync(makeCheckpoint(dir, { runId: "in-progress", pid: dead }));
      const runs = runsDir(dir);
      const lockOf = (pid: number) =>
        JSON.stringify({
          pid,
          hostname: os.hostname(),
          processStartTime: null,
          createdAt: new Date().toISOString(),
          token: `t${pid}`,
        });
      fs.writeFileSync(path.join(runs, "abandoned.json.lock"), lockOf(dead));
      fs.writeFileSync(path.join(runs, "in-progress.json.lock"), lockOf(process.pid));

      assert.deepEqual(
        (await recoverOrphanedRuns(dir)).map((r) => r.runId),
        ["abandoned"],
      );
      assert.deepEqual(listRuns(dir), ["in-progress.json", "in-progress.json.lock"]);
    }));

  test("temp files left by a killed writer are removed once old", () =>
    inTempDir(async (dir) => {
      fs.mkdirSync(runsDir(dir), { recursive: true });
      const oldTemp = path.join(runsDir(dir), ".x.json.123.abcd.tmp");
      const freshTemp = path.join(runsDir(dir), ".y.json.123.abcd.tmp");
      fs.writeFileSync(oldTemp, "{");
      fs.writeFileSync(freshTemp, "{");
      const longAgo = new Date(Date.now() - 2 * 3_600_000);
      fs.utimesSync(oldTemp, longAgo, longAgo);
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.deepEqual(listRuns(dir), [path.basename(freshTemp)]);
    }));

  test("a failed write gives the checkpoint back for a later run", () =>
    inTempDir(async (dir) => {
      writeCheckpointSync(makeCheckpoint(dir, { pid: deadPid() }));
      // A folder where the CSV should be makes the write fail.
      fs.mkdirSync(path.join(dir, "emissions.csv"));
      fs.writeFileSync(path.join(dir, "emissions.csv", "keep"), "");
      assert.deepEqual(await recoverOrphanedRuns(dir), []);
      assert.deepEqual(listRuns(dir), [`${RUN_ID}.json`]);

      fs.rmSync(path.join(dir, "emissions.csv"), { recursive: true });
      assert.deepEqual(
        (await recoverOrphanedRuns(dir)).map((r) => r.runId),
        [RUN_ID],
      );
    }));
});
