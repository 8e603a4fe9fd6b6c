// Turns CodeCarbon's carbon-intensity data files into this package's own JSON files under data/.
//
// The output is deterministic (sorted keys, no dates, no absolute paths) so `npm run data` run
// twice gives byte-identical files and an update of the upstream data shows up as a reviewable
// diff. Every figure is carried as published; derived figures (US states in g/kWh, Canadian
// provinces from their generation shares, countries without a reported intensity) are computed
// here once, with the rule written into the file, so the runtime only looks values up.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { parseCsv: parseCsvText, readText: readSourceText, sourceFile } = require("./read-source");

const GENERATOR = "scripts/data/intensity.js (npm run data)";
const CODECARBON_LICENCE = "MIT (CodeCarbon: Copyright (c) 2019 Mila, BCG Gamma, CometML, Haverford College; Copyright (c) 2023 Code Carbon NGO)";

/** Kilograms per pound: converts lbs/MWh into kg/kWh (the MWh→kWh factor 1000 cancels the lb→t one). */
const KG_PER_KWH_PER_LBS_PER_MWH = 0.00045359237;

/** Emission factors of the fossil sources in the Canadian formula, kg CO2eq per kWh generated. */
const CANADA_FACTORS_KG_PER_KWH = { coal: 0.995725971, petroleum: 0.8166885263, naturalGas: 0.7438415916 };

const NORDIC_ZONE_COUNTRIES = { SE: "SWE", NO: "NOR", FI: "FIN" };

const OUTPUT_FILES = {
  countries: "intensity-countries.json",
  usStates: "intensity-us-states.json",
  canadaProvinces: "intensity-canada-provinces.json",
  nordicZones: "intensity-nordic-zones.json",
  cloudRegions: "intensity-cloud-regions.json",
};

/**
 * Reads the CodeCarbon data folder `source` (laid out as `codecarbon/data/` upstream) and writes
 * the intensity files into `target`. Returns the paths written.
 */
function generate({ source, target }) {
  if (typeof source !== "string" || typeof target !== "string") {
    throw new TypeError("intensity generator: `source` and `target` must be folder paths");
  }
  const outputs = [
    [OUTPUT_FILES.countries, buildCountries(source)],
    [OUTPUT_FILES.usStates, buildUsStates(source)],
    [OUTPUT_FILES.canadaProvinces, buildCanadaProvinces(source)],
    [OUTPUT_FILES.nordicZones, buildNordicZones(source)],
    [OUTPUT_FILES.cloudRegions, buildCloudRegions(source)],
  ];
  fs.mkdirSync(target, { recursive: true });
  const written = [];
  for (const [name, document] of outputs) {
    const file = path.join(target, name);
    fs.writeFileSync(file, JSON.stringify(document, null, 2) + "\n");
    written.push(file);
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// Countries and the world average

function buildCountries(source) {
  const mixFile = "private_infra/global_energy_mix.json";
  const perSourceFile = "private_infra/carbon_intensity_per_source.json";
  const mix = readJsonObject(source, mixFile);
  const perSource = readJsonObject(source, perSourceFile);

  const worldAverageGPerKWh = requireNumber(perSource.world_average, perSourceFile, "world_average");
  // Every numeric entry except the average is a per-source factor; `<name>_source` keys hold URLs.
  const factorsGPerKWh = {};
  for (const key of Object.keys(perSource).sort()) {
    if (key === "world_average" || key === "unit" || key.endsWith("_source")) continue;
    factorsGPerKWh[key] = requireNumber(perSource[key], perSourceFile, key);
  }

  const countries = {};
  const years = [];
  for (const isoCode of Object.keys(mix).sort()) {
    const entry = mix[isoCode];
    const where = `${mixFile} ${isoCode}`;
    if (!isPlainObject(entry)) fail(where, "is not an object");
    if (!/^[A-Z]{3}$/.test(isoCode)) fail(where, "key is not an ISO 3166 alpha-3 code");
    if (entry.iso_code !== undefined && entry.iso_code !== isoCode) fail(where, `iso_code ${JSON.stringify(entry.iso_code)} differs from its key`);
    const name = requireString(entry.country_name, where, "country_name");
    const year = requireInteger(entry.year, where, "year");
    years.push(year);
    const resolved = countryIntensity(entry, factorsGPerKWh, worldAverageGPerKWh, where);
    countries[isoCode] = { name, intensityGPerKWh: resolved.intensityGPerKWh, year, basis: resolved.basis };
  }

  return {
    source: {
      dataset: "CodeCarbon global energy mix (Our World in Data)",
      upstream: [
        "Our World in Data, electricity mix and carbon intensity of electricity (compiled by OWID from Ember and the Energy Institute Statistical Review of World Energy), https://ourworldindata.org/electricity-mix",
        `World average: IEA Global Energy & CO2 Status Report 2019, ${stringOr(perSource.world_average_source, "")}`.trim(),
        "Per-source factors: see generationMixFactors.sources",
      ],
      years: { first: Math.min(...years), last: Math.max(...years) },
      licence: `Figures from Our World in Data are published under CC BY 4.0; compilation by CodeCarbon under ${CODECARBON_LICENCE}`,
      files: [sourceFile(source, mixFile), sourceFile(source, perSourceFile)],
      generatedBy: GENERATOR,
      method:
        "intensityGPerKWh is carbon_intensity when it is non-zero (basis 'reported'). Otherwise it is the generation-weighted mean of the per-source factors over every <source>_TWh field that has a factor (basis 'generation-mix'); when those fields do not add up to total_TWh exactly, the world average is used (basis 'world-average'). This is CodeCarbon's rule, applied here once.",
    },
    unit: "gCO2eq/kWh",
    worldAverage: { intensityGPerKWh: worldAverageGPerKWh },
    generationMixFactors: {
      factorsGPerKWh,
      sources: collectSourceUrls(perSource),
    },
    countries,
  };
}

/** CodeCarbon's country rule: the reported figure, else the mix-weighted factors, else the world average. */
function countryIntensity(entry, factorsGPerKWh, worldAverageGPerKWh, where) {
  const reported = entry.carbon_intensity;
  if (reported !== undefined && reported !== null) requireNumber(reported, where, "carbon_intensity");
  // Zero counts as missing upstream (CAF carries 0.0 for a grid that is all hydro).
  if (typeof reported === "number" && reported !== 0) return { intensityGPerKWh: reported, basis: "reported" };

  const totalTWh = requireNumber(entry.total_TWh, where, "total_TWh");
  let intensityGPerKWh = 0;
  let coveredTWh = 0;
  // Field order matters for the floating-point sum, so walk the entry in its file order.
  for (const [key, value] of Object.entries(entry)) {
    if (!key.endsWith("_TWh")) continue;
    const factor = factorsGPerKWh[key.slice(0, -"_TWh".length)];
    if (!factor) continue;
    const generationTWh = requireNumber(value, where, key);
    intensityGPerKWh += (generationTWh / totalTWh) * factor;
    coveredTWh += generationTWh;
  }
  if (coveredTWh !== totalTWh) return { intensityGPerKWh: worldAverageGPerKWh, basis: "world-average" };
  return { intensityGPerKWh, basis: "generation-mix" };
}

function collectSourceUrls(perSource) {
  const urls = {};
  for (const key of Object.keys(perSource).sort()) {
    if (!key.endsWith("_source")) continue;
    urls[key.slice(0, -"_source".length)] = requireString(perSource[key], "carbon_intensity_per_source.json", key);
  }
  return urls;
}

// ---------------------------------------------------------------------------------------------
// US states

function buildUsStates(source) {
  const file = "private_infra/2016/usa_emissions.json";
  return usStatesDocument(readJsonObject(source, file), file, {
    dataset: "CodeCarbon US state emissions (US EPA eGRID 2016)",
    upstream: ["US EPA Emissions & Generation Resource Integrated Database (eGRID), 2016 data, state CO2 output emission rates, https://www.epa.gov/egrid"],
    years: { first: 2016, last: 2016 },
    licence: US_STATES_LICENCE,
    files: [sourceFile(source, file)],
    generatedBy: GENERATOR,
  });
}

const US_STATES_LICENCE = `eGRID is a US federal government work (public domain in the US); compilation by CodeCarbon under ${CODECARBON_LICENCE}`;

/**
 * CodeCarbon's `usa_emissions.json` layout (state name → lbs/MWh and two-letter code, `usa` for
 * the nation, `_`-keys for notes) as our US-state document; `source` is the file's source block
 * less the method, which is the same for every edition of the upstream file.
 */
function usStatesDocument(raw, file, source) {
  const states = {};
  let national = null;
  for (const key of Object.keys(raw).sort()) {
    if (key.startsWith("_")) continue; // `_unit` and `_source` document the columns
    const entry = raw[key];
    const where = `${file} ${key}`;
    if (!isPlainObject(entry)) fail(where, "is not an object");
    const emissionsLbsPerMWh = requireNumber(entry.emissions, where, "emissions");
    const converted = {
      emissionsLbsPerMWh,
      intensityGPerKWh: emissionsLbsPerMWh * KG_PER_KWH_PER_LBS_PER_MWH * 1000,
    };
    // The national row is not a state: kept for reference, never matched as a region.
    if (key === "usa") {
      national = converted;
      continue;
    }
    const code = requireString(entry.regionCode, where, "regionCode");
    if (!/^[A-Z]{2}$/.test(code)) fail(where, `regionCode "${code}" is not a 2-letter code`);
    if (key !== key.toLowerCase()) fail(where, "state names must be lower-case");
    states[key] = { code, ...converted };
  }
  return {
    source: {
      ...source,
      method: `intensityGPerKWh = emissionsLbsPerMWh x ${KG_PER_KWH_PER_LBS_PER_MWH} kg/lb x 1000 g/kg, at full double precision.`,
    },
    unit: "gCO2eq/kWh",
    conversion: { kgPerKWhPerLbsPerMWh: KG_PER_KWH_PER_LBS_PER_MWH },
    nationalAverage: national,
    states,
  };
}

// ---------------------------------------------------------------------------------------------
// Canadian provinces

function buildCanadaProvinces(source) {
  const file = "private_infra/2023/canada_energy_mix.json";
  const raw = readJsonObject(source, file);
  const provinces = {};
  for (const key of Object.keys(raw).sort()) {
    const entry = raw[key];
    const where = `${file} ${key}`;
    if (!isPlainObject(entry)) fail(where, "is not an object");
    if (key !== key.toLowerCase()) fail(where, "province names must be lower-case");
    const sharesPercent = {};
    for (const share of Object.keys(entry).sort()) sharesPercent[share] = requireNumber(entry[share], where, share);
    const total = requireNumber(entry.total, where, "total");
    if (!(total > 0)) fail(where, "total must be positive");
    let intensityKgPerKWh = 0;
    for (const [fuel, factor] of Object.entries(CANADA_FACTORS_KG_PER_KWH)) {
      intensityKgPerKWh += (requireNumber(entry[fuel], where, fuel) / total) * factor;
    }
    provinces[key] = { intensityGPerKWh: intensityKgPerKWh * 1000, sharesPercent };
  }
  return {
    source: {
      dataset: "CodeCarbon Canadian provincial energy mix (2023)",
      upstream: ["Provincial and territorial electricity generation shares as compiled by CodeCarbon (2023 edition); the upstream file does not name its primary source"],
      years: { first: 2023, last: 2023 },
      licence: `Compilation by CodeCarbon under ${CODECARBON_LICENCE}`,
      files: [sourceFile(source, file)],
      generatedBy: GENERATOR,
      method:
        "intensityGPerKWh = 1000 x sum over coal, petroleum, naturalGas of (share / total) x factorKgPerKWh; the other sources count as zero (CodeCarbon's formula).",
    },
    unit: "gCO2eq/kWh",
    factorsKgPerKWh: { ...CANADA_FACTORS_KG_PER_KWH },
    provinces,
  };
}

// ---------------------------------------------------------------------------------------------
// Nordic bidding zones

function buildNordicZones(source) {
  const file = "private_infra/nordic_emissions.json";
  const raw = readJsonObject(source, file);
  if (!isPlainObject(raw.data)) fail(file, "has no `data` object");
  const metadata = isPlainObject(raw.metadata) ? raw.metadata : {};
  const zones = {};
  const years = [];
  for (const zone of Object.keys(raw.data).sort()) {
    const entry = raw.data[zone];
    const where = `${file} data.${zone}`;
    if (!isPlainObject(entry)) fail(where, "is not an object");
    const prefix = Object.keys(NORDIC_ZONE_COUNTRIES).find((p) => zone.startsWith(p));
    if (prefix === undefined || !/^(SE[1-4]|NO[1-5]|FI)$/.test(zone)) fail(where, "is not a known Nordic bidding zone");
    const year = requireInteger(entry.year, where, "year");
    years.push(year);
    zones[zone] = {
      countryIsoCode: NORDIC_ZONE_COUNTRIES[prefix],
      description: requireString(entry.description, where, "description"),
      intensityGPerKWh: requireNumber(entry.emission_factor, where, "emission_factor"),
      year,
    };
  }
  return {
    source: {
      dataset: "CodeCarbon Nordic bidding-zone factors (ENTSO-E averages)",
      upstream: [`${stringOr(metadata.source, "ENTSO-E based averages")}, https://transparency.entsoe.eu`],
      years: { first: Math.min(...years), last: Math.max(...years) },
      lastUpdated: stringOr(metadata.last_updated, null),
      licence: `Compilation by CodeCarbon under ${CODECARBON_LICENCE}; ENTSO-E Transparency Platform data is reusable with attribution under its terms of use`,
      files: [sourceFile(source, file)],
      generatedBy: GENERATOR,
      method: "Static yearly factors per bidding zone, carried as published.",
    },
    unit: "gCO2eq/kWh",
    zones,
  };
}

// ---------------------------------------------------------------------------------------------
// Cloud regions

function buildCloudRegions(source) {
  const file = "cloud/impact.csv";
  const text = readSourceText(source, file, "intensity generator").replace(/^\uFEFF/, "");
  const rows = parseCsvText(text, file);
  const header = rows.shift();
  if (header === undefined) fail(file, "is empty");
  const column = (name) => {
    const index = header.indexOf(name);
    if (index < 0) fail(file, `has no "${name}" column`);
    return index;
  };
  const at = {
    provider: column("provider"),
    providerName: column("providerName"),
    region: column("region"),
    countryName: column("country_name"),
    countryIsoCode: column("countryIsoCode"),
    state: column("state"),
    city: column("city"),
    impact: column("impact"),
    sourceUrl: column("source"),
  };
  const regions = [];
  const sourceUrls = new Set();
  const seen = new Set();
  rows.forEach((cells, index) => {
    const where = `${file} row ${index + 2}`;
    if (cells.length !== header.length) fail(where, `has ${cells.length} cells, the header has ${header.length}`);
    const cell = (key) => cells[at[key]].trim();
    const provider = cell("provider");
    const region = cell("region");
    if (provider === "" || region === "") fail(where, "has an empty provider or region");
    const key = `${provider}/${region}`;
    if (seen.has(key)) fail(where, `repeats ${key}`);
    seen.add(key);
    const impact = cell("impact");
    const intensityGPerKWh = Number(impact);
    if (impact === "" || !Number.isFinite(intensityGPerKWh) || intensityGPerKWh < 0) fail(where, `impact "${impact}" is not a non-negative number`);
    if (cell("sourceUrl") !== "") sourceUrls.add(cell("sourceUrl"));
    regions.push({
      provider,
      providerName: cell("providerName"),
      // Region ids are carried exactly, misspellings included (`me-cenrtal1`): users copy them from the data.
      region,
      countryName: cell("countryName"),
      countryIsoCode: cell("countryIsoCode"),
      state: cell("state") === "" ? null : cell("state"),
      city: cell("city") === "" ? null : cell("city"),
      intensityGPerKWh,
    });
  });
  regions.sort((a, b) => compareStrings(a.provider, b.provider) || compareStrings(a.region, b.region));
  return {
    source: {
      dataset: "CodeCarbon cloud region impact (Google Cloud region carbon data)",
      upstream: [...sourceUrls].sort().map((url) => `Google Cloud, carbon free energy for Google Cloud regions, ${url}`),
      years: null,
      licence: `Compilation by CodeCarbon under ${CODECARBON_LICENCE}; Google publishes the figures on its documentation site (content under CC BY 4.0 unless noted)`,
      files: [sourceFile(source, file)],
      generatedBy: GENERATOR,
      method: "Rows carried as published (the byte-order mark stripped, empty state/city as null); impact is the grid carbon intensity in gCO2eq/kWh.",
    },
    unit: "gCO2eq/kWh",
    regions,
  };
}


function readJsonObject(source, relative) {
  let parsed;
  try {
    parsed = JSON.parse(readSourceText(source, relative, "intensity generator"));
  } catch (error) {
    throw new Error(`intensity generator: ${relative} is not valid JSON: ${error.message}`, { cause: error });
  }
  if (!isPlainObject(parsed)) fail(relative, "is not a JSON object");
  return parsed;
}

function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireNumber(value, where, key) {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(where, `${key} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

function requireInteger(value, where, key) {
  if (!Number.isInteger(value)) fail(where, `${key} must be an integer, got ${JSON.stringify(value)}`);
  return value;
}

function requireString(value, where, key) {
  if (typeof value !== "string" || value.trim() === "") fail(where, `${key} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function stringOr(value, fallback) {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : fallback;
}

// Locale-independent, so the output order is the same on every machine.
function compareStrings(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(where, problem) {
  throw new Error(`intensity generator: ${where} ${problem}`);
}

module.exports = { generate, OUTPUT_FILES, US_STATES_LICENCE, usStatesDocument };
