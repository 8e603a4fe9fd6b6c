/**
 * Installs test/fixtures/fake-nvidia-smi as `nvidia-smi` in a temp bin folder, with its state file,
 * so tests reach it through PATH exactly as the reader reaches the real tool.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface FakeGpuState {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMiB?: number | string;
  powerLimitW?: number | string;
  /** The energy counter in mJ, or a marker such as "[N/A]" / "[Not Supported]". */
  energyMJ: number | string;
  powerW: number | string;
  utilizationPercent?: number | string;
}

export interface FakeNvidiaState {
  gpus: FakeGpuState[];
  secondsPerCall?: number;
  energyFieldValid?: boolean;
  failNext?: number;
  failMessage?: string;
  failExitCode?: number;
  delayMs?: number;
  calls?: number;
}

export interface FakeNvidiaSmi {
  binDir: string;
  /** Environment whose PATH holds only the fake (and no other nvidia-smi). */
  env: NodeJS.ProcessEnv;
  read(): FakeNvidiaState;
  write(state: FakeNvidiaState): void;
  update(change: (state: FakeNvidiaState) => void): void;
  cleanup(): void;
}

function findFixture(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, "test", "fixtures", "fake-nvidia-smi");
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`fake-nvidia-smi fixture not found above ${__dirname}`);
    dir = parent;
  }
}

export function installFakeNvidiaSmi(initial: FakeNvidiaState): FakeNvidiaSmi {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  const binDir = path.join(dir, "bin");
  fs.mkdirSync(binDir);
  const stateFile = path.join(dir, "state.json");
  // The shebang names this Node binary, so PATH can hold the fake's folder alone.
  const script = fs.readFileSync(findFixture(), "utf8").replace(/^#!.*\n/, `#!${process.execPath}\n`);
  fs.writeFileSync(path.join(binDir, "nvidia-smi"), script, { mode: 0o755 });

  const write = (state: FakeNvidiaState): void => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const read = (): FakeNvidiaState => JSON.parse(fs.readFileSync(stateFile, "utf8")) as FakeNvidiaState;
  write(initial);
  return {
    binDir,
    env: { PATH: binDir, FAKE_NVIDIA_SMI_STATE: stateFile },
    read,
    write,
    update(change) {
      const state = read();
      change(state);
      write(state);
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** An A100 and a T4 by default; `overrides` replaces fields per GPU position. */
export function twoGpuState(overrides: Array<Partial<FakeGpuState>> = []): FakeNvidiaState {
  const base: FakeGpuState[] = [
    {
      index: 0,
      uuid: "GPU-4e81c2a0-9d1f-4c2b-8a55-0f2e6b7d9c11",
      name: "NVIDIA A100-SXM4-40GB",
      memoryTotalMiB: 40960,
      powerLimitW: 400,
      energyMJ: 1_000_000,
      powerW: 250,
      utilizationPercent: 80,
    },
    {
      index: 1,
      uuid: "GPU-9b02d7f4-1e3a-4f6c-b7d8-2a4c6e8f0b13",
      name: "Tesla T4",
      memoryTotalMiB: 15360,
      powerLimitW: 70,
      energyMJ: 2_000_000,
      powerW: 50,
      utilizationPercent: 40,
    },
  ];
  return { gpus: base.map((gpu, i) => ({ ...gpu, ...(overrides[i] ?? {}) })), secondsPerCall: 0 };
}
