/**
 * `allow_multiple_runs = false`: one running tracker per machine, as CodeCarbon's lock file
 * (`<tmpdir>/.codecarbon.lock`). Unlike CodeCarbon it is taken at `start()` and released at
 * `stop()`, it installs no signal handler (a notebook kernel keeps its own), and a lock left by a
 * process that died is taken over instead of blocking every later run.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { currentProcessIdentity, isLocalProcessGone, type ProcessIdentity } from "../fs/process-identity";

/** Read at each use: `TMPDIR` decides where it is, as for CodeCarbon. */
export const lockFilePath = () => path.join(os.tmpdir(), ".codecarbon.lock");

interface LockContent extends ProcessIdentity {
  runId: string;
}

/** Takes the lock for `runId`; returns a release function, or the holder when another run has it. */
export function acquireSingleRunLock(runId: string, file = lockFilePath()): { release: () => void } | { heldBy: LockContent } {
  const mine: LockContent = { ...currentProcessIdentity(), runId };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(mine), { flag: "wx" });
      return {
        release: () => {
          // Only remove the lock if it is still ours.
          if (readLock(file)?.runId === runId) fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readLock(file);
      if (holder !== undefined && (holder.hostname !== os.hostname() || !isLocalProcessGone(holder))) return { heldBy: holder };
      // The holder is gone (or the file is unreadable): take the lock over.
      fs.rmSync(file, { force: true });
    }
  }
  const holder = readLock(file);
  return { heldBy: holder ?? { ...mine, runId: "unknown" } };
}

function readLock(file: string): LockContent | undefined {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { pid, hostname, processStartTime, runId } = parsed as Record<string, unknown>;
    if (typeof pid !== "number" || typeof hostname !== "string" || typeof runId !== "string") return undefined;
    return { pid, hostname, processStartTime: typeof processStartTime === "string" ? processStartTime : null, runId };
  } catch {
    return undefined;
  }
}
