/**
 * The advisory lock every process of this package uses: around read-modify-write cycles of a
 * shared file (`withFileLock`), for one tracker per machine (`allow_multiple_runs = false`), and
 * for one recovery per interrupted run.
 *
 * A lock is a file created exclusively (O_EXCL) that records its owner as JSON:
 * `{pid, hostname, processStartTime, createdAt, token, ...details}`. A waiter takes over a lock
 * whose owner is gone (a dead pid on this host, or the pid now belongs to another process), that
 * is older than the caller's stale limit, or that stayed unreadable past a grace period. Waiters
 * break a stale lock one at a time (through `<lock>.break`) and re-check it just before removing
 * it, so two waiters that both judged it stale cannot remove a fresh lock taken in between.
 *
 * Acquisition and release are written once (`./fs-procedure`) and run blocking or async.
 */
import type * as fs from "node:fs";
import * as path from "node:path";
import { randomUuid } from "./random-id";
import { log } from "../log";
import { errorCode, fsSteps, perform, runAsync, runBlocking, unlinkQuietly, type FsProcedure } from "./fs-procedure";
import { UntrustedFileError } from "./untrusted-file";
import { currentProcessIdentity, isLocalProcessGone, type ProcessIdentity } from "./process-identity";

export interface FileLockOptions {
  /** How long to wait for another holder before giving up (default 10 s); 0 tries once. */
  timeoutMs?: number;
  /**
   * A lock older than this is taken to be abandoned, whoever holds it (default 60 s). `Infinity`
   * for a lock held for a whole run: only an owner that is gone makes it stale.
   */
  staleMs?: number;
  /** A lock without a readable owner is only empty between its creation and its first write (default 5 s). */
  unreadableGraceMs?: number;
  /** More fields recorded in the lock next to its owner (a run id), for whoever finds it held. */
  details?: Record<string, string>;
  /** How taking over an abandoned lock, or finding one's own lock taken over, is logged (default warning). */
  takeoverLogLevel?: "warning" | "debug";
}

/** Who holds a lock. */
export interface LockOwner extends ProcessIdentity {
  createdAt: string;
  /** Tells this acquisition apart from any later one, so a release never removes another's lock. */
  token: string;
  /** The holder's `details`. */
  details: Record<string, string>;
}

export interface HeldFileLock {
  readonly lockPath: string;
  readonly owner: LockOwner;
  release(): Promise<void>;
  releaseSync(): void;
}

/** The lock, or who holds it (null when its owner cannot be read, or it vanished meanwhile). */
export type FileLockAttempt = { held: HeldFileLock } | { heldBy: LockOwner | null };

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_STALE_MS = 60_000;
const DEFAULT_UNREADABLE_GRACE_MS = 5_000;
/** The short-lived file that lets only one waiter at a time break a stale lock. */
const BREAKER_STALE_MS = 5_000;

interface LockPolicy {
  staleMs: number;
  unreadableGraceMs: number;
  details: Record<string, string>;
  takeoverLogLevel: "warning" | "debug";
}

interface LockState {
  stat: fs.Stats;
  owner: LockOwner | null;
}

function policyOf(options: FileLockOptions): LockPolicy {
  return {
    staleMs: options.staleMs ?? DEFAULT_LOCK_STALE_MS,
    unreadableGraceMs: options.unreadableGraceMs ?? DEFAULT_UNREADABLE_GRACE_MS,
    details: options.details ?? {},
    takeoverLogLevel: options.takeoverLogLevel ?? "warning",
  };
}

/** Takes the lock file `lockPath`, waiting up to `timeoutMs` for a live holder. */
export async function tryLockFile(lockPath: string, options: FileLockOptions = {}): Promise<FileLockAttempt> {
  const policy = policyOf(options);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  return heldLockOf(lockPath, policy, await runAsync(acquire(lockPath, policy, deadline)));
}

/** The same as `tryLockFile`, blocking (waiting, if it must, blocks the thread). */
export function tryLockFileSync(lockPath: string, options: FileLockOptions = {}): FileLockAttempt {
  const policy = policyOf(options);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  return heldLockOf(lockPath, policy, runBlocking(acquire(lockPath, policy, deadline)));
}

function heldLockOf(
  lockPath: string,
  policy: LockPolicy,
  outcome: { owner: LockOwner } | { heldBy: LockOwner | null },
): FileLockAttempt {
  if (!("owner" in outcome)) return outcome;
  const { owner } = outcome;
  return {
    held: {
      lockPath,
      owner,
      release: () => runAsync(release(lockPath, owner, policy)),
      releaseSync: () => runBlocking(release(lockPath, owner, policy)),
    },
  };
}

/** The lock was taken over (its holder was paused past the stale limit): what it guarded may have changed. */
export class LockLostError extends Error {
  override name = "LockLostError";
  readonly code = "ELOCKLOST";
}

/** Handed to a `withFileLock` callback: checks, just before a commit, that the lock is still its own. */
export interface LockGuard {
  /** A procedure for `writeFileAtomic`'s `beforeCommit`: throws `LockLostError` when the lock was taken over. */
  assertHeld(): FsProcedure<void>;
}

function* assertStillHeld(lockPath: string, owner: LockOwner): FsProcedure<void> {
  let state: LockState | null = null;
  try {
    state = yield* inspect(lockPath);
  } catch {
    // Unreadable: not provably ours.
  }
  if (state?.owner?.token !== owner.token)
    throw new LockLostError(`The lock ${lockPath} was taken over while this process held it; nothing was written.`);
}

/** Holders in this thread queue here first, so they do not poll the lock file against each other. */
const localQueues = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding `<file>.lock`. Waits with short, growing pauses while another process
 * holds it, and breaks a lock whose holder is gone or that is older than `staleMs`. Rejects when
 * the lock cannot be had within `timeoutMs`.
 */
export async function withFileLock<T>(
  file: string,
  fn: (guard: LockGuard) => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
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
    const policy = policyOf(options);
    const outcome = await runAsync(acquire(lockPath, policy, deadline));
    if (!("owner" in outcome)) {
      const holder = outcome.heldBy;
      const who = holder ? `pid ${holder.pid} on ${holder.hostname} since ${holder.createdAt}` : "an unknown holder";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for the lock ${lockPath}, held by ${who}.`);
    }
    const owner = outcome.owner;
    try {
      return await fn({ assertHeld: () => assertStillHeld(lockPath, owner) });
    } finally {
      await runAsync(release(lockPath, owner, policy));
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

function* acquire(
  lockPath: string,
  policy: LockPolicy,
  deadline: number,
): FsProcedure<{ owner: LockOwner } | { heldBy: LockOwner | null }> {
  let pauseMs = 5;
  for (;;) {
    const owner: LockOwner = {
      ...currentProcessIdentity(),
      createdAt: new Date().toISOString(),
      token: randomUuid(),
      details: policy.details,
    };
    if (yield* tryCreate(lockPath, owner)) return { owner };
    const verdict = yield* breakIfStale(lockPath, policy);
    if (verdict === "free") continue;
    // A waiter busy breaking the lock is done within moments; waiting for it is not waiting
    // for the holder (and a breaker left by a killed waiter is removed once old).
    if (verdict === "held" && Date.now() >= deadline) {
      const state = yield* inspect(lockPath);
      return { heldBy: state?.owner ?? null };
    }
    yield* perform(fsSteps.sleep(pauseMs + Math.random() * pauseMs));
    pauseMs = Math.min(pauseMs * 2, 100);
  }
}

function* tryCreate(lockPath: string, owner: LockOwner): FsProcedure<boolean> {
  let fd: number;
  try {
    fd = yield* perform(fsSteps.open(lockPath, "wx"));
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  let closed = false;
  try {
    const { details, ...identity } = owner;
    yield* perform(fsSteps.writeAll(fd, JSON.stringify({ ...details, ...identity })));
    closed = true;
    yield* perform(fsSteps.close(fd));
    return true;
  } catch (error) {
    if (!closed) {
      try {
        yield* perform(fsSteps.close(fd));
      } catch {
        // The write's error is the one worth reporting.
      }
    }
    // An empty lock would block everyone for the grace period: take it back.
    yield* unlinkQuietly(lockPath);
    throw error;
  }
}

function* inspect(lockPath: string): FsProcedure<LockState | null> {
  try {
    // lstat: a planted symlink is judged itself, never whatever it points at.
    const stat = yield* perform(fsSteps.lstat(lockPath));
    let text: string;
    try {
      text = yield* perform(fsSteps.readText(lockPath));
    } catch (error) {
      // A planted symlink, FIFO or huge file: an unreadable owner, removed once the grace period is over.
      if (error instanceof UntrustedFileError) return { stat, owner: null };
      throw error;
    }
    return { stat, owner: parseLockOwner(text, stat.mtimeMs) };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null;
    throw error;
  }
}

const OWNER_FIELDS = new Set(["pid", "hostname", "processStartTime", "createdAt", "token"]);

/** A lock written without `createdAt` (an older version's single-run lock) dates from its mtime. */
function parseLockOwner(text: string, mtimeMs: number): LockOwner | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  const fields = parsed as Record<string, unknown>;
  const { pid, hostname, processStartTime, createdAt, token } = fields;
  if (typeof pid !== "number" || typeof hostname !== "string") return null;
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields))
    if (!OWNER_FIELDS.has(key) && typeof value === "string") details[key] = value;
  return {
    pid,
    hostname,
    processStartTime: typeof processStartTime === "string" ? processStartTime : null,
    createdAt: typeof createdAt === "string" ? createdAt : new Date(mtimeMs).toISOString(),
    token: typeof token === "string" ? token : "",
    details,
  };
}

function isLockStale(state: LockState, policy: LockPolicy): boolean {
  const now = Date.now();
  if (state.owner === null) return policy.unreadableGraceMs <= 0 || now - state.stat.mtimeMs > policy.unreadableGraceMs;
  if (isLocalProcessGone(state.owner)) return true;
  // The later of the two clocks, so a skewed clock on another host never makes a lock look old.
  const createdMs = Date.parse(state.owner.createdAt);
  const ageMs = now - Math.max(Number.isNaN(createdMs) ? 0 : createdMs, state.stat.mtimeMs);
  return ageMs > policy.staleMs;
}

/**
 * Removes the lock when it is stale. "free": the lock is gone, try again at once; "held": its
 * holder is alive; "busy": another waiter is breaking it.
 */
function* breakIfStale(lockPath: string, policy: LockPolicy): FsProcedure<"free" | "held" | "busy"> {
  const judged = yield* inspect(lockPath);
  if (judged === null) return "free";
  if (!isLockStale(judged, policy)) return "held";

  const breakerPath = `${lockPath}.break`;
  let breaker: number;
  try {
    breaker = yield* perform(fsSteps.open(breakerPath, "wx"));
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
    let breakerStat: fs.Stats | null = null;
    try {
      breakerStat = yield* perform(fsSteps.stat(breakerPath));
    } catch {
      // Gone already.
    }
    if (breakerStat !== null && Date.now() - breakerStat.mtimeMs > BREAKER_STALE_MS) yield* unlinkQuietly(breakerPath);
    return "busy";
  }
  try {
    yield* perform(fsSteps.close(breaker));
    const now = yield* inspect(lockPath);
    if (now === null) return "free";
    const sameLock =
      now.stat.ino === judged.stat.ino &&
      now.stat.mtimeMs === judged.stat.mtimeMs &&
      now.owner?.token === judged.owner?.token;
    if (sameLock && isLockStale(now, policy)) {
      yield* unlinkQuietly(lockPath);
      const who = now.owner
        ? `pid ${now.owner.pid} on ${now.owner.hostname}, ${now.owner.createdAt}`
        : "no readable owner";
      log[policy.takeoverLogLevel](`Removed the abandoned lock ${lockPath} (${who}).`);
    }
    return "free";
  } finally {
    yield* unlinkQuietly(breakerPath);
  }
}

function* release(lockPath: string, owner: LockOwner, policy: LockPolicy): FsProcedure<void> {
  let state: LockState | null = null;
  try {
    state = yield* inspect(lockPath);
  } catch {
    // Unreadable: not provably ours, so it is left alone.
  }
  if (state?.owner?.token === owner.token) {
    yield* unlinkQuietly(lockPath);
  } else {
    log[policy.takeoverLogLevel](
      `The lock ${lockPath} was taken over while this process held it (it was held past the stale limit).`,
    );
  }
}
