#!/usr/bin/env node
// The project keeps one settings schema (schema/), one stylesheet folder (style/) and one
// tracker↔extension protocol (src/protocol/, dependency-free TypeScript) at the top level;
// JupyterLab's builder and the extension's compiler read them from inside the extension package,
// so they are staged there (as ignored copies) before every build and type-check.
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

// The protocol, as lab-extension/src/protocol/: copied, not linked, so the compiler keeps the
// extension's rootDir and an sdist of the extension is complete. Read-only copies: edit src/protocol.
const PROTOCOL = path.join(PACKAGE, "src", "protocol");
fs.rmSync(PROTOCOL, { recursive: true, force: true });
fs.mkdirSync(PROTOCOL, { recursive: true });
for (const name of fs.readdirSync(path.join(ROOT, "src", "protocol"))) {
  if (!name.endsWith(".ts")) continue;
  const text = fs.readFileSync(path.join(ROOT, "src", "protocol", name), "utf8");
  fs.writeFileSync(
    path.join(PROTOCOL, name),
    `// Staged copy of src/protocol/${name} (scripts/lab-extension/stage.js): edit the original.\n${text}`,
    { mode: 0o444 },
  );
}
