import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveOfflineIntensity } from "../../src/intensity/offline";
import { loadLatestEdition } from "../../src/intensity/latest-edition";
import { resolveConfig } from "../../src/config";
import { useLogCapture } from "../helpers/log-capture";
import { REPO_ROOT } from "../helpers/sandbox";

describe("data editions", () => {
  useLogCapture();

  test("intensity_data picks the edition; latest is the default", () => {
    assert.equal(resolveConfig({}, { env: {}, cwd: REPO_ROOT, home: "/nonexistent" }).settings.intensityData, "latest");
    const codecarbon = resolveOfflineIntensity({ countryIsoCode: "FRA", edition: "codecarbon" });
    const latest = resolveOfflineIntensity({ countryIsoCode: "FRA", edition: "latest" });
    assert.equal(codecarbon.intensityGPerKWh, 56.039);
    assert.deepEqual([codecarbon.source.edition, codecarbon.source.year], ["codecarbon", 2023]);
    assert.equal(latest.intensityGPerKWh, loadLatestEdition().countries.get("FRA"));
    assert.deepEqual(
      [latest.source.kind, latest.source.edition, latest.source.year, latest.source.label],
      ["country", "latest", 2024, "country FRA (Ember 2024)"],
    );
    assert.match(latest.source.dataset, /Ember/);
  });

  test("a region becomes an Electricity Maps zone by name (accents and case aside) or by code", () => {
    for (const region of ["Ontario", "on", "CA-ON"]) {
      const r = resolveOfflineIntensity({ countryIsoCode: "CAN", region, edition: "latest" });
      assert.deepEqual([r.source.kind, r.source.zone, r.source.year], ["zone", "CA-ON", 2025], region);
    }
    assert.equal(
      resolveOfflineIntensity({ countryIsoCode: "CAN", region: "quebec", edition: "latest" }).source.zone,
      "CA-QC",
    );
    assert.equal(
      resolveOfflineIntensity({ countryIsoCode: "AUS", region: "New South Wales", edition: "latest" }).source.zone,
      "AU-NSW",
    );
    assert.equal(
      resolveOfflineIntensity({ countryIsoCode: "SWE", region: "SE2", edition: "latest" }).source.zone,
      "SE-SE2",
    );
    assert.equal(
      resolveOfflineIntensity({ countryIsoCode: "USA", region: "US-CAL-CISO", edition: "latest" }).source.zone,
      "US-CAL-CISO",
    );
    const byCodeAlone = resolveOfflineIntensity({ region: "US-TEX-ERCO", edition: "latest" });
    assert.equal(byCodeAlone.source.zone, "US-TEX-ERCO");
  });

  test("zone → country → world, each fallback with its reason", () => {
    const notAState = resolveOfflineIntensity({ countryIsoCode: "USA", region: "atlantis", edition: "latest" });
    assert.equal(notAState.source.kind, "country");
    assert.match(
      notAState.source.fallbackReason ?? "",
      /'atlantis' is neither a US state nor an Electricity Maps zone of USA/,
    );
    const unknownRegion = resolveOfflineIntensity({ countryIsoCode: "FRA", region: "bretagne", edition: "latest" });
    assert.equal(unknownRegion.source.kind, "country");
    assert.match(unknownRegion.source.fallbackReason ?? "", /'bretagne' is not an Electricity Maps zone of FRA/);
    const unknownCountry = resolveOfflineIntensity({ countryIsoCode: "ATA", edition: "latest" });
    assert.equal(unknownCountry.source.kind, "world-average");
    assert.equal(unknownCountry.intensityGPerKWh, loadLatestEdition().worldGPerKWh);
    assert.match(unknownCountry.source.fallbackReason ?? "", /country 'ATA' is not in the data/);
    const nothing = resolveOfflineIntensity({ edition: "latest" });
    assert.match(nothing.source.fallbackReason ?? "", /no country given/);
  });

  test("cloud regions and forced values are the same in both editions", () => {
    for (const edition of ["latest", "codecarbon"] as const) {
      assert.equal(
        resolveOfflineIntensity({ cloudProvider: "gcp", cloudRegion: "us-central1", edition }).intensityGPerKWh,
        430,
      );
      assert.equal(resolveOfflineIntensity({ forcedGPerKWh: 12, countryIsoCode: "FRA", edition }).intensityGPerKWh, 12);
    }
  });

  test("the README's attribution list names every dataset shipped, with its licence", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const block = /<!-- attributions:start -->([\s\S]*?)<!-- attributions:end -->/.exec(readme)?.[1] ?? "";
    assert.ok(block.length > 0, "README.md has an attributions block");
    const shipped = [
      ...loadLatestEdition().attributions,
      ...[
        "intensity-countries.json",
        "intensity-us-states.json",
        "intensity-us-states-latest.json",
        "intensity-canada-provinces.json",
        "intensity-nordic-zones.json",
        "intensity-cloud-regions.json",
      ].map((name) => {
        const source = (
          JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "data", name), "utf8")) as {
            source: { dataset: string; licence?: string };
          }
        ).source;
        return { dataset: source.dataset, licence: source.licence ?? "" };
      }),
    ];
    for (const { dataset, licence } of shipped) {
      assert.ok(block.includes(dataset), `the attributions name "${dataset}"`);
      if (licence !== "")
        assert.ok(block.includes(licence), `the attributions give the licence "${licence}" of ${dataset}`);
    }
  });
});
