#!/usr/bin/env node
// Builds the JupyterLab extension: stages schema/ and style/, compiles lab-extension/src with
// the project's pinned TypeScript, then bundles it with JupyterLab's builder (`jupyter
// labextension build`, from the project's .venv when there is one). The bundling step (about a
// minute) is skipped when none of its inputs changed since the last build.
"use strict";
const { execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE = path.join(ROOT, "lab-extension");
const OUTPUT = path.join(PACKAGE, "codecarbon_jupyterlab", "labextension");
// Beside the compiled sources, not in the output: the output is what users install.
const STAMP = path.join(PACKAGE, "lib", ".labextension-inputs-sha256");

require("./stage.js");
execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(PACKAGE, "tsconfig.json")], { stdio: "inherit" });

function filesUnder(folder) {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

const inputs = [...filesUnder(path.join(PACKAGE, "lib")).filter((f) => f !== STAMP), ...filesUnder(path.join(PACKAGE, "style")), ...filesUnder(path.join(PACKAGE, "schema")), path.join(PACKAGE, "package.json"), path.join(ROOT, "package-lock.json")].sort();
const hash = crypto.createHash("sha256");
for (const file of inputs) hash.update(path.relative(ROOT, file)).update("\0").update(fs.readFileSync(file)).update("\0");
const digest = hash.digest("hex");
const force = process.argv.includes("--force");
if (!force && fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8").trim() === digest && fs.existsSync(path.join(OUTPUT, "package.json"))) {
  console.log("lab extension: up to date (npm run build:lab -- --force rebuilds)");
  process.exit(0);
}

const venvJupyter = path.join(ROOT, ".venv", process.platform === "win32" ? "Scripts" : "bin", "jupyter");
const jupyter = fs.existsSync(venvJupyter) ? venvJupyter : "jupyter";
const started = Date.now();
try {
  execFileSync(jupyter, ["labextension", "build", "."], { cwd: PACKAGE, stdio: ["ignore", "ignore", "inherit"] });
} catch (error) {
  console.error(`lab extension: \`${jupyter} labextension build\` failed${error.code === "ENOENT" ? " (JupyterLab is not installed: run bash scripts/setup.sh)" : ""}`);
  process.exit(1);
}
fs.writeFileSync(STAMP, `${digest}\n`);
console.log(`lab extension: built in ${((Date.now() - started) / 1000).toFixed(1)} s into ${path.relative(ROOT, OUTPUT)}`);
