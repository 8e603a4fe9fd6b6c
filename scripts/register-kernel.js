// Registers the tslab kernel in the project's Python environment (.venv/share/jupyter/kernels),
// pointing at this Node and this project's tslab by absolute path, so the Jupyter in .venv finds
// it without anything on PATH. (`npx tslab install` does the same through Python, but needs
// IPython, which a bare jupyter-server environment does not have.)
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const tslab = path.join(root, "node_modules", "tslab", "bin", "tslab");
if (!fs.existsSync(tslab)) {
  console.error("register-kernel: node_modules/tslab is missing: run `npm ci` first");
  process.exit(1);
}
const dir = path.join(root, ".venv", "share", "jupyter", "kernels", "tslab");
fs.mkdirSync(dir, { recursive: true });
const spec = {
  argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"],
  display_name: "TypeScript",
  language: "typescript",
};
fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(spec, null, 1) + "\n");
console.log(`registered the tslab kernel in ${path.relative(root, dir)}`);
