/**
 * Offline carbon-intensity resolution from the bundled data, in CodeCarbon's order:
 * forced value → cloud region → sub-national region (US state, Canadian province, Nordic bidding
 * zone) → country → world average. Every answer says which level it came from and, when a more
 * specific level was asked for but could not be used, why.
 *
 * The location returned alongside is what the CSV records (country_name, country_iso_code,
 * region, cloud_provider, cloud_region, on_cloud).
 */
import { log } from "../log";
import { loadLatestEdition, zoneForRegion, type LatestEdition } from "./latest-edition";
import { WORLD_AVERAGE_G_PER_KWH } from "../units";
import {
  cloudRegionKey,
  loadCanadaProvinces,
  loadCloudRegions,
  loadCountries,
  loadNordicZones,
  loadUsStates,
  loadUsStatesLatest,
  type CloudRegionRecord,
  type CountriesDataset,
  type UsStateRecord,
  type UsStatesDataset,
} from "./datasets";

export interface IntensityQuery {
  /** force_carbon_intensity_g_co2e_kwh; 0 is valid; negative or NaN is ignored (logged once). */
  forcedGPerKWh?: number | null;
  /** ISO 3166 alpha-3, any case. */
  countryIsoCode?: string | null;
  /**
   * US state full name or two-letter code (any case), Canadian province name, Nordic zone SE1..FI; in the latest
   * edition also an Electricity Maps zone.
   */
  region?: string | null;
  /** e.g. "gcp", "aws", "azure". */
  cloudProvider?: string | null;
  /** e.g. "us-central1". */
  cloudRegion?: string | null;
  /** Which bundled figures to use (intensity_data); default "codecarbon". */
  edition?: IntensityEdition;
}

/**
 * codecarbon: CodeCarbon 3.3.0's figures (OWID/Ember ≤ 2023, eGRID 2016 …); latest: Ember 2024 and Electricity Maps
 * 2025 zones.
 */
export type IntensityEdition = "codecarbon" | "latest";

export type IntensitySourceKind =
  | "forced"
  | "cloud-region"
  | "us-state"
  | "canada-province"
  | "nordic-zone"
  | "country"
  | "world-average"
  | "electricity-maps"
  | "zone";

export interface IntensitySource {
  kind: IntensitySourceKind;
  /**
   * Human label, e.g. "Google Cloud Platform region us-central1", "US state illinois (eGRID 2016)", "country FRA
   * (2023)".
   */
  label: string;
  /** The dataset the figure comes from, e.g. "CodeCarbon global energy mix (Our World in Data)". */
  dataset: string;
  year: number | null;
  /** Why a more specific level was not used, e.g. "region 'atlantis' is not a US state", or null. */
  fallbackReason: string | null;
  /** The data edition the figure comes from (absent for forced and live figures). */
  edition?: IntensityEdition;
  /** The Electricity Maps zone of the figure, when it is a zone's (e.g. "CA-ON", or a live zone). */
  zone?: string;
}

export interface IntensityLocation {
  countryName: string | null;
  countryIsoCode: string | null;
  region: string | null;
  cloudProvider: string;
  cloudRegion: string;
  onCloud: boolean;
}

export interface IntensityResolution {
  intensityGPerKWh: number;
  source: IntensitySource;
  location: IntensityLocation;
}

export interface CountryIntensity {
  isoCode: string;
  name: string;
  intensityGPerKWh: number;
  year: number | null;
}

/** A cloud region row of the bundled data. */
export type CloudRegionIntensity = CloudRegionRecord;

const FORCED_DATASET = "force_carbon_intensity_g_co2e_kwh (configuration)";
const WORLD_AVERAGE_DATASET = "World average, IEA Global Energy & CO2 Status Report 2019 (via CodeCarbon)";
const NORDIC_COUNTRIES: ReadonlySet<string> = new Set(["SWE", "NOR", "FIN"]);

/** Looks a country up by ISO alpha-3 code (any case); undefined when the bundled data does not know it. */
export function findCountry(isoCode: string): CountryIntensity | undefined {
  const record = loadCountries().countries.get(isoCode.trim().toUpperCase());
  if (record === undefined) return undefined;
  return { isoCode: record.isoCode, name: record.name, intensityGPerKWh: record.intensityGPerKWh, year: record.year };
}

/** Every ISO alpha-3 code the bundled data knows, sorted. */
export function listCountryCodes(): string[] {
  return [...loadCountries().countries.keys()].sort();
}

/**
 * The bundled row for a cloud provider's region. Ids are compared case-insensitively but are
 * otherwise exact, misspellings included (Google's Doha region is `me-cenrtal1` in the data).
 */
export function findCloudRegion(provider: string, region: string): CloudRegionIntensity | undefined {
  const record = loadCloudRegions().regions.get(
    cloudRegionKey(provider.trim().toLowerCase(), region.trim().toLowerCase()),
  );
  return record === undefined ? undefined : { ...record };
}

export function resolveOfflineIntensity(query: IntensityQuery): IntensityResolution {
  const countryIsoCode = presentText(query.countryIsoCode)?.toUpperCase() ?? null;
  const region = presentText(query.region)?.toLowerCase() ?? null;
  const cloudProvider = presentText(query.cloudProvider)?.toLowerCase() ?? null;
  const cloudRegion = presentText(query.cloudRegion)?.toLowerCase() ?? null;
  const reasons: string[] = [];

  const forcedGPerKWh = acceptedForcedIntensity(query.forcedGPerKWh, reasons);
  const cloudRow =
    cloudProvider === null && cloudRegion === null ? undefined : matchCloudRow(cloudProvider, cloudRegion, reasons);
  const location =
    cloudRow !== undefined
      ? cloudLocation(cloudRow)
      : privateLocation(countryIsoCode, region, cloudProvider, cloudRegion);

  if (forcedGPerKWh !== null) {
    return {
      intensityGPerKWh: forcedGPerKWh,
      source: {
        kind: "forced",
        label: "forced value (force_carbon_intensity_g_co2e_kwh)",
        dataset: FORCED_DATASET,
        year: null,
        fallbackReason: null,
      },
      location,
    };
  }
  if (cloudRow !== undefined) {
    // Cloud regions have one source in both editions: CodeCarbon's cloud data.
    return {
      intensityGPerKWh: cloudRow.intensityGPerKWh,
      source: {
        kind: "cloud-region",
        label: `${cloudRow.providerName} region ${cloudRow.region}`,
        dataset: loadCloudRegions().dataset,
        year: null,
        fallbackReason: reasonText(reasons),
        edition: "codecarbon",
      },
      location,
    };
  }
  if (query.edition === "latest") {
    let edition: LatestEdition | undefined;
    try {
      edition = loadLatestEdition();
    } catch (error) {
      log.once(
        "error",
        "intensity.latest-data",
        `The latest carbon-intensity data is unusable (${errorText(error)}); using the codecarbon edition.`,
      );
      reasons.push("the latest edition could not be loaded");
    }
    if (edition !== undefined) return resolveLatest(edition, countryIsoCode, region, reasons, location);
  }
  const resolved = resolvePrivateInfrastructure(countryIsoCode, region, reasons, location);
  return { ...resolved, source: { ...resolved.source, edition: "codecarbon" } };
}

/** The latest edition: US state or Electricity Maps zone → Ember country → Ember world average. */
function resolveLatest(
  edition: LatestEdition,
  countryIsoCode: string | null,
  region: string | null,
  reasons: string[],
  location: IntensityLocation,
): IntensityResolution {
  if (region !== null) {
    const state =
      countryIsoCode === "USA"
        ? resolveLatestUsState(edition, region, loadUsStateFigures(reasons), reasons)
        : undefined;
    if (state !== undefined) return { ...state, location };
    const zoneCode = zoneForRegion(edition, countryIsoCode, region);
    const zone = zoneCode === undefined ? undefined : edition.zones.get(zoneCode);
    if (zoneCode !== undefined && zone !== undefined) {
      return {
        intensityGPerKWh: zone.intensityGPerKWh,
        source: {
          kind: "zone",
          label: `zone ${zoneCode} (${zone.name}, Electricity Maps ${edition.zoneYear})`,
          dataset: edition.zoneDataset,
          year: edition.zoneYear,
          fallbackReason: reasonText(reasons),
          edition: "latest",
          zone: zoneCode,
        },
        location,
      };
    }
    if (countryIsoCode === "USA") {
      const reason = `region '${region}' is neither a US state nor an Electricity Maps zone of USA`;
      log.once(
        "warning",
        `intensity.us-region:${region}`,
        `${capitalise(reason)} (a state's full name or two-letter code, or a zone such as US-CAL-CISO); using the USA country figure.`,
      );
      reasons.push(reason);
    } else {
      reasons.push(
        `region '${region}' is not an Electricity Maps zone${countryIsoCode === null ? "" : ` of ${countryIsoCode}`}`,
      );
    }
  }
  const country = countryIsoCode === null ? undefined : edition.countries.get(countryIsoCode);
  if (countryIsoCode !== null && country !== undefined) {
    return {
      intensityGPerKWh: country,
      source: {
        kind: "country",
        label: `country ${countryIsoCode} (Ember ${edition.countryYear})`,
        dataset: edition.countryDataset,
        year: edition.countryYear,
        fallbackReason: reasonText(reasons),
        edition: "latest",
      },
      location,
    };
  }
  reasons.push(countryIsoCode === null ? "no country given" : `country '${countryIsoCode}' is not in the data`);
  log.once(
    "warning",
    countryIsoCode === null ? "intensity.no-country" : `intensity.unknown-country:${countryIsoCode}`,
    `No carbon-intensity figure for ${countryIsoCode ?? "an unknown country"}; using the world average of ${edition.worldGPerKWh} gCO2eq/kWh (Ember ${edition.countryYear}).`,
  );
  return {
    intensityGPerKWh: edition.worldGPerKWh,
    source: {
      kind: "world-average",
      label: `world average (Ember ${edition.countryYear})`,
      dataset: edition.countryDataset,
      year: edition.countryYear,
      fallbackReason: reasonText(reasons),
      edition: "latest",
    },
    location,
  };
}

/** The two sets of state-level eGRID figures the latest edition can fall back on; undefined when unusable. */
export interface UsStateFigures {
  /** The newer eGRID figures carried for the latest edition. */
  newer: UsStatesDataset | undefined;
  /** eGRID 2016, the codecarbon edition's. */
  codecarbon: UsStatesDataset | undefined;
}

function loadUsStateFigures(reasons: string[]): UsStateFigures {
  const load = (loader: () => UsStatesDataset, what: string) => {
    try {
      return loader();
    } catch (error) {
      log.once(
        "error",
        `intensity.us-states:${what}`,
        `The ${what} are unusable (${errorText(error)}); using the next best US state figure.`,
      );
      reasons.push(`the ${what} could not be loaded`);
      return undefined;
    }
  };
  return {
    newer: load(loadUsStatesLatest, "newer eGRID state figures"),
    codecarbon: load(loadUsStates, "eGRID 2016 state figures"),
  };
}

/**
 * A US state (full name or two-letter code) in the latest edition, best figure first: (1) the
 * Electricity Maps zone that serves the state (nearly) whole, from the edition's state map;
 * (2) the state's newer eGRID figure; (3) its eGRID 2016 figure, the codecarbon edition's.
 * Undefined when `region` names no state (the caller then tries it as a zone).
 */
export function resolveLatestUsState(
  edition: LatestEdition,
  region: string,
  figures: UsStateFigures,
  reasons: string[],
): Omit<IntensityResolution, "location"> | undefined {
  const { newer, codecarbon } = figures;
  const state = newer?.byNameOrCode.get(region) ?? codecarbon?.byNameOrCode.get(region);
  if (state === undefined) return undefined;

  const mapped = edition.usStateZones.get(state.name);
  const zone = mapped === undefined ? undefined : edition.zones.get(mapped.zone);
  if (mapped !== undefined && zone !== undefined) {
    return {
      intensityGPerKWh: zone.intensityGPerKWh,
      source: {
        kind: "zone",
        label: `US state ${state.name}: zone ${mapped.zone} (${zone.name}, Electricity Maps ${edition.zoneYear})`,
        dataset: edition.zoneDataset,
        year: edition.zoneYear,
        fallbackReason: reasonText(reasons),
        edition: "latest",
        zone: mapped.zone,
      },
    };
  }
  reasons.push(`no single Electricity Maps zone serves ${state.name} (it is split between balancing authorities)`);
  const newerState = newer?.byNameOrCode.get(state.name);
  if (newer !== undefined && newerState !== undefined) {
    const resolved = usStateFigure(newer, newerState, reasons);
    return { ...resolved, source: { ...resolved.source, edition: "latest" } };
  }
  const olderState = codecarbon?.byNameOrCode.get(state.name);
  if (codecarbon === undefined || olderState === undefined) return undefined;
  if (newer !== undefined) reasons.push(`the newer eGRID figures have no ${state.name}`);
  const resolved = usStateFigure(codecarbon, olderState, reasons);
  return { ...resolved, source: { ...resolved.source, edition: "codecarbon" } };
}

// ---------------------------------------------------------------------------------------------

type Resolved = Omit<IntensityResolution, "location">;

function resolvePrivateInfrastructure(
  countryIsoCode: string | null,
  region: string | null,
  reasons: string[],
  location: IntensityLocation,
): IntensityResolution {
  const regional = region === null ? undefined : resolveRegion(countryIsoCode, region, reasons);
  const resolved = regional ?? resolveCountry(countryIsoCode, reasons);
  return { ...resolved, location };
}

/** Sub-national figures exist only for USA, CAN and the Nordic bidding zones (CodeCarbon's scope). */
function resolveRegion(countryIsoCode: string | null, region: string, reasons: string[]): Resolved | undefined {
  if (countryIsoCode === null) {
    reasons.push(`region '${region}' cannot be used without a country`);
    return undefined;
  }
  try {
    if (countryIsoCode === "USA") return resolveUsState(region, reasons);
    if (countryIsoCode === "CAN") return resolveCanadaProvince(region, reasons);
    if (NORDIC_COUNTRIES.has(countryIsoCode)) return resolveNordicZone(countryIsoCode, region, reasons);
  } catch (error) {
    const message = errorText(error);
    log.once(
      "error",
      `intensity.region-data:${countryIsoCode}`,
      `Regional carbon-intensity data for ${countryIsoCode} is unusable (${message}); using the country figure.`,
    );
    reasons.push(`regional data for ${countryIsoCode} could not be loaded`);
    return undefined;
  }
  reasons.push(`no regional data for ${countryIsoCode}; region '${region}' not used`);
  return undefined;
}

function resolveUsState(region: string, reasons: string[]): Resolved | undefined {
  const states = loadUsStates();
  const state = states.byNameOrCode.get(region);
  if (state === undefined) {
    const reason = `region '${region}' is not a US state`;
    log.once(
      "warning",
      `intensity.us-state:${region}`,
      `${capitalise(reason)} (full name or two-letter code); using the USA country figure.`,
    );
    reasons.push(reason);
    return undefined;
  }
  return usStateFigure(states, state, reasons);
}

/** A state's eGRID figure, labelled with the eGRID year, as both editions give it. */
function usStateFigure(states: UsStatesDataset, state: UsStateRecord, reasons: readonly string[]): Resolved {
  return {
    intensityGPerKWh: state.intensityGPerKWh,
    source: {
      kind: "us-state",
      label: `US state ${state.name}${states.year === null ? "" : ` (eGRID ${states.year})`}`,
      dataset: states.dataset,
      year: states.year,
      fallbackReason: reasonText(reasons),
    },
  };
}

function resolveCanadaProvince(region: string, reasons: string[]): Resolved | undefined {
  const provinces = loadCanadaProvinces();
  const province = provinces.provinces.get(region);
  if (province === undefined) {
    const reason = `region '${region}' is not a Canadian province or territory`;
    log.once("warning", `intensity.canada-province:${region}`, `${capitalise(reason)}; using the CAN country figure.`);
    reasons.push(reason);
    return undefined;
  }
  return {
    intensityGPerKWh: province.intensityGPerKWh,
    source: {
      kind: "canada-province",
      label: `Canadian province ${province.name}${provinces.year === null ? "" : ` (${provinces.year} generation mix)`}`,
      dataset: provinces.dataset,
      year: provinces.year,
      fallbackReason: reasonText(reasons),
    },
  };
}

/**
 * A Nordic region that is not one of the country's bidding zones (an administrative region such
 * as "stockholm") goes to the country figure without a warning, as CodeCarbon does.
 */
function resolveNordicZone(countryIsoCode: string, region: string, reasons: string[]): Resolved | undefined {
  const zones = loadNordicZones();
  const zone = zones.zones.get(region.toUpperCase());
  if (zone === undefined || zone.countryIsoCode !== countryIsoCode) {
    reasons.push(`region '${region}' is not a bidding zone of ${countryIsoCode}`);
    return undefined;
  }
  return {
    intensityGPerKWh: zone.intensityGPerKWh,
    source: {
      kind: "nordic-zone",
      label: `Nordic bidding zone ${zone.zone}${zone.year === null ? "" : ` (${zone.year})`}`,
      dataset: zones.dataset,
      year: zone.year,
      fallbackReason: reasonText(reasons),
    },
  };
}

function resolveCountry(countryIsoCode: string | null, reasons: string[]): Resolved {
  let countries: CountriesDataset;
  try {
    countries = loadCountries();
  } catch (error) {
    log.once(
      "error",
      "intensity.country-data",
      `Country carbon-intensity data is unusable (${errorText(error)}); using the world average.`,
    );
    reasons.push("country data could not be loaded");
    return worldAverage(WORLD_AVERAGE_G_PER_KWH, reasons);
  }
  if (countryIsoCode === null) {
    reasons.push("no country given");
    log.once(
      "warning",
      "intensity.no-country",
      `No country is known; using the world average of ${countries.worldAverageGPerKWh} gCO2eq/kWh.`,
    );
    return worldAverage(countries.worldAverageGPerKWh, reasons);
  }
  const country = countries.countries.get(countryIsoCode);
  if (country === undefined) {
    reasons.push(`country '${countryIsoCode}' is not in the data`);
    log.once(
      "warning",
      `intensity.unknown-country:${countryIsoCode}`,
      `No carbon-intensity data for country '${countryIsoCode}'; using the world average of ${countries.worldAverageGPerKWh} gCO2eq/kWh.`,
    );
    return worldAverage(countries.worldAverageGPerKWh, reasons);
  }
  if (country.basis === "world-average") {
    reasons.push(`the generation mix of ${countryIsoCode} does not add up to its total`);
    return worldAverage(country.intensityGPerKWh, reasons);
  }
  const details = [
    country.year === null ? null : String(country.year),
    country.basis === "generation-mix" ? "from its generation mix" : null,
  ].filter((d) => d !== null);
  return {
    intensityGPerKWh: country.intensityGPerKWh,
    source: {
      kind: "country",
      label: `country ${country.isoCode}${details.length > 0 ? ` (${details.join(", ")})` : ""}`,
      dataset: countries.dataset,
      year: country.year,
      fallbackReason: reasonText(reasons),
    },
  };
}

function worldAverage(intensityGPerKWh: number, reasons: string[]): Resolved {
  return {
    intensityGPerKWh,
    source: {
      kind: "world-average",
      label: "world average",
      dataset: WORLD_AVERAGE_DATASET,
      year: null,
      fallbackReason: reasonText(reasons),
    },
  };
}

// ---------------------------------------------------------------------------------------------

function acceptedForcedIntensity(value: number | null | undefined, reasons: string[]): number | null {
  if (value === null || value === undefined) return null;
  if (Number.isFinite(value) && value >= 0) return value;
  log.once(
    "warning",
    `intensity.forced-invalid:${String(value)}`,
    `force_carbon_intensity_g_co2e_kwh = ${String(value)} is not a non-negative number of gCO2eq/kWh; it is ignored.`,
  );
  reasons.push(`forced intensity ${String(value)} ignored (not a non-negative number)`);
  return null;
}

/**
 * Only providers that publish per-region figures have rows (Google Cloud). AWS, Azure and
 * unknown regions fall through to the private-infrastructure path, as CodeCarbon does.
 */
function matchCloudRow(
  provider: string | null,
  region: string | null,
  reasons: string[],
): CloudRegionRecord | undefined {
  if (provider === null || region === null) {
    reasons.push(`cloud ${provider === null ? "provider" : "region"} not given, so no cloud region can be matched`);
    return undefined;
  }
  let row: CloudRegionRecord | undefined;
  try {
    row = loadCloudRegions().regions.get(cloudRegionKey(provider, region));
  } catch (error) {
    log.once(
      "error",
      "intensity.cloud-data",
      `Cloud-region carbon-intensity data is unusable (${errorText(error)}); treating the machine as private infrastructure.`,
    );
    reasons.push("cloud-region data could not be loaded");
    return undefined;
  }
  if (row === undefined) {
    const reason = `no carbon-intensity data for cloud provider '${provider}' region '${region}'`;
    log.once(
      "warning",
      `intensity.cloud-row:${provider}/${region}`,
      `${capitalise(reason)}; using the country data instead.`,
    );
    reasons.push(reason);
  }
  return row;
}

function cloudLocation(row: CloudRegionRecord): IntensityLocation {
  return {
    countryName: row.countryName,
    countryIsoCode: row.countryIsoCode,
    // Deliberate fix (behaviour reference §10.2): CodeCarbon writes only the `state` column, so
    // most regions get a blank cell; we fall back to the city. Values are kept as written ("Iowa").
    region: row.state ?? row.city,
    cloudProvider: row.provider,
    cloudRegion: row.region,
    onCloud: true,
  };
}

/**
 * An unmatched provider/region is still recorded as given, so the CSV shows what was configured,
 * but on_cloud stays false because the figure came from the country data.
 */
function privateLocation(
  countryIsoCode: string | null,
  region: string | null,
  cloudProvider: string | null,
  cloudRegion: string | null,
): IntensityLocation {
  return {
    countryName: countryIsoCode === null ? null : countryNameOrNull(countryIsoCode),
    countryIsoCode,
    region,
    cloudProvider: cloudProvider ?? "",
    cloudRegion: cloudRegion ?? "",
    onCloud: false,
  };
}

function countryNameOrNull(isoCode: string): string | null {
  try {
    return loadCountries().countries.get(isoCode)?.name ?? null;
  } catch {
    return null; // resolveCountry reports the broken file
  }
}

function presentText(value: string | null | undefined): string | null {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function reasonText(reasons: readonly string[]): string | null {
  return reasons.length === 0 ? null : reasons.join("; ");
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
