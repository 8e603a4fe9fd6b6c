/**
 * NVIDIA GPU energy through `nvidia-smi --query-gpu` (no native NVML binding).
 *
 * Each read runs one query for every GPU. A GPU whose `total_energy_consumption` counter (mJ since
 * the driver loaded) answers is measured by counter deltas, as CodeCarbon does through NVML.
 * Otherwise `power.draw` is integrated over the interval with the trapezoid rule, so a GPU without
 * the counter is never silently 0 (CodeCarbon #1316). Many drivers reject the
 * `total_energy_consumption` field outright ("not a valid field to query"); the probe and the
 * reader then fall back to the same query without it.
 *
 * nvidia-smi runs through `execFile` (no shell), asynchronously, with a timeout. When a read
 * fails the interval counts 0 and the baselines stay as they were, so the next good read covers
 * the missed time: the counter delta spans it, and the power integral uses the whole gap.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GpuBackend, GpuReader } from "./gpu-backend";
import type { DeviceReading, PowerSource } from "./types";
import { JOULES_PER_KWH } from "../protocol/units";
import { log } from "../log";

export interface NvidiaGpu {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMiB: number | null;
  powerLimitW: number | null;
  /** Whether the energy counter answered when the GPU was probed; absent when unknown. */
  hasEnergyCounter?: boolean;
}

export type NvidiaProbe = { ok: true; gpus: NvidiaGpu[]; hasEnergyCounter: boolean } | { ok: false; reason: string };

export interface NvidiaSmiOptions {
  /** The nvidia-smi executable; a bare name is looked up on `env.PATH`. Default "nvidia-smi". */
  command?: string;
  /** Environment for the child process (and its PATH lookup). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Kill nvidia-smi after this long. Default 5000 ms. */
  timeoutMs?: number;
}

/** The GPU reader of nvidia-smi; its utilisation is `utilization.gpu`. */
export type NvidiaEnergyReader = GpuReader;

const ENERGY_FIELD = "total_energy_consumption";
const QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "memory.total",
  "power.limit",
  ENERGY_FIELD,
  "power.draw",
  "utilization.gpu",
] as const;
const FORMAT_ARG = "--format=csv,noheader,nounits";
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

interface GpuSample {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMiB: number | null;
  powerLimitW: number | null;
  energyMJ: number | null;
  powerW: number | null;
  utilizationPercent: number | null;
}

type QueryResult = { ok: true; samples: GpuSample[] } | { ok: false; reason: string; notFound: boolean };

function queryArgs(withEnergyField: boolean): string[] {
  const fields = withEnergyField ? QUERY_FIELDS : QUERY_FIELDS.filter((f) => f !== ENERGY_FIELD);
  return [`--query-gpu=${fields.join(",")}`, FORMAT_ARG];
}

function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? ""
  );
}

/**
 * Whether a bare command name can be found on `env.PATH` (POSIX). Most machines have no
 * nvidia-smi, and finding that out by spawning it forks the whole process (about 6 ms of CPU at
 * every tracker start); a look at PATH costs a few `access` calls. Paths and Windows (PATHEXT,
 * the current folder) are left to the spawn.
 */
function mayBeOnPath(command: string, env: NodeJS.ProcessEnv): boolean {
  if (process.platform === "win32" || command.includes("/")) return true;
  // Without PATH, execvp searches the default path.
  for (const dir of (env.PATH ?? "/usr/bin:/bin").split(path.delimiter)) {
    try {
      fs.accessSync(path.join(dir === "" ? "." : dir, command), fs.constants.X_OK);
      return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

function runNvidiaSmi(
  args: string[],
  options: NvidiaSmiOptions,
): Promise<{ ok: true; stdout: string } | { ok: false; reason: string; notFound: boolean }> {
  const command = options.command ?? "nvidia-smi";
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!mayBeOnPath(command, options.env ?? process.env)) {
    return Promise.resolve({ ok: false, reason: `${command} not found on PATH`, notFound: true });
  }
  // Loaded here, not at import: child_process brings net and dgram along, and most runs have no GPU.
  const { execFile } = require("node:child_process") as typeof import("node:child_process");
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: options.env ?? process.env,
        timeout: timeoutMs,
        maxBuffer: MAX_OUTPUT_BYTES,
        windowsHide: true,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ ok: true, stdout });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
          resolve({ ok: false, reason: `${command} not found on PATH`, notFound: true });
        } else if (error.killed === true || error.signal === "SIGTERM") {
          resolve({ ok: false, reason: `${command} did not answer within ${timeoutMs / 1000} s`, notFound: false });
        } else {
          // nvidia-smi prints its own errors on stdout ("NVIDIA-SMI has failed because …").
          const detail = firstLine(stdout) || firstLine(stderr) || error.message;
          const status =
            typeof code === "number"
              ? `exited with code ${code}`
              : `failed (${String(code ?? error.signal ?? "error")})`;
          resolve({ ok: false, reason: `${command} ${status}: ${detail}`, notFound: false });
        }
      },
    );
  });
}

/** Parses a value printed with `nounits`; "[N/A]", "[Not Supported]" and other bracketed notes are null. */
function parseNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (!/^-?\d+(?:\.\d+)?$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

function parseRows(stdout: string, withEnergyField: boolean): GpuSample[] {
  const fieldCount = withEnergyField ? QUERY_FIELDS.length : QUERY_FIELDS.length - 1;
  const samples: GpuSample[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim().length === 0) continue;
    let parts = line.split(",").map((p) => p.trim());
    // A GPU name holding commas would split into extra parts; fold them back into the name column.
    if (parts.length > fieldCount) {
      const extra = parts.length - fieldCount;
      parts = [...parts.slice(0, 2), parts.slice(2, 3 + extra).join(", "), ...parts.slice(3 + extra)];
    }
    if (parts.length !== fieldCount) {
      log.once("debug", `nvidia-smi-row:${line}`, `nvidia-smi: ignoring an unexpected line: ${line}`);
      continue;
    }
    const [indexText, uuid = "", name = "", memoryText, limitText, ...rest] = parts;
    const energyText = withEnergyField ? rest[0] : undefined;
    const [powerText, utilizationText] = withEnergyField ? rest.slice(1) : rest;
    const index = parseNumber(indexText);
    if (index === null || !Number.isInteger(index) || index < 0 || uuid.length === 0) {
      log.once("debug", `nvidia-smi-row:${line}`, `nvidia-smi: ignoring a line without a GPU index and UUID: ${line}`);
      continue;
    }
    const energyMJ = parseNumber(energyText);
    samples.push({
      index,
      uuid,
      name,
      memoryTotalMiB: parseNumber(memoryText),
      powerLimitW: parseNumber(limitText),
      energyMJ: energyMJ !== null && energyMJ >= 0 ? energyMJ : null,
      powerW: parseNumber(powerText),
      utilizationPercent: parseNumber(utilizationText),
    });
  }
  return samples;
}

/**
 * Runs the query, first with the energy field, and without it when that attempt fails but a plain
 * query works (drivers that do not know the field). `energyField` says which form answered.
 */
async function queryGpus(
  options: NvidiaSmiOptions,
  tryEnergyField: boolean,
): Promise<QueryResult & { energyField: boolean }> {
  if (tryEnergyField) {
    const full = await runNvidiaSmi(queryArgs(true), options);
    if (full.ok) return { ok: true, samples: parseRows(full.stdout, true), energyField: true };
    if (full.notFound) return { ...full, energyField: true };
    const reduced = await runNvidiaSmi(queryArgs(false), options);
    if (reduced.ok) {
      log.once(
        "info",
        "nvidia-no-energy-field",
        `nvidia-smi does not answer ${ENERGY_FIELD} (${full.reason}); GPU energy integrates power.draw.`,
      );
      return { ok: true, samples: parseRows(reduced.stdout, false), energyField: false };
    }
    return { ...full, energyField: true };
  }
  const reduced = await runNvidiaSmi(queryArgs(false), options);
  return reduced.ok
    ? { ok: true, samples: parseRows(reduced.stdout, false), energyField: false }
    : { ...reduced, energyField: false };
}

/** Lists the NVIDIA GPUs through nvidia-smi; `ok: false` says why there is none to measure. */
export async function probeNvidia(options: NvidiaSmiOptions = {}): Promise<NvidiaProbe> {
  const result = await queryGpus(options, true);
  if (!result.ok) return { ok: false, reason: result.reason };
  if (result.samples.length === 0) return { ok: false, reason: "nvidia-smi lists no GPU" };
  const gpus = result.samples.map((s): NvidiaGpu => ({
    index: s.index,
    uuid: s.uuid,
    name: s.name,
    memoryTotalMiB: s.memoryTotalMiB,
    powerLimitW: s.powerLimitW,
    hasEnergyCounter: s.energyMJ !== null,
  }));
  return { ok: true, gpus, hasEnergyCounter: gpus.every((g) => g.hasEnergyCounter === true) };
}

interface GpuTrack {
  index: number;
  lastEnergyMJ: number | null;
  lastPowerW: number | null;
  /** Seconds since the last reading that updated this GPU's baselines. */
  pendingS: number;
  usesCounter: boolean;
}

/** Energy reader for the selected GPU indices; `gpus` is the probe's list. */
export function createNvidiaReader(
  gpus: NvidiaGpu[],
  selectedIndices: number[],
  options: NvidiaSmiOptions = {},
): NvidiaEnergyReader {
  const known = new Set(gpus.map((g) => g.index));
  const indices = [...new Set(selectedIndices)].filter((i) => known.has(i)).sort((a, b) => a - b);
  const tracks: GpuTrack[] = indices.map((index) => ({
    index,
    lastEnergyMJ: null,
    lastPowerW: null,
    pendingS: 0,
    usesCounter: gpus.find((g) => g.index === index)?.hasEnergyCounter !== false,
  }));
  // Once a query without the energy field was needed, asking for it again would fail every time;
  // when the probe saw no counter on any measured GPU, there is nothing to ask for either.
  let energyFieldAnswers = !(tracks.length > 0 && tracks.every((t) => !t.usesCounter));
  let latestUtilization: number | null = null;

  const sourceNow = (): PowerSource => ({
    device: "gpu",
    method:
      tracks.length > 0 && tracks.every((t) => t.usesCounter) ? "nvidia-smi-energy-counter" : "nvidia-smi-power-draw",
    gpuIndices: [...indices],
  });

  const sample = async (): Promise<Map<number, GpuSample> | null> => {
    const result = await queryGpus(options, energyFieldAnswers);
    if (!result.ok) {
      log.once(
        "warning",
        `nvidia-read-failed:${result.reason}`,
        `GPU energy: ${result.reason}; an interval without a reading counts 0 and is caught up at the next one.`,
      );
      return null;
    }
    energyFieldAnswers = result.energyField;
    const utilizations: number[] = [];
    const byIndex = new Map<number, GpuSample>();
    for (const s of result.samples) {
      if (!indices.includes(s.index)) continue;
      byIndex.set(s.index, s);
      if (s.utilizationPercent !== null) utilizations.push(s.utilizationPercent);
    }
    if (utilizations.length > 0) latestUtilization = utilizations.reduce((a, b) => a + b, 0) / utilizations.length;
    return byIndex;
  };

  /** Joules since this GPU's last baseline, or null when nothing usable was reported. */
  const energySince = (track: GpuTrack, current: GpuSample, elapsedS: number): number | null => {
    const previous = track.lastEnergyMJ;
    track.usesCounter = current.energyMJ !== null;
    if (current.energyMJ !== null && previous !== null) {
      if (current.energyMJ >= previous) return (current.energyMJ - previous) / 1000;
      log.once(
        "warning",
        `nvidia-counter-reset:${track.index}`,
        `GPU ${track.index}: the energy counter went backwards (driver reloaded?); integrating power.draw for that interval.`,
      );
    }
    if (current.powerW !== null) {
      if (current.energyMJ === null) {
        log.once(
          "info",
          `nvidia-power-draw:${track.index}`,
          `GPU ${track.index}: no energy counter; integrating power.draw.`,
        );
      }
      return (((track.lastPowerW ?? current.powerW) + current.powerW) / 2) * elapsedS;
    }
    if (track.lastPowerW !== null) {
      log.once(
        "warning",
        `nvidia-power-stale:${track.index}`,
        `GPU ${track.index}: power.draw stopped answering; using its last value.`,
      );
      return track.lastPowerW * elapsedS;
    }
    log.once(
      "warning",
      `nvidia-nothing:${track.index}`,
      `GPU ${track.index} reports neither an energy counter nor power.draw; its energy counts as 0.`,
    );
    return null;
  };

  return {
    device: "gpu",
    get source(): PowerSource {
      return sourceNow();
    },
    utilizationPercent: () => latestUtilization,
    async start(): Promise<void> {
      const samples = await sample();
      for (const track of tracks) {
        const current = samples?.get(track.index);
        track.lastEnergyMJ = current?.energyMJ ?? null;
        track.lastPowerW = current?.powerW ?? null;
        track.pendingS = 0;
        if (current !== undefined) track.usesCounter = current.energyMJ !== null;
      }
    },
    async read(intervalS: number): Promise<DeviceReading> {
      const samples = await sample();
      let energyJ = 0;
      let powerW = 0;
      for (const track of tracks) {
        const elapsedS = track.pendingS + intervalS;
        const current = samples?.get(track.index);
        if (current === undefined) {
          if (samples !== null)
            log.once(
              "warning",
              `nvidia-missing:${track.index}`,
              `GPU ${track.index} is missing from nvidia-smi's answer; its energy is caught up when it returns.`,
            );
          track.pendingS = elapsedS;
          continue;
        }
        const gpuEnergyJ = energySince(track, current, elapsedS) ?? 0;
        energyJ += gpuEnergyJ;
        if (elapsedS > 0) powerW += gpuEnergyJ / elapsedS;
        if (current.energyMJ !== null) track.lastEnergyMJ = current.energyMJ;
        if (current.powerW !== null) track.lastPowerW = current.powerW;
        track.pendingS = 0;
      }
      return { energyKWh: energyJ / JOULES_PER_KWH, powerW };
    },
  };
}

/** "2 x NVIDIA A100-SXM4-40GB, 1 x Tesla T4": counts per model in first-seen order, comma-separated. */
export function describeGpuModel(gpus: readonly Pick<NvidiaGpu, "name">[]): string {
  const counts = new Map<string, number>();
  for (const gpu of gpus) counts.set(gpu.name, (counts.get(gpu.name) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} x ${name}`).join(", ");
}

/** NVIDIA GPUs through nvidia-smi: the energy counter when the driver has it, else power draw. */
export const nvidiaBackend: GpuBackend = {
  vendor: "NVIDIA",
  async probe(env) {
    const probe = await probeNvidia({ env });
    if (!probe.ok) return probe;
    return {
      ok: true,
      gpus: probe.gpus,
      model: describeGpuModel(probe.gpus),
      createReader: (selectedIndices) => createNvidiaReader(probe.gpus, selectedIndices, { env }),
    };
  },
};
