import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CheckpointWriter, checkpointDir, recoverRun, type RunCheckpoint } from "../../src/output/checkpoint";
import { currentProcessIdentity } from "../../src/fs/process-identity";
import { readEmissionsCsv } from "../../src/output/csv-file";
import { makeRow, makeTempDir } from "./fixture-rows";

function checkpointOf(outputDir: string, runId: string, duration: number, projectName = "p"): RunCheckpoint {
  return {
    version: 1,
    runId,
    ...currentProcessIdentity(),
    target: { outputDir, outputFile: "emissions.csv", onCsvWrite: "append" },
    row: makeRow({ run_id: runId, duration, project_name: projectName }),
    taskRows: [],
    taskFile: null,
    updatedAt: new Date().toISOString(),
  };
}

test("the in-place writer keeps a parseable checkpoint when the text gets shorter", () => {
  const dir = makeTempDir();
  try {
    const writer = new CheckpointWriter(dir.dir, "run-1");
    writer.write(checkpointOf(dir.dir, "run-1", 1, "a-rather-long-project-name-to-shrink-later"));
    writer.write(checkpointOf(dir.dir, "run-1", 2, "p"));
    const file = path.join(checkpointDir(dir.dir), "run-1.json");
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as RunCheckpoint;
    assert.equal(parsed.row.duration, 2);
    assert.equal(parsed.row.project_name, "p");
    writer.close();
  } finally {
    dir.cleanup();
  }
});

test("the writer recreates its checkpoint when the folder was removed under it", () => {
  const dir = makeTempDir();
  try {
    const writer = new CheckpointWriter(dir.dir, "run-2");
    writer.write(checkpointOf(dir.dir, "run-2", 1));
    fs.rmSync(checkpointDir(dir.dir), { recursive: true });
    writer.write(checkpointOf(dir.dir, "run-2", 3));
    const parsed = JSON.parse(
      fs.readFileSync(path.join(checkpointDir(dir.dir), "run-2.json"), "utf8"),
    ) as RunCheckpoint;
    assert.equal(parsed.row.duration, 3);
    writer.close();
  } finally {
    dir.cleanup();
  }
});

test("recoverRun writes one run's checkpoint now, even while its process lives", async () => {
  const dir = makeTempDir();
  try {
    const writer = new CheckpointWriter(dir.dir, "run-3");
    writer.write(checkpointOf(dir.dir, "run-3", 4.5));
    writer.close();
    const row = await recoverRun(dir.dir, "run-3");
    assert.equal(row?.duration, 4.5);
    const rows = await readEmissionsCsv(path.join(dir.dir, "emissions.csv"));
    assert.deepEqual(
      rows.map((r) => r["run_id"]),
      ["run-3"],
    );
    assert.deepEqual(fs.readdirSync(checkpointDir(dir.dir)), []);
    assert.equal(await recoverRun(dir.dir, "run-3"), null, "a second recovery finds nothing");
  } finally {
    dir.cleanup();
  }
});

test("a checkpoint larger than a page is replaced whole (temp file and rename), never rewritten in place", () => {
  const dir = makeTempDir();
  try {
    const writer = new CheckpointWriter(dir.dir, "run-big");
    const file = path.join(checkpointDir(dir.dir), "run-big.json");
    writer.write(checkpointOf(dir.dir, "run-big", 1));
    const small = fs.statSync(file);
    // A kill -9 in the middle of a multi-page write could leave a torn file: such a checkpoint
    // goes to a new file renamed over the old one, so the old one stays whole until then.
    writer.write(checkpointOf(dir.dir, "run-big", 2, "x".repeat(10_000)));
    const big = fs.statSync(file);
    assert.notEqual(big.ino, small.ino, "a new file replaced the old one");
    assert.equal(big.mode & 0o777, 0o600, "checkpoints are private");
    writer.write(checkpointOf(dir.dir, "run-big", 3));
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as RunCheckpoint;
    assert.equal(parsed.row.duration, 3, "back to small: written in place again, still parseable");
    writer.close();
    assert.deepEqual(
      fs.readdirSync(checkpointDir(dir.dir)).filter((n) => n.endsWith(".tmp")),
      [],
    );
  } finally {
    dir.cleanup();
  }
});
