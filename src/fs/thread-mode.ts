/**
 * Whether this thread runs its "async" file calls blocking (`runAsync` in fs-procedure.ts and
 * `readUntrustedFile` check it). The sampler worker says so at start, and the tracker while it
 * stops a run on the user's thread (`stopHere`, a few milliseconds the caller awaits anyway):
 * on a thread that does nothing but the run, a blocking call costs no one, and it keeps the thread
 * out of its event loop, which would otherwise pick that moment (often `stop()`) to run the
 * background work V8 deferred while the sampler slept (a full garbage collection or two).
 */
let blocking = false;

/** `on` false gives the thread its asynchronous file calls back. */
export function runFileCallsBlocking(on = true): void {
  blocking = on;
}

export function fileCallsBlock(): boolean {
  return blocking;
}
