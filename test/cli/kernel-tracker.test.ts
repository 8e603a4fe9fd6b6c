/**
 * `codecarbon kernel-tracker`: a tracker beside a "kernel" (here a plain Node process doing
 * work), driven over stdin/stdout as the Jupyter server extension drives it, and `monitor --pid`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, waitFor, type Sandbox } from "../helpers/sandbox";

/** Waits until `condition` holds; at a time-out, `context` (the tracker's log) says why. */
async function until(condition: () => boolean, timeoutMs: number, context: () => string): Promise<void> {
  try {
    await waitFor(() => (condition() ? true : undefined), "the condition", timeoutMs);
  } catch (error) {
    throw new Error(`${String(error)}; the tracker said:\n${context()}`, { cause: error });
  }
}
import { parseKernelReply, type KernelReply } from "../../src/protocol/kernel-command";
import { parseLiveFeed } from "../../src/protocol/live-feed";
import { CLI_ENTRY, OFFLINE_ENV, runCli } from "./cli-run";

let sandbox: Sandbox;
const children: ChildProcess[] = [];
before(() => (sandbox = makeSandbox()));
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  sandbox.cleanup();
});

/** A stand-in kernel: a Node process that burns CPU in bursts until killed. */
function startKernel(): ChildProcess {
  const kernel = spawn(
    process.execPath,
    ["-e", "setInterval(() => { const until = Date.now() + 50; while (Date.now() < until); }, 100);"],
    { stdio: "ignore" },
  );
  children.push(kernel);
  return kernel;
}

interface Beside {
  child: ChildProcess;
  replies: KernelReply[];
  stderr(): string;
  send(request: object): void;
  exited: Promise<number | null>;
}

function startBeside(folder: string, pid: number, kernelId: string, notebook = "analysis.ipynb"): Beside {
  fs.mkdirSync(folder, { recursive: true });
  const child = spawn(process.execPath, [CLI_ENTRY, "kernel-tracker", "--pid", String(pid), "--kernel-id", kernelId], {
    cwd: folder,
    env: { ...sandbox.env, ...OFFLINE_ENV, JPY_SESSION_NAME: notebook },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  const replies: KernelReply[] = [];
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    let newline: number;
    while ((newline = stdout.indexOf("\n")) >= 0) {
      const reply = parseKernelReply(stdout.slice(0, newline));
      if (reply) replies.push(reply);
      stdout = stdout.slice(newline + 1);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    replies,
    stderr: () => stderr,
    send: (request) => child.stdin!.write(`${JSON.stringify({ version: 1, ...request })}\n`),
    exited,
  };
}

const START = { action: "start", offline: true, settings: { country_iso_code: "FRA", force_ram_power: 10 } };

describe("a tracker beside a kernel", () => {
  test("start, status and stop over stdin: the notebook's feed and a process-mode row named after the notebook", async () => {
    const folder = path.join(sandbox.dir, "nb-a");
    const kernel = startKernel();
    const beside = startBeside(folder, kernel.pid!, "k-a");
    beside.send(START);
    await until(
      () => beside.replies.length >= 1,
      15_000,
      () => beside.stderr(),
    );
    assert.deepEqual(
      [beside.replies[0]!.ok, beside.replies[0]!.state, beside.replies[0]!.feed],
      [true, "running", "codecarbon-live/k-a.json"],
    );
    const feedFile = path.join(folder, "codecarbon-live", "k-a.json");
    await until(
      () => {
        const parsed = fs.existsSync(feedFile) ? parseLiveFeed(fs.readFileSync(feedFile, "utf8")) : null;
        return parsed !== null && parsed.ok && parsed.feed.points.length >= 3;
      },
      15_000,
      () => beside.stderr(),
    );
    beside.send({ action: "status" });
    beside.send({ action: "stop" });
    assert.equal(await beside.exited, 0, beside.stderr());
    const [status, stopped] = beside.replies.slice(1);
    assert.equal(status?.state, "running");
    assert.equal(stopped?.state, "stopped");
    assert.ok((stopped?.emissionsKg ?? 0) > 0);
    const [row] = readCsvRows(path.join(folder, "emissions.csv"));
    assert.equal(row?.["project_name"], "analysis", "named after the notebook");
    assert.equal(row?.["tracking_mode"], "process");
    assert.equal(row?.["run_id"], stopped?.runId);
    assert.ok(Number(row?.["cpu_energy"]) > 0, "the kernel's CPU work is measured");
  });

  test("the kernel's exit, SIGTERM and the end of stdin each stop the run and write its row", async () => {
    const endings: Array<[string, (beside: Beside, kernel: ChildProcess) => void]> = [
      ["kernel exits", (_b, kernel) => kernel.kill("SIGKILL")],
      ["SIGTERM", (b) => b.child.kill("SIGTERM")],
      ["stdin closes (the server is gone)", (b) => b.child.stdin!.end()],
    ];
    for (const [name, end] of endings) {
      const folder = path.join(sandbox.dir, `nb-${name.split(" ")[0]}`);
      const kernel = startKernel();
      const beside = startBeside(folder, kernel.pid!, "k-end");
      beside.send(START);
      await until(
        () => beside.replies.length >= 1,
        15_000,
        () => beside.stderr(),
      );
      await new Promise((r) => setTimeout(r, 1500));
      end(beside, kernel);
      assert.equal(await beside.exited, 0, `${name}: ${beside.stderr()}`);
      const rows = readCsvRows(path.join(folder, "emissions.csv"));
      assert.equal(rows.length, 1, `${name}: one row`);
      assert.ok(Number(rows[0]!["duration"]) >= 1, `${name}: the run's time is there`);
      kernel.kill("SIGKILL");
    }
  });

  test("bad requests get an error reply and the tracker goes on", async () => {
    const kernel = startKernel();
    const beside = startBeside(path.join(sandbox.dir, "nb-bad"), kernel.pid!, "k-bad");
    beside.child.stdin!.write("not json\n");
    beside.send({ action: "explode" });
    beside.child.stdin!.write(`${JSON.stringify({ version: 99, action: "status" })}\n`);
    await until(
      () => beside.replies.length >= 3,
      10_000,
      () => beside.stderr(),
    );
    assert.deepEqual(
      beside.replies.map((r) => r.ok),
      [false, false, false],
    );
    assert.match(beside.replies[1]!.error ?? "", /unknown action/);
    beside.child.stdin!.end();
    assert.equal(await beside.exited, 0);
    assert.equal(fs.existsSync(path.join(sandbox.dir, "nb-bad", "emissions.csv")), false, "no run, no row");
  });
});

describe("monitor --pid", () => {
  test("measures another process until it exits, in process mode", async () => {
    const kernel = startKernel();
    setTimeout(() => kernel.kill("SIGKILL"), 2500);
    const outputDir = path.join(sandbox.dir, "monitor-pid");
    const result = await runCli(
      [
        "monitor",
        "--no-api",
        "--offline",
        "--country-iso-code",
        "FRA",
        "--measure-power-secs",
        "0.5",
        "--pid",
        String(kernel.pid),
        "--output-dir",
        outputDir,
      ],
      sandbox,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`process ${kernel.pid} exited, stopping`));
    const [row] = readCsvRows(path.join(outputDir, "emissions.csv"));
    assert.equal(row?.["tracking_mode"], "process");
    assert.ok(Number(row?.["duration"]) >= 1.5);
  });

  test("a pid that does not exist, or --pid with a command, is refused", async () => {
    const gone = await runCli(
      ["monitor", "--no-api", "--offline", "--country-iso-code", "FRA", "--pid", "999999999"],
      sandbox,
    );
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no process with pid 999999999/);
    const both = await runCli(["monitor", "--no-api", "--pid", "1", "--", process.execPath, "-e", ""], sandbox);
    assert.equal(both.code, 2);
  });
});
