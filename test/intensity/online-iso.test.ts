/**
 * The ISO 3166-1 table the online tracker reads ipinfo.io's and Electricity Maps' alpha-2 codes
 * with: its generator (scripts/data/iso-countries.js, from pycountry in the project's .venv)
 * reproduces the shipped file byte for byte, and the loader refuses a file of the wrong shape.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IntensityDataError } from "../../src/intensity/datasets";
import { alpha2FromAlpha3, countryFromAlpha2, parseIsoTable } from "../../src/intensity/online/iso-countries";
import { REPO_ROOT } from "../helpers/sandbox";

interface IsoGenerator {
  generate(options: { source: string; target: string }): void;
}

describe("ISO 3166-1 table", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-iso-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the generator writes the shipped data/iso-3166.json again, byte for byte, every time", () => {
    const generator = require(path.join(REPO_ROOT, "scripts", "data", "iso-countries.js")) as IsoGenerator;
    const shipped = fs.readFileSync(path.join(REPO_ROOT, "data", "iso-3166.json"));
    for (const run of ["first", "second"]) {
      const target = path.join(dir, run);
      fs.mkdirSync(target);
      generator.generate({ source: dir, target });
      assert.ok(
        fs.readFileSync(path.join(target, "iso-3166.json")).equals(shipped),
        `${run} run differs from data/iso-3166.json`,
      );
    }
  });

  test("the shipped table converts both ways, any case", () => {
    assert.deepEqual(countryFromAlpha2("de"), { alpha3: "DEU", name: "Germany" });
    assert.deepEqual(countryFromAlpha2(" US "), { alpha3: "USA", name: "United States" });
    assert.equal(countryFromAlpha2("ZZ"), undefined);
    assert.equal(alpha2FromAlpha3("che"), "CH");
    assert.equal(alpha2FromAlpha3("CAN"), "CA");
    assert.equal(alpha2FromAlpha3("AAA"), undefined);
  });

  test("every entry of the shipped file passes the checks, and the codes pair one to one", () => {
    const raw: unknown = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "data", "iso-3166.json"), "utf8"));
    const table = parseIsoTable(raw, "iso-3166.json");
    assert.ok(table.byAlpha2.size >= 249, `only ${table.byAlpha2.size} countries`);
    assert.equal(table.alpha2ByAlpha3.size, table.byAlpha2.size);
  });

  for (const [name, raw, problem] of [
    ["not an object", [1, 2], /iso-3166\.json is not a JSON object/],
    ["no countries", { source: {} }, /countries is missing/],
    [
      "a lower-case key",
      { countries: { fr: { alpha3: "FRA", name: "France" } } },
      /countries\.fr key is not an upper-case ISO alpha-2 code/,
    ],
    ["a bad alpha-3", { countries: { FR: { alpha3: "FR", name: "France" } } }, /countries\.FR\.alpha3 is not/],
    ["an empty name", { countries: { FR: { alpha3: "FRA", name: " " } } }, /countries\.FR\.name/],
    [
      "a repeated alpha-3",
      { countries: { FR: { alpha3: "FRA", name: "France" }, FX: { alpha3: "FRA", name: "France" } } },
      /repeats FRA/,
    ],
    ["no entries", { countries: {} }, /countries is empty/],
  ] as const) {
    test(`a table with ${name} is refused with a clear error`, () => {
      assert.throws(
        () => parseIsoTable(raw, "iso-3166.json"),
        (error: unknown) => error instanceof IntensityDataError && problem.test(error.message),
      );
    });
  }
});
