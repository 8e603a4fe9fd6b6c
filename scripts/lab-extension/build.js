#!/usr/bin/env node
// Builds the JupyterLab extension and bundles the server extension's tracker
// (bundle-tracker.js): stages schema/ and style/, compiles lab-extension/src with
// the project's pinned TypeScript, then bundles it with JupyterLab's builder (`jupyter
// labextension build`, from the project's .venv when there is one). The bundling step (webpack,
// about 2 min on 2 cores, with a progress line every 30 s) is skipped when none of its inputs
// changed since the last build; the whole script is skipped when none of the sources did.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE = path.join(ROOT, "lab-extension");
const OUTPUT = path.join(PACKAGE, "codecarbon_jupyterlab", "labextension");
// Beside the compiled sources, not in the output: the output is what users install.
const STAMP = path.join(PACKAGE, "lib", ".labextension-inputs-sha256");

const { inputsHash, stampMatches, writeStamp } = require("../lib/inputs-hash");
const force = process.argv.includes("--force");
// The tracker the server extension runs beside kernels, bundled into the Python package first
// (it has its own up-to-date check).
execFileSync(process.execPath, [path.join(__dirname, "bundle-tracker.js"), ...(force ? ["--force"] : [])], {
  stdio: "inherit",
});
// The sources: the extension's own, the library's types it imports, the staged folders and what
// pins the toolchain.
const sources = inputsHash([
  "lab-extension/src",
  "lab-extension/package.json",
  "lab-extension/tsconfig.json",
  "src",
  "style",
  "schema",
  "package-lock.json",
  "scripts/lab-extension",
]);
if (
  !force &&
  stampMatches("labextension-sources.sha256", sources) &&
  fs.existsSync(path.join(OUTPUT, "package.json")) &&
  fs.existsSync(STAMP)
) {
  console.log("lab extension: up to date (npm run build:lab -- --force rebuilds)");
  process.exit(0);
}

require("./stage.js");
execFileSync(
  process.execPath,
  [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(PACKAGE, "tsconfig.json")],
  { stdio: "inherit" },
);

function filesUnder(folder) {
  if (!fs.existsSync(folder)) return [];
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

const inputs = [
  ...filesUnder(path.join(PACKAGE, "lib")).filter((f) => f !== STAMP),
  ...filesUnder(path.join(PACKAGE, "style")),
  ...filesUnder(path.join(PACKAGE, "schema")),
  path.join(PACKAGE, "package.json"),
  path.join(ROOT, "package-lock.json"),
].sort();
const hash = crypto.createHash("sha256");
for (const file of inputs)
  hash.update(path.relative(ROOT, file)).update("\0").update(fs.readFileSync(file)).update("\0");
const digest = hash.digest("hex");
if (
  !force &&
  fs.existsSync(STAMP) &&
  fs.readFileSync(STAMP, "utf8").trim() === digest &&
  fs.existsSync(path.join(OUTPUT, "package.json"))
) {
  writeStamp("labextension-sources.sha256", sources);
  console.log("lab extension: up to date (npm run build:lab -- --force rebuilds)");
  process.exit(0);
}

const venvJupyter = path.join(ROOT, ".venv", process.platform === "win32" ? "Scripts" : "bin", "jupyter");
const jupyter = fs.existsSync(venvJupyter) ? venvJupyter : "jupyter";
const started = Date.now();
const seconds = () => Math.round((Date.now() - started) / 1000);
console.log("lab extension: bundling with webpack (jupyter labextension build, about 2 min on 2 cores)…");
const beat = setInterval(() => console.log(`lab extension:   … still bundling (${seconds()} s)`), 30_000);
const child = spawn(jupyter, ["labextension", "build", "."], { cwd: PACKAGE, stdio: ["ignore", "ignore", "inherit"] });
child.on("error", (error) => {
  clearInterval(beat);
  console.error(
    `lab extension: \`${jupyter} labextension build\` failed${error.code === "ENOENT" ? " (JupyterLab is not installed: run bash scripts/setup.sh)" : `: ${error.message}`}`,
  );
  process.exit(1);
});
child.on("exit", (code, signal) => {
  clearInterval(beat);
  if (code !== 0) {
    console.error(`lab extension: \`${jupyter} labextension build\` failed (${signal ?? `exit status ${code}`})`);
    process.exit(1);
  }
  fs.writeFileSync(STAMP, `${digest}\n`);
  writeStamp("labextension-sources.sha256", sources);
  console.log(`lab extension: built in ${seconds()} s into ${path.relative(ROOT, OUTPUT)}`);
});
