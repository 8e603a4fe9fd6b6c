// Reading the upstream files, shared by the data generators.
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/** The project's one CSV parser (src/protocol/csv.ts, built into dist/ by `npm run build`). */
function parseCsv(text, file) {
  let protocol;
  try {
    protocol = require("../../dist/protocol/csv.js");
  } catch (error) {
    throw new Error("scripts/data needs the built library: run `npm run build` first", { cause: error });
  }
  try {
    return protocol.parseCsv(text, { strict: true });
  } catch (error) {
    throw new Error(`${file}: ${error.message}`, { cause: error });
  }
}

/** Reads `relative` under the source folder; `who` names the generator in the error. */
function readText(source, relative, who) {
  const file = path.join(source, relative);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${who}: cannot read ${file}: ${error.message}`, { cause: error });
  }
}

const UPSTREAM_REPOSITORY = "https://github.com/mlco2/codecarbon";

/** Names the upstream file by its path inside CodeCarbon and its content hash, so a diff shows data updates. */
function sourceFile(source, relative) {
  const bytes = fs.readFileSync(path.join(source, relative));
  const provenance = readProvenance(source);
  return {
    repository: UPSTREAM_REPOSITORY,
    commit: provenance.commit,
    version: provenance.version,
    path: `codecarbon/data/${relative}`,
    sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
  };
}

/** The commit and version named by the reference copy's PROVENANCE.md; null when it has none. */
function readProvenance(source) {
  let text = "";
  try {
    text = fs.readFileSync(path.join(source, "PROVENANCE.md"), "utf8");
  } catch {
    // No provenance note: the fields stay null rather than claiming a commit.
  }
  const commit = /Commit:\s*`([0-9a-f]{40})`/.exec(text);
  const version = /package version\s*`([^`]+)`/.exec(text);
  return { commit: commit ? commit[1] : null, version: version ? version[1] : null };
}

module.exports = { parseCsv, readText, sourceFile };

