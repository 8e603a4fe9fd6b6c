/**
 * Export: this notebook's rows of the CSV the kernel writes, with CodeCarbon's header kept as
 * it is, so the exported file opens in CodeCarbon's own tools. RFC 4180 quoting both ways.
 */
import { formatCsvRecord, parseCsv } from "../protocol/csv";

export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => formatCsvRecord(r)).join("\n") + "\n";
}

export type ExportResult = { ok: true; csv: string; rows: number } | { ok: false; reason: string };

/** What to do to have rows to export, in the notebook's situation. */
export interface ExportContext {
  /** The toggle's phase (model/tracking-state.ts). */
  phase: string;
  /** Why the notebook cannot be tracked, when it cannot. */
  reason: string | null;
}

/** Advice when there is nothing to export: only a notebook that can be tracked is told to stop a run. */
export function nothingToExportAdvice(context: ExportContext): string {
  switch (context.phase) {
    case "unsupported":
      return `this notebook's kernel cannot run the tracker (${context.reason ?? "no tracker can run for it"}), so it has no runs to export`;
    case "no-kernel":
      return "this notebook has no kernel, so it has no runs to export: start a kernel and track a run";
    case "tracking":
      return "the tracker writes the run's row when it stops: click Stop, then export";
    default:
      return "track a run (Track in the notebook toolbar) and stop it: the tracker writes the row when a run stops";
  }
}

/** Keeps the header and the rows whose project_name is the notebook's (the kernel's default project name). */
export function exportNotebookRows(
  csvText: string,
  projectName: string,
  context: ExportContext = { phase: "idle", reason: null },
): ExportResult {
  const [header, ...rows] = parseCsv(csvText);
  if (header === undefined) return { ok: false, reason: "the CSV is empty" };
  const column = header.indexOf("project_name");
  if (column < 0 || !header.includes("emissions"))
    return { ok: false, reason: "the file has no project_name or emissions column: it is not an emissions CSV" };
  const mine = rows.filter((r) => r[column] === projectName);
  if (mine.length === 0)
    return { ok: false, reason: `no rows for project "${projectName}" yet: ${nothingToExportAdvice(context)}` };
  return { ok: true, csv: formatCsv([header, ...mine]), rows: mine.length };
}
