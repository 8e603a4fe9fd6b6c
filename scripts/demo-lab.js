#!/usr/bin/env node
// The main job: JupyterLab with the tslab kernel and the codecarbon extension, opened on
// examples/notebooks/first-run.ipynb (first cell: tracker.start()). Run after
// `bash scripts/setup.sh`; prints the URL to open. Ctrl-C (or SIGTERM, SIGHUP) stops JupyterLab
// and its kernels: JupyterLab runs in its own process group, so the terminal's SIGINT reaches
// only this script, which asks JupyterLab to shut down with SIGTERM (it then shuts its kernels
// down), then ends whatever kernel is left (kernels run in sessions of their own, which the
// terminal's Ctrl-C never reaches) and removes the server's runtime folder. A second Ctrl-C
// kills at once.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const VENV = path.join(ROOT, ".venv");
const JUPYTER = path.join(VENV, "bin", "jupyter");
const NOTEBOOKS = path.join(ROOT, "examples", "notebooks");
const PORT = process.env.CODECARBON_DEMO_PORT || "8888";

if (!fs.existsSync(JUPYTER)) {
  console.error("demo: .venv has no JupyterLab: run `bash scripts/setup.sh` first.");
  process.exit(1);
}

// The library and the extension, built only when their sources changed since setup built them.
execFileSync(process.execPath, [path.join(__dirname, "build-lib.js"), "--if-stale"], { stdio: "inherit" });
execFileSync(process.execPath, [path.join(__dirname, "lab-extension", "build.js")], { stdio: "inherit" });

// The extension, installed the npm way into the environment JupyterLab runs from (JupyterLab
// starts below, so the CLI's advice to restart it does not apply here).
const installed = execFileSync(
  process.execPath,
  [path.join(ROOT, "dist", "cli", "main.js"), "jupyter", "install", "--prefix", VENV],
  { encoding: "utf8" },
);
console.log(`demo: ${installed.split("\n")[0].replace(/^Installed/, "installed")}`);

// The notebooks resolve `codecarbon` (this checkout) and Node's types from their folder, as after
// `npm install codecarbon @types/node` there.
function link(target, where) {
  fs.mkdirSync(path.dirname(where), { recursive: true });
  try {
    if (fs.readlinkSync(where) === target) return;
    fs.rmSync(where, { recursive: true, force: true });
  } catch {
    fs.rmSync(where, { recursive: true, force: true });
  }
  fs.symlinkSync(target, where, "dir");
}
link(ROOT, path.join(NOTEBOOKS, "node_modules", "codecarbon"));
link(path.join(ROOT, "node_modules", "@types", "node"), path.join(NOTEBOOKS, "node_modules", "@types", "node"));

const token = require("node:crypto").randomBytes(16).toString("hex");
const args = [
  "lab",
  "first-run.ipynb",
  "--ServerApp.ip=127.0.0.1",
  `--ServerApp.port=${PORT}`,
  `--IdentityProvider.token=${token}`,
  `--ServerApp.root_dir=${NOTEBOOKS}`,
  "--ServerApp.open_browser=False",
  ...(process.getuid && process.getuid() === 0 ? ["--allow-root"] : []),
];
// A runtime folder of its own: the server's and the kernels' connection files, removed at the end.
const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), "codecarbon-demo-runtime-"));
console.log("demo: starting JupyterLab…");
const lab = spawn(JUPYTER, args, {
  cwd: NOTEBOOKS,
  stdio: ["ignore", "ignore", "pipe"],
  detached: true,
  env: { ...process.env, JUPYTER_RUNTIME_DIR: runtimeDir },
});
let announced = false;
lab.stderr.on("data", (chunk) => {
  const text = chunk.toString();
  if (process.env.CODECARBON_DEMO_VERBOSE) process.stderr.write(text);
  const match = /http:\/\/127\.0\.0\.1:(\d+)\/lab/.exec(text);
  if (!announced && match) {
    announced = true;
    console.log(
      `\nJupyterLab is running with the codecarbon extension:\n\n  http://127.0.0.1:${match[1]}/lab/tree/first-run.ipynb?token=${token}\n`,
    );
    console.log(
      "Run the first cell (tracker.start()), click the leaf in the right sidebar to watch the chart, or use the Track toggle in the notebook toolbar.",
    );
    console.log("Ctrl-C stops JupyterLab and its kernels.");
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
};
const signal = (pid, name) => {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
};

/** The kernels JupyterLab started: jupyter_client gives each JPY_PARENT_PID=<server pid> (Linux's /proc). */
function kernelsOf(serverPid) {
  if (!fs.existsSync("/proc/self/environ")) return [];
  const marker = `\0JPY_PARENT_PID=${serverPid}\0`;
  return fs
    .readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return `\0${fs.readFileSync(`/proc/${pid}/environ`, "latin1")}`.includes(marker);
      } catch {
        return false;
      }
    });
}

const labExited = new Promise((resolve) => lab.once("exit", (code, sig) => resolve(code ?? sig)));
let kernels = [];
// Refreshed while JupyterLab runs, so the kernels are known even if it dies abruptly.
const watch = setInterval(() => (kernels = kernelsOf(lab.pid)), 2000);
let stopping = false;

async function shutdown(reason, exitCode) {
  clearInterval(watch);
  if (lab.exitCode === null && lab.signalCode === null) {
    kernels = [...new Set([...kernels, ...kernelsOf(lab.pid)])];
    if (reason) console.log(`\ndemo: ${reason}: stopping JupyterLab and its kernels…`);
    signal(-lab.pid, "SIGTERM");
    const deadline = Date.now() + 20_000;
    while (lab.exitCode === null && lab.signalCode === null && Date.now() < deadline) await sleep(100);
    signal(-lab.pid, "SIGKILL");
    await labExited;
  }
  // Kernels JupyterLab did not shut down (it was killed, or a kernel hung): end them here.
  let left = kernels.filter(alive);
  for (const pid of left) signal(pid, "SIGTERM");
  const deadline = Date.now() + 5_000;
  while ((left = left.filter(alive)).length && Date.now() < deadline) await sleep(100);
  for (const pid of left) signal(pid, "SIGKILL");
  fs.rmSync(runtimeDir, { recursive: true, force: true });
  if (reason) console.log("demo: JupyterLab and its kernels are stopped.");
  process.exit(exitCode);
}

for (const name of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(name, () => {
    if (!stopping) {
      stopping = true;
      void shutdown(`${name} received`, name === "SIGINT" ? 130 : 143);
    } else {
      // A second Ctrl-C: no more waiting.
      signal(-lab.pid, "SIGKILL");
      for (const pid of [...kernels, ...kernelsOf(lab.pid)]) signal(pid, "SIGKILL");
      fs.rmSync(runtimeDir, { recursive: true, force: true });
      process.exit(137);
    }
  });
}
lab.on("exit", (code) => {
  if (stopping) return;
  stopping = true;
  if (!announced)
    console.error(
      `demo: JupyterLab exited (${code}) before it was ready; rerun with CODECARBON_DEMO_VERBOSE=1 to see its log.`,
    );
  else console.error(`demo: JupyterLab exited (${code}).`);
  void shutdown(null, announced && code === 0 ? 0 : 1);
});
