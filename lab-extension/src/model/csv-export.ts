/**
 * Export: this notebook's rows of the CSV the kernel writes, with CodeCarbon's header kept as
 * it is, so the exported file opens in CodeCarbon's own tools. RFC 4180 quoting both ways.
 */

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(quote).join(",")).join("\n") + "\n";
}

export type ExportResult = { ok: true; csv: string; rows: number } | { ok: false; reason: string };

/** Keeps the header and the rows whose project_name is the notebook's (the kernel's default project name). */
export function exportNotebookRows(csvText: string, projectName: string): ExportResult {
  const [header, ...rows] = parseCsv(csvText);
  if (header === undefined) return { ok: false, reason: "the CSV is empty" };
  const column = header.indexOf("project_name");
  if (column < 0 || !header.includes("emissions")) return { ok: false, reason: "the file has no project_name or emissions column: it is not an emissions CSV" };
  const mine = rows.filter((r) => r[column] === projectName);
  if (mine.length === 0) return { ok: false, reason: `no rows for project "${projectName}" yet: stop a run first` };
  return { ok: true, csv: formatCsv([header, ...mine]), rows: mine.length };
}
