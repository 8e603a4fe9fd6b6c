/**
 * The INI reader follows configparser's defaults (RawConfigParser._read): the cases that differ
 * from a naive `key = value` reader. The same files are read by Python itself in
 * test/differential/config-reading.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseIni } from "../../src/config/configparser";

const values = (text: string) =>
  Object.fromEntries(parseIni(text).options.map((o) => [`${o.section}.${o.key}`, o.value]));

test("= and : both split, at the first of them; keys are lower-cased, values stripped", () => {
  assert.deepEqual(values("[s]\nA: 1\nb = x:y\nc: u=v\nd =  \n"), {
    "s.a": "1",
    "s.b": "x:y",
    "s.c": "u=v",
    "s.d": "",
  });
});

test("comments are whole lines only: # and ; inside or after a value belong to it", () => {
  assert.deepEqual(values("[s]\n# c\n  ; c\nk = cpt_ab#cd;ef\nl = v # note\n"), {
    "s.k": "cpt_ab#cd;ef",
    "s.l": "v # note",
  });
});

test("deeper-indented lines continue a value, with inner blank lines kept and trailing ones dropped", () => {
  const parsed = parseIni("[s]\nk = a\n  b\n\n  c\n  # skipped\n\nnext = 1\n");
  assert.deepEqual(values("[s]\nk = a\n  b\n\n  c\n  # skipped\n\nnext = 1\n"), { "s.k": "a\nb\n\nc", "s.next": "1" });
  assert.deepEqual(
    parsed.options.map((o) => [o.key, o.line, o.lastLine]),
    [
      ["k", 2, 5],
      ["next", 8, 8],
    ],
  );
  assert.deepEqual(values("[s]\n  k = a\n  l = b\n"), { "s.k": "a", "s.l": "b" }, "the same indent is a new key");
});

test("headers: any indentation, up to the last ], [DEFAULT] allowed twice", () => {
  const parsed = parseIni("  [a] ; x\nk = 1\n[b]]\n[DEFAULT]\n[DEFAULT]\n");
  assert.deepEqual(
    parsed.sections.map((s) => s.name),
    ["a", "b]", "DEFAULT", "DEFAULT"],
  );
  assert.deepEqual(parsed.problems, []);
});

test("what configparser refuses: keys before a section, lines without a delimiter, duplicates", () => {
  assert.deepEqual(
    parseIni("k = 1\n[s]\nwords\n= 3\nk = 1\nK = 2\n[s]\n").problems.map((p) => [p.kind, p.line]),
    [
      ["before-section", 1],
      ["not-an-option", 3],
      ["not-an-option", 4],
      ["duplicate-option", 6],
      ["duplicate-section", 7],
    ],
  );
});
