// ISO 3166-1 country codes (alpha-2 ↔ alpha-3 and the short name), for the online tracker:
// ipinfo.io answers with alpha-2 codes, Electricity Maps is asked by alpha-2, and our
// intensity tables are keyed by alpha-3. The codes come from the ISO 3166-1 table that the
// pycountry package (a dependency of the Python CodeCarbon in the project's .venv) ships.
const fs = require("node:fs");
const path = require("node:path");

function findPycountryTable(root) {
  const lib = path.join(root, ".venv", "lib");
  if (!fs.existsSync(lib)) return null;
  for (const python of fs.readdirSync(lib).sort()) {
    const candidate = path.join(lib, python, "site-packages", "pycountry", "databases", "iso3166-1.json");
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function generate({ target }) {
  const root = path.join(__dirname, "..", "..");
  const table = findPycountryTable(root);
  if (table === null) {
    throw new Error("iso3166-1.json from pycountry was not found under .venv: run `bash scripts/setup.sh` first");
  }
  const rows = JSON.parse(fs.readFileSync(table, "utf8"))["3166-1"];
  const countries = {};
  for (const row of [...rows].sort((a, b) => a.alpha_2.localeCompare(b.alpha_2))) {
    if (!/^[A-Z]{2}$/.test(row.alpha_2) || !/^[A-Z]{3}$/.test(row.alpha_3)) throw new Error(`unexpected ISO row ${JSON.stringify(row)}`);
    countries[row.alpha_2] = { alpha3: row.alpha_3, name: row.common_name ?? row.name };
  }
  const out = {
    source: { dataset: "ISO 3166-1 country codes", via: "pycountry (iso-codes project), iso3166-1.json", licence: "LGPL-2.1 (iso-codes data)" },
    countries,
  };
  fs.writeFileSync(path.join(target, "iso-3166.json"), JSON.stringify(out, null, 1) + "\n");
}

module.exports = { generate };
