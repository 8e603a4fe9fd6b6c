import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { withFileLock, writeFileAtomic, writeFileAtomicSync } from "../../src/output/atomic-file";
import { captureLog, compiledModule, makeTempDir, runNode } from "./fixture-rows";

const listDir = (dir: string) => fs.readdirSync(dir).sort();

/** The pid of a process that has already exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", ""]);
  assert.ok(result.pid !== undefined && result.pid > 0);
  return result.pid;
}

describe("writeFileAtomic", () => {
  test("creates and replaces a file, leaving no temp file behind", async () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "out.csv");
      await writeFileAtomic(file, "first\n");
      assert.equal(fs.readFileSync(file, "utf8"), "first\n");
      await writeFileAtomic(file, Buffer.from("second\n"));
      assert.equal(fs.readFileSync(file, "utf8"), "second\n");
      assert.deepEqual(listDir(tmp.dir), ["out.csv"]);
    } finally {
      tmp.cleanup();
    }
  });

  test("keeps the permissions of the file it replaces", async () => {
    if (process.platform === "win32") return; // Windows has no POSIX permission bits to keep.
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "shared.csv");
      fs.writeFileSync(file, "old");
      fs.chmodSync(file, 0o640);
      await writeFileAtomic(file, "new");
      assert.equal(fs.statSync(file).mode & 0o777, 0o640);
      writeFileAtomicSync(file, "newer");
      assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    } finally {
      tmp.cleanup();
    }
  });

  test("rejects when the folder is missing, and creates nothing", async () => {
    const tmp = makeTempDir();
    try {
      await assert.rejects(writeFileAtomic(path.join(tmp.dir, "missing", "out.csv"), "x"), { code: "ENOENT" });
      assert.deepEqual(listDir(tmp.dir), []);
    } finally {
      tmp.cleanup();
    }
  });

  test("when the rename fails, the old file is intact and the temp file is removed", async () => {
    const tmp = makeTempDir();
    try {
      // A non-empty folder in the file's place makes the rename fail after the temp is written.
      const target = path.join(tmp.dir, "target");
      fs.mkdirSync(target);
      fs.writeFileSync(path.join(target, "keep"), "kept");
      await assert.rejects(writeFileAtomic(target, "x"));
      assert.throws(() => writeFileAtomicSync(target, "x"));
      assert.deepEqual(listDir(tmp.dir), ["target"]);
      assert.equal(fs.readFileSync(path.join(target, "keep"), "utf8"), "kept");
    } finally {
      tmp.cleanup();
    }
  });
});

describe("writeFileAtomicSync", () => {
  test("creates and replaces a file, leaving no temp file behind", () => {
    const tmp = makeTempDir();
    try {
      const file = path.join(tmp.dir, "checkpoint.json");
      writeFileAtomicSync(file, "{}");
      writeFileAtomicSync(file, '{"a":1}');
      assert.equal(fs.readFileSync(file, "utf8"), '{"a":1}');
      assert.deepEqual(listDir(tmp.dir), ["checkpoint.json"]);
    } finally {
      tmp.cleanup();
    }
  });
});

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
      await assert.rejects(withFileLock(file, async () => "never", { timeoutMs: 200 }), /Timed out/);
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
        const { withFileLock, writeFileAtomic } = require(${JSON.stringify(compiledModule("atomic-file"))});
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
      const lock = { pid: deadPid(), hostname: os.hostname(), processStartTime: null, createdAt: new Date().toISOString() };
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
      fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, hostname: "another-host", createdAt: longAgo.toISOString() }));
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
      await assert.rejects(withFileLock(file, async () => "never", { timeoutMs: 200 }), /Timed out.*pid 4242 on another-host/);
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
