/**
 * Offline intensity resolution against the bundled data, including every vector of CodeCarbon's
 * tests/test_emissions.py (behaviour reference §5.3).
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { useLogCapture } from "../helpers/log-capture";
import {
  findCloudRegion,
  findCountry,
  listCountryCodes,
  resolveOfflineIntensity,
  type IntensityQuery,
  type IntensityResolution,
} from "../../src/intensity/offline";

const LBS_PER_MWH_TO_KG_PER_KWH = 0.00045359237;

const captured = useLogCapture();

/** What CodeCarbon computes for an energy increment: kWh × g/kWh ÷ 1000. */
function emissionsKg(query: IntensityQuery, energyKWh: number): number {
  return (energyKWh * resolveOfflineIntensity(query).intensityGPerKWh) / 1000;
}

/** CodeCarbon's tests compare with assertAlmostEqual(places=2) or tighter. */
function assertClose(actual: number, expected: number, tolerance: number): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected} ± ${tolerance}, got ${actual}`);
}

describe("CodeCarbon test vectors (§5.3)", () => {
  test("aws/us-east-1 without a country: world average, 0.6 kWh → 0.285 kg", () => {
    assertClose(emissionsKg({ cloudProvider: "aws", cloudRegion: "us-east-1" }, 0.6), 0.285, 1e-12);
  });

  test("azure/eastus without a country: world average, 1.5 kWh → 0.7125 kg", () => {
    assertClose(emissionsKg({ cloudProvider: "azure", cloudRegion: "eastus" }, 1.5), 0.7125, 1e-12);
  });

  test("gcp/us-central1: 430 g/kWh, 0.01 kWh → 0.0043 kg", () => {
    assertClose(emissionsKg({ cloudProvider: "gcp", cloudRegion: "us-central1" }, 0.01), 0.0043, 1e-12);
  });

  test("FRA: 1 kWh → 0.056039 kg", () => {
    assertClose(emissionsKg({ countryIsoCode: "FRA" }, 1), 0.056039, 1e-12);
  });

  test("NOR without a region: about 0.03 kg per kWh", () => {
    assertClose(emissionsKg({ countryIsoCode: "NOR" }, 1), 0.03, 0.005);
  });

  test("USA / Illinois: 0.3 kWh → 0.11 kg (eGRID 811.318 lbs/MWh)", () => {
    const kg = emissionsKg({ countryIsoCode: "USA", region: "Illinois" }, 0.3);
    assertClose(kg, 0.11, 0.005);
    assertClose(kg, 0.3 * 811.318 * LBS_PER_MWH_TO_KG_PER_KWH, 1e-12);
  });

  test("USA without a region: 0.3 kWh → 0.1108 kg", () => {
    assertClose(emissionsKg({ countryIsoCode: "USA" }, 0.3), 0.1108, 0.0001);
  });

  test("CAN without a region: 3 kWh → 0.5101 kg", () => {
    assertClose(emissionsKg({ countryIsoCode: "CAN" }, 3), 0.5101, 0.0001);
  });

  test("CAN / ontario: 3 kWh with the fossil-share formula (≈ 0.064722 kg/kWh)", () => {
    const expectedKgPerKWh = (0.0 / 100.1) * 0.995725971 + (0.1 / 100.1) * 0.8166885263 + (8.6 / 100.1) * 0.7438415916;
    assertClose(expectedKgPerKWh, 0.064722, 1e-6);
    assertClose(emissionsKg({ countryIsoCode: "CAN", region: "ontario" }, 3), 3 * expectedKgPerKWh, 1e-12);
  });

  test("an unknown country (AAA) or no country at all: world average, 1 kWh → 0.475 kg", () => {
    assert.equal(emissionsKg({ countryIsoCode: "AAA" }, 1), 0.475);
    assert.equal(emissionsKg({}, 1), 0.475);
  });

  test("SWE / SE2: 1 kWh → 0.018 kg", () => {
    assertClose(emissionsKg({ countryIsoCode: "SWE", region: "SE2" }, 1), 0.018, 1e-12);
  });

  test("FIN / FI: 2.5 kWh → 0.18 kg", () => {
    assertClose(emissionsKg({ countryIsoCode: "FIN", region: "FI" }, 2.5), 0.18, 1e-12);
  });

  test("forced 50 g/kWh: 2 kWh → 0.1 kg", () => {
    assertClose(emissionsKg({ forcedGPerKWh: 50, countryIsoCode: "FRA" }, 2), 0.1, 1e-12);
  });

  test("forced 100 g/kWh on aws: 2 kWh → 0.2 kg", () => {
    assertClose(emissionsKg({ forcedGPerKWh: 100, cloudProvider: "aws", cloudRegion: "us-east-1" }, 2), 0.2, 1e-12);
  });
});

describe("forced intensity", () => {
  test("0 is a valid forced value", () => {
    const r = resolveOfflineIntensity({ forcedGPerKWh: 0, countryIsoCode: "DEU" });
    assert.equal(r.intensityGPerKWh, 0);
    assert.equal(r.source.kind, "forced");
    assert.equal(r.source.fallbackReason, null);
    assert.equal(r.location.countryName, "Germany");
  });

  test("a negative value is ignored, logged once, and named in the fallback reason", () => {
    const first = resolveOfflineIntensity({ forcedGPerKWh: -1, countryIsoCode: "FRA" });
    resolveOfflineIntensity({ forcedGPerKWh: -1, countryIsoCode: "FRA" });
    assert.equal(first.source.kind, "country");
    assert.equal(first.intensityGPerKWh, 56.039);
    assert.match(first.source.fallbackReason ?? "", /forced intensity -1 ignored/);
    assert.equal(
      captured.lines.filter(
        (l) => l.level === "warning" && l.message.includes("force_carbon_intensity_g_co2e_kwh = -1"),
      ).length,
      1,
    );
  });

  test("NaN is ignored", () => {
    const r = resolveOfflineIntensity({ forcedGPerKWh: Number.NaN, countryIsoCode: "FRA" });
    assert.equal(r.source.kind, "country");
    assert.equal(r.intensityGPerKWh, 56.039);
  });

  test("a forced value on a matched cloud region keeps the cloud location", () => {
    const r = resolveOfflineIntensity({ forcedGPerKWh: 12, cloudProvider: "gcp", cloudRegion: "europe-west9" });
    assert.equal(r.intensityGPerKWh, 12);
    assert.equal(r.source.kind, "forced");
    assert.equal(r.location.onCloud, true);
    assert.equal(r.location.countryIsoCode, "FRA");
  });
});

describe("cloud regions", () => {
  test("a GCP row gives its intensity and the CSV location fields", () => {
    const r = resolveOfflineIntensity({ cloudProvider: "gcp", cloudRegion: "us-central1", countryIsoCode: "FRA" });
    assert.equal(r.intensityGPerKWh, 430);
    assert.deepEqual(r.source, {
      kind: "cloud-region",
      label: "Google Cloud Platform region us-central1",
      dataset: "CodeCarbon cloud region impact (Google Cloud region carbon data)",
      year: null,
      fallbackReason: null,
      edition: "codecarbon",
    });
    assert.deepEqual(r.location, {
      countryName: "USA",
      countryIsoCode: "USA",
      region: "Iowa",
      cloudProvider: "gcp",
      cloudRegion: "us-central1",
      onCloud: true,
    });
  });

  test("provider and region ids match case-insensitively", () => {
    assert.equal(resolveOfflineIntensity({ cloudProvider: "GCP", cloudRegion: "US-Central1" }).intensityGPerKWh, 430);
  });

  test("a row without a state records its city as the region", () => {
    const r = resolveOfflineIntensity({ cloudProvider: "gcp", cloudRegion: "europe-west9" });
    assert.equal(r.intensityGPerKWh, 34);
    assert.equal(r.location.region, "Paris");
    assert.equal(r.location.countryName, "France");
  });

  test("the misspelt Doha region id is matched as the data spells it", () => {
    const row = findCloudRegion("gcp", "me-cenrtal1");
    assert.ok(row);
    assert.equal(row.countryIsoCode, "QAT");
    assert.equal(row.intensityGPerKWh, 575);
    assert.equal(findCloudRegion("gcp", "me-central1"), undefined);
  });

  test("AWS has no rows: private infrastructure with the given country, on_cloud false", () => {
    const r = resolveOfflineIntensity({ cloudProvider: "aws", cloudRegion: "eu-west-3", countryIsoCode: "fra" });
    assert.equal(r.intensityGPerKWh, 56.039);
    assert.equal(r.source.kind, "country");
    assert.match(r.source.fallbackReason ?? "", /no carbon-intensity data for cloud provider 'aws' region 'eu-west-3'/);
    assert.deepEqual(r.location, {
      countryName: "France",
      countryIsoCode: "FRA",
      region: null,
      cloudProvider: "aws",
      cloudRegion: "eu-west-3",
      onCloud: false,
    });
  });

  test("AWS without a country ends on the world average with both reasons", () => {
    const r = resolveOfflineIntensity({ cloudProvider: "aws", cloudRegion: "us-east-1" });
    assert.equal(r.intensityGPerKWh, 475);
    assert.equal(r.source.kind, "world-average");
    assert.equal(
      r.source.fallbackReason,
      "no carbon-intensity data for cloud provider 'aws' region 'us-east-1'; no country given",
    );
    assert.equal(r.location.countryIsoCode, null);
    assert.equal(r.location.countryName, null);
  });

  test("an unknown GCP region with a country and state uses the state", () => {
    const r = resolveOfflineIntensity({
      cloudProvider: "gcp",
      cloudRegion: "mars-north1",
      countryIsoCode: "USA",
      region: "illinois",
    });
    assert.equal(r.source.kind, "us-state");
    assert.equal(r.location.onCloud, false);
    assert.match(r.source.fallbackReason ?? "", /mars-north1/);
  });

  test("a provider without a region cannot match a row", () => {
    const r = resolveOfflineIntensity({ cloudProvider: "gcp", countryIsoCode: "DEU" });
    assert.equal(r.source.kind, "country");
    assert.equal(r.location.onCloud, false);
    assert.match(r.source.fallbackReason ?? "", /cloud region not given/);
  });
});

describe("regional data", () => {
  test("US states match by full name or two-letter code, any case", () => {
    const expectedGPerKWh = 811.318 * LBS_PER_MWH_TO_KG_PER_KWH * 1000;
    for (const region of ["illinois", "Illinois", "IL", "il"]) {
      const r = resolveOfflineIntensity({ countryIsoCode: "usa", region });
      assert.equal(r.source.kind, "us-state", region);
      assertClose(r.intensityGPerKWh, expectedGPerKWh, 1e-9);
      assert.equal(r.source.year, 2016);
      assert.equal(r.source.label, "US state illinois (eGRID 2016)");
      assert.equal(r.location.region, region.toLowerCase());
      assert.equal(r.location.countryName, "United States");
    }
  });

  test("an unknown US state falls back to the USA figure with a reason and one warning", () => {
    const r = resolveOfflineIntensity({ countryIsoCode: "USA", region: "Atlantis" });
    resolveOfflineIntensity({ countryIsoCode: "USA", region: "Atlantis" });
    assert.equal(r.source.kind, "country");
    assert.equal(r.intensityGPerKWh, 369.473);
    assert.equal(r.source.fallbackReason, "region 'atlantis' is not a US state");
    assert.equal(r.location.region, "atlantis");
    assert.equal(captured.lines.filter((l) => l.level === "warning" && l.message.includes("atlantis")).length, 1);
  });

  test("the national eGRID row is not a state", () => {
    assert.equal(resolveOfflineIntensity({ countryIsoCode: "USA", region: "usa" }).source.kind, "country");
  });

  test("Canadian provinces: quebec ≈ 0.003937 and alberta ≈ 0.627675 kg/kWh", () => {
    const quebec = resolveOfflineIntensity({ countryIsoCode: "CAN", region: "Quebec" });
    const alberta = resolveOfflineIntensity({ countryIsoCode: "CAN", region: "alberta" });
    assert.equal(quebec.source.kind, "canada-province");
    assert.equal(quebec.source.year, 2023);
    assertClose(quebec.intensityGPerKWh / 1000, 0.003937, 1e-6);
    assertClose(alberta.intensityGPerKWh / 1000, 0.627675, 1e-6);
  });

  test("an unknown Canadian region falls back to the CAN figure", () => {
    const r = resolveOfflineIntensity({ countryIsoCode: "CAN", region: "atlantis" });
    assert.equal(r.source.kind, "country");
    assert.equal(r.intensityGPerKWh, 170.043);
    assert.equal(r.source.fallbackReason, "region 'atlantis' is not a Canadian province or territory");
  });

  test("Nordic zones are used only for their own country and differ from the country figure", () => {
    const se2 = resolveOfflineIntensity({ countryIsoCode: "SWE", region: "se2" });
    assert.equal(se2.source.kind, "nordic-zone");
    assert.equal(se2.intensityGPerKWh, 18);
    assert.equal(se2.source.year, 2024);
    assert.notEqual(se2.intensityGPerKWh, findCountry("SWE")?.intensityGPerKWh);
    const fi = resolveOfflineIntensity({ countryIsoCode: "FIN", region: "FI" });
    assert.equal(fi.intensityGPerKWh, 72);
    assert.equal(fi.source.year, 2025);
    const foreignZone = resolveOfflineIntensity({ countryIsoCode: "SWE", region: "NO1" });
    assert.equal(foreignZone.source.kind, "country");
    assert.equal(foreignZone.intensityGPerKWh, 40.695);
  });

  test("a Nordic administrative region goes to the country figure without a warning", () => {
    const r = resolveOfflineIntensity({ countryIsoCode: "SWE", region: "stockholm" });
    assert.equal(r.source.kind, "country");
    assert.equal(r.intensityGPerKWh, 40.695);
    assert.equal(r.source.fallbackReason, "region 'stockholm' is not a bidding zone of SWE");
    assert.deepEqual(captured.lines, []);
  });

  test("a Nordic zone id under a non-Nordic country is not used", () => {
    const r = resolveOfflineIntensity({ countryIsoCode: "DEU", region: "SE2" });
    assert.equal(r.source.kind, "country");
    assert.equal(r.intensityGPerKWh, 380.95);
    assert.equal(r.source.fallbackReason, "no regional data for DEU; region 'se2' not used");
  });

  test("a region without a country ends on the world average", () => {
    const r = resolveOfflineIntensity({ region: "illinois" });
    assert.equal(r.source.kind, "world-average");
    assert.equal(r.source.fallbackReason, "region 'illinois' cannot be used without a country; no country given");
    assert.equal(r.location.region, "illinois");
  });
});

describe("countries", () => {
  test("a country resolves with its name, year and label", () => {
    const r: IntensityResolution = resolveOfflineIntensity({ countryIsoCode: " fra " });
    assert.equal(r.intensityGPerKWh, 56.039);
    assert.deepEqual(r.source, {
      kind: "country",
      label: "country FRA (2023)",
      dataset: "CodeCarbon global energy mix (Our World in Data)",
      year: 2023,
      fallbackReason: null,
      edition: "codecarbon",
    });
    assert.deepEqual(r.location, {
      countryName: "France",
      countryIsoCode: "FRA",
      region: null,
      cloudProvider: "",
      cloudRegion: "",
      onCloud: false,
    });
  });

  test("a country with a zero reported intensity uses its generation mix (CAF: all hydro → 26)", () => {
    const r = resolveOfflineIntensity({ countryIsoCode: "CAF" });
    assert.equal(r.intensityGPerKWh, 26);
    assert.equal(r.source.kind, "country");
    assert.equal(r.source.label, "country CAF (2022, from its generation mix)");
  });

  test("an unknown country keeps its code, has no name, and says why the world average was used", () => {
    const r = resolveOfflineIntensity({ countryIsoCode: "aaa" });
    assert.equal(r.source.kind, "world-average");
    assert.equal(r.source.fallbackReason, "country 'AAA' is not in the data");
    assert.equal(r.location.countryIsoCode, "AAA");
    assert.equal(r.location.countryName, null);
    assert.equal(captured.lines.filter((l) => l.level === "warning").length, 1);
  });

  test("findCountry is case-insensitive and returns undefined for unknown codes", () => {
    assert.deepEqual(findCountry("deu"), { isoCode: "DEU", name: "Germany", intensityGPerKWh: 380.95, year: 2023 });
    assert.equal(findCountry("GBR")?.intensityGPerKWh, 237.589);
    assert.equal(findCountry("XXX"), undefined);
  });

  test("listCountryCodes is sorted, upper-case and covers the bundled countries", () => {
    const codes = listCountryCodes();
    assert.equal(codes.length, 213);
    assert.deepEqual(codes, [...codes].sort());
    assert.ok(codes.every((c) => /^[A-Z]{3}$/.test(c)));
    for (const code of ["FRA", "USA", "CAN", "SWE", "NOR", "FIN", "CAF"]) assert.ok(codes.includes(code), code);
  });
});
