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

export function summariseRun(row: EmissionsData, settings: TrackerSettings): string {
  const file = csvFile(settings);
  const where = file === null ? "" : ` → ${file}`;
  return `${formatSignificant(row.duration)} s, ${formatSignificant(row.energy_consumed * 1000)} Wh, ${formatSignificant(row.emissions * 1000)} gCO2eq${where}`;
}
