/**
 * `npm run demo`'s promise, "Ctrl-C stops JupyterLab and its kernels": the demo started in a
 * process group of its own (as a terminal does), a tslab kernel started through Jupyter's REST
 * API, then SIGINT to the whole group (what Ctrl-C sends). Every process of the demo (JupyterLab
 * and the kernel, which runs in a session of its own) must be gone within a bounded wait, and the
 * runtime folder with the kernel's connection file removed. Loopback only; whatever is left is
 * killed when the test fails.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A JSON request to the Jupyter server on loopback (node:http, so no proxy variable applies). */
function api(
  port: number,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: route,
        headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      },
    );
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface Proc {
  pid: number;
  ppid: number;
  start: string;
  cmdline: string;
}

/** Every process of the machine, from /proc: pid, parent, start time (pids are reused) and command line. */
function processes(): Proc[] {
  const list: Proc[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      list.push({
        pid: Number(name),
        ppid: Number(fields[1]),
        start: fields[19]!,
        cmdline: fs.readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ").trim(),
      });
    } catch {
      // Gone meanwhile.
    }
  }
  return list;
}

function descendants(root: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!parents.has(p.pid) && parents.has(p.ppid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

function stillRunning(procs: Proc[]): Proc[] {
  const now = new Map(processes().map((p) => [p.pid, p.start]));
  return procs.filter((p) => now.get(p.pid) === p.start);
}

test(
  "Ctrl-C (SIGINT to the demo's process group) stops JupyterLab and its kernels and removes their runtime files",
  { skip: process.platform !== "linux" && "reads /proc", timeout: 240_000 },
  async () => {
    const port = await freePort();
    const demo = spawn(process.execPath, [path.join(REPO_ROOT, "scripts", "demo-lab.js")], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CODECARBON_DEMO_PORT: String(port) },
    });
    let output = "";
    demo.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      demo.once("exit", (code, signal) => resolve(code ?? signal)),
    );
    let seen: Proc[] = [];
    try {
      let token = "";
      for (const deadline = Date.now() + 120_000; !token; await sleep(200)) {
        token =
          new RegExp(`http://127\\.0\\.0\\.1:${port}/lab/tree/first-run\\.ipynb\\?token=([0-9a-f]+)`).exec(
            output,
          )?.[1] ?? "";
        assert.ok(demo.exitCode === null, `the demo exited before printing its URL:\n${output}`);
        assert.ok(Date.now() < deadline, `no URL within 120 s:\n${output}`);
      }
      assert.match(output, /Ctrl-C stops JupyterLab and its kernels\./);
      assert.doesNotMatch(
        output,
        /Restart JupyterLab/,
        "the demo does not tell to restart a JupyterLab it has not started yet",
      );

      const started = await api(port, token, "POST", "/api/kernels", { name: "tslab" });
      assert.equal(started.status, 201, JSON.stringify(started.json));
      const kernelId = (started.json as { id: string }).id;
      // The kernel's process, running (Jupyter reports a tslab kernel "starting" until a client
      // talks to it, so its process is what is waited for).
      let kernel: Proc | undefined;
      for (const deadline = Date.now() + 60_000; !kernel; await sleep(500)) {
        seen = descendants(demo.pid!);
        kernel = seen.find((p) => p.cmdline.includes("tslab") && p.cmdline.includes(`kernel-${kernelId}.json`));
        assert.ok(
          kernel || Date.now() < deadline,
          `no kernel process within 60 s:\n${seen.map((p) => p.cmdline).join("\n")}`,
        );
      }
      await sleep(3000);
      assert.equal(stillRunning([kernel]).length, 1, "the kernel keeps running");
      seen = descendants(demo.pid!);
      assert.ok(
        seen.some((p) => p.cmdline.includes("jupyter-lab")),
        "JupyterLab is one of the demo's processes",
      );
      const connectionFile = /--config-path (\S+)/.exec(kernel.cmdline)![1]!;
      assert.ok(fs.existsSync(connectionFile));

      process.kill(-demo.pid!, "SIGINT");
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise((resolve) => (timer = setTimeout(resolve, 60_000, "timeout"))),
      ]);
      clearTimeout(timer);
      assert.notEqual(code, "timeout", `the demo did not exit within 60 s of SIGINT:\n${output}`);
      let left = stillRunning(seen);
      for (const deadline = Date.now() + 5_000; left.length && Date.now() < deadline; await sleep(200))
        left = stillRunning(seen);
      assert.deepEqual(
        left.map((p) => p.cmdline),
        [],
        "no process of the demo remains",
      );
      assert.equal(fs.existsSync(connectionFile), false, "the kernel's connection file is removed");
      assert.equal(fs.existsSync(path.dirname(connectionFile)), false, "the demo's runtime folder is removed");
      assert.match(output, /JupyterLab and its kernels are stopped/);
    } finally {
      // After a failure: the demo's own shutdown first (it removes its runtime folder), then force.
      if (demo.exitCode === null && demo.signalCode === null) {
        seen = [...seen, ...descendants(demo.pid!)];
        process.kill(demo.pid!, "SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      }
      for (const p of stillRunning([...seen, ...descendants(demo.pid!)])) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }
      try {
        process.kill(-demo.pid!, "SIGKILL");
      } catch {
        // The group is gone.
      }
    }
  },
);
