/**
 * `allow_multiple_runs = false`: one running tracker per machine, as CodeCarbon's lock file
 * (`<tmpdir>/.codecarbon.lock`). Unlike CodeCarbon it is taken at `start()` and released at
 * `stop()`, it installs no signal handler (a notebook kernel keeps its own), and a lock left by a
 * process that died is taken over instead of blocking every later run.
 */
import * as os from "node:os";
import * as path from "node:path";
import { tryLockFileSync, type FileLockOptions } from "../fs/file-lock";
import { currentProcessIdentity, type ProcessIdentity } from "../fs/process-identity";

/** Read at each use: `TMPDIR` decides where it is, as for CodeCarbon. */
export const lockFilePath = () => path.join(os.tmpdir(), ".codecarbon.lock");

interface LockContent extends ProcessIdentity {
  runId: string;
}

/**
 * A run holds the lock for hours, so age never makes it stale: only a holder that is gone does.
 * A lock without a readable owner (CodeCarbon's own lock file is empty) is taken over at once;
 * `start()` never waits for another run.
 */
const SINGLE_RUN_POLICY: FileLockOptions = {
  timeoutMs: 0,
  staleMs: Infinity,
  unreadableGraceMs: 0,
  takeoverLogLevel: "debug",
};

/** Takes the lock for `runId`; returns a release function, or the holder when another run has it. */
export function acquireSingleRunLock(
  runId: string,
  file = lockFilePath(),
): { release: () => void } | { heldBy: LockContent } {
  const attempt = tryLockFileSync(file, { ...SINGLE_RUN_POLICY, details: { runId } });
  if ("held" in attempt) return { release: () => attempt.held.releaseSync() };
  const holder = attempt.heldBy;
  if (holder === null) return { heldBy: { ...currentProcessIdentity(), runId: "unknown" } };
  return {
    heldBy: {
      pid: holder.pid,
      hostname: holder.hostname,
      processStartTime: holder.processStartTime,
      runId: holder.details["runId"] ?? "unknown",
    },
  };
}
