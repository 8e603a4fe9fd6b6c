/**
 * Crash-safe file replacement.
 *
 * A file is never written in place: the new content goes to a temp file in the same folder, is
 * flushed to disk, then renamed over the old one, so a reader (or a process killed mid-write)
 * only ever sees the old or the new file whole. Writers of the same file (several notebooks, a
 * CLI run, a recovery) hold its lock (`./file-lock`) around read-modify-write cycles, so no row
 * is lost.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { errorCode, fsSteps, perform, runAsync, runBlocking, unlinkQuietly, type FsProcedure } from "./fs-procedure";

/** Windows refuses to replace a file another process has open (a viewer, an antivirus) for a moment. */
const RENAME_RETRY_CODES = new Set(["EPERM", "EACCES", "EBUSY"]);
const RENAME_RETRY_DELAYS_MS = [10, 30, 60, 100, 200, 400];

function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** The existing file's permission bits, so replacing a file does not change who may read it. */
function existingMode(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Makes the rename itself durable; not possible (nor needed) on Windows. */
function syncDirectoryBestEffort(dir: string): void {
  if (process.platform === "win32") return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse to fsync a directory; the data itself is already on disk.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function* writeFileAtomically(file: string, data: string | Uint8Array): FsProcedure<void> {
  const temp = tempPathFor(file);
  const mode = existingMode(file);
  try {
    const fd = yield* perform(fsSteps.open(temp, "wx"));
    try {
      if (mode !== undefined) yield* perform(fsSteps.fchmod(fd, mode));
      yield* perform(fsSteps.writeAll(fd, data));
      yield* perform(fsSteps.fsync(fd));
    } finally {
      yield* perform(fsSteps.close(fd));
    }
    for (let attempt = 0; ; attempt++) {
      try {
        yield* perform(fsSteps.rename(temp, file));
        break;
      } catch (error) {
        const delayMs = RENAME_RETRY_DELAYS_MS[attempt];
        if (process.platform !== "win32" || delayMs === undefined || !RENAME_RETRY_CODES.has(errorCode(error) ?? ""))
          throw error;
        yield* perform(fsSteps.sleep(delayMs));
      }
    }
  } catch (error) {
    yield* unlinkQuietly(temp);
    throw error;
  }
  syncDirectoryBestEffort(path.dirname(file));
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await runAsync(writeFileAtomically(file, data));
}

/** The same as `writeFileAtomic`, blocking. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  runBlocking(writeFileAtomically(file, data));
}

/**
 * `mkdir -p`, from an absolute path. Node's recursive mkdir of a relative path never returns
 * once the working folder is deleted (it retries ENOENT forever, a core at 100 %); resolving
 * first turns that case into an ordinary ENOENT error the caller logs.
 */
export function makeDirectorySync(dir: string): void {
  fs.mkdirSync(path.resolve(dir), { recursive: true });
}

export async function makeDirectory(dir: string): Promise<void> {
  await fsp.mkdir(path.resolve(dir), { recursive: true });
}
