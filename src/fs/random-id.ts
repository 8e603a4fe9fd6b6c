/**
 * Random identifiers (run ids, lock tokens, temp-file names) without loading `node:crypto`:
 * that module and its twenty internal ones cost a few milliseconds and a few hundred KB of heap
 * on every thread that loads them, and a run needs only sixteen random bytes. They come from the
 * kernel's `/dev/urandom` where there is one, and from `node:crypto` elsewhere.
 */
import * as fs from "node:fs";

export function randomBytesFromSystem(count: number): Buffer {
  const bytes = Buffer.alloc(count);
  let fd: number | undefined;
  try {
    fd = fs.openSync("/dev/urandom", "r");
    if (fs.readSync(fd, bytes, 0, count, null) === count) return bytes;
  } catch {
    // No /dev/urandom (Windows): the crypto module below.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return (require("node:crypto") as typeof import("node:crypto")).randomBytes(count);
}

/** A random (version 4) UUID, as `crypto.randomUUID()` makes it. */
export function randomUuid(): string {
  const b = randomBytesFromSystem(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
