/**
 * What `codecarbon monitor` shows while it runs and when it ends: a live status line fed by the
 * tracker's measurements, and a short summary on stderr.
 */
import type { EmissionsData } from "../output/emissions-data";
import type { MeasurementSample } from "../output/sink";
import { SECONDS_PER_HOUR } from "../units";
import { formatDuration, formatSignificant as formatNumber } from "../protocol/format";

/**
 * The one thing the status line needs from a tracker. `EmissionsTracker.onMeasurement` has this
 * shape; keeping the CLI on this interface lets the display be tested without a tracker.
 */
export interface MeasurementSource {
  onMeasurement(listener: (sample: MeasurementSample) => void): () => void;
}

/** `42.1 W · 0.3512 Wh · 0.0197 gCO2eq · 2.31 g/h · 30 s` from one measurement. */
export function statusText(sample: MeasurementSample): string {
  const powerW = sample.powerW.cpu + sample.powerW.gpu + sample.powerW.ram;
  const energyWh = sample.energyKWh.total * 1000;
  const emissionsG = sample.emissionsKg * 1000;
  const rateGPerH = sample.elapsedS > 0 ? (emissionsG / sample.elapsedS) * SECONDS_PER_HOUR : 0;
  return [
    `${formatNumber(powerW)} W`,
    `${formatNumber(energyWh)} Wh`,
    `${formatNumber(emissionsG)} gCO2eq`,
    `${formatNumber(rateGPerH)} g/h`,
    formatDuration(sample.elapsedS),
  ].join(" · ");
}

export interface StatusWriter {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/**
 * Shows measurements on `stream`: on a terminal one line redrawn in place; elsewhere one plain
 * line per measurement when `verbose`, else nothing (logs and CI output stay short).
 * Returns a function that stops the display and clears a drawn line.
 */
export function showLiveStatus(
  source: MeasurementSource,
  stream: StatusWriter,
  options: { verbose: boolean },
): () => void {
  const interactive = stream.isTTY === true;
  if (!interactive && !options.verbose) return () => undefined;
  let drawn = false;
  const unsubscribe = source.onMeasurement((sample) => {
    const text = `codecarbon: ${statusText(sample)}`;
    if (interactive) {
      // Cut to the terminal width: a wrapped line could not be redrawn in place.
      const width = stream.columns ?? 80;
      stream.write(`\r\x1b[2K${text.length >= width ? text.slice(0, Math.max(0, width - 1)) : text}`);
      drawn = true;
    } else {
      stream.write(`${text}\n`);
    }
  });
  return () => {
    unsubscribe();
    if (drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };
}

export interface RunSummaryInput {
  /** What ran: the command line, or "this machine". */
  subject: string;
  /** The stopped run's row; undefined when the tracker saved nothing. */
  row: (EmissionsData & { api_run_id?: string | null }) | undefined;
  /** The CSV file written, or null when the csv output is off. */
  savedTo: string | null;
  /** A line about how the command ended, e.g. "exit code 3". */
  outcome?: string;
}

/** The end-of-run banner, one fact per line. */
export function summaryLines(input: RunSummaryInput): string[] {
  const lines = [`codecarbon: ${input.subject}${input.outcome === undefined ? "" : ` (${input.outcome})`}`];
  const row = input.row;
  if (row === undefined) {
    lines.push("  Emissions: N/A (no measurement was saved)");
    return lines;
  }
  lines.push(`  Duration:  ${formatDuration(row.duration)}`);
  lines.push(`  Energy:    ${formatNumber(row.energy_consumed * 1000)} Wh`);
  lines.push(`  Emissions: ${formatNumber(row.emissions * 1000)} g CO2eq`);
  if (input.savedTo !== null) lines.push(`  Saved to:  ${input.savedTo}`);
  if (row.api_run_id !== undefined)
    lines.push(
      `  API run:   ${row.api_run_id ?? "not created yet (its points wait in the spool)"} (CSV run_id ${row.run_id})`,
    );
  return lines;
}
