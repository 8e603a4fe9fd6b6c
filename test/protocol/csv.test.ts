import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { detectLineEnd, formatCsvFloat, formatCsvRecord, formatCsvValue, parseCsv } from "../../src/protocol/csv";

describe("formatCsvValue", () => {
  test("null and undefined give an empty cell", () => {
    assert.equal(formatCsvValue(null), "");
    assert.equal(formatCsvValue(undefined), "");
    assert.equal(formatCsvRecord(["a", null, undefined, 1]), "a,,,1");
  });

  test("numbers are plain decimals, without exponent", () => {
    assert.equal(formatCsvValue(1e-7), "0.0000001");
    assert.equal(formatCsvValue(6.262572537957655e-5), "0.00006262572537957655");
    assert.equal(formatCsvValue(-1.5e-10), "-0.00000000015");
    assert.equal(formatCsvValue(1e21), "1000000000000000000000");
    assert.equal(formatCsvValue(1.2345e25), "12345000000000000000000000");
    assert.equal(formatCsvValue(-2.5e22), "-25000000000000000000000");
    assert.equal(formatCsvValue(5e-324), `0.${"0".repeat(323)}5`);
  });

  test("integers have no decimal part and -0 is 0", () => {
    assert.equal(formatCsvValue(5), "5");
    assert.equal(formatCsvValue(5.0), "5");
    assert.equal(formatCsvValue(0), "0");
    assert.equal(formatCsvValue(-0), "0");
    assert.equal(formatCsvValue(-42), "-42");
    assert.equal(formatCsvValue(12.5), "12.5");
  });

  test("NaN and the infinities give an empty cell", () => {
    assert.equal(formatCsvValue(Number.NaN), "");
    assert.equal(formatCsvValue(Number.POSITIVE_INFINITY), "");
    assert.equal(formatCsvValue(Number.NEGATIVE_INFINITY), "");
  });

  test("every written number parses back to the same double, with no exponent", () => {
    // A deterministic spread of magnitudes from 1e-320 to 1e300, both signs.
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const value = (next() < 0.5 ? -1 : 1) * next() * 10 ** Math.floor(next() * 620 - 320);
      const text = formatCsvValue(value);
      assert.doesNotMatch(text, /e/i, text);
      assert.equal(Number(text), value === 0 ? 0 : value, `${value} -> ${text}`);
    }
  });

  test("strings are quoted only when they hold a comma, a quote or a line break", () => {
    assert.equal(formatCsvValue("plain text"), "plain text");
    assert.equal(formatCsvValue("a,b"), '"a,b"');
    assert.equal(formatCsvValue('say "hi"'), '"say ""hi"""');
    assert.equal(formatCsvValue("two\nlines"), '"two\nlines"');
    assert.equal(formatCsvValue("cr\rhere"), '"cr\rhere"');
    assert.equal(formatCsvValue(""), "");
  });
});

describe("parseCsv", () => {
  test("reads LF and CRLF records, with or without a final line end", () => {
    assert.deepEqual(parseCsv("a,b\n1,2\n"), [
      ["a", "b"],
      ["1", "2"],
    ]);
    assert.deepEqual(parseCsv("a,b\r\n1,2\r\n"), [
      ["a", "b"],
      ["1", "2"],
    ]);
    assert.deepEqual(parseCsv("a,b\r\n1,2"), [
      ["a", "b"],
      ["1", "2"],
    ]);
    assert.deepEqual(parseCsv("a,b\r1,2\r"), [
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  test("ignores a byte-order mark", () => {
    assert.deepEqual(parseCsv("\ufefftimestamp,run_id\nx,y\n"), [
      ["timestamp", "run_id"],
      ["x", "y"],
    ]);
  });

  test("keeps empty cells, leading and trailing", () => {
    assert.deepEqual(parseCsv(",a,,\n"), [["", "a", "", ""]]);
  });

  test("reads quoted cells with commas, doubled quotes and line breaks", () => {
    assert.deepEqual(parseCsv('name,model\n"x, y","a ""b""\nc"\n'), [
      ["name", "model"],
      ["x, y", 'a "b"\nc'],
    ]);
    assert.deepEqual(parseCsv('"",x\n'), [["", "x"]]);
  });

  test("skips blank lines and returns nothing for empty text", () => {
    assert.deepEqual(parseCsv(""), []);
    assert.deepEqual(parseCsv("\n\r\n"), []);
    assert.deepEqual(parseCsv("a\n\nb\n"), [["a"], ["b"]]);
  });

  test("a quote left open closes at the end of the text", () => {
    assert.deepEqual(parseCsv('a,"unterminated\n'), [["a", "unterminated\n"]]);
  });

  test("reads back what formatCsvRecord writes", () => {
    const values = ["Intel(R) Xeon(R) CPU, 2.20GHz", 'quote "inside"', "multi\nline", "", "plain", "0.0000001"];
    assert.deepEqual(parseCsv(`${formatCsvRecord(values)}\n${formatCsvRecord(values)}\n`), [values, values]);
  });
});

describe("detectLineEnd", () => {
  test("finds CRLF and defaults to LF", () => {
    assert.equal(detectLineEnd("a,b\r\n1,2\r\n"), "\r\n");
    assert.equal(detectLineEnd("a,b\n"), "\n");
    assert.equal(detectLineEnd("a,b"), "\n");
  });
});

describe("formatCsvFloat", () => {
  test("a whole number keeps a decimal point, as Python writes a float; others are as formatCsvValue", () => {
    assert.equal(formatCsvFloat(1), "1.0");
    assert.equal(formatCsvFloat(0), "0.0");
    assert.equal(formatCsvFloat(-0), "0.0");
    assert.equal(formatCsvFloat(-3), "-3.0");
    assert.equal(formatCsvFloat(1e21), "1000000000000000000000.0");
    assert.equal(formatCsvFloat(12.5), "12.5");
    assert.equal(formatCsvFloat(1e-7), "0.0000001");
    assert.equal(formatCsvFloat(null), "");
    assert.equal(formatCsvFloat(Number.NaN), "");
  });
});
