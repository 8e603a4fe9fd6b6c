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
import * as path from "node:path";
import { randomBytesFromSystem } from "./random-id";
import { errorCode, fsSteps, perform, runAsync, runBlocking, unlinkQuietly, type FsProcedure } from "./fs-procedure";

/** Windows refuses to replace a file another process has open (a viewer, an antivirus) for a moment. */
const RENAME_RETRY_CODES = new Set(["EPERM", "EACCES", "EBUSY"]);
const RENAME_RETRY_DELAYS_MS = [10, 30, 60, 100, 200, 400];

function tempPathFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytesFromSystem(4).toString("hex")}.tmp`,
  );
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

export interface AtomicWriteOptions {
  /** Permission bits of a new file (an existing file keeps its own); default 0o666 less the umask. */
  mode?: number;
  /**
   * Runs just before the new content replaces the old: throwing there leaves the old file as it
   * is. A writer that holds a lock checks here that the lock is still its own.
   */
  beforeCommit?: () => FsProcedure<void>;
  /**
   * Create the file only if there is none (a hard link, which fails when the name is taken):
   * throws an error with code EEXIST, and never replaces a file another writer just made.
   */
  exclusive?: boolean;
}

/** File systems without hard links (FAT, some network shares) answer these to link(). */
const NO_LINK_CODES = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

function* writeFileAtomically(file: string, data: string | Uint8Array, options: AtomicWriteOptions): FsProcedure<void> {
  const temp = tempPathFor(file);
  const mode = existingMode(file) ?? options.mode;
  try {
    const fd = yield* perform(fsSteps.open(temp, "wx"));
    try {
      if (mode !== undefined) yield* perform(fsSteps.fchmod(fd, mode));
      yield* perform(fsSteps.writeAll(fd, data));
      yield* perform(fsSteps.fsync(fd));
    } finally {
      yield* perform(fsSteps.close(fd));
    }
    if (options.beforeCommit) yield* options.beforeCommit();
    if (options.exclusive) {
      let linked = true;
      try {
        yield* perform(fsSteps.link(temp, file));
      } catch (error) {
        if (!NO_LINK_CODES.has(errorCode(error) ?? "")) throw error;
        linked = false;
      }
      if (linked) {
        yield* unlinkQuietly(temp);
        syncDirectoryBestEffort(path.dirname(file));
        return;
      }
      // No hard links here: the next best, a check just before the rename.
      let taken = true;
      try {
        yield* perform(fsSteps.lstat(file));
      } catch {
        taken = false;
      }
      if (taken) throw Object.assign(new Error(`EEXIST: ${file} was created meanwhile`), { code: "EEXIST" });
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

export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await runAsync(writeFileAtomically(file, data, options));
}

/** The same as `writeFileAtomic`, blocking. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  runBlocking(writeFileAtomically(file, data, options));
}

/**
 * `mkdir -p`, one folder at a time from the root, so it takes at most one step per path
 * component. Node's recursive mkdir retries ENOENT forever in some places (a relative path whose
 * working folder was deleted, or under `/proc`, where a folder exists yet nothing may be created
 * in it): a core at 100 % and a `stop()` that never returns. Here each of those is an error that
 * names the path. The result must be a folder this process can write into.
 */
function* makeDirectoryProcedure(dir: string): FsProcedure<void> {
  const target = path.resolve(dir);
  const { root } = path.parse(target);
  const parts = target
    .slice(root.length)
    .split(path.sep)
    .filter((part) => part !== "");
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    let stat: fs.Stats | null = null;
    try {
      stat = yield* perform(fsSteps.stat(current));
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
    }
    if (stat !== null) {
      if (!stat.isDirectory()) throw fsError("ENOTDIR", `${current} is not a folder`);
      continue;
    }
    try {
      yield* perform(fsSteps.mkdir(current));
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
      const raced = yield* perform(fsSteps.stat(current));
      if (!raced.isDirectory()) throw fsError("ENOTDIR", `${current} is not a folder`);
    }
  }
  yield* perform(fsSteps.accessWritable(target));
}

function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export function makeDirectorySync(dir: string): void {
  runBlocking(makeDirectoryProcedure(dir));
}

export async function makeDirectory(dir: string): Promise<void> {
  await runAsync(makeDirectoryProcedure(dir));
}
