/**
 * `emissions.csv` and the task CSV, with CodeCarbon's file rules (behaviour reference §2.2–§2.3)
 * and two of its defects fixed: an appended row always has every column, empty cells included
 * (#1304), and `update` never depends on a column's type, so empty columns cannot crash it (#1367).
 *
 * Every write happens under the file's lock and replaces the file atomically, so concurrent
 * writers never lose a row and a process killed mid-write never leaves a torn file.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { log } from "../log";
import { CSV_COLUMNS, type CsvColumn, type EmissionsData, type TaskEmissionsData } from "./emissions-data";
import { detectLineEnd, formatCsvRecord, parseCsv, type CsvCellValue } from "../protocol/csv";
import { writeFileAtomic } from "../fs/atomic-write";
import { withFileLock } from "../fs/file-lock";

export interface CsvTarget {
  outputDir: string;
  outputFile: string;
  onCsvWrite: "append" | "update";
}

type TaskCsvColumn = "task_name" | Exclude<CsvColumn, "experiment_id" | "pue" | "wue">;

const isTaskColumn = (column: CsvColumn): column is Exclude<CsvColumn, "experiment_id" | "pue" | "wue"> =>
  column !== "experiment_id" && column !== "pue" && column !== "wue";

/** CodeCarbon's task columns: `task_name`, then the run columns less the run-level ones. */
export const TASK_CSV_COLUMNS: readonly TaskCsvColumn[] = ["task_name", ...CSV_COLUMNS.filter(isTaskColumn)];

const BOM = "\ufeff";
const MAX_BACKUP_INDEX = 10_000;

/**
 * Writes one run's row into `<outputDir>/<outputFile>`. A missing or empty file gets the header
 * first; a file whose columns differ (as a set) is kept as a backup and a new file started. In
 * `update` mode the row with the same `run_id` is replaced when there is exactly one.
 * Returns the file written and the backup made, if any. Rejects on I/O errors (the caller logs).
 */
export async function writeEmissionsRow(
  row: EmissionsData,
  target: CsvTarget,
): Promise<{ file: string; backup: string | null }> {
  const file = path.join(target.outputDir, target.outputFile);
  return withFileLock(file, async () => {
    const existing = await readTextIfExists(file);
    if (existing === null) {
      await writeFreshFile(file, row);
      return { file, backup: null };
    }
    // Appending needs only the header: parsing every row would make each stop() slower than the
    // last as the file grows. A header with quotes (a quoted newline) is parsed with the rest.
    const records = parseCsv(target.onCsvWrite === "update" ? existing : headerText(existing));
    const header = records[0];
    if (header === undefined) {
      log.warning(`${file} is empty: writing the header and the row.`);
      await writeFreshFile(file, row);
      return { file, backup: null };
    }
    if (!hasSameColumns(header, CSV_COLUMNS)) {
      const backup = await backUp(file);
      log.warning(
        `The CSV format has changed: the old emissions file ${file} was backed up to ${backup}, and a new one started.`,
      );
      await writeFreshFile(file, row);
      return { file, backup };
    }

    const lineEnd = detectLineEnd(existing);
    // In the file's own column order, so a file with permuted columns stays aligned. The header
    // was just checked to hold exactly CSV_COLUMNS, which makes the cast true.
    const line = formatCsvRecord(cellsFor(row, header as readonly CsvColumn[]));
    if (target.onCsvWrite === "update") {
      const runIdAt = header.indexOf("run_id");
      const matching = records.flatMap((record, index) => (index > 0 && record[runIdAt] === row.run_id ? [index] : []));
      const [onlyMatch] = matching;
      if (matching.length === 1 && onlyMatch !== undefined) {
        const lines = records.map((record, index) => (index === onlyMatch ? line : formatCsvRecord(record)));
        const bom = existing.startsWith(BOM) ? BOM : "";
        await writeFileAtomic(file, bom + lines.join(lineEnd) + lineEnd);
        return { file, backup: null };
      }
      if (matching.length > 1) {
        log.warning(
          `${file} has ${matching.length} rows with run_id ${row.run_id}; appending a new row instead of updating one.`,
        );
      }
    }
    // The existing bytes are kept as they are; only the new row is formatted.
    const separator = existing.endsWith("\n") || existing.endsWith("\r") ? "" : lineEnd;
    await writeFileAtomic(file, existing + separator + line + lineEnd);
    return { file, backup: null };
  });
}

/**
 * Rewrites the task CSV with every task of the run so far, as CodeCarbon does. Unlike CodeCarbon,
 * columns that are empty in every row are kept: a stable shape is easier to read back.
 */
export async function writeTaskRows(rows: TaskEmissionsData[], file: string): Promise<void> {
  const lines = [
    formatCsvRecord(TASK_CSV_COLUMNS),
    ...rows.map((row) => formatCsvRecord(cellsFor(row, TASK_CSV_COLUMNS))),
  ];
  await withFileLock(file, () => writeFileAtomic(file, lines.join("\n") + "\n"));
}

/**
 * Reads a CSV written by us or by CodeCarbon into one record per row, keyed by the header, with
 * every cell as written (empty string for an empty or missing cell). Rejects when the file
 * cannot be read, a missing file included.
 */
export async function readEmissionsCsv(file: string): Promise<Array<Record<string, string>>> {
  const [header, ...rows] = parseCsv(await fsp.readFile(file, "utf8"));
  if (header === undefined) return [];
  return rows.map((cells) => Object.fromEntries(header.map((column, index) => [column, cells[index] ?? ""])));
}

function cellsFor<C extends string>(row: Readonly<Record<C, CsvCellValue>>, columns: readonly C[]): CsvCellValue[] {
  return columns.map((column) => row[column]);
}

async function writeFreshFile(file: string, row: EmissionsData): Promise<void> {
  await writeFileAtomic(file, `${formatCsvRecord(CSV_COLUMNS)}\n${formatCsvRecord(cellsFor(row, CSV_COLUMNS))}\n`);
}

/**
 * The first line of a CSV, or the whole text when that line is blank or has a quote (a field may
 * span lines): then the full parse decides, as before.
 */
function headerText(text: string): string {
  const end = text.search(/[\r\n]/);
  const first = end === -1 ? text : text.slice(0, end);
  return first.trim() === "" || first.includes('"') ? text : first;
}

async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Column order is ignored, as CodeCarbon does; a duplicated or missing column is a mismatch. */
function hasSameColumns(header: readonly string[], expected: readonly string[]): boolean {
  const names = new Set(header);
  return (
    header.length === expected.length && names.size === header.length && expected.every((column) => names.has(column))
  );
}

/**
 * Keeps the old file as `<stem>.bak`, or `<stem>_0.bak`, `<stem>_1.bak`… when taken (CodeCarbon's
 * names). The file is copied, never overwriting a backup, and then replaced atomically by the
 * caller, so there is no moment without an emissions file.
 */
async function backUp(file: string): Promise<string> {
  const { dir, name } = path.parse(file);
  for (let index = -1; index < MAX_BACKUP_INDEX; index++) {
    const candidate = path.join(dir, index < 0 ? `${name}.bak` : `${name}_${index}.bak`);
    try {
      await fsp.copyFile(file, candidate, fs.constants.COPYFILE_EXCL);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new Error(`No free backup name for ${file} (tried up to ${name}_${MAX_BACKUP_INDEX - 1}.bak).`);
}
