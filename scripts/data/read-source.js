// Reading the upstream files, shared by the data generators.
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

/** A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF line ends. */
function parseCsv(text, file) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === "") {
      quoted = true;
    } else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      if (!(row.length === 1 && row[0] === "")) rows.push(row);
      row = [];
    } else {
      field += ch;
    }
  }
  if (quoted) throw new Error(`${file} ends inside a quoted field`);
  row.push(field);
  if (!(row.length === 1 && row[0] === "")) rows.push(row);
  return rows;
}

/** Reads `relative` under the source folder; `who` names the generator in the error. */
function readText(source, relative, who) {
  const file = path.join(source, relative);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`${who}: cannot read ${file}: ${error.message}`);
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

