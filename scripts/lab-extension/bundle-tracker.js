#!/usr/bin/env node
// Bundles the tracker the Jupyter server extension runs beside each kernel into
// lab-extension/codecarbon_jupyterlab/tracker/, so the pip wheel carries it and a pip-only
// JupyterLab needs no npm install: the CLI (src/cli/main.ts) and the sampler worker, each one
// self-contained file made by esbuild (OpenTelemetry included: the `otel` output loads it by
// literal require, which esbuild follows), plus data/, schema/ and a package.json named
// codecarbon, which src/assets.ts finds by walking up from the bundle. Skipped when none of
// its inputs changed since the last bundle (`--force` bundles anyway).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { ROOT, inputsHash, stampMatches, writeStamp } = require("../lib/inputs-hash");

const OUTPUT = path.join(ROOT, "lab-extension", "codecarbon_jupyterlab", "tracker");
const ENTRIES = { main: "src/cli/main.ts", "sampler-worker": "src/tracker/sampler-worker.ts" };
const digest = inputsHash([
  "src",
  "data",
  "schema",
  "package.json",
  "package-lock.json",
  "scripts/lab-extension/bundle-tracker.js",
]);
if (
  !process.argv.includes("--force") &&
  stampMatches("tracker-bundle.sha256", digest) &&
  fs.existsSync(path.join(OUTPUT, "main.js")) &&
  fs.existsSync(path.join(OUTPUT, "sampler-worker.js"))
) {
  console.log("tracker bundle: up to date");
  process.exit(0);
}

const started = Date.now();
const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
fs.rmSync(OUTPUT, { recursive: true, force: true });
fs.mkdirSync(OUTPUT, { recursive: true });
require("esbuild").buildSync({
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(ROOT, file)])),
  outdir: OUTPUT,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
});
for (const folder of ["data", "schema"])
  fs.cpSync(path.join(ROOT, folder), path.join(OUTPUT, folder), { recursive: true });
// Only what assets.ts reads: the name that marks the root and the version rows report.
const manifest = { name: "codecarbon", version, private: true, license: "MIT", main: "main.js" };
fs.writeFileSync(path.join(OUTPUT, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
writeStamp("tracker-bundle.sha256", digest);
const bytes = fs
  .readdirSync(OUTPUT, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
console.log(
  `tracker bundle: ${(bytes / 1024).toFixed(0)} KiB in ${path.relative(ROOT, OUTPUT)} (${Date.now() - started} ms)`,
);
