/**
 * On a thread that declared its file calls blocking (the sampler worker), the promise-returning
 * file procedures (atomic write, lock, untrusted read, CSV append) do their work without one
 * event-loop turn, with the same results and errors as on any other thread.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";

const SRC = path.join(__dirname, "..", "..", "src");

interface Outcome {
  text: string;
  csvLines: number;
  missingCode: string;
  loopTurned: boolean;
}

function runIn(dir: string, blocking: boolean): Promise<Outcome> {
  const script = `
    const { parentPort, workerData } = require("node:worker_threads");
    const fs = require("node:fs");
    const path = require("node:path");
    const src = workerData.src;
    if (workerData.blocking) require(path.join(src, "fs", "thread-mode.js")).runFileCallsBlocking();
    const { writeFileAtomic } = require(path.join(src, "fs", "atomic-write.js"));
    const { readUntrustedFile } = require(path.join(src, "fs", "untrusted-file.js"));
    const { withFileLock } = require(path.join(src, "fs", "file-lock.js"));
    const { writeEmissionsRow } = require(path.join(src, "output", "csv-file.js"));
    const { CSV_COLUMNS } = require(path.join(src, "output", "emissions-data.js"));
    let loopTurned = false;
    setImmediate(() => (loopTurned = true));
    (async () => {
      const file = path.join(workerData.dir, "note.txt");
      await writeFileAtomic(file, "hello");
      const text = await withFileLock(file, () => readUntrustedFile(file));
      const row = Object.fromEntries(CSV_COLUMNS.map((c) => [c, c === "run_id" ? "r1" : 0]));
      const target = { outputDir: workerData.dir, outputFile: "emissions.csv", onCsvWrite: "append" };
      await writeEmissionsRow(row, target);
      await writeEmissionsRow({ ...row, run_id: "r2" }, target);
      const missingCode = await readUntrustedFile(path.join(workerData.dir, "absent")).then(() => "none", (e) => e.code);
      const csvLines = fs.readFileSync(path.join(workerData.dir, "emissions.csv"), "utf8").trim().split("\\n").length;
      parentPort.postMessage({ text, csvLines, missingCode, loopTurned });
    })().catch((error) => parentPort.postMessage({ error: String(error) }));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { eval: true, workerData: { dir, blocking, src: SRC } });
    worker.once("message", (message: Outcome & { error?: string }) => {
      void worker.terminate();
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message);
    });
    worker.once("error", reject);
  });
}

test("blocking file calls give the same files and errors, without an event-loop turn", async () => {
  const outcomes: Record<string, Outcome> = {};
  for (const blocking of [false, true]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-thread-mode-"));
    try {
      outcomes[String(blocking)] = await runIn(dir, blocking);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const [normal, blocking] = [outcomes["false"]!, outcomes["true"]!];
  assert.deepEqual({ ...blocking, loopTurned: null }, { ...normal, loopTurned: null });
  assert.equal(blocking.text, "hello");
  assert.equal(blocking.csvLines, 3, "a header and two rows");
  assert.equal(blocking.missingCode, "ENOENT");
  assert.equal(normal.loopTurned, true, "promise-based file calls go through the event loop");
  assert.equal(blocking.loopTurned, false, "blocking file calls never let the event loop turn");
});
