/**
 * The provenance file beside the CSV: its name, one line per run (a run written again replaces
 * its line), lines that are not records kept, and the one-line summary for the log.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveOfflineIntensity } from "../../src/intensity/offline";
import {
  appendProvenance,
  buildProvenance,
  formatProvenanceLine,
  provenanceFile,
  readProvenanceRecords,
} from "../../src/output/provenance";
import type { PowerSource } from "../../src/measure/types";

const SOURCES: PowerSource[] = [
  { device: "cpu", method: "tdp", tdpW: 165, tdpOrigin: "matched", matchedName: "AMD EPYC 7R13", loadModel: "machine" },
  { device: "ram", method: "dimm-model", sizeGiB: 32, dimmCount: 4, arm: false, mode: "machine" },
  { device: "gpu", method: "nvidia-smi-energy-counter", gpuIndices: [0, 1] },
];

describe("provenance file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("sits beside the CSV, named after it", () => {
    assert.equal(provenanceFile(dir, "emissions.csv"), path.join(dir, "emissions.provenance.jsonl"));
    assert.equal(provenanceFile(dir, "runs"), path.join(dir, "runs.provenance.jsonl"));
  });

  test("one line per run: a run written again replaces its line, foreign lines stay", async () => {
    const file = path.join(dir, "nested", "emissions.provenance.jsonl");
    const zone = resolveOfflineIntensity({ countryIsoCode: "CAN", region: "ontario", edition: "latest" });
    const country = resolveOfflineIntensity({ countryIsoCode: "FRA", edition: "codecarbon" });
    await appendProvenance(
      file,
      buildProvenance("run-a", SOURCES, zone.intensityGPerKWh, zone.source, new Date("2026-11-28T10:00:00Z")),
    );
    fs.appendFileSync(file, "not json\n");
    await appendProvenance(
      file,
      buildProvenance("run-b", SOURCES.slice(0, 2), country.intensityGPerKWh, country.source),
    );
    await appendProvenance(
      file,
      buildProvenance("run-a", SOURCES, zone.intensityGPerKWh, zone.source, new Date("2026-11-28T11:00:00Z")),
    );

    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    assert.equal(lines.length, 3);
    assert.equal(lines[1], "not json");
    const records = await readProvenanceRecords(file);
    assert.deepEqual(
      records.map((r) => [r.run_id, r.timestamp]),
      [
        ["run-a", "2026-11-28T11:00:00.000Z"],
        ["run-b", records[1]!.timestamp],
      ],
    );
    const [a, b] = records;
    assert.deepEqual(
      [a!.intensity.kind, a!.intensity.edition, a!.intensity.zone, a!.intensity.year],
      ["zone", "latest", "CA-ON", 2025],
    );
    assert.deepEqual(
      [b!.intensity.kind, b!.intensity.edition, b!.intensity.zone, b!.intensity.year],
      ["country", "codecarbon", null, 2023],
    );
    assert.deepEqual(
      a!.power_sources.map((p) => [p.device, p.method, p.basis]),
      [
        ["cpu", "tdp", "estimated"],
        ["ram", "dimm-model", "estimated"],
        ["gpu", "nvidia-smi-energy-counter", "measured"],
      ],
    );
  });

  test("a missing file has no records", async () => {
    assert.deepEqual(await readProvenanceRecords(path.join(dir, "absent.jsonl")), []);
  });

  test("the log line names each power source and the intensity's source, edition, zone and fallback", () => {
    const fallback = resolveOfflineIntensity({ countryIsoCode: "USA", region: "atlantis", edition: "latest" });
    const line = formatProvenanceLine(buildProvenance("run-c", SOURCES, fallback.intensityGPerKWh, fallback.source));
    assert.match(line, /AMD EPYC 7R13/);
    assert.match(line, /GPU 0,1/);
    assert.match(line, /gCO2eq\/kWh from country USA \(Ember 2024\) \[latest\]/);
    assert.match(line, /fallback: region 'atlantis' is neither a US state nor an Electricity Maps zone of USA/);
    const forced = buildProvenance(
      "run-d",
      [{ device: "cpu", method: "tdp", tdpW: 42, tdpOrigin: "forced", matchedName: null, loadModel: "process" }],
      12,
      resolveOfflineIntensity({ forcedGPerKWh: 12 }).source,
    );
    assert.equal(forced.power_sources[0]!.basis, "forced");
    assert.equal(forced.intensity.edition, null, "a forced intensity belongs to no edition");
  });
});
