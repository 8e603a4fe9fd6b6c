// The "latest" carbon-intensity edition, from the @tgwf/co2 package (The Green Web Foundation's
// CO2.js, a dev dependency used here only): Ember's yearly country averages, and Electricity
// Maps' yearly zone averages (2025), which add sub-national zones. Output: data/intensity-latest.json.
//
// Region names map to zones by the zone's own name (accents dropped, any case) and code: "ontario" or "on" → CA-ON,
// "new south wales" or "nsw" → AU-NSW, "se1" → SE-SE1, "us-cal-ciso" → US-CAL-CISO. An alias two
// zones of one country would share is dropped rather than guessed.
//
// US states: most balancing authorities span several states and many states several
// authorities, so only the states that one zone serves (nearly) whole are mapped to a zone, from
// the hand-kept list scripts/data/us-state-zones.json (each entry with its reason), checked here
// against the zones and the states of intensity-us-states.json and written as `usStateZones`.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const EMBER_YEAR = 2024;
const ZONES_YEAR = 2025;
const US_STATE_ZONES = path.join(__dirname, "us-state-zones.json");

function generate({ target }) {
  const { averageIntensity } = require("@tgwf/co2/data");
  const electricityMaps = require("@tgwf/co2/data/electricity-maps");
  const co2Root = path.dirname(path.dirname(path.dirname(require.resolve("@tgwf/co2/data"))));
  const co2Version = JSON.parse(fs.readFileSync(path.join(co2Root, "package.json"), "utf8")).version;
  const iso = JSON.parse(fs.readFileSync(path.join(target, "iso-3166.json"), "utf8")).countries;
  const alpha3Of = (alpha2) => iso[alpha2]?.alpha3 ?? null;

  const countries = {};
  let world = null;
  for (const key of Object.keys(averageIntensity.data).sort()) {
    const value = averageIntensity.data[key];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`Ember figure for ${key} is not a number`);
    if (key === "WORLD") world = value;
    else if (/^[A-Z]{3}$/.test(key)) countries[key] = { intensityGPerKWh: value };
  }
  if (world === null) throw new Error("Ember data has no WORLD figure");

  const yearly = (electricityMaps.default ?? electricityMaps)[`yearly${ZONES_YEAR}`].data;
  const zones = {};
  const aliases = {};
  const taken = {};
  for (const code of Object.keys(yearly).sort()) {
    const entry = yearly[code];
    const value = entry?.carbonIntensity?.value;
    if (typeof value !== "number" || !Number.isFinite(value)) continue;
    const prefix = code.split("-")[0];
    const country = alpha3Of(prefix);
    if (country === null) continue;
    zones[code] = { name: entry.zone?.zoneName ?? code, country, intensityGPerKWh: value };
    if (!code.includes("-")) continue;
    const plain = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
    const names = [code.toLowerCase(), code.slice(prefix.length + 1).toLowerCase(), plain(entry.zone?.zoneName ?? "")].filter(Boolean);
    for (const alias of new Set(names)) {
      const key = `${country}:${alias}`;
      if (taken[key] !== undefined && taken[key] !== code) {
        taken[key] = null;
        continue;
      }
      taken[key] = code;
    }
  }
  for (const [key, code] of Object.entries(taken).sort(([a], [b]) => a.localeCompare(b))) {
    if (code === null) continue;
    const [country, alias] = key.split(/:(.*)/s);
    (aliases[country] ??= {})[alias] = code;
  }

  const usStateZones = readUsStateZones(target, zones);

  const document = {
    edition: "latest",
    source: {
      countries: {
        dataset: `Ember yearly electricity data (via @tgwf/co2 ${co2Version})`,
        year: EMBER_YEAR,
        licence: "CC BY-SA 4.0",
        attribution: "Ember, https://ember-energy.org/data/ (republished by The Green Web Foundation's CO2.js)",
      },
      zones: {
        dataset: `Electricity Maps yearly averages ${ZONES_YEAR} (via @tgwf/co2 ${co2Version})`,
        year: ZONES_YEAR,
        licence: "ODbL 1.0",
        attribution: "Electricity Maps, https://www.electricitymaps.com/data (republished by The Green Web Foundation's CO2.js)",
      },
      generator: "scripts/data/latest-edition.js (npm run data)",
    },
    unit: "gCO2eq/kWh",
    worldAverage: { intensityGPerKWh: world, year: EMBER_YEAR },
    countries,
    zones,
    regionAliases: aliases,
    usStateZones,
  };
  fs.writeFileSync(path.join(target, "intensity-latest.json"), JSON.stringify(document, null, 1) + "\n");
}

/** The state → zone map, each state known to the eGRID file and each zone a US zone of the data. */
function readUsStateZones(target, zones) {
  const where = path.relative(path.join(__dirname, "..", ".."), US_STATE_ZONES);
  const map = JSON.parse(fs.readFileSync(US_STATE_ZONES, "utf8")).states;
  const states = JSON.parse(fs.readFileSync(path.join(target, "intensity-us-states.json"), "utf8")).states;
  const written = {};
  for (const state of Object.keys(map).sort()) {
    const { zone, reason } = map[state];
    if (states[state] === undefined) throw new Error(`${where}: "${state}" is not a state of intensity-us-states.json`);
    if (zones[zone]?.country !== "USA") throw new Error(`${where}: ${state} names ${zone}, which is not a US zone of the Electricity Maps ${ZONES_YEAR} data`);
    if (typeof reason !== "string" || reason.trim() === "") throw new Error(`${where}: ${state} has no reason`);
    written[state] = { code: states[state].code, zone, reason };
  }
  return written;
}

module.exports = { generate };
