/**
 * A tracker beside a kernel: what the Jupyter server extension runs for a notebook whose kernel
 * does not load codecarbon itself (Python, R, any kernel). It runs in its own process, in the
 * notebook's folder, measures the kernel's process tree (process mode on the kernel's pid), and
 * writes the same live feed and CSV as a tracker inside the kernel, so the sidebar, export and
 * per-cell attribution work unchanged.
 *
 * It speaks the kernel command protocol (protocol/kernel-command.ts) over its standard streams:
 * one request per line on stdin, one reply line per request on stdout. It stops, writing its
 * row, on a stop request, on SIGTERM or SIGINT, at the end of stdin (the server that started it
 * is gone, even if it was killed), or when the kernel's process exits (shutdown, restart); then
 * it exits.
 */
import * as readline from "node:readline";
import { isPidAlive } from "../fs/process-identity";
import { log } from "../log";
import { serveKernel } from "../notebook/kernel";
import { formatKernelReply, KERNEL_API_VERSION } from "../protocol/kernel-command";
import { kernelTracker } from "../tracker/emissions-tracker";
import { codecarbonKernel } from "./index";

/** How often the kernel's process is checked for having exited. */
const KERNEL_CHECK_MS = 1000;

export interface BesideKernelOptions {
  pid: number;
  kernelId: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** Serves one kernel until its run ends (see the module comment); resolves to the exit status. */
export async function serveBesideKernel(options: BesideKernelOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  serveKernel(options.kernelId);
  const target = { pid: options.pid };
  // When the server that started us is killed, our stdout and stderr are pipes nobody reads: a
  // write fails with EPIPE, which must not kill us before the row is written.
  const ignoreBrokenPipe = (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
  };
  output.on("error", ignoreBrokenPipe);
  process.stderr.on("error", ignoreBrokenPipe);
  const answer = (line: string) => {
    if (!(output as NodeJS.WritableStream & { destroyed?: boolean }).destroyed) output.write(`${line}\n`);
  };

  let finish!: (why: string) => void;
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  // Requests are answered one at a time, in order: a stop waits for the start before it.
  let queue: Promise<unknown> = Promise.resolve();
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    queue = queue.then(async () => {
      let request: unknown;
      try {
        request = JSON.parse(line);
      } catch {
        request = undefined;
      }
      const reply = await codecarbonKernel(request, target);
      answer(formatKernelReply(reply));
      if (isStop(request) && reply.ok) finish("stop requested");
    });
  });
  lines.once("close", () => void queue.then(() => finish("the server closed its end")));
  const onSignal = (signal: NodeJS.Signals) => finish(`${signal} received`);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  const watch = setInterval(() => {
    if (!isPidAlive(options.pid)) finish(`kernel process ${options.pid} exited`);
  }, KERNEL_CHECK_MS);

  const why = await finished;
  clearInterval(watch);
  lines.close();
  await queue;
  const tracker = kernelTracker();
  if (tracker?.isRunning) {
    log.info(`Stopping the run of kernel ${options.kernelId}: ${why}.`);
    answer(formatKernelReply(await codecarbonKernel({ version: KERNEL_API_VERSION, action: "stop" }, target)));
  }
  process.removeListener("SIGTERM", onSignal);
  process.removeListener("SIGINT", onSignal);
  output.removeListener("error", ignoreBrokenPipe);
  process.stderr.removeListener("error", ignoreBrokenPipe);
  return 0;
}

function isStop(request: unknown): boolean {
  return typeof request === "object" && request !== null && (request as { action?: unknown }).action === "stop";
}
