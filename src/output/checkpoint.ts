/**
 * Crash-safe runs. CodeCarbon writes its CSV only at `stop()`, so a run killed by `kill -9`, an
 * out-of-memory kill or a notebook kernel restart leaves no row at all. Here the sampler saves
 * the run's totals after every measurement to `<outputDir>/.codecarbon/runs/<run_id>.json`, and
 * the next run started in that folder writes the rows of runs whose process is gone: at most one
 * measurement interval is lost.
 *
 * Recovery claims a checkpoint by taking its lock (`<run_id>.json.lock`, `src/fs/file-lock`)
 * before writing anything, so when two runs start at once only one of them writes the row. The
 * lock names its owner, so a lock left by a recovery that itself died is taken over by the next
 * one. Earlier versions claimed by renaming the checkpoint to `<name>.claimed-<pid>-<start>@<host>`;
 * such a claim is still taken over once its claimant is gone.
 *
 * The runs folder is shared with whoever may write into the output folder, so a checkpoint is
 * untrusted input: only a regular file of this user is read, every field is checked, and the
 * rows go only to the CSV this tracker is configured to write, in the folder the checkpoint was
 * found in. Where the dead run wanted its CSV (`target`) is kept for the record and never used.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { log } from "../log";
import { CSV_COLUMNS, type EmissionsData, type TaskEmissionsData } from "./emissions-data";
import type { CsvCellValue } from "../protocol/csv";
import { readEmissionsCsv, TASK_CSV_COLUMNS, writeEmissionsRow, writeTaskRows, type CsvTarget } from "./csv-file";
import { makeDirectorySync, writeFileAtomicSync } from "../fs/atomic-write";
import { fsSteps, runStep } from "../fs/fs-procedure";
import { readUntrustedFile, UntrustedFileError } from "../fs/untrusted-file";
import { tryLockFile, type FileLockOptions, type HeldFileLock } from "../fs/file-lock";
import { isLocalProcessGone } from "../fs/process-identity";

export interface RunCheckpoint {
  version: 1;
  runId: string;
  pid: number;
  hostname: string;
  /** `/proc/<pid>/stat` field 22 (Linux), so a reused pid is not taken for the run's process. */
  processStartTime: string | null;
  target: CsvTarget;
  row: EmissionsData;
  taskRows: TaskEmissionsData[];
  taskFile: string | null;
  updatedAt: string;
  /**
   * The run has stopped and this row is final, but it could not be written to the CSV (disk
   * full, the CSV locked or unusable): any later start in this folder writes it, even while the
   * process that stopped the run still lives.
   */
  final?: boolean;
}

/** Which CSV recovered rows go to: the recovering tracker's own, inside the checkpoint's folder. */
export interface RecoveryTarget {
  outputFile: string;
  onCsvWrite: "append" | "update";
  escapeFormulas?: boolean;
}

const DEFAULT_RECOVERY_TARGET: RecoveryTarget = { outputFile: "emissions.csv", onCsvWrite: "append" };

/** Only the three facts recovery uses, whatever else the caller's object (settings) holds. */
function recoveryTarget(outputDir: string, csv: RecoveryTarget): CsvTarget {
  return {
    outputDir,
    outputFile: csv.outputFile,
    onCsvWrite: csv.onCsvWrite,
    ...(csv.escapeFormulas === true ? { escapeFormulas: true } : {}),
  };
}

/** Checkpoints with many tasks grow; past this, a file in the runs folder is not one of ours. */
const MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** Longest text cell taken from a checkpoint (our own cells are names, ids and models). */
const MAX_CELL_CHARS = 4096;
/**
 * A positioned write of at most one page lands whole even when the process is killed during it;
 * a larger one may be cut short, so a larger checkpoint is replaced through a temp file instead.
 */
const IN_PLACE_MAX_BYTES = 4096;

/**
 * Checkpoints written on another host (a shared network folder) cannot be checked for a live
 * process. A live run rewrites its checkpoint every measurement, so one untouched for a day
 * belongs to a run that is gone (or frozen for a day); only then is it recovered from here.
 */
const OTHER_HOST_STALE_MS = 24 * 60 * 60 * 1000;
/** Temp files are renamed within milliseconds; one this old was left by a killed writer. */
const ORPHAN_TEMP_MS = 60 * 60 * 1000;

const CHECKPOINT_SUFFIX = ".json";
/** A claim by an earlier version: the checkpoint renamed to name its claimant. */
const LEGACY_CLAIM_PATTERN = /^(.+\.json)\.claimed-(\d+)-(\d+|none)@([A-Za-z0-9._-]+)$/;

export function checkpointDir(outputDir: string): string {
  return path.join(outputDir, ".codecarbon", "runs");
}

/** Run ids are UUIDs; anything else is made safe to use as a file name. */
function checkpointFileName(runId: string): string {
  return `${runId.replace(/[^A-Za-z0-9_-]/g, "_")}${CHECKPOINT_SUFFIX}`;
}

const safeHostname = (hostname: string) => hostname.replace(/[^A-Za-z0-9.-]/g, "_");

/**
 * A recovery takes a moment, yet only a claimant that is gone loses its claim: age alone never
 * does, and another host's claim is never taken from here (as with earlier versions' claims).
 * A recovery never waits: a checkpoint claimed by another is that one's to write.
 */
const CLAIM_POLICY: FileLockOptions = { timeoutMs: 0, staleMs: Infinity, takeoverLogLevel: "debug" };

/** Writes one checkpoint once (creating the folder); a running sampler keeps a CheckpointWriter. */
export function writeCheckpointSync(checkpoint: RunCheckpoint): void {
  const writer = new CheckpointWriter(checkpoint.target.outputDir, checkpoint.runId);
  try {
    writer.write(checkpoint);
  } finally {
    writer.close();
  }
}

/**
 * Keeps one run's checkpoint file open and rewrites it in place with a single positioned write
 * per measurement. Creating a temporary file and renaming it costs about twenty times more CPU
 * than this, and the sampler does it every few seconds for hours. A write of at most a page
 * lands whole even when the process is killed during it; the text is padded with spaces to the
 * previous length, so a shorter checkpoint never leaves a stale tail (JSON ignores the spaces).
 * A larger checkpoint (a run with many tasks) is replaced atomically through a temp file, so a
 * kill -9 leaves the previous checkpoint whole. If the file disappears (someone removed the
 * folder), it is created again. Checkpoints are private to their user (0600).
 */
export class CheckpointWriter {
  private fd: number | undefined;
  private length = 0;
  private scratch = Buffer.alloc(2048);
  readonly file: string;

  constructor(
    private readonly outputDir: string,
    runId: string,
  ) {
    this.file = path.join(checkpointDir(outputDir), checkpointFileName(runId));
  }

  write(checkpoint: RunCheckpoint): void {
    const text = JSON.stringify(checkpoint);
    const byteLength = Buffer.byteLength(text);
    if (byteLength > IN_PLACE_MAX_BYTES) {
      this.close();
      makeDirectorySync(checkpointDir(this.outputDir));
      writeFileAtomicSync(this.file, text, { mode: PRIVATE_MODE });
      return;
    }
    if (this.fd !== undefined && fs.fstatSync(this.fd).nlink === 0) this.close();
    if (this.fd === undefined) {
      makeDirectorySync(checkpointDir(this.outputDir));
      // Never truncated: a kill between a truncation and the write would leave an empty file.
      // Never through a symlink planted under the run's name.
      this.fd = fs.openSync(this.file, CHECKPOINT_OPEN_FLAGS, PRIVATE_MODE);
      const stat = fs.fstatSync(this.fd);
      if (!stat.isFile()) {
        this.close();
        throw new Error(`${this.file} is not a regular file`);
      }
      this.length = stat.size;
    }
    // One reused buffer: a fresh one per measurement was the largest allocation of a tick.
    const size = Math.max(byteLength, this.length);
    if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, 2 * this.scratch.length));
    this.scratch.write(text, 0, "utf8");
    this.scratch.fill(0x20, byteLength, size);
    fs.writeSync(this.fd, this.scratch, 0, size, 0);
    this.length = size;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
    this.fd = undefined;
  }
}

const PRIVATE_MODE = 0o600;
const CHECKPOINT_OPEN_FLAGS =
  fs.constants.O_RDWR | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

export async function removeCheckpoint(outputDir: string, runId: string): Promise<void> {
  try {
    await runStep(fsSteps.unlink(path.join(checkpointDir(outputDir), checkpointFileName(runId))));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Writes the rows of runs in `outputDir` whose process is gone, and deletes their checkpoints.
 * Runs of live processes are left alone, as are other hosts' runs unless untouched for a day.
 * A checkpoint that cannot be parsed is renamed to `<name>.corrupt`; a failure on one run is
 * logged and the others still recovered. Returns the runs whose rows were written.
 *
 * The CSV (and task CSV) are written next to the checkpoint, in `outputDir`, under the names
 * `csv` gives (the recovering tracker's configuration), whatever the dead run named: it may
 * have named a relative folder from another working directory, or been planted by someone else.
 */
export async function recoverOrphanedRuns(
  outputDir: string,
  csv: RecoveryTarget = DEFAULT_RECOVERY_TARGET,
): Promise<Array<{ runId: string; file: string }>> {
  const dir = checkpointDir(outputDir);
  let names: string[];
  try {
    names = await runStep(fsSteps.readdir(dir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const recovered: Array<{ runId: string; file: string }> = [];
  for (const name of names.sort()) {
    const current = path.join(dir, name);
    try {
      if (name.endsWith(".tmp")) {
        await removeIfOlderThan(current, ORPHAN_TEMP_MS);
        continue;
      }
      let checkpointFile: string;
      let claim: HeldFileLock | null;
      const abandonedClaim = LEGACY_CLAIM_PATTERN.exec(name);
      if (name.endsWith(CHECKPOINT_SUFFIX)) {
        checkpointFile = current;
        claim = await claimIfOrphaned(current);
      } else if (abandonedClaim !== null && isClaimantGone(abandonedClaim)) {
        checkpointFile = path.join(dir, abandonedClaim[1]!);
        claim = await takeOverLegacyClaim(current, checkpointFile);
      } else {
        continue;
      }
      if (claim === null) continue;
      const result = await recoverClaimed(checkpointFile, claim, recoveryTarget(outputDir, csv));
      if (result !== null) recovered.push({ runId: result.runId, file: result.file });
    } catch (error) {
      log.warning(`Could not recover the interrupted run in ${current}: ${String(error)}`);
    }
  }
  return recovered;
}

function isClaimantGone(match: RegExpExecArray): boolean {
  const [, , pid, startTime, hostname] = match;
  if (hostname !== safeHostname(os.hostname())) return false;
  return isLocalProcessGone({
    pid: Number(pid),
    hostname: os.hostname(),
    processStartTime: startTime === "none" ? null : (startTime ?? null),
  });
}

/** Takes the checkpoint's lock for this process; null when another holds it (or the folder is gone). */
async function claimCheckpoint(file: string): Promise<HeldFileLock | null> {
  try {
    const attempt = await tryLockFile(`${file}.lock`, CLAIM_POLICY);
    return "held" in attempt ? attempt.held : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Claims a checkpoint an earlier version's dead recovery had claimed, and gives it its name back. */
async function takeOverLegacyClaim(claimedFile: string, checkpointFile: string): Promise<HeldFileLock | null> {
  const claim = await claimCheckpoint(checkpointFile);
  if (claim === null) return null;
  try {
    await runStep(fsSteps.rename(claimedFile, checkpointFile));
    return claim;
  } catch (error) {
    await claim.release();
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function claimIfOrphaned(file: string): Promise<HeldFileLock | null> {
  const checkpoint = await readCheckpoint(file);
  if (checkpoint === null) return null;
  if (checkpoint.final === true) {
    // A stopped run whose row could not be written: its process will not write it again.
  } else if (checkpoint.hostname === os.hostname()) {
    if (!isLocalProcessGone(checkpoint)) return null;
  } else {
    const stat = await runStep(fsSteps.stat(file)).catch(() => null);
    if (stat === null) return null;
    const updatedMs = Date.parse(checkpoint.updatedAt);
    const lastSignOfLifeMs = Math.max(stat.mtimeMs, Number.isNaN(updatedMs) ? 0 : updatedMs);
    if (Date.now() - lastSignOfLifeMs <= OTHER_HOST_STALE_MS) return null;
  }
  return claimCheckpoint(file);
}

/**
 * Reads and validates a checkpoint; null when it is gone (claimed or removed meanwhile) or
 * corrupt, in which case it has been renamed out of the way and logged.
 */
async function readCheckpoint(file: string): Promise<RunCheckpoint | null> {
  let text: string;
  try {
    text = await readUntrustedFile(file, { ownedByMe: true, maxBytes: MAX_CHECKPOINT_BYTES });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    if (error instanceof UntrustedFileError) {
      // Not ours to read, nor to rename or remove: left as it is, and said once.
      log.once("warning", `checkpoint-untrusted:${file}`, `Ignoring the run checkpoint ${error.message}.`);
      return null;
    }
    throw error;
  }
  let problem: string;
  try {
    const checked = validateCheckpoint(JSON.parse(text), runIdOfFile(file));
    if (typeof checked !== "string") return checked;
    problem = checked;
  } catch (error) {
    problem = `not JSON (${(error as Error).message})`;
  }
  const corrupt = `${file}.corrupt`;
  await runStep(fsSteps.rename(file, corrupt)).catch(() => undefined);
  log.warning(`Ignoring the unreadable run checkpoint ${file}: ${problem}. It was renamed to ${corrupt}.`);
  return null;
}

/**
 * Writes one run's checkpoint now, whatever the state of its process: for a tracker whose
 * sampler thread died, so its run is not left waiting for the whole process to end. Returns the
 * row written, or null when there was no checkpoint (or its row was already in the CSV).
 */
export async function recoverRun(
  outputDir: string,
  runId: string,
  csv: RecoveryTarget = DEFAULT_RECOVERY_TARGET,
): Promise<EmissionsData | null> {
  const file = path.join(checkpointDir(outputDir), checkpointFileName(runId));
  const claim = await claimCheckpoint(file);
  if (claim === null) return null;
  return (await recoverClaimed(file, claim, recoveryTarget(outputDir, csv)))?.row ?? null;
}

/**
 * Writes a claimed checkpoint's rows and removes it. On failure the checkpoint stays where it
 * is and the claim is given up, so that a later run tries again.
 */
async function recoverClaimed(
  file: string,
  claim: HeldFileLock,
  target: CsvTarget,
): Promise<{ runId: string; file: string; row: EmissionsData } | null> {
  try {
    // Read again: under the claim this is the latest content, and the checkpoint is gone when
    // another recovery wrote it since it was first read.
    const checkpoint = await readCheckpoint(file);
    if (checkpoint === null) return null;
    const { outputDir } = target;
    const csvFile = path.join(outputDir, target.outputFile);
    let written = false;
    if (await holdsRowAtLeastAsRecent(csvFile, checkpoint.row)) {
      // The run got as far as writing its final row, and died before removing its checkpoint.
      log.debug(`The row of run ${checkpoint.runId} is already in ${csvFile}.`);
    } else {
      await writeEmissionsRow(checkpoint.row, target);
      written = true;
    }
    if (checkpoint.taskFile !== null && checkpoint.taskRows.length > 0) {
      await writeTaskRows(checkpoint.taskRows, path.join(outputDir, checkpoint.taskFile), target);
    }
    await runStep(fsSteps.unlink(file)).catch(() => undefined);
    return written ? { runId: checkpoint.runId, file: csvFile, row: checkpoint.row } : null;
  } finally {
    await claim.release();
  }
}

/** Whether the CSV already has a row of this run covering at least the checkpoint's duration. */
async function holdsRowAtLeastAsRecent(csvFile: string, row: EmissionsData): Promise<boolean> {
  let rows: Array<Record<string, string>>;
  try {
    rows = await readEmissionsCsv(csvFile);
  } catch {
    return false;
  }
  return rows.some((r) => r["run_id"] === row.run_id && Number(r["duration"]) >= row.duration);
}

async function removeIfOlderThan(file: string, ageMs: number): Promise<void> {
  const stat = await runStep(fsSteps.stat(file)).catch(() => null);
  if (stat !== null && Date.now() - stat.mtimeMs > ageMs) await runStep(fsSteps.unlink(file)).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Validation: a checkpoint may come from another version, another host or a damaged disk.

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A row's cells: each a string, a finite number or null (a missing column reads as null). */
function validateCells(
  value: unknown,
  columns: readonly string[],
  what: string,
): Record<string, CsvCellValue> | string {
  if (!isRecord(value)) return `${what} is not an object`;
  const cells: Record<string, CsvCellValue> = {};
  for (const column of columns) {
    const cell = value[column];
    if (cell === undefined || cell === null) cells[column] = null;
    else if (typeof cell === "number" && Number.isFinite(cell)) cells[column] = cell;
    else if (typeof cell === "string") {
      if (cell.length > MAX_CELL_CHARS) return `${what}.${column} is longer than ${MAX_CELL_CHARS} characters`;
      cells[column] = cell;
    } else return `${what}.${column} is neither a string nor a number`;
  }
  return cells;
}

/** The run id a checkpoint's file name was made from (`checkpointFileName`), or null for a legacy claim. */
function runIdOfFile(file: string): string | null {
  const name = path.basename(file);
  return name.endsWith(CHECKPOINT_SUFFIX) ? name.slice(0, -CHECKPOINT_SUFFIX.length) : null;
}

/**
 * The task CSV a checkpoint names, as a bare file name in the checkpoint's own folder: CodeCarbon's
 * `emissions_<experiment>_<run_id>.csv`, and nothing that could name another folder or file.
 */
function safeTaskFileName(taskFile: string, runId: string): string | null {
  const name = path.basename(taskFile.replace(/\\/g, "/"));
  if (!name.startsWith("emissions_") || !name.endsWith(`_${runId}.csv`)) return null;
  if (!/^[^/\\\0]+$/.test(name) || name.length > 255) return null;
  return name;
}

const MAX_TASK_ROWS = 100_000;

function validateCheckpoint(value: unknown, fileRunId: string | null): RunCheckpoint | string {
  if (!isRecord(value)) return "not an object";
  if (value["version"] !== 1) return `unknown version ${JSON.stringify(value["version"])}`;
  const { runId, pid, hostname, processStartTime, target, row, taskRows, taskFile, updatedAt, final } = value;
  if (typeof runId !== "string" || runId === "") return "runId is missing";
  if (fileRunId !== null && checkpointFileName(runId) !== `${fileRunId}${CHECKPOINT_SUFFIX}`)
    return "runId does not match the file name";
  if (final !== undefined && typeof final !== "boolean") return "final is not a boolean";
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return "pid is not a positive integer";
  if (typeof hostname !== "string") return "hostname is missing";
  if (processStartTime !== null && typeof processStartTime !== "string")
    return "processStartTime is neither a string nor null";
  if (typeof updatedAt !== "string") return "updatedAt is missing";
  if (taskFile !== null && typeof taskFile !== "string") return "taskFile is neither a string nor null";
  const taskFileName = taskFile === null ? null : safeTaskFileName(taskFile, runId);
  if (taskFile !== null && taskFileName === null) return "taskFile is not a task CSV name of this run";
  // Where the dead run wanted its CSV is recorded only; recovery writes the recovering tracker's CSV.
  const recorded = isRecord(target) ? target : {};
  const outputFile = typeof recorded["outputFile"] === "string" ? recorded["outputFile"] : "";
  const outputDir = typeof recorded["outputDir"] === "string" ? recorded["outputDir"] : "";
  const onCsvWrite = recorded["onCsvWrite"] === "update" ? "update" : "append";

  const cells = validateCells(row, CSV_COLUMNS, "row");
  if (typeof cells === "string") return cells;
  if (typeof cells["run_id"] !== "string") return "row.run_id is not a string";
  if (cells["run_id"] !== runId) return "row.run_id is not the checkpoint's runId";
  if (typeof cells["duration"] !== "number") return "row.duration is not a number";
  if (!Array.isArray(taskRows)) return "taskRows is not an array";
  if (taskRows.length > MAX_TASK_ROWS) return `taskRows has more than ${MAX_TASK_ROWS} rows`;
  const tasks: Array<Record<string, CsvCellValue>> = [];
  for (const [index, taskRow] of taskRows.entries()) {
    const taskCells = validateCells(taskRow, TASK_CSV_COLUMNS, `taskRows[${index}]`);
    if (typeof taskCells === "string") return taskCells;
    tasks.push(taskCells);
  }
  return {
    version: 1,
    runId,
    pid,
    hostname,
    processStartTime,
    target: { outputDir, outputFile, onCsvWrite },
    // The writer only needs string/number/null cells, which is what was checked; a cell may be
    // null where the type says number (a damaged or older checkpoint), and is then left empty.
    row: cells as unknown as EmissionsData,
    taskRows: tasks as unknown as TaskEmissionsData[],
    taskFile: taskFileName,
    updatedAt,
    ...(final === true ? { final: true } : {}),
  };
}
