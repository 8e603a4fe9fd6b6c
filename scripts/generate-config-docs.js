#!/usr/bin/env node
// Renders the configuration table of the README from schema/plugin.json, between the lines
// `<!-- config-table:start -->` and `<!-- config-table:end -->`.
//
//   node scripts/generate-config-docs.js [--readme FILE]           rewrite the table
//   node scripts/generate-config-docs.js [--readme FILE] --check   exit 1 if the table is stale
//
// Exit 2 when the README lacks the markers. Plain Node with no dependencies.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { readSchema, isLabOnly } = require("./generate-config-types");

const ROOT = path.join(__dirname, "..");
const README_FILE = path.join(ROOT, "README.md");
const START_MARKER = "<!-- config-table:start -->";
const END_MARKER = "<!-- config-table:end -->";
const ENV_PREFIX = "CODECARBON_";

/** Text inside a Markdown table cell: pipes would split the cell, newlines would end the row. */
function cell(text) {
  return String(text).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function typeNames(node) {
  return Array.isArray(node.type) ? node.type : [node.type];
}

function describeType(property) {
  const names = typeNames(property);
  const parts = [];
  for (const name of names) {
    if (name === "null") continue;
    if (name === "array") {
      const items = property.items;
      const itemText = Array.isArray(items.enum) ? items.enum.join(" | ") : typeNames(items).join(" | ");
      parts.push(`list of ${itemText}`);
    } else if (name === "string" && Array.isArray(property.enum)) {
      parts.push(property.enum.join(" | "));
    } else {
      parts.push(name);
    }
  }
  const limits = [];
  if (typeof property.exclusiveMinimum === "number") limits.push(`> ${property.exclusiveMinimum}`);
  if (typeof property.minimum === "number") limits.push(`≥ ${property.minimum}`);
  if (typeof property.maximum === "number") limits.push(`≤ ${property.maximum}`);
  if (typeof property["x-pattern-meaning"] === "string") limits.push(`must ${property["x-pattern-meaning"]}`);
  if (property.not && "const" in property.not) limits.push(`≠ ${JSON.stringify(property.not.const)}`);
  let text = parts.join(" | ");
  if (limits.length) text += ` (${limits.join(", ")})`;
  if (names.includes("null")) text += " or null";
  return text;
}

function describeDefault(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "[]";
  if (value === "") return '""';
  return String(value);
}

function describeKey(property) {
  let text = property.description;
  if (property["x-deprecated"]) text = `**Deprecated.** ${text}`;
  return text;
}

/**
 * The Markdown table, one row per tracker key in schema order, then the JupyterLab-only keys
 * (`"x-scope": "lab"`) in a table of their own: they have no file key or environment variable.
 */
function renderTable(schema) {
  const rows = ["| key | type | default | unit | environment variable | description |", "|---|---|---|---|---|---|"];
  const entries = Object.entries(schema.properties);
  for (const [key, property] of entries.filter(([, p]) => !isLabOnly(p))) {
    const unit = property["x-unit"] ? property["x-unit"] : "";
    rows.push(
      `| \`${key}\` | ${cell(describeType(property))} | \`${cell(describeDefault(property.default))}\` | ${cell(unit)} | ` +
        `\`${ENV_PREFIX}${key.toUpperCase()}\` | ${cell(describeKey(property))} |`,
    );
  }
  const labEntries = entries.filter(([, p]) => isLabOnly(p));
  if (labEntries.length > 0) {
    rows.push(
      "",
      "JupyterLab display settings (Settings Editor only; config files, `CODECARBON_*` variables and code ignore them):",
      "",
      "| setting | type | default | description |",
      "|---|---|---|---|",
    );
    for (const [key, property] of labEntries) {
      rows.push(
        `| \`${key}\` | ${cell(describeType(property))} | \`${cell(describeDefault(property.default))}\` | ${cell(describeKey(property))} |`,
      );
    }
  }
  return rows.join("\n");
}

/**
 * The README text with the table between the markers replaced, or undefined when either marker is
 * missing or they are out of order.
 */
function replaceTable(readme, table) {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) return undefined;
  const before = readme.slice(0, start + START_MARKER.length);
  const after = readme.slice(end);
  return `${before}\n${table}\n${after}`;
}

function main(argv) {
  const check = argv.includes("--check");
  const readmeIndex = argv.indexOf("--readme");
  const readmeFile = readmeIndex === -1 ? README_FILE : path.resolve(argv[readmeIndex + 1] ?? "");
  const readme = fs.existsSync(readmeFile) ? fs.readFileSync(readmeFile, "utf8") : "";
  const updated = replaceTable(readme, renderTable(readSchema()));
  if (updated === undefined) {
    console.error(`${readmeFile} has no "${START_MARKER}" ... "${END_MARKER}" block to fill.`);
    process.exit(2);
  }
  if (check) {
    if (updated !== readme) {
      console.error(`The configuration table in ${readmeFile} is stale: run node scripts/generate-config-docs.js`);
      process.exit(1);
    }
    return;
  }
  if (updated !== readme) fs.writeFileSync(readmeFile, updated);
  console.log(`${readmeFile} ${updated === readme ? "is up to date" : "updated"}`);
}

module.exports = { renderTable, replaceTable, describeType, START_MARKER, END_MARKER, README_FILE };

if (require.main === module) main(process.argv.slice(2));
