import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cpuTableNames, matchCpuModel, resolveCpuTdp } from "../../src/measure/cpu-tdp";
import { packageRoot } from "../../src/assets";
import { seededRandom } from "../helpers/seeded-random";

describe("matchCpuModel: CodeCarbon's test vectors", () => {
  const matches: Array<[string, string, number]> = [
    ["AMD Ryzen 3 1200", "AMD Ryzen 3 1200", 65],
    ["amd ryzen 3 1200", "AMD Ryzen 3 1200", 65],
    ["AMD Ryzen 1950", "AMD Ryzen Threadripper 1950", 180],
    ["5800K", "AMD A10-5800K", 100],
    ["AMD Ryzen 1950x", "AMD Ryzen Threadripper 1950X", 180],
    ["AMD Ryzen Threadripper 1950 16-Core Processor", "AMD Ryzen Threadripper 1950", 180],
    ["AMD Ryzen Threadripper 1950X 16-Core Processor", "AMD Ryzen Threadripper 1950X", 180],
    ["Intel(R) Core(TM) i7-8850H CPU @ 2.60GHz", "Intel Core i7-8850H", 45],
    ["Intel(R) Xeon(R) Gold 6330N CPU @ 2.20Ghz", "Intel Xeon Gold 6330N", 165],
    ["Intel(R) Xeon(R) Silver 4208 CPU @ 2.10GHz", "Intel Xeon Silver 4208", 85],
    ["Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", "Intel Xeon E5-2620 v3", 85],
    ["AMD 4600M", "AMD A10-4600M", 35],
  ];
  for (const [model, name, tdpW] of matches) {
    test(`${JSON.stringify(model)} → ${name} (${tdpW} W)`, () => {
      assert.deepEqual(matchCpuModel(model), { name, tdpW });
    });
  }

  const ambiguous = [
    "Intel 5800K",
    "AMD Ryzen 3",
    "AMD Ryzen PRO 3",
    "AMD Ryzen 3 1200 PRO",
    "AMD A10-4600",
    "AMD A10-4650M",
    "AMD Threadripper 1950X 16-Core Processor",
  ];
  for (const model of ambiguous) {
    test(`${JSON.stringify(model)} matches nothing (no match, or more than one)`, () => {
      assert.equal(matchCpuModel(model), null);
    });
  }
});

describe("matchCpuModel: the rules in detail", () => {
  test("the exact comparison ignores case; of two rows differing only by case the first wins", () => {
    assert.deepEqual(matchCpuModel("INTEL CORE I5-750S"), { name: "Intel Core i5-750S", tdpW: 82 });
    assert.deepEqual(matchCpuModel("intel core i5-750s"), { name: "Intel Core i5-750S", tdpW: 82 });
  });

  test("both case variants qualify for a token match, so that match is ambiguous", () => {
    // Cleaned to "Intel Core(TM) i5-750S": a token superset of both rows.
    assert.equal(matchCpuModel("Intel(R) Core(TM) i5-750S CPU @ 2.40GHz"), null);
  });

  test("cleaning removes (R), cuts at ' CPU @ ', drops ' CPU' and the clock", () => {
    assert.equal(matchCpuModel("Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz")?.name, "Intel Xeon E5-2620 v3");
    assert.equal(matchCpuModel("Intel Xeon E5-2620 v3 CPU @ 2.40GHz")?.name, "Intel Xeon E5-2620 v3");
    assert.equal(matchCpuModel("Intel Core i7-8850H CPU")?.name, "Intel Core i7-8850H");
    assert.equal(matchCpuModel("Intel Core i7-8850H @2.60GHz")?.name, "Intel Core i7-8850H");
  });

  // "Intel Core i5-750S" and "Intel Core i5-750s" share one token set, so a string whose clock
  // is left in place is a token superset of both and matches nothing; only a clean exact match
  // finds the row. That makes these strings show exactly what the cleaning removes.
  test("the clock pattern takes Python's whitespace and any decimal digits", () => {
    const expected = { name: "Intel Core i5-750S", tdpW: 82 };
    assert.deepEqual(matchCpuModel("Intel Core i5-750S @ 2.40GHz"), expected);
    // U+00A0, U+001C and U+0085 are whitespace to Python's \s; U+0662/U+0664/U+0660 are
    // Arabic-Indic digits, which Python's \d takes.
    assert.deepEqual(matchCpuModel("Intel Core i5-750S @\u00a02.40GHz"), expected);
    assert.deepEqual(matchCpuModel("Intel Core i5-750S @\u001c2.40GHz"), expected);
    assert.deepEqual(matchCpuModel("Intel Core i5-750S @\u00852.40GHz"), expected);
    assert.deepEqual(matchCpuModel("Intel Core i5-750S @ \u0662.\u0664\u0660GHz"), expected);
    // U+FEFF is whitespace to JavaScript but not to Python: the clock stays.
    assert.equal(matchCpuModel("Intel Core i5-750S @\ufeff2.40GHz"), null);
  });

  test("' CPU @ ' cuts only when it is not at the very start", () => {
    assert.deepEqual(matchCpuModel("Intel Core i5-750S CPU @ 2.40GHz"), { name: "Intel Core i5-750S", tdpW: 82 });
    // At index 0 nothing is cut (cutting would leave nothing); " CPU" and the clock are removed
    // instead, and the rest matches by its tokens.
    assert.deepEqual(matchCpuModel(" CPU @ 2.60GHz Intel Core i7-8850H"), { name: "Intel Core i7-8850H", tdpW: 45 });
    assert.equal(matchCpuModel("Intel Core(TM) i5-750S CPU @ 2.40GHz"), null);
  });

  test("token matching ignores punctuation and case, and lower-cases the dotted capital I to a plain i", () => {
    assert.equal(matchCpuModel("intel_core_i7_8850h")?.name, "Intel Core i7-8850H");
    assert.equal(matchCpuModel("Intel® Core™ i7-8850H")?.name, "Intel Core i7-8850H");
    assert.equal(matchCpuModel("\u0130ntel Core i7-8850H")?.name, "Intel Core i7-8850H");
  });

  test("names keep their invisible characters: exact matches need them, tokens do not", () => {
    assert.deepEqual(matchCpuModel("Intel Atom E625CT"), { name: "Intel Atom E625CT", tdpW: 3 });
    assert.deepEqual(matchCpuModel("Intel Atom\u00a0E625CT"), { name: "Intel Atom\u00a0E625CT", tdpW: 2.7 });
    // Both rows tokenise to {intel, atom, e625ct}.
    assert.equal(matchCpuModel("Intel Atom E625CT Processor"), null);
    assert.deepEqual(matchCpuModel("AMD Ryzen 5 6600HS"), { name: "AMD Ryzen 5 6600HS\u200b", tdpW: 35 });
  });

  test("rows whose TDP is not a number still match, with a null TDP", () => {
    assert.deepEqual(matchCpuModel("Intel Celeron 1000A"), { name: "Intel Celeron 1000A", tdpW: null });
    assert.deepEqual(matchCpuModel("Intel(R) Celeron(R) CPU 1400 @ 1.40GHz"), {
      name: "Intel Celeron 1400",
      tdpW: null,
    });
  });

  test("rows whose TDP is not a number still make a token match ambiguous", () => {
    // Without the "Intel Celeron 1200" row this would be "Intel Celeron E1200" alone.
    assert.equal(matchCpuModel("Intel Celeron 1200 E1200"), null);
  });

  test("an empty intersection never matches, nor does a string without letters or digits", () => {
    for (const model of [
      "",
      " ",
      "-",
      "(R)",
      "CPU",
      "CPU @ 2.60GHz",
      "Some Unknown CPU 9000",
      "ARMv8 Processor rev 1 (v8l)",
    ]) {
      assert.equal(matchCpuModel(model), null, JSON.stringify(model));
    }
  });

  test("the token match agrees with the token-set rule spelled out, on queries made from the table", () => {
    const names = cpuTableNames();
    const tokens = (text: string) =>
      new Set(
        text
          .toLowerCase()
          .split(/[^a-z0-9]+/)
          .filter((t) => t !== ""),
      );
    // CodeCarbon's rule, row by row: one token set contains the other and they share a token.
    const byTheRule = (model: string): string | null => {
      const query = tokens(model);
      const hits = names.filter((name) => {
        const row = tokens(name);
        const common = [...row].filter((t) => query.has(t)).length;
        return common > 0 && (common === row.size || common === query.size);
      });
      return hits.length === 1 ? hits[0]! : null;
    };
    const random = seededRandom(31);
    const queries = ["AMD EPYC", "Intel Xeon", "Ryzen 7", "i7 8700", "EPYC 7763 64-Core Processor", "x_y 5800K"];
    for (let i = 0; i < 60; i++) {
      const words = names[Math.floor(random() * names.length)]!.split(/\s+/);
      // Some words of a row, in their order, with a case change and a separator swapped.
      const some = words.filter(() => random() < 0.6).join(random() < 0.5 ? " " : "_");
      queries.push(random() < 0.5 ? some.toUpperCase() : some);
    }
    for (const query of queries) {
      // Past the exact comparisons, the token rule decides.
      const exact = names.some((name) => name.toLowerCase() === query.toLowerCase());
      if (exact || query.trim() === "") continue;
      assert.equal(matchCpuModel(query)?.name ?? null, byTheRule(query), JSON.stringify(query));
    }
  });

  test("the table carries every upstream row", () => {
    const names = cpuTableNames();
    assert.equal(names.length, 4903);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names[0], "1075T");
  });
});

describe("resolveCpuTdp", () => {
  test("a matched TDP is multiplied by the socket count", () => {
    assert.deepEqual(
      resolveCpuTdp({ model: "Intel(R) Core(TM) i7-8850H CPU @ 2.60GHz", logicalCpuCount: 12, socketCount: 1 }),
      {
        tdpW: 45,
        origin: "matched",
        matchedName: "Intel Core i7-8850H",
      },
    );
    assert.deepEqual(
      resolveCpuTdp({ model: "Intel(R) Xeon(R) Gold 6330N CPU @ 2.20GHz", logicalCpuCount: 112, socketCount: 2 }),
      {
        tdpW: 330,
        origin: "matched",
        matchedName: "Intel Xeon Gold 6330N",
      },
    );
  });

  test("an unknown model gives 4 W per logical CPU (× sockets, as CodeCarbon computes it)", () => {
    assert.deepEqual(resolveCpuTdp({ model: "Some Unknown CPU 9000", logicalCpuCount: 8, socketCount: 1 }), {
      tdpW: 32,
      origin: "per-core-default",
      matchedName: null,
    });
    assert.equal(resolveCpuTdp({ model: "Some Unknown CPU 9000", logicalCpuCount: 16, socketCount: 2 }).tdpW, 128);
    // A blank string is still a model string to CodeCarbon.
    assert.equal(resolveCpuTdp({ model: " ", logicalCpuCount: 4, socketCount: 1 }).origin, "per-core-default");
  });

  test("a matched row with a zero or unreadable TDP falls back to 4 W per logical CPU", () => {
    assert.deepEqual(
      resolveCpuTdp({ model: "Intel Quark Microcontroller D1000", logicalCpuCount: 4, socketCount: 1 }),
      {
        tdpW: 16,
        origin: "per-core-default",
        matchedName: "Intel Quark Microcontroller D1000",
      },
    );
    assert.deepEqual(resolveCpuTdp({ model: "Intel Celeron 1000A", logicalCpuCount: 2, socketCount: 1 }), {
      tdpW: 8,
      origin: "per-core-default",
      matchedName: "Intel Celeron 1000A",
    });
  });

  test("no model string gives the generic 85 W, whatever the counts", () => {
    for (const model of [null, ""]) {
      assert.deepEqual(resolveCpuTdp({ model, logicalCpuCount: 96, socketCount: 4 }), {
        tdpW: 85,
        origin: "generic-default",
        matchedName: null,
      });
    }
  });

  test("nonsensical counts read as 1", () => {
    assert.equal(resolveCpuTdp({ model: "AMD Ryzen 3 1200", logicalCpuCount: 4, socketCount: 0 }).tdpW, 65);
    assert.equal(
      resolveCpuTdp({ model: "Some Unknown CPU 9000", logicalCpuCount: Number.NaN, socketCount: 1 }).tdpW,
      4,
    );
  });
});

describe("scripts/data/cpu-tdp.js", () => {
  type Generator = { generate(options: { source: string; target: string }): string[] };
  const generator = require(path.join(packageRoot(), "scripts", "data", "cpu-tdp.js")) as Generator;

  test("keeps every row in order, quoted names whole, and non-numeric TDPs as null", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    try {
      const source = path.join(dir, "source");
      const target = path.join(dir, "target");
      fs.mkdirSync(path.join(source, "hardware"), { recursive: true });
      fs.writeFileSync(
        path.join(source, "hardware", "cpu_power.csv"),
        'Name,TDP\r\nZeta 1,95\r\n"Intel EP80579 Integrated, 600 MHz",11.0\r\nIntel Celeron 1200,29.32.9\r\nAlpha\u00a02,2.7\r\n',
      );
      const written = generator.generate({ source, target });
      assert.deepEqual(written, [path.join(target, "cpu-tdp.json")]);
      const text = fs.readFileSync(path.join(target, "cpu-tdp.json"), "utf8");
      assert.ok(text.includes("Alpha\\u00a02"), "non-ASCII characters are escaped");
      const document = JSON.parse(text) as {
        models: unknown;
        source: { rowCount: unknown; nonNumericTdp: unknown; files: Array<{ commit: unknown; sha256: unknown }> };
      };
      assert.deepEqual(document.models, [
        ["Zeta 1", 95],
        ["Intel EP80579 Integrated, 600 MHz", 11],
        ["Intel Celeron 1200", null],
        ["Alpha\u00a02", 2.7],
      ]);
      assert.equal(document.source.rowCount, 4);
      assert.deepEqual(document.source.nonNumericTdp, [{ name: "Intel Celeron 1200", cell: "29.32.9" }]);
      // No PROVENANCE.md in the fixture: no commit is claimed.
      assert.equal(document.source.files[0]?.commit, null);
      assert.match(String(document.source.files[0]?.sha256), /^[0-9a-f]{64}$/);
      // Deterministic: a second run writes the same bytes.
      generator.generate({ source, target });
      assert.equal(fs.readFileSync(path.join(target, "cpu-tdp.json"), "utf8"), text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("rejects a table with a repeated name or a missing column", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    try {
      fs.mkdirSync(path.join(dir, "hardware"));
      const csv = path.join(dir, "hardware", "cpu_power.csv");
      fs.writeFileSync(csv, "Name,TDP\nA,1\nA,2\n");
      assert.throws(() => generator.generate({ source: dir, target: path.join(dir, "out") }), /repeats the name/);
      fs.writeFileSync(csv, "Model,Watts\nA,1\n");
      assert.throws(() => generator.generate({ source: dir, target: path.join(dir, "out") }), /"Name" and "TDP"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
