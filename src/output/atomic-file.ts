/**
 * Crash-safe file replacement and an advisory lock shared by every process writing one file.
 *
 * A file is never written in place: the new content goes to a temp file in the same folder, is
 * flushed to disk, then renamed over the old one, so a reader (or a process killed mid-write)
 * only ever sees the old or the new file whole. Writers of the same file (several notebooks, a
 * CLI run, a recovery) take `<file>.lock` first, so read-modify-write cycles never lose a row.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { log } from "../log";
import { currentProcessIdentity, isLocalProcessGone, type ProcessIdentity } from "./process-identity";

/** Windows refuses to replace a file another process has open (a viewer, an antivirus) for a moment. */
const RENAME_RETRY_CODES = new Set(["EPERM", "EACCES", "EBUSY"]);
const RENAME_RETRY_DELAYS_MS = [10, 30, 60, 100, 200, 400];

function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

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

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(file);
  const mode = existingMode(file);
  try {
    const handle = await fsp.open(temp, "wx");
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rename(temp, file);
        break;
      } catch (error) {
        const delayMs = RENAME_RETRY_DELAYS_MS[attempt];
        if (process.platform !== "win32" || delayMs === undefined || !RENAME_RETRY_CODES.has(errorCode(error) ?? "")) throw error;
        await sleep(delayMs);
      }
    }
  } catch (error) {
    await fsp.unlink(temp).catch(() => undefined);
    throw error;
  }
  syncDirectoryBestEffort(path.dirname(file));
}

/** The same as `writeFileAtomic`, blocking. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const temp = tempPathFor(file);
  const mode = existingMode(file);
  try {
    const fd = fs.openSync(temp, "wx");
    try {
      if (mode !== undefined) fs.fchmodSync(fd, mode);
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        fs.renameSync(temp, file);
        break;
      } catch (error) {
        const delayMs = RENAME_RETRY_DELAYS_MS[attempt];
        if (process.platform !== "win32" || delayMs === undefined || !RENAME_RETRY_CODES.has(errorCode(error) ?? "")) throw error;
        sleepSync(delayMs);
      }
    }
  } catch (error) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // Already renamed, or never created.
    }
    throw error;
  }
  syncDirectoryBestEffort(path.dirname(file));
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---------------------------------------------------------------------------------------------
// Advisory lock

export interface FileLockOptions {
  /** How long to wait for another holder before giving up (default 10 s). */
  timeoutMs?: number;
  /** A lock older than this is taken to be abandoned, whoever holds it (default 60 s). */
  staleMs?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_STALE_MS = 60_000;
/** A lock without readable content is only empty between its creation and its first write. */
const UNREADABLE_LOCK_GRACE_MS = 5_000;
/** The short-lived file that lets only one waiter at a time break a stale lock. */
const BREAKER_STALE_MS = 5_000;

interface LockOwner extends ProcessIdentity {
  createdAt: string;
  /** Tells this acquisition apart from any later one, so a release never removes another's lock. */
  token: string;
}

interface LockState {
  stat: fs.Stats;
  owner: LockOwner | null;
}

/** Holders in this thread queue here first, so they do not poll the lock file against each other. */
const localQueues = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding `<file>.lock`, a file created exclusively (O_EXCL) that holds
 * `{pid, hostname, processStartTime, createdAt, token}`. Waits with short, growing pauses while
 * another process holds it, and breaks a lock whose holder is gone (a dead pid on this host) or
 * that is older than `staleMs`. Rejects when the lock cannot be had within `timeoutMs`.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const lockPath = `${path.resolve(file)}.lock`;
  const previous = localQueues.get(lockPath) ?? Promise.resolve();
  let finishLocal!: () => void;
  const finished = new Promise<void>((resolve) => (finishLocal = resolve));
  const mine = previous.then(() => finished);
  localQueues.set(lockPath, mine);
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  // A holder in this thread that never finishes must not hold the others forever: past the
  // deadline they go on to the lock file, which then times out or is found stale.
  await waitAtMost(previous, timeoutMs);
  try {
    const owner = await acquireLock(lockPath, deadline, timeoutMs, options.staleMs ?? DEFAULT_LOCK_STALE_MS);
    try {
      return await fn();
    } finally {
      await releaseLock(lockPath, owner);
    }
  } finally {
    finishLocal();
    if (localQueues.get(lockPath) === mine) localQueues.delete(lockPath);
  }
}

async function waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function acquireLock(lockPath: string, deadline: number, timeoutMs: number, staleMs: number): Promise<LockOwner> {
  let pauseMs = 5;
  for (;;) {
    const owner: LockOwner = { ...currentProcessIdentity(), createdAt: new Date().toISOString(), token: randomUUID() };
    if (await tryCreateLock(lockPath, owner)) return owner;
    if (await breakLockIfStale(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) {
      const holder = (await inspectLock(lockPath))?.owner;
      const who = holder ? `pid ${holder.pid} on ${holder.hostname} since ${holder.createdAt}` : "an unknown holder";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for the lock ${lockPath}, held by ${who}.`);
    }
    await sleep(pauseMs + Math.random() * pauseMs);
    pauseMs = Math.min(pauseMs * 2, 100);
  }
}

async function tryCreateLock(lockPath: string, owner: LockOwner): Promise<boolean> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(lockPath, "wx");
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
    await handle.close();
    return true;
  } catch (error) {
    await handle.close().catch(() => undefined);
    // An empty lock would block everyone for the grace period: take it back.
    await fsp.unlink(lockPath).catch(() => undefined);
    throw error;
  }
}

async function inspectLock(lockPath: string): Promise<LockState | null> {
  try {
    const stat = await fsp.stat(lockPath);
    const text = await fsp.readFile(lockPath, "utf8");
    return { stat, owner: parseLockOwner(text) };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null;
    throw error;
  }
}

function parseLockOwner(text: string): LockOwner | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const o = parsed as Record<string, unknown>;
  const { pid, hostname, processStartTime, createdAt, token } = o;
  if (typeof pid !== "number" || typeof hostname !== "string" || typeof createdAt !== "string") return null;
  return {
    pid,
    hostname,
    processStartTime: typeof processStartTime === "string" ? processStartTime : null,
    createdAt,
    token: typeof token === "string" ? token : "",
  };
}

function isLockStale(state: LockState, staleMs: number): boolean {
  const now = Date.now();
  if (state.owner === null) return now - state.stat.mtimeMs > UNREADABLE_LOCK_GRACE_MS;
  if (isLocalProcessGone(state.owner)) return true;
  // The later of the two clocks, so a skewed clock on another host never makes a lock look old.
  const createdMs = Date.parse(state.owner.createdAt);
  const ageMs = now - Math.max(Number.isNaN(createdMs) ? 0 : createdMs, state.stat.mtimeMs);
  return ageMs > staleMs;
}

/**
 * Removes the lock when it is stale; returns true when the caller should retry at once. Waiters
 * break a lock one at a time (through `<lock>.break`) and re-check it just before removing it, so
 * two waiters that both judged it stale cannot remove a fresh lock taken in between.
 */
async function breakLockIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const judged = await inspectLock(lockPath);
  if (judged === null) return true;
  if (!isLockStale(judged, staleMs)) return false;

  const breakerPath = `${lockPath}.break`;
  let breaker: fsp.FileHandle;
  try {
    breaker = await fsp.open(breakerPath, "wx");
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    const breakerStat = await fsp.stat(breakerPath).catch(() => null);
    if (breakerStat !== null && Date.now() - breakerStat.mtimeMs > BREAKER_STALE_MS) await fsp.unlink(breakerPath).catch(() => undefined);
    return false;
  }
  try {
    await breaker.close();
    const now = await inspectLock(lockPath);
    if (now === null) return true;
    const sameLock = now.stat.ino === judged.stat.ino && now.stat.mtimeMs === judged.stat.mtimeMs && now.owner?.token === judged.owner?.token;
    if (sameLock && isLockStale(now, staleMs)) {
      await fsp.unlink(lockPath).catch(() => undefined);
      const who = now.owner ? `pid ${now.owner.pid} on ${now.owner.hostname}, ${now.owner.createdAt}` : "no readable owner";
      log.warning(`Removed the abandoned lock ${lockPath} (${who}).`);
    }
    return true;
  } finally {
    await fsp.unlink(breakerPath).catch(() => undefined);
  }
}

async function releaseLock(lockPath: string, owner: LockOwner): Promise<void> {
  const state = await inspectLock(lockPath).catch(() => null);
  if (state?.owner?.token === owner.token) {
    await fsp.unlink(lockPath).catch(() => undefined);
  } else {
    log.warning(`The lock ${lockPath} was taken over while this process held it (it was held past the stale limit).`);
  }
}
