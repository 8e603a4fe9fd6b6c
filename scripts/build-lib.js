#!/usr/bin/env node
// Builds the library into dist/: clean, compile with the project's TypeScript, write the ES
// module facade. `npm run build` always builds; `--if-stale` (npm run demo, prepack) builds only
// when src/ or the build configuration changed since the last build, or dist/ is incomplete.
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { ROOT, inputsHash, stampMatches, writeStamp } = require("./lib/inputs-hash");

const INPUTS = [
  "src",
  "tsconfig.json",
  "tsconfig.build.json",
  "package.json",
  "package-lock.json",
  "scripts/write-esm-entry.js",
  "scripts/build-lib.js",
];
const OUTPUTS = ["dist/index.js", "dist/index.mjs", "dist/index.d.ts", "dist/cli/main.js"];

const digest = inputsHash(INPUTS);
if (
  process.argv.includes("--if-stale") &&
  stampMatches("dist.sha256", digest) &&
  OUTPUTS.every((f) => fs.existsSync(path.join(ROOT, f)))
) {
  console.log("library: dist/ is up to date");
  process.exit(0);
}
const started = Date.now();
fs.rmSync(path.join(ROOT, "dist"), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.build.json")],
  { cwd: ROOT, stdio: "inherit" },
);
// The sampler worker is one bundled file: a new thread then reads and compiles one script instead
// of resolving some sixty modules, a third of its start-up. Dependencies stay external (resolved
// from node_modules as before); everything else in dist/ is tsc's output.
require("esbuild").buildSync({
  entryPoints: [path.join(ROOT, "dist", "tracker", "sampler-worker.js")],
  allowOverwrite: true,
  outfile: path.join(ROOT, "dist", "tracker", "sampler-worker.js"),
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: true,
  logLevel: "warning",
});
execFileSync(process.execPath, [path.join(__dirname, "write-esm-entry.js")], { cwd: ROOT, stdio: "inherit" });
writeStamp("dist.sha256", digest);
if (process.argv.includes("--if-stale"))
  console.log(`library: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
