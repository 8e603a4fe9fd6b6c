// One SHA-256 over a build's input files (their paths and contents), and the stamp files that
// remember it, so a build that setup.sh just made is not made again by `npm run demo`.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..", "..");
// Stamps live in node_modules/.cache (ignored, and gone with node_modules), never in an output
// that is shipped.
const STAMPS = path.join(ROOT, "node_modules", ".cache", "codecarbon-build");

function filesUnder(target) {
  if (!fs.existsSync(target)) return [];
  if (!fs.statSync(target).isDirectory()) return [target];
  return fs.readdirSync(target, { withFileTypes: true }).flatMap((entry) => filesUnder(path.join(target, entry.name)));
}

/** Hash of every file under the given files or folders (relative to the repository root). */
function inputsHash(targets) {
  const files = targets.flatMap((t) => filesUnder(path.resolve(ROOT, t))).sort();
  const hash = crypto.createHash("sha256");
  for (const file of files)
    hash.update(path.relative(ROOT, file)).update("\0").update(fs.readFileSync(file)).update("\0");
  return hash.digest("hex");
}

function stampMatches(name, digest) {
  const file = path.join(STAMPS, name);
  return fs.existsSync(file) && fs.readFileSync(file, "utf8").trim() === digest;
}

function writeStamp(name, digest) {
  fs.mkdirSync(STAMPS, { recursive: true });
  fs.writeFileSync(path.join(STAMPS, name), `${digest}\n`);
}

module.exports = { ROOT, filesUnder, inputsHash, stampMatches, writeStamp };
