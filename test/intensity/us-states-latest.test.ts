/**
 * US states in the latest edition (issue 19): a named state gets a state-level figure, never the
 * national average: the Electricity Maps zone that serves it whole, else its newer eGRID figure,
 * else its eGRID 2016 figure; only a name that is no state falls back to the country.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveLatestUsState, resolveOfflineIntensity } from "../../src/intensity/offline";
import { loadLatestEdition, parseLatestEdition } from "../../src/intensity/latest-edition";
import { loadUsStates, loadUsStatesLatest, parseUsStates } from "../../src/intensity/datasets";
import { intensityForReport, renderDetectReport } from "../../src/cli/detect";
import { useLogCapture } from "../helpers/log-capture";
import { REPO_ROOT } from "../helpers/sandbox";

/**
 * The states no single zone serves, written out here so that a change to the map shows up as a
 * test to update, not silently. Every other state of the reference data is mapped to a zone.
 */
const SPLIT_STATES = [
  "alabama",
  "arizona",
  "arkansas",
  "colorado",
  "florida",
  "idaho",
  "illinois",
  "indiana",
  "kentucky",
  "louisiana",
  "mississippi",
  "missouri",
  "montana",
  "new mexico",
  "north carolina",
  "north dakota",
  "oregon",
  "south carolina",
  "south dakota",
  "washington",
  "wyoming",
];

const readData = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "data", name), "utf8"));
const latestUsa = (region: string) => resolveOfflineIntensity({ countryIsoCode: "USA", region, edition: "latest" });

describe("US states in the latest edition", () => {
  useLogCapture();

  test("every state of the reference data gets a state-level figure, by name or two-letter code, never the national one", () => {
    const edition = loadLatestEdition();
    const national = edition.countries.get("USA");
    const reference = (readData("intensity-us-states.json") as { states: Record<string, { code: string }> }).states;
    const newer = loadUsStatesLatest();
    assert.equal(Object.keys(reference).length, 51, "50 states and the District of Columbia");
    for (const [name, { code }] of Object.entries(reference)) {
      const expectedZone = SPLIT_STATES.includes(name) ? undefined : edition.usStateZones.get(name)?.zone;
      for (const region of [name, name.toUpperCase(), code, code.toLowerCase()]) {
        const r = latestUsa(region);
        assert.notEqual(r.source.kind, "country", `${region} is not priced at the country figure`);
        assert.notEqual(r.intensityGPerKWh, national, `${region} is not priced at the national average`);
        assert.equal(r.location.region, region.toLowerCase(), "the CSV keeps the region as given");
        if (SPLIT_STATES.includes(name)) {
          assert.equal(edition.usStateZones.has(name), false, `${name} is split, so it is not in the state map`);
          assert.deepEqual(
            [r.source.kind, r.source.label, r.source.edition, r.source.year, r.source.zone],
            ["us-state", `US state ${name} (eGRID 2023)`, "latest", 2023, undefined],
            region,
          );
          assert.equal(r.intensityGPerKWh, newer.byNameOrCode.get(name)?.intensityGPerKWh);
          assert.match(r.source.fallbackReason ?? "", new RegExp(`no single Electricity Maps zone serves ${name}`));
        } else {
          assert.ok(expectedZone !== undefined, `${name} is in the state map`);
          const zone = edition.zones.get(expectedZone);
          assert.deepEqual(
            [r.source.kind, r.source.label, r.source.edition, r.source.year, r.source.zone, r.source.fallbackReason],
            [
              "zone",
              `US state ${name}: zone ${expectedZone} (${zone?.name}, Electricity Maps 2025)`,
              "latest",
              2025,
              expectedZone,
              null,
            ],
            region,
          );
          assert.equal(r.intensityGPerKWh, zone?.intensityGPerKWh);
        }
      }
    }
    assert.equal(edition.usStateZones.size + SPLIT_STATES.length, 51, "every state is either mapped or split");
  });

  test("the states the issue names go to their grid operator's zone", () => {
    const cases = [
      ["california", "US-CAL-CISO"],
      ["Texas", "US-TEX-ERCO"],
      ["NY", "US-NY-NYIS"],
    ] as const;
    for (const [region, zone] of cases) assert.equal(latestUsa(region).source.zone, zone, region);
    const california = latestUsa("california");
    assert.equal(california.intensityGPerKWh, 208, "Electricity Maps 2025 yearly average of CAISO");
    assert.equal(
      resolveOfflineIntensity({ countryIsoCode: "USA", region: "california", edition: "codecarbon" }).source.label,
      "US state california (eGRID 2016)",
    );
  });

  test("each map entry has its reason and a US zone; states split between authorities are left out", () => {
    const edition = loadLatestEdition();
    for (const [state, entry] of edition.usStateZones) {
      assert.ok(entry.reason.length > 20, `${state} says why its zone stands for it`);
      assert.equal(edition.zones.get(entry.zone)?.country, "USA", state);
      assert.match(entry.code, /^[A-Z]{2}$/);
    }
    for (const state of ["illinois", "florida", "north carolina", "washington"])
      assert.equal(edition.usStateZones.has(state), false, state);
  });

  test("a state missing from the newer eGRID figures uses eGRID 2016, labelled as the codecarbon edition's", () => {
    const raw = structuredClone(readData("intensity-us-states-latest.json")) as { states: Record<string, unknown> };
    delete raw.states["illinois"];
    const newer = parseUsStates(raw, "intensity-us-states-latest.json (test copy)");
    const reasons: string[] = [];
    const r = resolveLatestUsState(loadLatestEdition(), "il", { newer, codecarbon: loadUsStates() }, reasons);
    assert.deepEqual(
      [r?.source.kind, r?.source.label, r?.source.edition, r?.source.year],
      ["us-state", "US state illinois (eGRID 2016)", "codecarbon", 2016],
    );
    assert.equal(r?.intensityGPerKWh, loadUsStates().byNameOrCode.get("illinois")?.intensityGPerKWh);
    assert.match(r?.source.fallbackReason ?? "", /the newer eGRID figures have no illinois/);
    const withoutNewer = resolveLatestUsState(
      loadLatestEdition(),
      "florida",
      { newer: undefined, codecarbon: loadUsStates() },
      [],
    );
    assert.deepEqual(
      [withoutNewer?.source.label, withoutNewer?.source.edition],
      ["US state florida (eGRID 2016)", "codecarbon"],
    );
  });

  test("only a name that is no state (nor a zone) falls back to the national figure, with its reason", () => {
    const r = latestUsa("atlantis");
    assert.deepEqual([r.source.kind, r.intensityGPerKWh], ["country", loadLatestEdition().countries.get("USA")]);
    assert.match(
      r.source.fallbackReason ?? "",
      /region 'atlantis' is neither a US state nor an Electricity Maps zone of USA/,
    );
    assert.equal(latestUsa("US-NW-BPAT").source.zone, "US-NW-BPAT", "zone codes still work for a US region");
  });

  test("the state map and the newer eGRID file are checked when read", () => {
    const raw = readData("intensity-latest.json") as Record<string, unknown>;
    const withMap = (usStateZones: unknown) => ({ ...raw, usStateZones });
    assert.throws(() => parseLatestEdition({ ...raw, usStateZones: undefined }, "test"), /usStateZones is missing/);
    assert.throws(
      () => parseLatestEdition(withMap({ texas: { code: "TX", zone: "FR", reason: "r" } }), "test"),
      /usStateZones.texas names FR, which is not a US zone/,
    );
    assert.throws(
      () => parseLatestEdition(withMap({ texas: { code: "TX", zone: "US-TEX-ERCO" } }), "test"),
      /usStateZones.texas is malformed/,
    );
    const newer = structuredClone(readData("intensity-us-states-latest.json")) as {
      states: Record<string, Record<string, unknown>>;
    };
    (newer.states["texas"] as Record<string, unknown>)["intensityGPerKWh"] = "lots";
    assert.throws(
      () => parseUsStates(newer, "intensity-us-states-latest.json"),
      /states.texas.intensityGPerKWh is not a non-negative number/,
    );
  });

  test("the README's table of ten large states shows each edition's figure as the data gives it", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const block = /<!-- us-states:start -->([\s\S]*?)<!-- us-states:end -->/.exec(readme)?.[1] ?? "";
    const rows = block.split("\n").filter((line) => /^\| [A-Z]/.test(line) && !line.startsWith("| State"));
    assert.equal(rows.length, 10, "ten states");
    const oneDecimal = (value: number) => value.toFixed(1);
    for (const row of rows) {
      const [state = "", codecarbon = "", latest = "", kind = "", label = ""] = row
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim());
      const name = state.toLowerCase();
      const older = resolveOfflineIntensity({ countryIsoCode: "USA", region: name, edition: "codecarbon" });
      const newer = latestUsa(name);
      assert.equal(codecarbon, `${oneDecimal(older.intensityGPerKWh)} (eGRID 2016)`, state);
      assert.equal(latest, oneDecimal(newer.intensityGPerKWh), state);
      assert.deepEqual([kind, label], [`\`${newer.source.kind}\``, newer.source.label], state);
    }
  });
});

describe("which of the three a US state figure is, as `codecarbon detect` prints it", () => {
  useLogCapture();
  const hardware = {
    ram_total_size: 16,
    cpu_count: 8,
    cpu_physical_count: 1,
    cpu_model: "Test CPU",
    gpu_count: 0,
    gpu_model: "",
    gpu_ids: null,
  };
  const printed = (r: ReturnType<typeof resolveOfflineIntensity>) =>
    renderDetectReport({ hardware, power: [], intensity: intensityForReport(r) });

  test("zone, newer eGRID and eGRID 2016 each show their source, year and edition", () => {
    const zone = printed(latestUsa("CA"));
    assert.match(zone, /208 gCO2eq\/kWh: US state california: zone US-CAL-CISO \(CAISO, Electricity Maps 2025\)/);
    assert.match(zone, /edition latest, zone US-CAL-CISO/);
    const newer = printed(latestUsa("illinois"));
    assert.match(
      newer,
      /US state illinois \(eGRID 2023\)\n.*edition latest\n.*no single Electricity Maps zone serves illinois/,
    );
    const older = resolveLatestUsState(
      loadLatestEdition(),
      "illinois",
      { newer: undefined, codecarbon: loadUsStates() },
      [],
    );
    assert.ok(older !== undefined);
    assert.match(
      printed({ ...older, location: latestUsa("illinois").location }),
      /US state illinois \(eGRID 2016\)\n.*edition codecarbon/,
    );
  });
});
