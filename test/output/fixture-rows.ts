/**
 * Shared fixtures for the output tests: complete rows, temp folders, captured log lines and the
 * paths of compiled modules for child processes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import type { EmissionsData, TaskEmissionsData } from "../../src/output/emissions-data";

/** The repository root, from the compiled test file (`<build>/test/output/`). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const CSV_FIXTURES = path.join(REPO_ROOT, "test", "fixtures", "csv");
/** A compiled module of the build these tests belong to, for `require` in child processes. */
export const compiledModule = (name: string) => path.resolve(__dirname, "..", "..", "src", "output", `${name}.js`);

export function makeRow(overrides: Partial<EmissionsData> = {}): EmissionsData {
  return {
    timestamp: "2025-01-02T03:04:05",
    project_name: "codecarbon",
    run_id: "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
    experiment_id: "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
    duration: 12.5,
    emissions: 6.262572537957655e-5,
    emissions_rate: 5.0100580303661e-6,
    cpu_power: 42.5,
    gpu_power: 0,
    ram_power: 10,
    cpu_energy: 0.000147569444,
    gpu_energy: 0,
    ram_energy: 0.0000347222,
    energy_consumed: 0.0001822916,
    water_consumed: 0,
    country_name: "France",
    country_iso_code: "FRA",
    region: "île-de-france",
    cloud_provider: "",
    cloud_region: "",
    os: "Linux-6.8.0-x86_64",
    python_version: "20.19.0",
    codecarbon_version: "0.1.0",
    cpu_count: 8,
    cpu_model: "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz",
    gpu_count: 0,
    gpu_model: "",
    longitude: 2.35,
    latitude: 48.85,
    ram_total_size: 15.5,
    tracking_mode: "machine",
    cpu_utilization_percent: 12.5,
    gpu_utilization_percent: 0,
    ram_utilization_percent: 40.2,
    ram_used_gb: 6.2,
    on_cloud: "N",
    pue: 1,
    wue: 0,
    ...overrides,
  };
}

export function makeTaskRow(taskName: string, overrides: Partial<TaskEmissionsData> = {}): TaskEmissionsData {
  const { experiment_id: _experimentId, pue: _pue, wue: _wue, ...runFields } = makeRow();
  return { task_name: taskName, ...runFields, ...overrides };
}

export interface TempDir {
  dir: string;
  cleanup(): void;
}

export function makeTempDir(): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export { captureLog } from "../helpers/log-capture";

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a CommonJS script in a child Node process and resolves when it ends. */
export function runNode(script: string, args: string[] = []): Promise<ChildOutcome> {
  return startNode(script, args).done;
}

export function startNode(script: string, args: string[] = []) {
  const child = spawn(process.execPath, ["-e", script, "--", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ChildOutcome>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, stdout: () => stdout };
}
