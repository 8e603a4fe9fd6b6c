/**
 * `emissions.csv` and the task CSV, with CodeCarbon's file rules (behaviour reference §2.2–§2.3)
 * and two of its defects fixed: an appended row always has every column, empty cells included
 * (#1304), and `update` never depends on a column's type, so empty columns cannot crash it (#1367).
 *
 * Every write happens under the file's lock. A row is appended with one O_APPEND write, and a
 * rewrite (a new file, update mode) replaces the file atomically, so concurrent writers never
 * lose a row and a process killed mid-write never leaves a torn file. A writer paused while it
 * held the lock (SIGSTOP, a frozen network drive) may find it broken by a waiter when it wakes:
 * an append is still right (it erases nothing), a new file is only ever created where there is
 * none (a hard link), and a rewrite checks that the lock is still its own just before it commits,
 * and otherwise reads the file again.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { log } from "../log";
import {
  CSV_COLUMNS,
  FLOAT_COLUMNS,
  type CsvColumn,
  type EmissionsData,
  type TaskEmissionsData,
} from "./emissions-data";
import { detectLineEnd, formatCsvFloat, formatCsvRecord, parseCsv, type CsvCellValue } from "../protocol/csv";
import { writeFileAtomic, type AtomicWriteOptions } from "../fs/atomic-write";
import { LockLostError, withFileLock, type LockGuard } from "../fs/file-lock";
import { fsSteps, perform, runAsync, runStep, type FsProcedure } from "../fs/fs-procedure";
import { readUntrustedFile } from "../fs/untrusted-file";

export interface CsvTarget {
  outputDir: string;
  outputFile: string;
  onCsvWrite: "append" | "update";
  /** csv_escape_formulas: text cells a spreadsheet would run as a formula get a leading quote. */
  escapeFormulas?: boolean;
}

/** What spreadsheets take for the start of a formula (OWASP's list for CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

function escapeFormula(value: CsvCellValue): CsvCellValue {
  return typeof value === "string" && FORMULA_START.test(value) ? `'${value}` : value;
}

type TaskCsvColumn = "task_name" | Exclude<CsvColumn, "experiment_id" | "pue" | "wue">;

const isTaskColumn = (column: CsvColumn): column is Exclude<CsvColumn, "experiment_id" | "pue" | "wue"> =>
  column !== "experiment_id" && column !== "pue" && column !== "wue";

/** CodeCarbon's task columns: `task_name`, then the run columns less the run-level ones. */
export const TASK_CSV_COLUMNS: readonly TaskCsvColumn[] = ["task_name", ...CSV_COLUMNS.filter(isTaskColumn)];

const BOM = "\ufeff";
const MAX_BACKUP_INDEX = 10_000;
/** A CSV is rewritten whole at every row: far past this, something other than rows is in it. */
const MAX_CSV_BYTES = 512 * 1024 * 1024;

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
  // A holder paused past the stale limit (SIGSTOP, a frozen network drive) loses its lock to a
  // waiter; its read is then out of date, so it reads again rather than erase the newer rows.
  for (let attempt = 1; ; attempt++) {
    try {
      return await withFileLock(file, (guard) => writeRowLocked(file, row, target, guard));
    } catch (error) {
      const raced = error instanceof LockLostError || (error as NodeJS.ErrnoException).code === "EEXIST";
      if (!raced || attempt >= LOCK_LOST_ATTEMPTS) throw error;
      log.warning(`${(error as Error).message} Reading ${file} again and retrying.`);
    }
  }
}

const LOCK_LOST_ATTEMPTS = 3;

async function writeRowLocked(
  file: string,
  row: EmissionsData,
  target: CsvTarget,
  guard: LockGuard,
): Promise<{ file: string; backup: string | null }> {
  const commit: AtomicWriteOptions = { beforeCommit: () => guard.assertHeld() };
  const existing = await readTextIfExists(file);
  if (existing === null) {
    // Never over a file another writer made since the read: EEXIST, and the caller reads again.
    await writeFreshFile(file, row, target.escapeFormulas, { ...commit, exclusive: true });
    return { file, backup: null };
  }
  // Appending needs only the header: parsing every row would make each stop() slower than the
  // last as the file grows. A header with quotes (a quoted newline) is parsed with the rest.
  const records = parseCsv(target.onCsvWrite === "update" ? existing : headerText(existing));
  const header = records[0];
  if (header === undefined) {
    log.warning(`${file} is empty: writing the header and the row.`);
    await writeFreshFile(file, row, target.escapeFormulas, commit);
    return { file, backup: null };
  }
  if (!hasSameColumns(header, CSV_COLUMNS)) {
    const backup = await backUp(file);
    log.warning(
      `The CSV format has changed: the old emissions file ${file} was backed up to ${backup}, and a new one started.`,
    );
    await writeFreshFile(file, row, target.escapeFormulas, commit);
    return { file, backup };
  }

  const lineEnd = detectLineEnd(existing);
  const bom = existing.startsWith(BOM) ? BOM : "";
  // In the file's own column order, so a file with permuted columns stays aligned. The header
  // was just checked to hold exactly CSV_COLUMNS, which makes the cast true.
  const line = formatCsvRecord(cellsFor(row, header as readonly CsvColumn[], target.escapeFormulas));
  if (target.onCsvWrite === "update") {
    const runIdAt = header.indexOf("run_id");
    const wellFormed = records.every((record) => record.length === header.length);
    if (wellFormed) {
      const matching = records.flatMap((record, index) => (index > 0 && record[runIdAt] === row.run_id ? [index] : []));
      const [onlyMatch] = matching;
      if (matching.length === 1 && onlyMatch !== undefined) {
        const lines = records.map((record, index) => (index === onlyMatch ? line : formatCsvRecord(record)));
        await writeFileAtomic(file, bom + lines.join(lineEnd) + lineEnd, commit);
        return { file, backup: null };
      }
      if (matching.length > 1) warnManyMatches(file, matching.length, row.run_id);
    } else {
      // A stray quote in some cell (a hand edit, another tool) makes the parse swallow the rows
      // after it, so the run's row would not be found and a duplicate appended. Line by line,
      // the other lines are kept byte for byte and only the run's own line is replaced.
      const replaced = replaceLineOfRun(existing, lineEnd, header.length, runIdAt, row.run_id, line);
      if (replaced !== null) {
        await writeFileAtomic(file, replaced, commit);
        return { file, backup: null };
      }
    }
  }
  // The existing bytes are kept as they are; only the new row is formatted.
  await appendLine(file, line, lineEnd);
  return { file, backup: null };
}

/**
 * Appends one line with a single O_APPEND write (and fsync): whatever else was appended since the
 * file was read stays. A file that does not end with a line break gets one first.
 */
async function appendLine(file: string, line: string, lineEnd: string): Promise<void> {
  await runAsync(appendLineProcedure(file, line, lineEnd));
}

function* appendLineProcedure(file: string, line: string, lineEnd: string): FsProcedure<void> {
  const flags = fs.constants.O_RDWR | fs.constants.O_APPEND | (fs.constants.O_NOFOLLOW ?? 0);
  const fd = yield* perform(fsSteps.open(file, flags));
  try {
    const { size } = yield* perform(fsSteps.fstat(fd));
    let separator = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      yield* perform(fsSteps.readAt(fd, last, size - 1));
      if (last[0] !== 0x0a && last[0] !== 0x0d) separator = lineEnd;
    }
    yield* perform(fsSteps.writeAll(fd, separator + line + lineEnd));
    yield* perform(fsSteps.fsync(fd));
  } finally {
    yield* perform(fsSteps.close(fd));
  }
}

function warnManyMatches(file: string, count: number, runId: string): void {
  log.warning(`${file} has ${count} rows with run_id ${runId}; appending a new row instead of updating one.`);
}

/** The text with the one line holding `runId` replaced, or null when there is not exactly one. */
function replaceLineOfRun(
  text: string,
  lineEnd: string,
  columns: number,
  runIdAt: number,
  runId: string,
  line: string,
): string | null {
  const lines = text.split(lineEnd);
  const matching = lines.flatMap((candidate, index) => {
    if (index === 0 || !candidate.includes(runId)) return [];
    const [record] = parseCsv(candidate);
    return record !== undefined && record.length === columns && record[runIdAt] === runId ? [index] : [];
  });
  if (matching.length > 1) return null;
  const [only] = matching;
  if (only === undefined) return null;
  lines[only] = line;
  return lines.join(lineEnd);
}

/**
 * Rewrites the task CSV with every task of the run so far, as CodeCarbon does. Unlike CodeCarbon,
 * columns that are empty in every row are kept: a stable shape is easier to read back.
 */
export async function writeTaskRows(
  rows: TaskEmissionsData[],
  file: string,
  options: { escapeFormulas?: boolean } = {},
): Promise<void> {
  const lines = [
    formatCsvRecord(TASK_CSV_COLUMNS),
    ...rows.map((row) => formatCsvRecord(cellsFor(row, TASK_CSV_COLUMNS, options.escapeFormulas))),
  ];
  await withFileLock(file, (guard) =>
    writeFileAtomic(file, lines.join("\n") + "\n", { beforeCommit: () => guard.assertHeld() }),
  );
}

/**
 * Reads a CSV written by us or by CodeCarbon into one record per row, keyed by the header, with
 * every cell as written (empty string for an empty or missing cell). Rejects when the file
 * cannot be read, a missing file included.
 */
export async function readEmissionsCsv(file: string): Promise<Array<Record<string, string>>> {
  const [header, ...rows] = parseCsv(await readUntrustedFile(file, { maxBytes: MAX_CSV_BYTES }));
  if (header === undefined) return [];
  return rows.map((cells) => Object.fromEntries(header.map((column, index) => [column, cells[index] ?? ""])));
}

const isFloatColumn = (column: string): boolean => FLOAT_COLUMNS.has(column as CsvColumn);

/** The row's cells in `columns` order: numbers in float columns written as floats, formulas escaped on request. */
function cellsFor<C extends string>(
  row: Readonly<Record<C, CsvCellValue>>,
  columns: readonly C[],
  escapeFormulas = false,
): CsvCellValue[] {
  return columns.map((column) => {
    const value = row[column];
    if (typeof value === "number" && isFloatColumn(column)) return formatCsvFloat(value);
    return escapeFormulas ? escapeFormula(value) : value;
  });
}

async function writeFreshFile(
  file: string,
  row: EmissionsData,
  escapeFormulas: boolean | undefined,
  options: AtomicWriteOptions,
): Promise<void> {
  await writeFileAtomic(
    file,
    `${formatCsvRecord(CSV_COLUMNS)}\n${formatCsvRecord(cellsFor(row, CSV_COLUMNS, escapeFormulas))}\n`,
    options,
  );
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
    return await readUntrustedFile(file, { maxBytes: MAX_CSV_BYTES });
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
      await runStep(fsSteps.copyFile(file, candidate, fs.constants.COPYFILE_EXCL));
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new Error(`No free backup name for ${file} (tried up to ${name}_${MAX_BACKUP_INDEX - 1}.bak).`);
}
