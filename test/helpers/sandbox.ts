/**
 * Test sandboxes: a temporary HOME and working folder, and a runner for child Node processes
 * that load the compiled package, so integration tests exercise real processes and real files.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { parseCsv } from "../../src/protocol/csv";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
/** The compiled library entry point of the test build. */
export const TEST_BUILD_ENTRY = path.resolve(__dirname, "..", "..", "src", "index.js");

export interface Sandbox {
  dir: string;
  home: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A temp folder with `home/` and `work/`, and an environment without the caller's CODECARBON_* variables. */
export function makeSandbox(): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-sandbox-"));
  const home = path.join(dir, "home");
  const cwd = path.join(dir, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toUpperCase().startsWith("CODECARBON_")) env[key] = value;
  }
  env["HOME"] = home;
  env["CODECARBON_LOG_LEVEL"] = "warning";
  return { dir, home, cwd, env, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` (CommonJS source) in a child Node process; `CODECARBON` is the package entry. */
export function startChild(
  script: string,
  sandbox: Sandbox,
  extraEnv: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<ChildResult> } {
  const source = `const CODECARBON = ${JSON.stringify(TEST_BUILD_ENTRY)};\n${script}`;
  const child = spawn(process.execPath, ["-e", source], {
    cwd: sandbox.cwd,
    env: { ...sandbox.env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ChildResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export async function runChild(
  script: string,
  sandbox: Sandbox,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ChildResult> {
  const result = await startChild(script, sandbox, extraEnv).done;
  if (result.code !== 0)
    throw new Error(`child failed (${result.code ?? result.signal}):\n${result.stderr}\n${result.stdout}`);
  return result;
}

export async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The rows of a CSV file as header → cell records (read with the project's own CSV parser). */
export function readCsvRows(file: string): Array<Record<string, string>> {
  const [header = [], ...rows] = parseCsv(fs.readFileSync(file, "utf8"));
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""])));
}
