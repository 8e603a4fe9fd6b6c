import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setIniValue } from "../../src/cli/ini-edit";
import { parseConfigText } from "../../src/config/ini-source";

const ID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";

describe("setIniValue", () => {
  test("a missing or empty file becomes a [codecarbon] section with the key", () => {
    assert.equal(setIniValue(undefined, "codecarbon", "experiment_id", ID), `[codecarbon]\nexperiment_id = ${ID}\n`);
    assert.equal(setIniValue("\n  \n", "codecarbon", "experiment_id", ID), `[codecarbon]\nexperiment_id = ${ID}\n`);
  });

  test("an existing key is rewritten in place, keeping its spelling, spacing, comments and other keys", () => {
    const before = [
      "# my settings",
      "[codecarbon]",
      "; measured every 10 s",
      "measure_power_secs=10",
      "Experiment_ID =old-id   ",
      "log_level = DEBUG",
      "",
      "[other]",
      "experiment_id = untouched",
      "",
    ].join("\n");
    const after = setIniValue(before, "codecarbon", "experiment_id", ID);
    assert.equal(after, before.replace("Experiment_ID =old-id   ", `Experiment_ID =${ID}`));
  });

  test("a missing key goes after the section's last key, before blank lines and the next section", () => {
    const before = "[codecarbon]\n# comment\nlog_level = info\n\n# about other\n[other]\nx = 1\n";
    const after = setIniValue(before, "codecarbon", "experiment_id", ID);
    assert.equal(
      after,
      `[codecarbon]\n# comment\nlog_level = info\nexperiment_id = ${ID}\n\n# about other\n[other]\nx = 1\n`,
    );
  });

  test("a section without keys gets the key right after its header", () => {
    assert.equal(
      setIniValue("[codecarbon]\n\n; nothing yet\n", "codecarbon", "experiment_id", ID),
      `[codecarbon]\nexperiment_id = ${ID}\n\n; nothing yet\n`,
    );
  });

  test("a commented-out key is left alone and a real line is added", () => {
    const after = setIniValue("[codecarbon]\n# experiment_id = commented\n", "codecarbon", "experiment_id", ID);
    assert.equal(after, `[codecarbon]\n# experiment_id = commented\nexperiment_id = ${ID}\n`);
  });

  test("a file without the section gets it appended, also when the last line has no newline", () => {
    assert.equal(
      setIniValue("[other]\na = 1\n", "codecarbon", "experiment_id", ID),
      `[other]\na = 1\n[codecarbon]\nexperiment_id = ${ID}\n`,
    );
    assert.equal(
      setIniValue("[other]\na = 1", "codecarbon", "experiment_id", ID),
      `[other]\na = 1\n[codecarbon]\nexperiment_id = ${ID}\n`,
    );
  });

  test("CRLF line endings, a missing final newline and a byte-order mark are kept", () => {
    const before = "\uFEFF[codecarbon]\r\nlog_level = info\r\npue = 1.2";
    assert.equal(
      setIniValue(before, "codecarbon", "experiment_id", ID),
      `\uFEFF[codecarbon]\r\nlog_level = info\r\npue = 1.2\r\nexperiment_id = ${ID}`,
    );
  });

  test("key: value lines and continued values are replaced whole, their style kept", () => {
    assert.equal(
      setIniValue("[codecarbon]\nExperiment_ID: old\n  more\npue = 1.2\n", "codecarbon", "experiment_id", ID),
      `[codecarbon]\nExperiment_ID: ${ID}\npue = 1.2\n`,
    );
    assert.equal(
      setIniValue("  [codecarbon]\npue: 1.2\n  1.3\n", "codecarbon", "experiment_id", ID),
      `  [codecarbon]\npue: 1.2\n  1.3\nexperiment_id = ${ID}\n`,
    );
  });

  test("the result reads back with the configuration reader", () => {
    const after = setIniValue("[codecarbon]\nexperiment_id = a\nlog_level = info\n", "codecarbon", "experiment_id", ID);
    const parsed = parseConfigText(after);
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.entries.map((e) => [e.key, e.value]),
      [
        ["experiment_id", ID],
        ["log_level", "info"],
      ],
    );
  });

  test("a value that would span lines is refused", () => {
    assert.throws(() => setIniValue(undefined, "codecarbon", "experiment_id", "a\nb = c"), /one line/);
  });
});
