// The newer state-level EPA eGRID figures of the `latest` edition, for US states that no single
// Electricity Maps zone serves. CodeCarbon releases after our reference copy (3.3.0) ship eGRID
// 2023 state rates; the generator takes them from the pinned release's wheel on PyPI, fetched
// with pip into node_modules/.cache (figures only: the upstream file is read, never copied).
// Output: data/intensity-us-states-latest.json, in the same shape as intensity-us-states.json.
//
// Without network or Python the committed file is kept as it is and the generator says so, so
// the other datasets can still be refreshed offline.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { US_STATES_LICENCE, usStatesDocument } = require("./intensity");

const OUTPUT_FILE = "intensity-us-states-latest.json";

/** The release read, and the wheel's hash, so a refresh reads exactly the bytes reviewed. */
const RELEASE = {
  package: "codecarbon",
  version: "3.3.2",
  wheel: "codecarbon-3.3.2-py3-none-any.whl",
  wheelSha256: "05b31dea9dd26ed1e90947973c9ef20c87d127ea71fc32b4cb55a3ec512b8897",
  file: "codecarbon/data/private_infra/2023/usa_emissions.json",
  year: 2023,
};

const REPO_ROOT = path.join(__dirname, "..", "..");
const CACHE = path.join(REPO_ROOT, "node_modules", ".cache", "codecarbon-wheels");

function generate({ target }) {
  const output = path.join(target, OUTPUT_FILE);
  let wheel;
  try {
    wheel = fetchWheel();
  } catch (error) {
    if (!fs.existsSync(output)) throw error;
    console.warn(`us-states-egrid: ${error.message}; keeping the committed ${OUTPUT_FILE}.`);
    return [];
  }
  const bytes = readWheelMember(wheel, RELEASE.file);
  const raw = JSON.parse(bytes.toString("utf8"));
  const declaredYear = raw?._source?.year;
  if (declaredYear !== RELEASE.year) throw new Error(`us-states-egrid: ${RELEASE.file} declares year ${JSON.stringify(declaredYear)}, expected ${RELEASE.year}`);
  const what = typeof raw._source.name === "string" ? raw._source.name : `EPA eGRID${RELEASE.year}`;
  const document = usStatesDocument(raw, RELEASE.file, {
    dataset: `CodeCarbon ${RELEASE.version} US state emissions (US EPA eGRID ${RELEASE.year})`,
    upstream: [`US EPA Emissions & Generation Resource Integrated Database (eGRID), ${RELEASE.year} data: ${what}, https://www.epa.gov/egrid`],
    years: { first: RELEASE.year, last: RELEASE.year },
    licence: US_STATES_LICENCE,
    files: [
      {
        package: `${RELEASE.package} ${RELEASE.version} (PyPI)`,
        wheel: RELEASE.wheel,
        wheelSha256: RELEASE.wheelSha256,
        path: RELEASE.file,
        sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
      },
    ],
    generatedBy: "scripts/data/us-states-egrid.js (npm run data)",
  });
  fs.writeFileSync(output, JSON.stringify(document, null, 2) + "\n");
  return [output];
}

function python() {
  const venv = path.join(REPO_ROOT, ".venv", "bin", "python");
  return process.env.PYTHON ?? (fs.existsSync(venv) ? venv : "python3");
}

/** The pinned wheel, downloaded once with pip (the registry's own client) and checked by hash. */
function fetchWheel() {
  const wheel = path.join(CACHE, RELEASE.wheel);
  if (!fs.existsSync(wheel)) {
    fs.mkdirSync(CACHE, { recursive: true });
    try {
      execFileSync(python(), ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", CACHE, `${RELEASE.package}==${RELEASE.version}`], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (error) {
      throw new Error(`cannot download ${RELEASE.package} ${RELEASE.version} with pip (${String(error.stderr ?? error.message).trim().split("\n").pop()})`, { cause: error });
    }
  }
  const hash = crypto.createHash("sha256").update(fs.readFileSync(wheel)).digest("hex");
  if (hash !== RELEASE.wheelSha256) throw new Error(`us-states-egrid: ${wheel} has sha256 ${hash}, expected ${RELEASE.wheelSha256}`);
  return wheel;
}

/** One file of the wheel (a zip), read by Python's zipfile: Node has no zip reader of its own. */
function readWheelMember(wheel, member) {
  const script = "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))";
  return execFileSync(python(), ["-c", script, wheel, member]);
}

module.exports = { generate, OUTPUT_FILE };
