/**
 * Who owns a lock or a checkpoint, and whether that owner is still running.
 *
 * A pid alone is not enough: pids are reused, so a checkpoint left by a killed process could look
 * alive once an unrelated process gets the same pid. On Linux the process start time (field 22 of
 * `/proc/<pid>/stat`, in clock ticks since boot) tells the two apart. Elsewhere it is `null` and
 * only the pid is checked.
 */
import * as fs from "node:fs";
import * as os from "node:os";

export interface ProcessIdentity {
  pid: number;
  hostname: string;
  processStartTime: string | null;
}

/** Field 22 of `/proc/<pid>/stat`, or null when it cannot be read (not Linux, process gone). */
export function readProcessStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // Field 2 is the command name in parentheses and may itself hold spaces or ')': the fields
  // that follow start after the last ')'. The first of them is field 3, so field 22 is index 19.
  const afterName = stat
    .slice(stat.lastIndexOf(")") + 1)
    .trim()
    .split(/\s+/);
  const startTime = afterName[19];
  return startTime !== undefined && /^\d+$/.test(startTime) ? startTime : null;
}

let ownIdentity: ProcessIdentity | undefined;

export function currentProcessIdentity(): ProcessIdentity {
  ownIdentity ??= { pid: process.pid, hostname: os.hostname(), processStartTime: readProcessStartTime(process.pid) };
  return { ...ownIdentity };
}

/** Signal 0 checks existence only; EPERM means the process exists but belongs to someone else. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether a process on this host has certainly ended: its pid is free, or the pid now belongs to
 * a process that started at another time. Says nothing about other hosts (returns false).
 */
export function isLocalProcessGone(owner: ProcessIdentity): boolean {
  if (owner.hostname !== os.hostname()) return false;
  if (!isPidAlive(owner.pid)) return true;
  if (owner.processStartTime === null) return false;
  const startTimeNow = readProcessStartTime(owner.pid);
  return startTimeNow !== null && startTimeNow !== owner.processStartTime;
}
