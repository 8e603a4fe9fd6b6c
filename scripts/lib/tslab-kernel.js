// The tslab kernel spec, as `npx tslab install` writes it, but pointing at this Node and this
// project's tslab by absolute path: setup registers it in .venv, the notebook bench and the
// notebook tests in private JUPYTER_PATHs. One writer, so the three never drift apart.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const TSLAB_BIN = path.join(ROOT, "node_modules", "tslab", "bin", "tslab");

/** Writes `<jupyterData>/kernels/tslab/kernel.json`; returns the kernel folder. */
function writeTslabKernelSpec(jupyterData) {
  const dir = path.join(jupyterData, "kernels", "tslab");
  fs.mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [process.execPath, TSLAB_BIN, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript",
    language: "typescript",
  };
  fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(spec, null, 1) + "\n");
  return dir;
}

module.exports = { TSLAB_BIN, writeTslabKernelSpec };
