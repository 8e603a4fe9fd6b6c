/**
 * The two log lines a user sees: which power sources a run uses, and what it cost.
 */
import * as path from "node:path";
import type { TrackerSettings } from "../config/options.generated";
import { describeSource } from "../measure/describe-source";

export { describeSource };
import type { EmissionsData } from "../output/emissions-data";
import type { RunDescription } from "./run";

export function describeSources(description: RunDescription, settings: TrackerSettings): string {
  const parts = description.sources.map(describeSource);
  if (!description.sources.some((s) => s.device === "gpu")) parts.push("no GPU");
  const i = description.intensity;
  const edition = i.source.edition === undefined ? "" : ` [${i.source.edition} data]`;
  const fallback = i.source.fallbackReason === null ? "" : ` (fallback: ${i.source.fallbackReason})`;
  parts.push(`${round(i.intensityGPerKWh)} gCO2eq/kWh from ${i.source.label}${edition}${fallback}`);
  parts.push(`every ${settings.measurePowerSecs} s`);
  return parts.join("; ");
}

export function summariseRun(row: EmissionsData, settings: TrackerSettings): string {
  const where = settings.outputMethods.includes("csv") ? ` → ${path.join(settings.outputDir, settings.outputFile)}` : "";
  return `${round(row.duration)} s, ${round(row.energy_consumed * 1000)} Wh, ${round(row.emissions * 1000)} gCO2eq${where}`;
}

/** Four significant digits: enough to read, not so many that the line wraps. */
function round(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(4)).toString();
}
