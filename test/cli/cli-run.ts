/**
 * Runs the compiled `codecarbon` command as a real child process inside a sandbox (temporary HOME
 * and working folder), with every online service pointed at a closed loopback port so nothing
 * can reach the internet.
 */
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import type { ChildResult, Sandbox } from "../helpers/sandbox";

/** The CLI entry point of this test build (compiled next to the library it loads). */
export const CLI_ENTRY = path.resolve(__dirname, "..", "..", "src", "cli", "main.js");

/** Port 9 (discard) on loopback: nothing listens in the test machines, so calls fail at once. */
const CLOSED_LOOPBACK = "http://127.0.0.1:9";

export const OFFLINE_ENV: NodeJS.ProcessEnv = {
  CODECARBON_CLOUD_DETECTION: "false",
  CODECARBON_CLOUD_METADATA_ENDPOINT: CLOSED_LOOPBACK,
  CODECARBON_GEOLOCATION_ENDPOINT: `${CLOSED_LOOPBACK}/geo.json`,
  CODECARBON_GEOLOCATION_BACKUP_ENDPOINT: `${CLOSED_LOOPBACK}/json`,
  CODECARBON_ELECTRICITYMAPS_ENDPOINT: `${CLOSED_LOOPBACK}/v3`,
  CODECARBON_API_ENDPOINT: CLOSED_LOOPBACK,
  CODECARBON_API_TIMEOUT_SECS: "2",
};

export interface RunningCli {
  child: ChildProcess;
  done: Promise<ChildResult>;
  /** What the command has written so far. */
  output(): { stdout: string; stderr: string };
}

export function startCli(args: readonly string[], sandbox: Sandbox, extraEnv: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: sandbox.cwd,
    env: { ...sandbox.env, ...OFFLINE_ENV, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ChildResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => ({ stdout, stderr }) };
}

export function runCli(
  args: readonly string[],
  sandbox: Sandbox,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ChildResult> {
  return startCli(args, sandbox, extraEnv).done;
}
