// Turns CodeCarbon's CPU TDP table (`hardware/cpu_power.csv`) into this package's
// `data/cpu-tdp.json`.
//
// Every row is kept, in the upstream order: the matcher gives the first row priority when two
// names differ only by case, and a row whose TDP cell is not a number still makes a token match
// ambiguous, so dropping or reordering rows would change which CPU a model string matches.
// Such rows are carried with a null TDP and listed, with their raw cell, in the source block.
// The output is deterministic (no dates, no absolute paths).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { parseCsv: parseCsvText, readText: readSourceText, sourceFile } = require("./read-source");

const GENERATOR = "scripts/data/cpu-tdp.js (npm run data)";
const CODECARBON_LICENCE = "MIT (CodeCarbon: Copyright (c) 2019 Mila, BCG Gamma, CometML, Haverford College; Copyright (c) 2023 Code Carbon NGO)";
const SOURCE_FILE = "hardware/cpu_power.csv";
const OUTPUT_FILE = "cpu-tdp.json";

/** A plain decimal number, as the upstream cells spell TDPs ("95", "65.0"). */
const DECIMAL_CELL = /^\d+(\.\d+)?$/;

/**
 * Reads the CodeCarbon data folder `source` (laid out as `codecarbon/data/` upstream) and writes
 * `cpu-tdp.json` into `target`. Returns the paths written.
 */
function generate({ source, target }) {
  if (typeof source !== "string" || typeof target !== "string") {
    throw new TypeError("cpu-tdp generator: `source` and `target` must be folder paths");
  }
  const document = buildCpuTdp(source);
  fs.mkdirSync(target, { recursive: true });
  const file = path.join(target, OUTPUT_FILE);
  fs.writeFileSync(file, serialise(document));
  return [file];
}

function buildCpuTdp(source) {
  const text = readSourceText(source, SOURCE_FILE, "cpu-tdp generator").replace(/^\uFEFF/, "");
  const rows = parseCsvText(text, SOURCE_FILE);
  const header = rows.shift();
  if (header === undefined) fail(SOURCE_FILE, "is empty");
  const nameAt = header.indexOf("Name");
  const tdpAt = header.indexOf("TDP");
  if (nameAt < 0 || tdpAt < 0) fail(SOURCE_FILE, `needs "Name" and "TDP" columns, has ${JSON.stringify(header)}`);

  const models = [];
  const nonNumericTdp = [];
  const seen = new Set();
  rows.forEach((cells, index) => {
    const where = `${SOURCE_FILE} row ${index + 2}`;
    if (cells.length !== header.length) fail(where, `has ${cells.length} cells, the header has ${header.length}`);
    // Names are carried byte for byte (inner double spaces, no-break spaces and all): the
    // matcher compares them exactly before it compares tokens.
    const name = cells[nameAt];
    if (name.trim() === "") fail(where, "has an empty Name");
    if (seen.has(name)) fail(where, `repeats the name ${JSON.stringify(name)}`);
    seen.add(name);
    const cell = cells[tdpAt].trim();
    let tdpW = null;
    if (DECIMAL_CELL.test(cell)) {
      tdpW = Number(cell);
    } else {
      nonNumericTdp.push({ name, cell: cells[tdpAt] });
    }
    models.push([name, tdpW]);
  });
  if (models.length === 0) fail(SOURCE_FILE, "has no rows");

  return {
    source: {
      dataset: "CodeCarbon CPU TDP table",
      upstream: [
        "CPU thermal design power per package as compiled by CodeCarbon from Intel ARK and AMD product pages (scraped datasets under hardware/cpu_dataset_builder/ upstream)",
      ],
      years: null,
      licence: `Compilation by CodeCarbon under ${CODECARBON_LICENCE}; the figures are manufacturers' published specifications`,
      files: [sourceFile(source, SOURCE_FILE)],
      generatedBy: GENERATOR,
      method:
        "One [name, tdpW] pair per upstream row, in the upstream order. Names are carried exactly. A TDP cell that is not a plain decimal number is carried as null and listed under nonNumericTdp with its raw cell; such rows still take part in matching.",
      rowCount: models.length,
      nonNumericTdp,
    },
    unit: "W per package",
    models,
  };
}

/**
 * Pretty-prints the source block but keeps one model per line, so the file diffs row by row.
 * Non-ASCII characters are written as \u escapes: some names hold invisible ones (a no-break
 * space, a zero-width space) that matter to the matcher and must show up in a review.
 */
function serialise(document) {
  const { models, ...rest } = document;
  const head = JSON.stringify(rest, null, 2);
  const lines = models.map((model) => `    ${JSON.stringify(model)}`);
  const text = `${head.slice(0, -2)},\n  "models": [\n${lines.join(",\n")}\n  ]\n}\n`;
  return text.replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}


function fail(where, problem) {
  throw new Error(`cpu-tdp generator: ${where} ${problem}`);
}

module.exports = { generate, OUTPUT_FILE };
