/**
 * One file-system procedure, two ways to run it. Some callers must block (`start()` taking the
 * single-run lock, the live feed written from a synchronous path); others must not (CSV writes in a notebook kernel,
 * where an fsync on a slow disk would freeze the
 * event loop). Writing each procedure twice let the two copies drift apart, so a procedure is
 * written once, as a generator that yields each file-system action (`FsStep`), and
 * `runBlocking` or `runAsync` performs the actions in their blocking or their promise form.
 */
import * as fs from "node:fs";
import { promisify } from "node:util";
import { fileCallsBlock } from "./thread-mode";
import { readUntrustedFile, readUntrustedFileSync } from "./untrusted-file";

/** One file-system action, in its blocking and its promise form. */
export interface FsStep<T> {
  blocking(): T;
  async(): Promise<T>;
}

/** A procedure yields steps and receives each one's result (or its error, thrown at the yield). */
export type FsProcedure<T> = Generator<FsStep<unknown>, T, unknown>;

/** Performs one step inside a procedure: `const fd = yield* perform(fsSteps.open(file, "wx"))`. */
export function* perform<T>(step: FsStep<T>): FsProcedure<T> {
  return (yield step) as T;
}

export function runBlocking<T>(procedure: FsProcedure<T>): T {
  let next = procedure.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = next.value.blocking();
    } catch (error) {
      next = procedure.throw(error);
      continue;
    }
    next = procedure.next(result);
  }
  return next.value;
}

export async function runAsync<T>(procedure: FsProcedure<T>): Promise<T> {
  if (fileCallsBlock()) return runBlocking(procedure);
  let next = procedure.next();
  while (!next.done) {
    let result: unknown;
    try {
      result = await next.value.async();
    } catch (error) {
      next = procedure.throw(error);
      continue;
    }
    next = procedure.next(result);
  }
  return next.value;
}

/** One step on its own, as a promise (blocking on a thread that says so, see thread-mode.ts). */
export function runStep<T>(step: FsStep<T>): Promise<T> {
  return runAsync(perform(step));
}

const step = <T>(blocking: () => T, async: () => Promise<T>): FsStep<T> => ({ blocking, async });

// The callback API's promise forms work on numeric descriptors, as the blocking calls do
// (`fs/promises` would hand out FileHandle objects instead).
const openAsync = promisify(fs.open);
const closeAsync = promisify(fs.close);
const fchmodAsync = promisify(fs.fchmod);
const fsyncAsync = promisify(fs.fsync);
const fstatAsync = promisify(fs.fstat);
const readAsync = promisify(fs.read);
const writeFileAsync = promisify(fs.writeFile);

function sleepBlocking(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The steps the procedures of `src/fs` are made of. */
export const fsSteps = {
  open: (file: string, flags: string | number) =>
    step(
      () => fs.openSync(file, flags),
      () => openAsync(file, flags),
    ),
  close: (fd: number) =>
    step(
      () => fs.closeSync(fd),
      () => closeAsync(fd),
    ),
  fchmod: (fd: number, mode: number) =>
    step(
      () => fs.fchmodSync(fd, mode),
      () => fchmodAsync(fd, mode),
    ),
  fstat: (fd: number) =>
    step(
      () => fs.fstatSync(fd),
      () => fstatAsync(fd),
    ),
  /** Reads into `buffer` from `position`; resolves to the number of bytes read. */
  readAt: (fd: number, buffer: Buffer, position: number) =>
    step(
      () => fs.readSync(fd, buffer, 0, buffer.length, position),
      () => readAsync(fd, buffer, 0, buffer.length, position).then(({ bytesRead }) => bytesRead),
    ),
  fsync: (fd: number) =>
    step(
      () => fs.fsyncSync(fd),
      () => fsyncAsync(fd),
    ),
  writeAll: (fd: number, data: string | Uint8Array) =>
    step(
      () => fs.writeFileSync(fd, data),
      () => writeFileAsync(fd, data),
    ),
  rename: (from: string, to: string) =>
    step(
      () => fs.renameSync(from, to),
      () => fs.promises.rename(from, to),
    ),
  link: (from: string, to: string) =>
    step(
      () => fs.linkSync(from, to),
      () => fs.promises.link(from, to),
    ),
  unlink: (file: string) =>
    step(
      () => fs.unlinkSync(file),
      () => fs.promises.unlink(file),
    ),
  stat: (file: string) =>
    step(
      () => fs.statSync(file),
      () => fs.promises.stat(file),
    ),
  /** A small file anyone may have planted (a lock): never a symlink, a FIFO or a huge file. */
  lstat: (file: string) =>
    step(
      () => fs.lstatSync(file),
      () => fs.promises.lstat(file),
    ),
  readText: (file: string) =>
    step(
      () => readUntrustedFileSync(file, { maxBytes: 64 * 1024 }),
      () => readUntrustedFile(file, { maxBytes: 64 * 1024 }),
    ),
  readdir: (dir: string) =>
    step(
      () => fs.readdirSync(dir),
      () => fs.promises.readdir(dir),
    ),
  copyFile: (from: string, to: string, mode: number) =>
    step(
      () => fs.copyFileSync(from, to, mode),
      () => fs.promises.copyFile(from, to, mode),
    ),
  mkdir: (dir: string) =>
    step(
      () => fs.mkdirSync(dir),
      () => fs.promises.mkdir(dir),
    ),
  accessWritable: (dir: string) =>
    step(
      () => fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK),
      () => fs.promises.access(dir, fs.constants.W_OK | fs.constants.X_OK),
    ),
  sleep: (ms: number) =>
    step(
      () => sleepBlocking(ms),
      () => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    ),
};

/** Removes a file if it is there; a file already gone (or never made) is no failure. */
export function* unlinkQuietly(file: string): FsProcedure<void> {
  try {
    yield* perform(fsSteps.unlink(file));
  } catch {
    // Already removed, or never created.
  }
}

export const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
