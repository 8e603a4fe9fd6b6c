/**
 * The bundled carbon-intensity files (`data/intensity-*.json`, written by `npm run data`), loaded
 * on first use and checked once. A file that does not have the expected shape is a packaging
 * fault: loading throws with the file name and the offending key, and the resolver decides how
 * to degrade.
 */
import { dataPath, readJsonOnce } from "../assets";

export const INTENSITY_FILES = {
  countries: "intensity-countries.json",
  usStates: "intensity-us-states.json",
  /** The latest edition's newer eGRID state figures, in the same shape as usStates. */
  usStatesLatest: "intensity-us-states-latest.json",
  canadaProvinces: "intensity-canada-provinces.json",
  nordicZones: "intensity-nordic-zones.json",
  cloudRegions: "intensity-cloud-regions.json",
} as const;

/** How a country's figure was obtained at generation time (CodeCarbon's rule, see the file's `source.method`). */
export type CountryBasis = "reported" | "generation-mix" | "world-average";

export interface CountryRecord {
  isoCode: string;
  name: string;
  intensityGPerKWh: number;
  year: number | null;
  basis: CountryBasis;
}

export interface CountriesDataset {
  dataset: string;
  worldAverageGPerKWh: number;
  /** Keyed by upper-case ISO 3166 alpha-3 code. */
  countries: ReadonlyMap<string, CountryRecord>;
}

export interface UsStateRecord {
  /** Lower-case full name, e.g. "illinois". */
  name: string;
  /** Upper-case two-letter code, e.g. "IL". */
  code: string;
  intensityGPerKWh: number;
}

export interface UsStatesDataset {
  dataset: string;
  year: number | null;
  /** Keyed by lower-case full name and by lower-case two-letter code. */
  byNameOrCode: ReadonlyMap<string, UsStateRecord>;
}

export interface CanadaProvinceRecord {
  name: string;
  intensityGPerKWh: number;
}

export interface CanadaProvincesDataset {
  dataset: string;
  year: number | null;
  /** Keyed by lower-case province or territory name. */
  provinces: ReadonlyMap<string, CanadaProvinceRecord>;
}

export interface NordicZoneRecord {
  zone: string;
  countryIsoCode: string;
  intensityGPerKWh: number;
  year: number | null;
}

export interface NordicZonesDataset {
  dataset: string;
  /** Keyed by upper-case zone id, e.g. "SE2". */
  zones: ReadonlyMap<string, NordicZoneRecord>;
}

export interface CloudRegionRecord {
  provider: string;
  providerName: string;
  region: string;
  countryName: string;
  countryIsoCode: string;
  state: string | null;
  city: string | null;
  intensityGPerKWh: number;
}

export interface CloudRegionsDataset {
  dataset: string;
  /** Keyed by `${provider}/${region}`, both exactly as in the data. */
  regions: ReadonlyMap<string, CloudRegionRecord>;
}

export function cloudRegionKey(provider: string, region: string): string {
  return `${provider}/${region}`;
}

/** Raised for a bundled file whose shape is not the one this version of the code reads. */
export class IntensityDataError extends Error {
  override name = "IntensityDataError";
}

// ---------------------------------------------------------------------------------------------
// Lazy loaders: each file is read and checked at most once per process.

const loaded = new Map<string, unknown>();

/** Reads, checks and keeps a bundled data file (by its name under data/); errors name the file. */
export function loadOnce<T>(file: string, parse: (raw: unknown, file: string) => T): T {
  if (loaded.has(file)) return loaded.get(file) as T;
  const fullPath = dataPath(file);
  let raw: unknown;
  try {
    raw = readJsonOnce(fullPath);
  } catch (error) {
    throw new IntensityDataError(
      `codecarbon: cannot read the bundled data file ${fullPath}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = parse(raw, file);
  loaded.set(file, parsed);
  return parsed;
}

export const loadCountries = (): CountriesDataset => loadOnce(INTENSITY_FILES.countries, parseCountries);
export const loadUsStates = (): UsStatesDataset => loadOnce(INTENSITY_FILES.usStates, parseUsStates);
export const loadUsStatesLatest = (): UsStatesDataset => loadOnce(INTENSITY_FILES.usStatesLatest, parseUsStates);
export const loadCanadaProvinces = (): CanadaProvincesDataset =>
  loadOnce(INTENSITY_FILES.canadaProvinces, parseCanadaProvinces);
export const loadNordicZones = (): NordicZonesDataset => loadOnce(INTENSITY_FILES.nordicZones, parseNordicZones);
export const loadCloudRegions = (): CloudRegionsDataset => loadOnce(INTENSITY_FILES.cloudRegions, parseCloudRegions);

// ---------------------------------------------------------------------------------------------
// Shape checks. Exported for the tests of this room; other rooms use the loaders.

export function parseCountries(raw: unknown, file: string): CountriesDataset {
  const root = objectAt(raw, file);
  const worldAverage = objectAt(root["worldAverage"], `${file} worldAverage`);
  const worldAverageGPerKWh = intensityAt(worldAverage["intensityGPerKWh"], `${file} worldAverage.intensityGPerKWh`);
  const entries = objectAt(root["countries"], `${file} countries`);
  const countries = new Map<string, CountryRecord>();
  for (const [isoCode, value] of Object.entries(entries)) {
    const where = `${file} countries.${isoCode}`;
    if (!/^[A-Z]{3}$/.test(isoCode)) throw shapeError(where, "key is not an upper-case ISO alpha-3 code");
    const entry = objectAt(value, where);
    countries.set(isoCode, {
      isoCode,
      name: stringAt(entry["name"], `${where}.name`),
      intensityGPerKWh: intensityAt(entry["intensityGPerKWh"], `${where}.intensityGPerKWh`),
      year: yearAt(entry["year"], `${where}.year`),
      basis: basisAt(entry["basis"], `${where}.basis`),
    });
  }
  if (countries.size === 0) throw shapeError(`${file} countries`, "is empty");
  return { dataset: datasetName(root, file), worldAverageGPerKWh, countries };
}

export function parseUsStates(raw: unknown, file: string): UsStatesDataset {
  const root = objectAt(raw, file);
  const entries = objectAt(root["states"], `${file} states`);
  const byNameOrCode = new Map<string, UsStateRecord>();
  for (const [name, value] of Object.entries(entries)) {
    const where = `${file} states.${name}`;
    if (name !== name.toLowerCase() || name.trim() === "")
      throw shapeError(where, "key is not a lower-case state name");
    const entry = objectAt(value, where);
    const code = stringAt(entry["code"], `${where}.code`);
    if (!/^[A-Z]{2}$/.test(code)) throw shapeError(`${where}.code`, "is not an upper-case two-letter code");
    const record: UsStateRecord = {
      name,
      code,
      intensityGPerKWh: intensityAt(entry["intensityGPerKWh"], `${where}.intensityGPerKWh`),
    };
    byNameOrCode.set(name, record);
    byNameOrCode.set(code.toLowerCase(), record);
  }
  return { dataset: datasetName(root, file), year: singleYear(root), byNameOrCode };
}

export function parseCanadaProvinces(raw: unknown, file: string): CanadaProvincesDataset {
  const root = objectAt(raw, file);
  const entries = objectAt(root["provinces"], `${file} provinces`);
  const provinces = new Map<string, CanadaProvinceRecord>();
  for (const [name, value] of Object.entries(entries)) {
    const where = `${file} provinces.${name}`;
    if (name !== name.toLowerCase() || name.trim() === "")
      throw shapeError(where, "key is not a lower-case province name");
    const entry = objectAt(value, where);
    provinces.set(name, {
      name,
      intensityGPerKWh: intensityAt(entry["intensityGPerKWh"], `${where}.intensityGPerKWh`),
    });
  }
  return { dataset: datasetName(root, file), year: singleYear(root), provinces };
}

export function parseNordicZones(raw: unknown, file: string): NordicZonesDataset {
  const root = objectAt(raw, file);
  const entries = objectAt(root["zones"], `${file} zones`);
  const zones = new Map<string, NordicZoneRecord>();
  for (const [zone, value] of Object.entries(entries)) {
    const where = `${file} zones.${zone}`;
    if (!/^[A-Z]{2}[0-9]?$/.test(zone)) throw shapeError(where, "key is not an upper-case bidding-zone id");
    const entry = objectAt(value, where);
    const countryIsoCode = stringAt(entry["countryIsoCode"], `${where}.countryIsoCode`);
    if (!/^[A-Z]{3}$/.test(countryIsoCode))
      throw shapeError(`${where}.countryIsoCode`, "is not an upper-case ISO alpha-3 code");
    zones.set(zone, {
      zone,
      countryIsoCode,
      intensityGPerKWh: intensityAt(entry["intensityGPerKWh"], `${where}.intensityGPerKWh`),
      year: yearAt(entry["year"], `${where}.year`),
    });
  }
  return { dataset: datasetName(root, file), zones };
}

export function parseCloudRegions(raw: unknown, file: string): CloudRegionsDataset {
  const root = objectAt(raw, file);
  const rows = root["regions"];
  if (!Array.isArray(rows)) throw shapeError(`${file} regions`, "is not an array");
  const regions = new Map<string, CloudRegionRecord>();
  rows.forEach((value: unknown, index) => {
    const where = `${file} regions[${index}]`;
    const row = objectAt(value, where);
    const record: CloudRegionRecord = {
      provider: stringAt(row["provider"], `${where}.provider`),
      providerName: stringAt(row["providerName"], `${where}.providerName`),
      region: stringAt(row["region"], `${where}.region`),
      countryName: stringAt(row["countryName"], `${where}.countryName`),
      countryIsoCode: stringAt(row["countryIsoCode"], `${where}.countryIsoCode`),
      state: optionalStringAt(row["state"], `${where}.state`),
      city: optionalStringAt(row["city"], `${where}.city`),
      intensityGPerKWh: intensityAt(row["intensityGPerKWh"], `${where}.intensityGPerKWh`),
    };
    regions.set(cloudRegionKey(record.provider, record.region), record);
  });
  return { dataset: datasetName(root, file), regions };
}

// ---------------------------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function shapeError(where: string, problem: string): IntensityDataError {
  return new IntensityDataError(
    `codecarbon: bundled data ${where} ${problem}; reinstall the package or run \`npm run data\``,
  );
}

function objectAt(value: unknown, where: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw shapeError(where, "is not an object");
  return value as JsonObject;
}

function stringAt(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw shapeError(where, "is not a non-empty string");
  return value;
}

function optionalStringAt(value: unknown, where: string): string | null {
  return value === null || value === undefined ? null : stringAt(value, where);
}

function intensityAt(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw shapeError(where, "is not a non-negative number of gCO2eq/kWh");
  return value;
}

function yearAt(value: unknown, where: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "number" || !Number.isInteger(value)) throw shapeError(where, "is not a year");
  return value;
}

function basisAt(value: unknown, where: string): CountryBasis {
  if (value === "reported" || value === "generation-mix" || value === "world-average") return value;
  throw shapeError(where, "is not one of reported, generation-mix, world-average");
}

function datasetName(root: JsonObject, file: string): string {
  const source = objectAt(root["source"], `${file} source`);
  return stringAt(source["dataset"], `${file} source.dataset`);
}

/** The data year of a single-edition file (`source.years` with first === last), else null. */
function singleYear(root: JsonObject): number | null {
  const source = root["source"];
  if (typeof source !== "object" || source === null) return null;
  const years = (source as JsonObject)["years"];
  if (typeof years !== "object" || years === null) return null;
  const { first, last } = years as JsonObject;
  return typeof first === "number" && first === last && Number.isInteger(first) ? first : null;
}
