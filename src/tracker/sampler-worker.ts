/**
 * Entry point of the sampler worker thread. It opens the run, answers the tracker's requests,
 * and forwards log lines and fresh measurements to the tracker.
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { runFileCallsBlocking } from "../fs/thread-mode";
import { log, setLogLevel, setLogSink } from "../log";
import { Pacer, WAKE_INDEX } from "./pacer";
import { Run } from "./run";
import { CLAIM_INDEX, RunClaim, type WorkerData, type WorkerMessage, type WorkerRequest } from "./worker-protocol";

const port = parentPort;
if (port === null) throw new Error("sampler-worker must run in a worker thread");
const data = workerData as WorkerData;
const send = (message: WorkerMessage) => port.postMessage(message);

setLogLevel(data.logLevel);
// This thread does nothing but the run: its file calls may block (see fs/thread-mode.ts).
runFileCallsBlocking();
setLogSink((level, message) => send({ type: "log", level, message }));

async function main(): Promise<void> {
  let run: Run;
  const wake = new Int32Array(data.sharedWords);
  // The tracker's stop() came first and measures the run itself: this thread has nothing to do.
  if (Atomics.compareExchange(wake, CLAIM_INDEX, RunClaim.open, RunClaim.bySampler) !== RunClaim.open) return;
  const pacer = new Pacer(wake);
  try {
    run = await Run.open(data.init, pacer);
  } catch (error) {
    // One line at the default level (the error names the path and what to do); the stack for debugging.
    if (error instanceof Error && error.stack !== undefined) log.debug(error.stack);
    send({ type: "failed", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  send({ type: "ready", description: run.describe() });

  let watching = false;
  let stopAnswered!: () => void;
  const stopped = new Promise<void>((resolve) => (stopAnswered = resolve));
  const handle = (request: WorkerRequest) => {
    const answer = async () => {
      switch (request.type) {
        case "flush":
          return run.flush();
        case "stop":
          return run.stop();
        case "start-task":
          return run.startTask(request.name);
        case "stop-task":
          return run.stopTask(request.name);
        case "watch":
          if (!watching) {
            watching = true;
            run.onMeasurement((sample) => send({ type: "measurement", sample }));
          }
          return null;
      }
    };
    answer()
      .then(
        (value) => send({ type: "reply", id: request.id, ok: true, value }),
        (error: unknown) =>
          send({
            type: "reply",
            id: request.id,
            ok: false,
            message: error instanceof Error ? error.message : String(error),
          }),
      )
      .finally(() => {
        if (request.type === "stop") stopAnswered();
      });
  };
  port!.on("message", handle);
  await run.sleepUntilStopped(pacer, () => {
    for (let received = receiveMessageOnPort(port!); received; received = receiveMessageOnPort(port!))
      handle(received.message as WorkerRequest);
  });
  await stopped;
  // The run is over and its row written: wait here for the tracker to end the thread. Back in
  // its event loop, the thread would first run the work V8 deferred while it slept (a full
  // garbage collection), and the process's exit would wait for that.
  for (;;) Atomics.wait(wake, WAKE_INDEX, Atomics.load(wake, WAKE_INDEX));
}

main().catch((error: unknown) => log.error(`Sampler worker failed: ${String(error)}`));
