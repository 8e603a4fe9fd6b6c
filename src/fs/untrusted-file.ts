/**
 * Reading a file that someone else may have planted. Output and notebook folders are shared
 * (group projects, `/tmp`, network drives), so a checkpoint, a spool, a lock or a config file
 * may be a symlink to somewhere else, a FIFO that blocks a plain read forever, a device, a
 * gigabyte of junk, or a file another user wrote for this tracker to trust. Every such read
 * goes through here: the file is opened without following a final symlink and without
 * blocking, checked to be a regular file (of this user, where asked) and read up to a limit.
 */
import * as fs from "node:fs";
import { promisify } from "node:util";
import { fileCallsBlock } from "./thread-mode";

export class UntrustedFileError extends Error {
  override name = "UntrustedFileError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file} ${reason}`);
  }
}

export interface UntrustedReadOptions {
  /** Refuse files larger than this (default 16 MiB). */
  maxBytes?: number;
  /** Refuse files owned by another user (POSIX only). */
  ownedByMe?: boolean;
  /** Read through a symlink (a config file kept in a dotfiles folder); default false. */
  followSymlinks?: boolean;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
// O_NOFOLLOW and O_NONBLOCK are 0 on Windows, where neither symlinks nor FIFOs are met this way.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);
const FOLLOW_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);
const flagsFor = (options: UntrustedReadOptions) => (options.followSymlinks ? FOLLOW_FLAGS : OPEN_FLAGS);

/** Why `stat` must not be trusted, or null when it may be read. */
function refusal(stat: fs.Stats, options: UntrustedReadOptions): string | null {
  if (!stat.isFile()) return "is not a regular file";
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (stat.size > maxBytes) return `is larger than ${maxBytes} bytes`;
  const uid = process.getuid?.();
  if (options.ownedByMe && uid !== undefined && stat.uid !== uid) return `belongs to another user (uid ${stat.uid})`;
  return null;
}

function openError(file: string, error: unknown): unknown {
  // ELOOP: the last component is a symlink (O_NOFOLLOW); ENXIO: a socket or a FIFO with no writer.
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return new UntrustedFileError(file, "is a symbolic link");
  if (code === "ENXIO") return new UntrustedFileError(file, "is not a regular file");
  return error;
}

/** Reads a regular file as UTF-8; throws `UntrustedFileError` for anything else (ENOENT as usual). */
export function readUntrustedFileSync(file: string, options: UntrustedReadOptions = {}): string {
  let fd: number;
  try {
    fd = fs.openSync(file, flagsFor(options));
  } catch (error) {
    throw openError(file, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    const why = refusal(stat, options);
    if (why !== null) throw new UntrustedFileError(file, why);
    return fs.readFileSync(fd, "utf8");
  } finally {
    fs.closeSync(fd);
  }
}

const openAsync = promisify(fs.open);
const fstatAsync = promisify(fs.fstat);
const closeAsync = promisify(fs.close);
const readFileAsync = promisify(fs.readFile);

/** The same as `readUntrustedFileSync`, without blocking the thread. */
export async function readUntrustedFile(file: string, options: UntrustedReadOptions = {}): Promise<string> {
  if (fileCallsBlock()) return readUntrustedFileSync(file, options);
  let fd: number;
  try {
    fd = await openAsync(file, flagsFor(options));
  } catch (error) {
    throw openError(file, error);
  }
  try {
    const stat = await fstatAsync(fd);
    const why = refusal(stat, options);
    if (why !== null) throw new UntrustedFileError(file, why);
    return await readFileAsync(fd, "utf8");
  } finally {
    await closeAsync(fd);
  }
}

/** The same check without reading: for files about to be removed or replaced (never following a symlink). */
export function isOwnRegularFileSync(file: string): boolean {
  try {
    const stat = fs.lstatSync(file);
    const uid = process.getuid?.();
    return stat.isFile() && (uid === undefined || stat.uid === uid);
  } catch {
    return false;
  }
}
