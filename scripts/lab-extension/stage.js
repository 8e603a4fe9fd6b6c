#!/usr/bin/env node
// The project keeps one settings schema (schema/) and one stylesheet folder (style/) at the top
// level; JupyterLab's builder reads both from inside the extension package, so they are staged
// there (as ignored copies) before every build.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE = path.join(ROOT, "lab-extension");

function copyFolder(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

// `jupyter labextension build` runs `jlpm` (yarn) in the package when it has no node_modules
// folder, and yarn would replace the workspace's npm install. The dependencies are hoisted to
// the root's node_modules by npm workspaces; the empty folder tells the builder they are there.
fs.mkdirSync(path.join(PACKAGE, "node_modules"), { recursive: true });

copyFolder(path.join(ROOT, "style"), path.join(PACKAGE, "style"));
fs.rmSync(path.join(PACKAGE, "schema"), { recursive: true, force: true });
fs.mkdirSync(path.join(PACKAGE, "schema"));
fs.copyFileSync(path.join(ROOT, "schema", "plugin.json"), path.join(PACKAGE, "schema", "plugin.json"));
