/**
 * Where each figure of a run came from: the power source of every device and the carbon
 * intensity's source, edition, year and zone. The CSV keeps CodeCarbon's columns, so the record
 * goes beside it: one JSON object per line in `<csv name>.provenance.jsonl`, one line per run
 * (a run written again, at flush and then at stop, replaces its own line).
 */
import * as path from "node:path";
import type { IntensitySource } from "../intensity/offline";
import { describeSource } from "../measure/describe-source";
import { powerBasis, type PowerBasis, type PowerSource } from "../measure/types";
import { makeDirectory, writeFileAtomic } from "../fs/atomic-write";
import { LockLostError, withFileLock } from "../fs/file-lock";
import { readUntrustedFile } from "../fs/untrusted-file";
import { formatSignificant } from "../protocol/format";

export const PROVENANCE_FORMAT_VERSION = 1;

/** A device's power source as the measuring code recorded it, with a line for people. */
export type PowerProvenance = PowerSource & { description: string; basis: PowerBasis };

export interface IntensityProvenance {
  intensity_g_per_kwh: number;
  kind: IntensitySource["kind"];
  label: string;
  dataset: string;
  /** The `intensity_data` edition, or null for forced and live figures. */
  edition: string | null;
  year: number | null;
  zone: string | null;
  fallback_reason: string | null;
}

/** One line of `<csv name>.provenance.jsonl`, keyed by the CSV's `run_id`. */
export interface RunProvenance {
  format_version: typeof PROVENANCE_FORMAT_VERSION;
  run_id: string;
  /** ISO-8601 time the record was made. */
  timestamp: string;
  power_sources: PowerProvenance[];
  intensity: IntensityProvenance;
  /**
   * With the api output: the Code Carbon API's id for this run, which joins the CSV's `run_id` to
   * the server's run; null when the API had not created the run by the end (its points wait in
   * the spool). Absent without the api output, and in records written before it existed.
   */
  api_run_id?: string | null;
}

export function buildProvenance(
  runId: string,
  sources: readonly PowerSource[],
  intensityGPerKWh: number,
  source: IntensitySource,
  now: Date = new Date(),
  apiRunId?: string | null,
): RunProvenance {
  return {
    format_version: PROVENANCE_FORMAT_VERSION,
    run_id: runId,
    timestamp: now.toISOString(),
    power_sources: sources.map((s) => ({ ...s, description: describeSource(s), basis: powerBasis(s) })),
    intensity: {
      intensity_g_per_kwh: intensityGPerKWh,
      kind: source.kind,
      label: source.label,
      dataset: source.dataset,
      edition: source.edition ?? null,
      year: source.year,
      zone: source.zone ?? null,
      fallback_reason: source.fallbackReason,
    },
    ...(apiRunId === undefined ? {} : { api_run_id: apiRunId }),
  };
}

/**
 * For the one-line start/stop log: `CPU from RAPL (package-0); …; 44.18 gCO2eq/kWh from country FRA (Ember 2024)
 * [latest]`.
 */
export function formatProvenanceLine(record: RunProvenance): string {
  const i = record.intensity;
  const tags = [i.edition, i.zone === null ? null : `zone ${i.zone}`].filter((tag): tag is string => tag !== null);
  const intensity = `${formatSignificant(i.intensity_g_per_kwh)} gCO2eq/kWh from ${i.label}${tags.length > 0 ? ` [${tags.join(", ")}]` : ""}`;
  const fallback = i.fallback_reason === null ? "" : ` (fallback: ${i.fallback_reason})`;
  const api = record.api_run_id === undefined ? [] : [`API run ${record.api_run_id ?? "not created yet (spooled)"}`];
  return [...record.power_sources.map((p) => p.description), intensity + fallback, ...api].join("; ");
}

/** `emissions.csv` → `emissions.provenance.jsonl`, in the same folder. */
export function provenanceFile(outputDir: string, outputFile: string): string {
  const extension = path.extname(outputFile);
  const stem = extension === "" ? outputFile : outputFile.slice(0, -extension.length);
  return path.join(outputDir, `${stem}.provenance.jsonl`);
}

/**
 * Adds the run's line, or replaces the line of the same run. Lines that are not records (a
 * hand edit, a newer format) are kept as they are. Rejects on I/O errors; the caller logs.
 */
export async function appendProvenance(file: string, record: RunProvenance): Promise<void> {
  await makeDirectory(path.dirname(file));
  // A rewrite whose lock was broken while it was paused reads again rather than erase a newer line.
  for (let attempt = 1; ; attempt++) {
    try {
      await withFileLock(file, async (guard) => {
        const lines = (await readTextIfExists(file)).split("\n").filter((line) => line.trim() !== "");
        const fresh = JSON.stringify(record);
        const index = lines.findIndex((line) => runIdOf(line) === record.run_id);
        if (index === -1) lines.push(fresh);
        else lines[index] = fresh;
        await writeFileAtomic(file, lines.join("\n") + "\n", { beforeCommit: () => guard.assertHeld() });
      });
      return;
    } catch (error) {
      if (!(error instanceof LockLostError) || attempt >= 3) throw error;
    }
  }
}

/** The records of a provenance file, oldest first; lines that are not valid records are skipped. */
export async function readProvenanceRecords(file: string): Promise<RunProvenance[]> {
  const records: RunProvenance[] = [];
  for (const line of (await readTextIfExists(file)).split("\n")) {
    const record = parseRecord(line);
    if (record !== undefined) records.push(record);
  }
  return records;
}

function parseRecord(line: string): RunProvenance | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const candidate = value as Record<string, unknown>;
  const intensity = candidate["intensity"];
  const valid =
    candidate["format_version"] === PROVENANCE_FORMAT_VERSION &&
    typeof candidate["run_id"] === "string" &&
    typeof candidate["timestamp"] === "string" &&
    Array.isArray(candidate["power_sources"]) &&
    candidate["power_sources"].every(
      (p: unknown) =>
        typeof p === "object" && p !== null && typeof (p as Record<string, unknown>)["method"] === "string",
    ) &&
    typeof intensity === "object" &&
    intensity !== null &&
    typeof (intensity as Record<string, unknown>)["intensity_g_per_kwh"] === "number" &&
    typeof (intensity as Record<string, unknown>)["label"] === "string";
  return valid ? (value as RunProvenance) : undefined;
}

function runIdOf(line: string): string | undefined {
  return parseRecord(line)?.run_id;
}

async function readTextIfExists(file: string): Promise<string> {
  try {
    return await readUntrustedFile(file, { maxBytes: 64 * 1024 * 1024 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}
