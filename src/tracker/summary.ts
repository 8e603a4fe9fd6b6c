/**
 * The two log lines a user sees: which power sources a run uses, and what it cost.
 */
import type { TrackerSettings } from "../config/options.generated";
import { describeSource } from "../measure/describe-source";
import type { EmissionsData } from "../output/emissions-data";
import { csvFile } from "../output/registry";
import type { RunDescription } from "../output/sink";
import { formatSignificant } from "../protocol/format";

export function describeSources(description: RunDescription, settings: TrackerSettings): string {
  const parts = description.sources.map(describeSource);
  if (!description.sources.some((s) => s.device === "gpu")) parts.push("no GPU");
  const i = description.intensity;
  const edition = i.source.edition === undefined ? "" : ` [${i.source.edition} data]`;
  const fallback = i.source.fallbackReason === null ? "" : ` (fallback: ${i.source.fallbackReason})`;
  parts.push(`${formatSignificant(i.intensityGPerKWh)} gCO2eq/kWh from ${i.source.label}${edition}${fallback}`);
  parts.push(`every ${settings.measurePowerSecs} s`);
  return parts.join("; ");
}

export function summariseRun(row: EmissionsData & { api_run_id?: string | null }, settings: TrackerSettings): string {
  const file = csvFile(settings);
  const where = file === null ? "" : ` → ${file}`;
  return `${formatSignificant(row.duration)} s, ${formatSignificant(row.energy_consumed * 1000)} Wh, ${formatSignificant(row.emissions * 1000)} gCO2eq${where}${apiRunText(row)}`;
}

/** `; run_id … = API run …`, the join between the CSV row and the server's run, when there is one. */
export function apiRunText(row: { run_id: string; api_run_id?: string | null }): string {
  if (row.api_run_id === undefined) return "";
  return row.api_run_id === null
    ? `; run ${row.run_id} not yet created in the Code Carbon API (its points wait in the spool)`
    : `; run ${row.run_id} is ${row.api_run_id} in the Code Carbon API`;
}
