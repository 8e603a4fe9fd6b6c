import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  tryLockFile,
  tryLockFileSync,
  withFileLock,
  type FileLockAttempt,
  type HeldFileLock,
  type LockOwner,
} from "../../src/fs/file-lock";
import { writeFileAtomic } from "../../src/fs/atomic-write";
import { captureLog, compiledFsModule, deadPid, listDir, makeTempDir, runNode } from "./fs-fixtures";

function held(attempt: FileLockAttempt): HeldFileLock {
  assert.ok("held" in attempt, `expected the lock, but it is held by ${JSON.stringify(attempt)}`);
  return attempt.held;
}

function holder(attempt: FileLockAttempt): LockOwner | null {
  assert.ok("heldBy" in attempt, "expected the lock to be held by another");
  return attempt.heldBy;
}

const readLockFile = (lockPath: string) => JSON.parse(fs.readFileSync(lockPath, "utf8")) as Record<string, unknown>;

describe("withFileLock", () => {
  test("holds <file>.lock with the owner's pid, host and time while the function runs", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      const result = await withFileLock(file, async () => {
        const owner = JSON.parse(fs.readFileSync(`${file}.lock`, "utf8")) as Record<string, unknown>;
        assert.equal(owner["pid"], process.pid);
        assert.equal(owner["hostname"], os.hostname());
        assert.ok(!Number.isNaN(Date.parse(String(owner["createdAt"]))));
        return 42;
      });
      assert.equal(result, 42);
      assert.equal(fs.existsSync(`${file}.lock`), false);
    } finally {
      tmp.cleanup();
    }
  });

  test("releases the lock when the function throws, and passes the error on", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      await assert.rejects(
        withFileLock(file, async () => {
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(fs.existsSync(`${file}.lock`), false);
      assert.equal(await withFileLock(file, async () => "again"), "again");
    } finally {
      tmp.cleanup();
    }
  });

  test("critical sections in one process never overlap", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "counter");
      fs.writeFileSync(file, "0");
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 25 }, () =>
          withFileLock(file, async () => {
            inside += 1;
            maxInside = Math.max(maxInside, inside);
            const value = Number(fs.readFileSync(file, "utf8"));
            await new Promise((resolve) => setImmediate(resolve));
            await writeFileAtomic(file, String(value + 1));
            inside -= 1;
          }),
        ),
      );
      assert.equal(maxInside, 1);
      assert.equal(fs.readFileSync(file, "utf8"), "25");
    } finally {
      tmp.cleanup();
    }
  });

  test("a waiter in the same process also gives up after its timeout", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      let letGo!: () => void;
      const holding = new Promise<void>((resolve) => (letGo = resolve));
      let holderInside!: () => void;
      const inside = new Promise<void>((resolve) => (holderInside = resolve));
      const holder = withFileLock(file, async () => {
        holderInside();
        await holding;
        return "holder done";
      });
      await inside;
      await assert.rejects(
        withFileLock(file, async () => "never", { timeoutMs: 200 }),
        /Timed out/,
      );
      letGo();
      assert.equal(await holder, "holder done");
      assert.equal(await withFileLock(file, async () => "after"), "after");
      assert.equal(fs.existsSync(`${file}.lock`), false);
    } finally {
      tmp.cleanup();
    }
  });

  test("read-modify-write cycles from 4 processes never lose an update", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "counter");
      fs.writeFileSync(file, "0");
      const script = `
        const fs = require("node:fs");
        const { withFileLock } = require(${JSON.stringify(compiledFsModule("file-lock"))});
        const { writeFileAtomic } = require(${JSON.stringify(compiledFsModule("atomic-write"))});
        const file = process.argv[1];
        (async () => {
          for (let i = 0; i < 10; i++) {
            await withFileLock(file, async () => {
              const value = Number(fs.readFileSync(file, "utf8"));
              await new Promise((r) => setTimeout(r, 1));
              await writeFileAtomic(file, String(value + 1));
            });
          }
        })().catch((e) => { console.error(e); process.exit(1); });
      `;
      const outcomes = await Promise.all([1, 2, 3, 4].map(() => runNode(script, [file])));
      for (const outcome of outcomes) assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(fs.readFileSync(file, "utf8"), "40");
      assert.deepEqual(listDir(tmp.dir), ["counter"]);
    } finally {
      tmp.cleanup();
    }
  });

  test("breaks a lock left by a dead process on this host", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      const lock = {
        pid: deadPid(),
        hostname: os.hostname(),
        processStartTime: null,
        createdAt: new Date().toISOString(),
      };
      fs.writeFileSync(`${file}.lock`, JSON.stringify(lock));
      assert.equal(await withFileLock(file, async () => "acquired", { timeoutMs: 5_000 }), "acquired");
      assert.equal(fs.existsSync(`${file}.lock`), false);
      assert.ok(log.lines.some((l) => l.level === "warning" && l.message.includes(`${file}.lock`)));
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("breaks a lock older than the stale limit, even from another host", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      const longAgo = new Date(Date.now() - 10 * 60_000);
      fs.writeFileSync(
        `${file}.lock`,
        JSON.stringify({ pid: 1, hostname: "another-host", createdAt: longAgo.toISOString() }),
      );
      fs.utimesSync(`${file}.lock`, longAgo, longAgo);
      assert.equal(await withFileLock(file, async () => "acquired", { timeoutMs: 5_000 }), "acquired");
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("breaks an unreadable lock once its grace period has passed", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      const longAgo = new Date(Date.now() - 60_000);
      fs.writeFileSync(`${file}.lock`, "");
      fs.utimesSync(`${file}.lock`, longAgo, longAgo);
      assert.equal(await withFileLock(file, async () => "acquired", { timeoutMs: 5_000 }), "acquired");
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("waits for a live holder, and gives up after the timeout naming the holder", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "emissions.csv");
      const holder = { pid: 4242, hostname: "another-host", createdAt: new Date().toISOString() };
      fs.writeFileSync(`${file}.lock`, JSON.stringify(holder));
      await assert.rejects(
        withFileLock(file, async () => "never", { timeoutMs: 200 }),
        /Timed out.*pid 4242 on another-host/,
      );
      assert.equal(fs.existsSync(`${file}.lock`), true, "a live lock is not removed");

      // Once the holder lets go, a waiter gets the lock.
      const waiting = withFileLock(file, async () => "acquired", { timeoutMs: 10_000 });
      setTimeout(() => fs.unlinkSync(`${file}.lock`), 100);
      assert.equal(await waiting, "acquired");
    } finally {
      tmp.cleanup();
    }
  });
});

describe("tryLockFile and tryLockFileSync", () => {
  test("record the owner's identity, time, token and details; release removes only that lock", async () => {
    const tmp = makeTempDir();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      for (const take of [
        () => Promise.resolve(tryLockFileSync(lockPath, { details: { runId: "r1" } })),
        () => tryLockFile(lockPath, { details: { runId: "r1" } }),
      ]) {
        const lock = held(await take());
        const recorded = readLockFile(lockPath);
        assert.equal(recorded["pid"], process.pid);
        assert.equal(recorded["hostname"], os.hostname());
        assert.ok("processStartTime" in recorded);
        assert.ok(!Number.isNaN(Date.parse(String(recorded["createdAt"]))));
        assert.equal(recorded["token"], lock.owner.token);
        assert.equal(recorded["runId"], "r1");
        assert.deepEqual(lock.owner.details, { runId: "r1" });
        await lock.release();
        assert.deepEqual(listDir(tmp.dir), []);
      }
    } finally {
      tmp.cleanup();
    }
  });

  test("a lock taken on one path holds against the other: sync and async share one lock", async () => {
    const tmp = makeTempDir();
    try {
      const lockPath = path.join(tmp.dir, "shared.lock");
      const blocking = held(tryLockFileSync(lockPath));
      assert.equal(holder(await tryLockFile(lockPath, { timeoutMs: 0 }))?.token, blocking.owner.token);
      blocking.releaseSync();

      const nonBlocking = held(await tryLockFile(lockPath));
      assert.equal(holder(tryLockFileSync(lockPath, { timeoutMs: 0 }))?.token, nonBlocking.owner.token);
      nonBlocking.releaseSync();
      held(tryLockFileSync(lockPath, { timeoutMs: 0 })).releaseSync();
      assert.deepEqual(listDir(tmp.dir), []);
    } finally {
      tmp.cleanup();
    }
  });

  test("a dead owner's lock is taken over, blocking or not, however recent", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      const dead = {
        pid: deadPid(),
        hostname: os.hostname(),
        processStartTime: null,
        createdAt: new Date().toISOString(),
        token: "dead",
      };
      fs.writeFileSync(lockPath, JSON.stringify(dead));
      held(tryLockFileSync(lockPath, { timeoutMs: 0, staleMs: Infinity })).releaseSync();
      fs.writeFileSync(lockPath, JSON.stringify(dead));
      await held(await tryLockFile(lockPath, { timeoutMs: 0, staleMs: Infinity, takeoverLogLevel: "debug" })).release();
      const takeovers = log.lines
        .filter((l) => l.message.includes(`Removed the abandoned lock ${lockPath}`))
        .map((l) => l.level);
      assert.deepEqual(takeovers, ["warning", "debug"]);
      assert.deepEqual(listDir(tmp.dir), [], "no breaker file is left behind");
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("a live owner's lock is kept: with no timeout the holder is named at once, with one it is waited for", async () => {
    const tmp = makeTempDir();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      // This process is alive, and another host's owner cannot be checked: both count as live.
      for (const owner of [
        { pid: process.pid, hostname: os.hostname(), runId: "mine" },
        { pid: 4242, hostname: "another-host", runId: "theirs" },
      ]) {
        fs.writeFileSync(
          lockPath,
          JSON.stringify({ ...owner, createdAt: new Date(Date.now() - 3_600_000).toISOString() }),
        );
        const options = { timeoutMs: 0, staleMs: Infinity };
        assert.equal(holder(tryLockFileSync(lockPath, options))?.details["runId"], owner.runId);
        assert.equal(holder(await tryLockFile(lockPath, options))?.pid, owner.pid);

        const startedAt = Date.now();
        assert.equal(
          holder(tryLockFileSync(lockPath, { staleMs: Infinity, timeoutMs: 150 }))?.hostname,
          owner.hostname,
        );
        assert.equal(
          holder(await tryLockFile(lockPath, { staleMs: Infinity, timeoutMs: 150 }))?.hostname,
          owner.hostname,
        );
        assert.ok(Date.now() - startedAt >= 300, "each waited for its timeout");
        assert.equal(readLockFile(lockPath)["runId"], owner.runId, "a live lock is not removed");
      }
    } finally {
      tmp.cleanup();
    }
  });

  test("a lock written without time or token (an older version's) dates from its file", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      fs.writeFileSync(
        lockPath,
        JSON.stringify({ pid: 4242, hostname: "another-host", processStartTime: null, runId: "old" }),
      );
      const recent = holder(tryLockFileSync(lockPath, { timeoutMs: 0 }));
      assert.equal(recent?.details["runId"], "old");
      assert.ok(Math.abs(Date.parse(recent?.createdAt ?? "") - fs.statSync(lockPath).mtimeMs) < 1_000);

      const longAgo = new Date(Date.now() - 10 * 60_000);
      fs.utimesSync(lockPath, longAgo, longAgo);
      held(tryLockFileSync(lockPath, { timeoutMs: 0 })).releaseSync();
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("an unreadable lock is taken over after the grace period, at once with no grace", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      fs.writeFileSync(lockPath, "");
      assert.equal(holder(tryLockFileSync(lockPath, { timeoutMs: 0 })), null);
      held(tryLockFileSync(lockPath, { timeoutMs: 0, unreadableGraceMs: 0 })).releaseSync();
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("releasing a lock someone else took over leaves theirs, and says so", async () => {
    const tmp = makeTempDir();
    const log = captureLog();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      const mine = held(tryLockFileSync(lockPath));
      fs.unlinkSync(lockPath);
      const theirs = held(await tryLockFile(lockPath));
      mine.releaseSync();
      assert.equal(readLockFile(lockPath)["token"], theirs.owner.token);
      assert.ok(
        log.lines.some((l) => l.level === "warning" && l.message.includes(`The lock ${lockPath} was taken over`)),
      );
      await theirs.release();
      assert.deepEqual(listDir(tmp.dir), []);
    } finally {
      log.restore();
      tmp.cleanup();
    }
  });

  test("a blocking waiter gets the lock once another process lets go of it", async () => {
    const tmp = makeTempDir();
    try {
      const lockPath = path.join(tmp.dir, "run.lock");
      const ready = path.join(tmp.dir, "ready");
      const script = `
        const fs = require("node:fs");
        const { tryLockFileSync } = require(${JSON.stringify(compiledFsModule("file-lock"))});
        const [lockPath, ready] = process.argv.slice(1);
        const attempt = tryLockFileSync(lockPath, { timeoutMs: 0 });
        if (!("held" in attempt)) process.exit(2);
        fs.writeFileSync(ready, "");
        setTimeout(() => attempt.held.releaseSync(), 300);
      `;
      const child = runNode(script, [lockPath, ready]);
      while (!fs.existsSync(ready)) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.notEqual(holder(tryLockFileSync(lockPath, { timeoutMs: 0 }))?.pid, process.pid);
      const lock = held(tryLockFileSync(lockPath, { timeoutMs: 5_000 }));
      lock.releaseSync();
      assert.equal((await child).code, 0);
    } finally {
      tmp.cleanup();
    }
  });
});
