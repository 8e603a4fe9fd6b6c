#!/usr/bin/env node
// `npm pack` / `npm publish` run this first, so the tarball is complete whatever state the
// checkout is in: dist/ built from the current sources, and the prebuilt JupyterLab extension
// (lab-extension/codecarbon_jupyterlab/labextension) that `codecarbon jupyter install` copies.
// Both steps skip what is already up to date.
"use strict";
const { execFileSync } = require("node:child_process");
const path = require("node:path");

for (const script of [["build-lib.js", "--if-stale"], ["lab-extension/build.js"]]) {
  execFileSync(process.execPath, [path.join(__dirname, ...script[0].split("/")), ...script.slice(1)], {
    stdio: ["ignore", 2, 2],
  });
}
