import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireSingleRunLock } from "../../src/tracker/single-run-lock";
import { deadPid, makeTempDir } from "../fs/fs-fixtures";

test("the single-run lock names its run, blocks a second run, and is released by its own run only", () => {
  const tmp = makeTempDir();
  try {
    const file = path.join(tmp.dir, ".codecarbon.lock");
    const first = acquireSingleRunLock("run-1", file);
    assert.ok("release" in first);
    const second = acquireSingleRunLock("run-2", file);
    assert.ok("heldBy" in second);
    assert.equal(second.heldBy.runId, "run-1");
    assert.equal(second.heldBy.pid, process.pid);
    first.release();
    assert.equal(fs.existsSync(file), false);
    const third = acquireSingleRunLock("run-3", file);
    assert.ok("release" in third);
    third.release();
  } finally {
    tmp.cleanup();
  }
});

test("the single-run lock takes over a dead holder's lock and an unreadable (CodeCarbon's empty) one at once", () => {
  const tmp = makeTempDir();
  try {
    const file = path.join(tmp.dir, ".codecarbon.lock");
    fs.writeFileSync(
      file,
      JSON.stringify({ pid: deadPid(), hostname: os.hostname(), processStartTime: null, runId: "gone" }),
    );
    const afterDead = acquireSingleRunLock("run-1", file);
    assert.ok("release" in afterDead);
    afterDead.release();

    fs.writeFileSync(file, "");
    const afterEmpty = acquireSingleRunLock("run-2", file);
    assert.ok("release" in afterEmpty);
    afterEmpty.release();
    assert.equal(fs.existsSync(file), false);
  } finally {
    tmp.cleanup();
  }
});

test("another host's single-run lock is never taken over, however old", () => {
  const tmp = makeTempDir();
  try {
    const file = path.join(tmp.dir, ".codecarbon.lock");
    fs.writeFileSync(
      file,
      JSON.stringify({ pid: 1, hostname: "another-host", processStartTime: null, runId: "elsewhere" }),
    );
    const longAgo = new Date(Date.now() - 7 * 86_400_000);
    fs.utimesSync(file, longAgo, longAgo);
    const attempt = acquireSingleRunLock("run-1", file);
    assert.ok("heldBy" in attempt);
    assert.deepEqual(attempt.heldBy, { pid: 1, hostname: "another-host", processStartTime: null, runId: "elsewhere" });
  } finally {
    tmp.cleanup();
  }
});
