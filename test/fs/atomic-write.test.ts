import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeDirectory, makeDirectorySync, writeFileAtomic, writeFileAtomicSync } from "../../src/fs/atomic-write";
import { listDir, makeTempDir } from "./fs-fixtures";

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

describe("makeDirectory", () => {
  test("creates nested folders, blocking or not, and accepts a folder that exists", async () => {
    const tmp = makeTempDir();
    try {
      const nested = path.join(tmp.dir, "a", "b");
      makeDirectorySync(nested);
      makeDirectorySync(nested);
      await makeDirectory(path.join(nested, "c"));
      await makeDirectory(path.join(nested, "c"));
      assert.ok(fs.statSync(path.join(nested, "c")).isDirectory());
    } finally {
      tmp.cleanup();
    }
  });
});
