#!/usr/bin/env node
// The main job: JupyterLab with the tslab kernel and the codecarbon extension, opened on
// examples/notebooks/first-run.ipynb (first cell: tracker.start()). Run after
// `bash scripts/setup.sh`; prints the URL to open, and stops JupyterLab (and its kernels) on Ctrl-C.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
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

// The library and the extension, built (the extension only when its sources changed).
execFileSync(process.execPath, [path.join(__dirname, "lab-extension", "build.js")], { stdio: "inherit" });

// The extension, installed the npm way into the environment JupyterLab runs from.
execFileSync(process.execPath, [path.join(ROOT, "dist", "cli", "main.js"), "jupyter", "install", "--prefix", VENV], { stdio: "inherit" });

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
const lab = spawn(JUPYTER, args, { cwd: NOTEBOOKS, stdio: ["ignore", "ignore", "pipe"] });
let announced = false;
lab.stderr.on("data", (chunk) => {
  const text = chunk.toString();
  if (process.env.CODECARBON_DEMO_VERBOSE) process.stderr.write(text);
  const match = /http:\/\/127\.0\.0\.1:(\d+)\/lab/.exec(text);
  if (!announced && match) {
    announced = true;
    console.log(`\nJupyterLab is running with the codecarbon extension:\n\n  http://127.0.0.1:${match[1]}/lab/tree/first-run.ipynb?token=${token}\n`);
    console.log("Run the first cell (tracker.start()), click the leaf in the right sidebar to watch the chart, or use the Track toggle in the notebook toolbar.");
    console.log("Ctrl-C stops JupyterLab and its kernels.");
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => lab.kill("SIGTERM"));
lab.on("exit", (code) => {
  if (!announced) console.error(`demo: JupyterLab exited (${code}) before it was ready; rerun with CODECARBON_DEMO_VERBOSE=1 to see its log.`);
  process.exit(announced ? 0 : 1);
});
