/**
 * The data generator (scripts/data/intensity.js), run on a small hand-made copy of CodeCarbon's
 * data layout so the figures are known and the test needs nothing outside the repository.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/sandbox";
import {
  parseCanadaProvinces,
  parseCloudRegions,
  parseCountries,
  parseNordicZones,
  parseUsStates,
  IntensityDataError,
} from "../../src/intensity/datasets";

interface IntensityGenerator {
  generate(options: { source: string; target: string }): string[];
}

const generator = require(path.join(REPO_ROOT, "scripts", "data", "intensity.js")) as IntensityGenerator;

const PER_SOURCE = {
  unit: "gCO2.eq/kWh",
  world_average: 475,
  world_average_source: "https://example.org/world",
  coal: 995,
  coal_source: "https://example.org/coal",
  natural_gas: 743,
  natural_gas_source: "https://example.org/gas",
  hydroelectricity: 26,
  hydroelectricity_source: "https://example.org/hydro",
};

const ENERGY_MIX = {
  FRA: {
    country_name: "France",
    iso_code: "FRA",
    year: 2023,
    carbon_intensity: 56.039,
    total_TWh: 514.11,
    coal_TWh: 2.16,
    hydroelectricity_TWh: 53.19,
  },
  // Zero counts as missing; coal and hydro cover the total, so the mix gives 0.5 × 995 + 0.5 × 26.
  MIX: {
    country_name: "Mixland",
    iso_code: "MIX",
    year: 2022,
    carbon_intensity: 0.0,
    total_TWh: 4,
    coal_TWh: 2,
    hydroelectricity_TWh: 2,
  },
  // gas_TWh has no factor under that name, so the covered sum misses the total: world average.
  GAP: {
    country_name: "Gapland",
    iso_code: "GAP",
    year: 2021,
    total_TWh: 5,
    coal_TWh: 2,
    gas_TWh: 1,
    hydroelectricity_TWh: 2,
  },
};

const USA = {
  illinois: { emissions: 811.318, regionCode: "IL" },
  "new york": { emissions: 500, regionCode: "NY" },
  usa: { emissions: 998.443, regionCode: "usa" },
  _unit: { emissions: "lbs/MWh", regionCode: "2 digit state/region code" },
};

const CANADA = {
  ontario: {
    naturalGas: 8.6,
    nuclear: 50.1,
    petroleum: 0.1,
    biomass: 1.0,
    coal: 0.0,
    other: 0.0,
    solar: 5.2,
    tidal: 0.0,
    total: 100.1,
    wind: 11.7,
    hydro: 23.4,
  },
};

const NORDIC = {
  data: {
    SE2: { emission_factor: 18.0, unit: "gCO2eq/kWh", description: "Sweden Bidding Zone 2", year: 2024 },
    FI: { emission_factor: 72.0, unit: "gCO2eq/kWh", description: "Finland", year: 2025 },
  },
  metadata: { source: "Averages from ENTSO-E data", last_updated: "2026-01-24", notes: "" },
};

const IMPACT_CSV =
  "\uFEFFprovider,providerName,offsetRatio,region,regionName,country_name,countryIsoCode,state,city,impact,source,comment\r\n" +
  "gcp,Google Cloud Platform,100,us-central1,,USA,USA,Iowa,Council Bluffs,430,https://example.org/gcp,\r\n" +
  'gcp,Google Cloud Platform,100,me-cenrtal1,,Qatar,QAT,,"Doha, Ad Dawhah",575,https://example.org/gcp,"note, with ""quotes"""\r\n' +
  "gcp,Google Cloud Platform,100,asia-east1,,Taiwan,TWN,,Changhua County,451,https://example.org/gcp,\r\n";

let workDir: string;
let sourceDir: string;

function writeFile(relative: string, content: string): void {
  const file = path.join(sourceDir, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function readGenerated(target: string, name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(target, name), "utf8")) as Record<string, unknown>;
}

function snapshot(dir: string): Map<string, string> {
  return new Map(
    fs
      .readdirSync(dir)
      .sort()
      .map((name) => [name, fs.readFileSync(path.join(dir, name), "utf8")]),
  );
}

before(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  sourceDir = path.join(workDir, "codecarbon");
  writeFile("private_infra/global_energy_mix.json", JSON.stringify(ENERGY_MIX));
  writeFile("private_infra/carbon_intensity_per_source.json", JSON.stringify(PER_SOURCE));
  writeFile("private_infra/2016/usa_emissions.json", JSON.stringify(USA));
  writeFile("private_infra/2023/canada_energy_mix.json", JSON.stringify(CANADA));
  writeFile("private_infra/nordic_emissions.json", JSON.stringify(NORDIC));
  writeFile("cloud/impact.csv", IMPACT_CSV);
});

after(() => fs.rmSync(workDir, { recursive: true, force: true }));

describe("scripts/data/intensity.js", () => {
  test("writes the five intensity files, and a second run is byte-identical", () => {
    const first = path.join(workDir, "out-1");
    const second = path.join(workDir, "out-2");
    const written = generator.generate({ source: sourceDir, target: first });
    assert.deepEqual(written.map((f) => path.basename(f)).sort(), [
      "intensity-canada-provinces.json",
      "intensity-cloud-regions.json",
      "intensity-countries.json",
      "intensity-nordic-zones.json",
      "intensity-us-states.json",
    ]);
    const before = snapshot(first);
    generator.generate({ source: sourceDir, target: first });
    generator.generate({ source: sourceDir, target: second });
    assert.deepEqual(snapshot(first), before);
    assert.deepEqual(snapshot(second), before);
    for (const [name, text] of before) {
      assert.ok(text.endsWith("}\n"), `${name} ends with a newline`);
      assert.ok(!text.includes(workDir), `${name} does not mention the machine's paths`);
    }
  });

  test("countries: the reported figure, the generation-mix rule and the world average", () => {
    const target = path.join(workDir, "out-countries");
    generator.generate({ source: sourceDir, target });
    const raw = readGenerated(target, "intensity-countries.json");
    const data = parseCountries(raw, "intensity-countries.json");
    assert.equal(data.worldAverageGPerKWh, 475);
    assert.deepEqual(data.countries.get("FRA"), {
      isoCode: "FRA",
      name: "France",
      intensityGPerKWh: 56.039,
      year: 2023,
      basis: "reported",
    });
    assert.deepEqual(data.countries.get("MIX"), {
      isoCode: "MIX",
      name: "Mixland",
      intensityGPerKWh: 0.5 * 995 + 0.5 * 26,
      year: 2022,
      basis: "generation-mix",
    });
    assert.deepEqual(data.countries.get("GAP"), {
      isoCode: "GAP",
      name: "Gapland",
      intensityGPerKWh: 475,
      year: 2021,
      basis: "world-average",
    });
    assert.deepEqual(Object.keys(raw["countries"] as object), ["FRA", "GAP", "MIX"]);
    const source = raw["source"] as {
      files: Array<{ path: string; sha256: string; commit: string | null }>;
      years: unknown;
    };
    assert.deepEqual(source.years, { first: 2021, last: 2023 });
    assert.equal(source.files[0]?.path, "codecarbon/data/private_infra/global_energy_mix.json");
    assert.match(source.files[0]?.sha256 ?? "", /^[0-9a-f]{64}$/);
    assert.equal(source.files[0]?.commit, null, "no PROVENANCE.md, so no commit is claimed");
  });

  test("US states are converted from lbs/MWh to g/kWh at full precision; the national row is kept apart", () => {
    const target = path.join(workDir, "out-us");
    generator.generate({ source: sourceDir, target });
    const raw = readGenerated(target, "intensity-us-states.json");
    const states = raw["states"] as Record<
      string,
      { code: string; emissionsLbsPerMWh: number; intensityGPerKWh: number }
    >;
    assert.deepEqual(Object.keys(states), ["illinois", "new york"]);
    assert.deepEqual(states["illinois"], {
      code: "IL",
      emissionsLbsPerMWh: 811.318,
      intensityGPerKWh: 811.318 * 0.00045359237 * 1000,
    });
    assert.deepEqual(raw["nationalAverage"], {
      emissionsLbsPerMWh: 998.443,
      intensityGPerKWh: 998.443 * 0.00045359237 * 1000,
    });
    const parsed = parseUsStates(raw, "intensity-us-states.json");
    assert.equal(parsed.year, 2016);
    assert.equal(parsed.byNameOrCode.get("ny")?.name, "new york");
  });

  test("Canadian provinces carry their shares and the fossil-share intensity", () => {
    const target = path.join(workDir, "out-can");
    generator.generate({ source: sourceDir, target });
    const raw = readGenerated(target, "intensity-canada-provinces.json");
    const ontario = (
      raw["provinces"] as Record<string, { intensityGPerKWh: number; sharesPercent: Record<string, number> }>
    )["ontario"];
    assert.ok(ontario);
    assert.ok(Math.abs(ontario.intensityGPerKWh - 64.722) < 0.001, String(ontario.intensityGPerKWh));
    assert.equal(ontario.sharesPercent["nuclear"], 50.1);
    assert.equal(ontario.sharesPercent["total"], 100.1);
    assert.deepEqual(raw["factorsKgPerKWh"], { coal: 0.995725971, petroleum: 0.8166885263, naturalGas: 0.7438415916 });
    assert.equal(parseCanadaProvinces(raw, "x").year, 2023);
  });

  test("Nordic zones keep their year and country", () => {
    const target = path.join(workDir, "out-nordic");
    generator.generate({ source: sourceDir, target });
    const zones = parseNordicZones(readGenerated(target, "intensity-nordic-zones.json"), "x").zones;
    assert.deepEqual(zones.get("SE2"), { zone: "SE2", countryIsoCode: "SWE", intensityGPerKWh: 18, year: 2024 });
    assert.deepEqual(zones.get("FI"), { zone: "FI", countryIsoCode: "FIN", intensityGPerKWh: 72, year: 2025 });
  });

  test("cloud rows: BOM stripped, quoted cells read, ids kept as spelt, rows sorted", () => {
    const target = path.join(workDir, "out-cloud");
    generator.generate({ source: sourceDir, target });
    const raw = readGenerated(target, "intensity-cloud-regions.json");
    const regions = raw["regions"] as Array<Record<string, unknown>>;
    assert.deepEqual(
      regions.map((r) => r["region"]),
      ["asia-east1", "me-cenrtal1", "us-central1"],
    );
    assert.deepEqual(regions[1], {
      provider: "gcp",
      providerName: "Google Cloud Platform",
      region: "me-cenrtal1",
      countryName: "Qatar",
      countryIsoCode: "QAT",
      state: null,
      city: "Doha, Ad Dawhah",
      intensityGPerKWh: 575,
    });
    const parsed = parseCloudRegions(raw, "x");
    assert.equal(parsed.regions.get("gcp/us-central1")?.state, "Iowa");
  });

  test("a malformed upstream cell stops generation with the file and row named", () => {
    const badSource = path.join(workDir, "bad");
    fs.cpSync(sourceDir, badSource, { recursive: true });
    fs.writeFileSync(
      path.join(badSource, "cloud", "impact.csv"),
      "provider,providerName,offsetRatio,region,regionName,country_name,countryIsoCode,state,city,impact,source,comment\n" +
        "gcp,Google Cloud Platform,100,us-central1,,USA,USA,Iowa,Council Bluffs,lots,https://example.org,\n",
    );
    assert.throws(
      () => generator.generate({ source: badSource, target: path.join(workDir, "out-bad") }),
      /cloud\/impact\.csv row 2 impact "lots"/,
    );
  });
});

describe("bundled-data shape checks", () => {
  test("a country without a figure is rejected with its key", () => {
    const raw = {
      source: { dataset: "d" },
      worldAverage: { intensityGPerKWh: 475 },
      countries: { FRA: { name: "France", year: 2023, basis: "reported" } },
    };
    assert.throws(
      () => parseCountries(raw, "intensity-countries.json"),
      (error: unknown) => {
        assert.ok(error instanceof IntensityDataError);
        assert.match(error.message, /intensity-countries\.json countries\.FRA\.intensityGPerKWh/);
        return true;
      },
    );
  });

  test("a negative cloud intensity and a non-array region list are rejected", () => {
    const row = {
      provider: "gcp",
      providerName: "G",
      region: "r",
      countryName: "C",
      countryIsoCode: "CCC",
      state: null,
      city: null,
      intensityGPerKWh: -1,
    };
    assert.throws(
      () => parseCloudRegions({ source: { dataset: "d" }, regions: [row] }, "c.json"),
      /regions\[0\]\.intensityGPerKWh/,
    );
    assert.throws(
      () => parseCloudRegions({ source: { dataset: "d" }, regions: {} }, "c.json"),
      /regions is not an array/,
    );
  });

  test("a US state code that is not two letters is rejected", () => {
    const raw = { source: { dataset: "d" }, states: { illinois: { code: "ILL", intensityGPerKWh: 1 } } };
    assert.throws(() => parseUsStates(raw, "s.json"), /states\.illinois\.code/);
  });
});
