/**
 * Whether this thread runs its "async" file calls blocking. The sampler worker says so at start:
 * on a thread that does nothing but the run, a blocking call costs no one, and it keeps the thread
 * out of its event loop, which would otherwise pick that moment (often `stop()`) to run the
 * background work V8 deferred while the sampler slept (a full garbage collection or two).
 */
import * as fs from "node:fs";

let blocking = false;

export function runFileCallsBlocking(): void {
  blocking = true;
}

export function fileCallsBlock(): boolean {
  return blocking;
}

/** One file call: its blocking form on a blocking thread (as a settled promise), its promise form elsewhere. */
export function fileCall<T>(blockingForm: () => T, asyncForm: () => Promise<T>): Promise<T> {
  if (!blocking) return asyncForm();
  try {
    return Promise.resolve(blockingForm());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The plain file calls outputs make, each in the form this thread uses (see `fileCall`). */
export const files = {
  unlink: (file: string): Promise<void> =>
    fileCall(
      () => fs.unlinkSync(file),
      () => fs.promises.unlink(file),
    ),
  readdir: (dir: string): Promise<string[]> =>
    fileCall(
      () => fs.readdirSync(dir),
      () => fs.promises.readdir(dir),
    ),
  rename: (from: string, to: string): Promise<void> =>
    fileCall(
      () => fs.renameSync(from, to),
      () => fs.promises.rename(from, to),
    ),
  stat: (file: string): Promise<fs.Stats> =>
    fileCall(
      () => fs.statSync(file),
      () => fs.promises.stat(file),
    ),
  copyFile: (from: string, to: string, mode: number): Promise<void> =>
    fileCall(
      () => fs.copyFileSync(from, to, mode),
      () => fs.promises.copyFile(from, to, mode),
    ),
};
