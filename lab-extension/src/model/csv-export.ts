/**
 * Export: this notebook's rows of the CSV the kernel writes, with CodeCarbon's header kept as
 * it is, so the exported file opens in CodeCarbon's own tools. RFC 4180 quoting both ways.
 */
import { formatCsvRecord, parseCsv } from "../protocol/csv";

export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => formatCsvRecord(r)).join("\n") + "\n";
}

export type ExportResult = { ok: true; csv: string; rows: number } | { ok: false; reason: string };

/** Keeps the header and the rows whose project_name is the notebook's (the kernel's default project name). */
export function exportNotebookRows(csvText: string, projectName: string): ExportResult {
  const [header, ...rows] = parseCsv(csvText);
  if (header === undefined) return { ok: false, reason: "the CSV is empty" };
  const column = header.indexOf("project_name");
  if (column < 0 || !header.includes("emissions"))
    return { ok: false, reason: "the file has no project_name or emissions column: it is not an emissions CSV" };
  const mine = rows.filter((r) => r[column] === projectName);
  if (mine.length === 0) return { ok: false, reason: `no rows for project "${projectName}" yet: stop a run first` };
  return { ok: true, csv: formatCsv([header, ...mine]), rows: mine.length };
}
