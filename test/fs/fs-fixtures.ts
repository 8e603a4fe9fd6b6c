/** Shared fixtures for the file-primitive tests: temp folders, dead pids, child processes. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";

export { captureLog } from "../helpers/log-capture";

/** A compiled module of `src/fs` of the build these tests belong to, for `require` in child processes. */
export const compiledFsModule = (name: string) => path.resolve(__dirname, "..", "..", "src", "fs", `${name}.js`);

export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-fs-"));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const listDir = (dir: string) => fs.readdirSync(dir).sort();

/** The pid of a process that has already exited. */
export function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", ""]);
  assert.ok(result.pid !== undefined && result.pid > 0);
  return result.pid;
}

export interface ChildOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node -e script -- ...args` and resolves once it ends. */
export function runNode(script: string, args: string[] = []): Promise<ChildOutcome> {
  const child = spawn(process.execPath, ["-e", script, "--", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
