/**
 * Per-cell attribution's files: the notebook's cell executions, which the JupyterLab extension
 * writes beside the live feed (`codecarbon-live/<kernel id>.cells.json`) for the tracker to turn
 * into task rows at flush and stop, and the result the extension keeps in each cell's metadata.
 * Both are read back from folders anyone may write to, so both are checked field by field.
 * Browser-safe.
 */
import type { CellExecution } from "./attribution";
import { LIVE_FEED_FOLDER } from "./live-feed";

export const CELLS_FILE_VERSION = 1;
/** More executions than this are not kept: the oldest go first. */
export const MAX_CELL_EXECUTIONS = 5000;
/** The key of a cell's metadata that holds its latest attribution. */
export const CELL_METADATA_KEY = "codecarbon";
const MAX_LABEL_LENGTH = 120;

export interface CellsFile {
  version: typeof CELLS_FILE_VERSION;
  kernelId: string;
  /** The run the executions belong to: the tracker ignores a file written for another run. */
  runId: string;
  executions: CellExecution[];
}

/** A kernel's cells file relative to its working folder (the notebook's), posix separators. */
export function cellsRelativePath(kernelId: string): string {
  return `${LIVE_FEED_FOLDER}/${kernelId}.cells.json`;
}

/** A cell's label: its first non-blank line, shortened. */
export function cellLabel(source: string): string {
  const line = source.split("\n").find((l) => l.trim() !== "") ?? "";
  const trimmed = line.trim();
  return trimmed.length > MAX_LABEL_LENGTH ? `${trimmed.slice(0, MAX_LABEL_LENGTH - 1)}…` : trimmed;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isTime = (v: unknown): v is string => isString(v) && v.length <= 40 && Number.isFinite(Date.parse(v));

function parseExecution(raw: unknown): CellExecution | null {
  if (!isObject(raw)) return null;
  const { cellId, executionCount, label, start, end } = raw;
  if (!isString(cellId) || cellId.length === 0 || cellId.length > 128) return null;
  if (executionCount !== null && !(Number.isInteger(executionCount) && (executionCount as number) >= 0)) return null;
  if (!isString(label) || !isTime(start) || !isTime(end) || Date.parse(end) < Date.parse(start)) return null;
  return {
    cellId,
    executionCount: executionCount as number | null,
    label: label.slice(0, MAX_LABEL_LENGTH),
    start,
    end,
  };
}

export type CellsParse = { ok: true; file: CellsFile } | { ok: false; reason: string };

export function parseCellsFile(text: string): CellsParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the cells file is not JSON" };
  }
  if (!isObject(raw) || raw["version"] !== CELLS_FILE_VERSION)
    return { ok: false, reason: "not a cells file of a known version" };
  const { kernelId, runId, executions } = raw;
  if (!isString(kernelId) || !isString(runId)) return { ok: false, reason: "the cells file lacks its kernel or run" };
  if (!Array.isArray(executions)) return { ok: false, reason: "the cells file's executions are not a list" };
  const parsed: CellExecution[] = [];
  for (const entry of executions.slice(-MAX_CELL_EXECUTIONS)) {
    const execution = parseExecution(entry);
    if (execution === null) return { ok: false, reason: "a cell execution is malformed" };
    parsed.push(execution);
  }
  return { ok: true, file: { version: CELLS_FILE_VERSION, kernelId, runId, executions: parsed } };
}

/** What a cell keeps in its metadata under `codecarbon`: its latest execution's share of a run. */
export interface CellCarbon {
  runId: string;
  start: string;
  end: string;
  durationS: number;
  energyKWh: { cpu: number; gpu: number; ram: number; total: number };
  emissionsKg: number;
  /** gCO2eq/kWh the energy was priced at; null when it was not priced yet. */
  intensityGPerKWh: number | null;
}

export function parseCellCarbon(raw: unknown): CellCarbon | null {
  if (!isObject(raw)) return null;
  const { runId, start, end, durationS, energyKWh, emissionsKg, intensityGPerKWh } = raw;
  if (!isString(runId) || !isTime(start) || !isTime(end)) return null;
  if (!isFiniteNumber(durationS) || durationS < 0 || !isFiniteNumber(emissionsKg) || !isObject(energyKWh)) return null;
  const { cpu, gpu, ram, total } = energyKWh;
  if (![cpu, gpu, ram, total].every((v) => isFiniteNumber(v) && v >= 0)) return null;
  if (intensityGPerKWh !== null && !isFiniteNumber(intensityGPerKWh)) return null;
  return {
    runId,
    start,
    end,
    durationS,
    energyKWh: { cpu: cpu as number, gpu: gpu as number, ram: ram as number, total: total as number },
    emissionsKg,
    intensityGPerKWh: intensityGPerKWh as number | null,
  };
}
