// Registers the tslab kernel in the project's Python environment (.venv/share/jupyter/kernels),
// pointing at this Node and this project's tslab by absolute path, so the Jupyter in .venv finds
// it without anything on PATH. (`npx tslab install` does the same through Python, but needs
// IPython, which a bare jupyter-server environment does not have.)
const fs = require("node:fs");
const path = require("node:path");
const { TSLAB_BIN, writeTslabKernelSpec } = require("./lib/tslab-kernel");

const root = path.join(__dirname, "..");
if (!fs.existsSync(TSLAB_BIN)) {
  console.error("register-kernel: node_modules/tslab is missing: run `npm ci` first");
  process.exit(1);
}
const dir = writeTslabKernelSpec(path.join(root, ".venv", "share", "jupyter"));
console.log(`registered the tslab kernel in ${path.relative(root, dir)}`);
