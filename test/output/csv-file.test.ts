import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  readEmissionsCsv,
  TASK_CSV_COLUMNS,
  writeEmissionsRow,
  writeTaskRows,
  type CsvTarget,
} from "../../src/output/csv-file";
import { parseCsv } from "../../src/protocol/csv";
import { CSV_COLUMNS } from "../../src/output/emissions-data";
import { captureLog, compiledModule, CSV_FIXTURES, makeRow, makeTaskRow, makeTempDir, runNode } from "./fixture-rows";

const HEADER = CSV_COLUMNS.join(",");
const RUN_A = "11111111-1111-4111-8111-111111111111";
const RUN_B = "22222222-2222-4222-8222-222222222222";

const target = (outputDir: string, onCsvWrite: CsvTarget["onCsvWrite"] = "append"): CsvTarget => ({
  outputDir,
  outputFile: "emissions.csv",
  onCsvWrite,
});
const records = (file: string) => parseCsv(fs.readFileSync(file, "utf8"));

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const tmp = makeTempDir();
  try {
    await body(tmp.dir);
  } finally {
    tmp.cleanup();
  }
}

describe("writeEmissionsRow: a new file", () => {
  for (const mode of ["append", "update"] as const) {
    test(`${mode}: writes CodeCarbon's exact header and one row`, () =>
      inTempDir(async (dir) => {
        const result = await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir, mode));
        assert.deepEqual(result, { file: path.join(dir, "emissions.csv"), backup: null });
        const text = fs.readFileSync(result.file, "utf8");
        assert.equal(text.split("\n")[0], HEADER);
        const rows = await readEmissionsCsv(result.file);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!["run_id"], RUN_A);
        assert.equal(rows[0]!["cpu_model"], "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
        assert.deepEqual(fs.readdirSync(dir), ["emissions.csv"], "no temp or lock file is left");
      }));

    test(`${mode}: an existing 0-byte file is treated as new, with a warning`, () =>
      inTempDir(async (dir) => {
        const file = path.join(dir, "emissions.csv");
        fs.writeFileSync(file, "");
        const log = captureLog();
        try {
          await writeEmissionsRow(makeRow(), target(dir, mode));
        } finally {
          log.restore();
        }
        assert.equal(records(file).length, 2);
        assert.equal(records(file)[0]!.join(","), HEADER);
        assert.ok(log.lines.some((l) => l.level === "warning" && l.message.includes(file)));
        assert.deepEqual(fs.readdirSync(dir), ["emissions.csv"], "an empty file is not backed up");
      }));
  }

  test("a missing output folder rejects (the caller logs it) and creates nothing", () =>
    inTempDir(async (dir) => {
      await assert.rejects(writeEmissionsRow(makeRow(), target(path.join(dir, "missing"))), { code: "ENOENT" });
      assert.deepEqual(fs.readdirSync(dir), []);
    }));

  test("the row has every column as a plain decimal that parses back exactly", () =>
    inTempDir(async (dir) => {
      const row = makeRow({ emissions: 6.262572537957655e-5, emissions_rate: 1e-7, gpu_energy: 1.5e-12 });
      const { file } = await writeEmissionsRow(row, target(dir));
      const [header, cells] = records(file);
      assert.equal(cells!.length, 38);
      const byName = Object.fromEntries(header!.map((name, i) => [name, cells![i]]));
      assert.equal(byName["emissions"], "0.00006262572537957655");
      assert.equal(byName["emissions_rate"], "0.0000001");
      assert.equal(Number(byName["gpu_energy"]), 1.5e-12);
      assert.equal(byName["cpu_count"], "8");
      assert.equal(byName["pue"], "1.0", "float columns are written as floats");
      assert.equal(byName["gpu_count"], "0", "counts stay integers");
      assert.equal(byName["timestamp"], "2025-01-02T03:04:05");
    }));
});

describe("writeEmissionsRow: append", () => {
  test("each write adds one row and no header (three appends, three rows)", () =>
    inTempDir(async (dir) => {
      for (const runId of [RUN_A, RUN_B, RUN_A]) await writeEmissionsRow(makeRow({ run_id: runId }), target(dir));
      const file = path.join(dir, "emissions.csv");
      const all = records(file);
      assert.equal(all.length, 4);
      assert.equal(all.filter((r) => r.join(",") === HEADER).length, 1);
      assert.deepEqual(
        (await readEmissionsCsv(file)).map((r) => r["run_id"]),
        [RUN_A, RUN_B, RUN_A],
      );
    }));

  test("null cells stay empty in their column, so nothing shifts (CodeCarbon #1304)", () =>
    inTempDir(async (dir) => {
      const offline = makeRow({ longitude: null, latitude: null, region: null, country_name: null });
      await writeEmissionsRow(makeRow(), target(dir));
      await writeEmissionsRow(offline, target(dir));
      const file = path.join(dir, "emissions.csv");
      for (const cells of records(file)) assert.equal(cells.length, 38);
      const rows = await readEmissionsCsv(file);
      assert.equal(rows[1]!["longitude"], "");
      assert.equal(rows[1]!["latitude"], "");
      assert.equal(rows[1]!["region"], "");
      assert.equal(rows[1]!["country_name"], "");
      assert.equal(rows[1]!["country_iso_code"], "FRA");
      assert.equal(rows[1]!["ram_total_size"], "15.5");
      assert.equal(rows[1]!["wue"], "0.0");
    }));

  test('repeated appends with gpu_count/gpu_model null or 0/"" keep the columns and make no backup', () =>
    inTempDir(async (dir) => {
      const noGpu = makeRow({ gpu_count: 0, gpu_model: "" });
      const unknownGpu = { ...makeRow(), gpu_count: null, gpu_model: null } as unknown as ReturnType<typeof makeRow>;
      for (const row of [unknownGpu, unknownGpu, noGpu, noGpu]) await writeEmissionsRow(row, target(dir));
      const file = path.join(dir, "emissions.csv");
      const rows = await readEmissionsCsv(file);
      assert.equal(rows.length, 4);
      assert.deepEqual(
        rows.map((r) => r["gpu_count"]),
        ["", "", "0", "0"],
      );
      assert.deepEqual(fs.readdirSync(dir), ["emissions.csv"]);
    }));

  test("a file whose columns are the same set in another order is kept, and rows follow its order", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      const permuted = [...CSV_COLUMNS].reverse();
      fs.writeFileSync(file, `${permuted.join(",")}\n`);
      const log = captureLog();
      try {
        await writeEmissionsRow(makeRow({ run_id: RUN_A, region: null }), target(dir));
      } finally {
        log.restore();
      }
      assert.deepEqual(fs.readdirSync(dir), ["emissions.csv"], "no backup");
      assert.equal(log.lines.length, 0);
      const [header, cells] = records(file);
      assert.deepEqual(header, permuted);
      assert.equal(cells![permuted.indexOf("run_id")], RUN_A);
      const rows = await readEmissionsCsv(file);
      assert.equal(rows[0]!["project_name"], "codecarbon");
      assert.equal(rows[0]!["region"], "");
      assert.equal(rows[0]!["wue"], "0.0");
      assert.equal(rows[0]!["timestamp"], "2025-01-02T03:04:05");
    }));

  test("CodeCarbon's own header fixture is accepted as is", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      fs.copyFileSync(path.join(CSV_FIXTURES, "emissions_valid_headers.csv"), file);
      await writeEmissionsRow(makeRow(), target(dir));
      assert.deepEqual(fs.readdirSync(dir), ["emissions.csv"]);
      assert.equal((await readEmissionsCsv(file)).length, 1);
    }));

  test("keeps the existing bytes, matches CRLF line ends and adds a missing final line end", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir));
      const crlf = fs.readFileSync(file, "utf8").replace(/\n/g, "\r\n").replace(/\r\n$/, "");
      fs.writeFileSync(file, `\ufeff${crlf}`);
      await writeEmissionsRow(makeRow({ run_id: RUN_B }), target(dir));
      const text = fs.readFileSync(file, "utf8");
      assert.ok(text.startsWith(`\ufeff${crlf}\r\n`));
      assert.ok(text.endsWith("\r\n"));
      assert.equal(text.replace(/\r\n/g, "").includes("\n"), false);
      assert.deepEqual(
        (await readEmissionsCsv(file)).map((r) => r["run_id"]),
        [RUN_A, RUN_B],
      );
    }));

  test("strings with commas, quotes and line breaks round-trip", () =>
    inTempDir(async (dir) => {
      const model = 'AMD EPYC 7R13, "Milan"\n48-Core';
      const { file } = await writeEmissionsRow(makeRow({ cpu_model: model, project_name: "a,b" }), target(dir));
      const [row] = await readEmissionsCsv(file);
      assert.equal(row!["cpu_model"], model);
      assert.equal(row!["project_name"], "a,b");
      assert.equal(row!["cpu_count"], "8");
    }));

  test("concurrent writes from one process never lose a row", () =>
    inTempDir(async (dir) => {
      const runIds = Array.from({ length: 20 }, (_, i) => `run-${i}`);
      await Promise.all(runIds.map((runId) => writeEmissionsRow(makeRow({ run_id: runId }), target(dir))));
      const rows = await readEmissionsCsv(path.join(dir, "emissions.csv"));
      assert.deepEqual(rows.map((r) => r["run_id"]).sort(), [...runIds].sort());
    }));

  test("4 processes × 10 appends give 40 rows and one header", () =>
    inTempDir(async (dir) => {
      const script = `
        const { writeEmissionsRow } = require(${JSON.stringify(compiledModule("csv-file"))});
        const row = JSON.parse(process.argv[2]);
        (async () => {
          for (let i = 0; i < 10; i++) {
            await writeEmissionsRow({ ...row, run_id: process.argv[3] + "-" + i }, { outputDir: process.argv[1], outputFile: "emissions.csv", onCsvWrite: "append" });
          }
        })().catch((e) => { console.error(e); process.exit(1); });
      `;
      const outcomes = await Promise.all(
        ["p0", "p1", "p2", "p3"].map((name) => runNode(script, [dir, JSON.stringify(makeRow()), name])),
      );
      for (const outcome of outcomes) assert.equal(outcome.code, 0, outcome.stderr);
      const file = path.join(dir, "emissions.csv");
      const all = records(file);
      assert.equal(all.filter((r) => r.join(",") === HEADER).length, 1);
      const runIds = (await readEmissionsCsv(file)).map((r) => r["run_id"]);
      assert.equal(runIds.length, 40);
      assert.equal(new Set(runIds).size, 40);
      assert.deepEqual(fs.readdirSync(dir), ["emissions.csv"]);
    }));
});

describe("writeEmissionsRow: a file with other columns", () => {
  test("an old-format file is backed up byte for byte and a new file holds one row", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      const old = fs.readFileSync(path.join(CSV_FIXTURES, "emissions_old_format.csv"), "utf8");
      fs.writeFileSync(file, old);
      const log = captureLog();
      let result;
      try {
        result = await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir));
      } finally {
        log.restore();
      }
      const backup = path.join(dir, "emissions.bak");
      assert.deepEqual(result, { file, backup });
      assert.equal(fs.readFileSync(backup, "utf8"), old);
      assert.equal(records(file)[0]!.join(","), HEADER);
      assert.deepEqual(
        (await readEmissionsCsv(file)).map((r) => r["run_id"]),
        [RUN_A],
      );
      const warning = log.lines.find((l) => l.level === "warning");
      assert.ok(warning?.message.includes(file) && warning.message.includes(backup), JSON.stringify(log.lines));
    }));

  test("a renamed column makes a backup; later backups are numbered _0, _1", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      const renamed = CSV_COLUMNS.map((c) => (c === "ram_used_gb" ? "ram_used_gib" : c)).join(",");
      const log = captureLog();
      const backups: Array<string | null> = [];
      try {
        for (let i = 0; i < 3; i++) {
          fs.writeFileSync(file, `${renamed}\nold-${i}\n`);
          backups.push((await writeEmissionsRow(makeRow(), target(dir, "update"))).backup);
        }
      } finally {
        log.restore();
      }
      assert.deepEqual(
        backups,
        ["emissions.bak", "emissions_0.bak", "emissions_1.bak"].map((b) => path.join(dir, b)),
      );
      assert.equal(fs.readFileSync(path.join(dir, "emissions_1.bak"), "utf8"), `${renamed}\nold-2\n`);
      assert.equal(fs.readFileSync(path.join(dir, "emissions.bak"), "utf8"), `${renamed}\nold-0\n`);
      assert.equal((await readEmissionsCsv(file)).length, 1);
    }));

  test("a header with a duplicated column is a mismatch", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      const duplicated = [...CSV_COLUMNS.slice(0, -1), "pue"].join(",");
      fs.writeFileSync(file, `${duplicated}\n`);
      const log = captureLog();
      try {
        const { backup } = await writeEmissionsRow(makeRow(), target(dir));
        assert.equal(backup, path.join(dir, "emissions.bak"));
      } finally {
        log.restore();
      }
    }));
});

describe("writeEmissionsRow: update", () => {
  test("with no row for the run_id, the row is appended", () =>
    inTempDir(async (dir) => {
      await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir, "update"));
      await writeEmissionsRow(makeRow({ run_id: RUN_B }), target(dir, "update"));
      assert.deepEqual(
        (await readEmissionsCsv(path.join(dir, "emissions.csv"))).map((r) => r["run_id"]),
        [RUN_A, RUN_B],
      );
    }));

  test("with exactly one row for the run_id, that row is replaced and the others kept", () =>
    inTempDir(async (dir) => {
      await writeEmissionsRow(makeRow({ run_id: RUN_A, cpu_power: 20 }), target(dir, "append"));
      await writeEmissionsRow(makeRow({ run_id: RUN_B, cpu_power: 30, cpu_model: "x, y" }), target(dir, "append"));
      await writeEmissionsRow(makeRow({ run_id: RUN_A, cpu_power: 2, duration: 99 }), target(dir, "update"));
      const rows = await readEmissionsCsv(path.join(dir, "emissions.csv"));
      assert.equal(rows.length, 2);
      assert.deepEqual(
        rows.map((r) => [r["run_id"], r["cpu_power"], r["duration"]]),
        [
          [RUN_A, "2.0", "99.0"],
          [RUN_B, "30.0", "12.5"],
        ],
      );
      assert.equal(rows[1]!["cpu_model"], "x, y");
    }));

  test("with several rows for the run_id, warns and appends", () =>
    inTempDir(async (dir) => {
      await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir, "append"));
      await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir, "append"));
      const log = captureLog();
      try {
        await writeEmissionsRow(makeRow({ run_id: RUN_A, cpu_power: 2 }), target(dir, "update"));
      } finally {
        log.restore();
      }
      const rows = await readEmissionsCsv(path.join(dir, "emissions.csv"));
      assert.deepEqual(
        rows.map((r) => r["cpu_power"]),
        ["42.5", "42.5", "2.0"],
      );
      assert.ok(log.lines.some((l) => l.level === "warning" && l.message.includes(RUN_A)));
    }));

  test("columns empty in every row do not break it (CodeCarbon #1367)", () =>
    inTempDir(async (dir) => {
      const empty = { region: null, longitude: null, latitude: null, country_name: null };
      await writeEmissionsRow(makeRow({ run_id: RUN_A, ...empty }), target(dir, "update"));
      await writeEmissionsRow(makeRow({ run_id: RUN_B, ...empty }), target(dir, "update"));
      await writeEmissionsRow(
        makeRow({ run_id: RUN_A, region: "quebec", longitude: -71.2, latitude: null, duration: 30 }),
        target(dir, "update"),
      );
      const rows = await readEmissionsCsv(path.join(dir, "emissions.csv"));
      assert.deepEqual(
        rows.map((r) => [r["run_id"], r["region"], r["longitude"], r["latitude"], r["duration"]]),
        [
          [RUN_A, "quebec", "-71.2", "", "30.0"],
          [RUN_B, "", "", "", "12.5"],
        ],
      );
    }));

  test("a permuted file is updated in its own column order", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "emissions.csv");
      const permuted = [...CSV_COLUMNS.slice(19), ...CSV_COLUMNS.slice(0, 19)];
      fs.writeFileSync(file, `${permuted.join(",")}\n`);
      await writeEmissionsRow(makeRow({ run_id: RUN_A }), target(dir, "update"));
      await writeEmissionsRow(makeRow({ run_id: RUN_A, emissions: 0.5 }), target(dir, "update"));
      assert.deepEqual(records(file)[0], permuted);
      const rows = await readEmissionsCsv(file);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!["emissions"], "0.5");
      assert.equal(rows[0]!["run_id"], RUN_A);
    }));

  test("flush then stop in update mode leaves one row; in append mode two", () =>
    inTempDir(async (dir) => {
      const updateDir = path.join(dir, "update");
      const appendDir = path.join(dir, "append");
      fs.mkdirSync(updateDir);
      fs.mkdirSync(appendDir);
      for (const [outputDir, mode] of [
        [updateDir, "update"],
        [appendDir, "append"],
      ] as const) {
        await writeEmissionsRow(makeRow({ run_id: RUN_A, duration: 10 }), target(outputDir, mode));
        await writeEmissionsRow(makeRow({ run_id: RUN_A, duration: 20 }), target(outputDir, mode));
      }
      assert.deepEqual(
        (await readEmissionsCsv(path.join(updateDir, "emissions.csv"))).map((r) => r["duration"]),
        ["20.0"],
      );
      assert.deepEqual(
        (await readEmissionsCsv(path.join(appendDir, "emissions.csv"))).map((r) => r["duration"]),
        ["10.0", "20.0"],
      );
    }));
});

describe("writeTaskRows", () => {
  test("writes task_name first, drops the run-level columns, keeps on_cloud last", () => {
    assert.equal(TASK_CSV_COLUMNS[0], "task_name");
    assert.equal(TASK_CSV_COLUMNS[TASK_CSV_COLUMNS.length - 1], "on_cloud");
    assert.equal(TASK_CSV_COLUMNS.length, 36);
    for (const dropped of ["experiment_id", "pue", "wue"])
      assert.equal((TASK_CSV_COLUMNS as readonly string[]).includes(dropped), false);
  });

  test("rewrites the whole file with every task so far, keeping empty columns", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, `emissions_base_${RUN_A}.csv`);
      await writeTaskRows([makeTaskRow("load", { region: null })], file);
      await writeTaskRows(
        [makeTaskRow("load", { region: null }), makeTaskRow("train", { region: null, duration: 3 })],
        file,
      );
      const all = records(file);
      assert.deepEqual(all[0], [...TASK_CSV_COLUMNS]);
      assert.equal(all.length, 3);
      const rows = await readEmissionsCsv(file);
      assert.deepEqual(
        rows.map((r) => [r["task_name"], r["region"], r["duration"]]),
        [
          ["load", "", "12.5"],
          ["train", "", "3.0"],
        ],
      );
      assert.deepEqual(fs.readdirSync(dir), [path.basename(file)]);
    }));
});

describe("readEmissionsCsv", () => {
  test("maps each row by the header and fills missing cells with empty strings", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "short.csv");
      fs.writeFileSync(file, "a,b,c\n1,2\n");
      assert.deepEqual(await readEmissionsCsv(file), [{ a: "1", b: "2", c: "" }]);
    }));

  test("reads CodeCarbon's old-format file", async () => {
    const rows = await readEmissionsCsv(path.join(CSV_FIXTURES, "emissions_old_format.csv"));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!["emissions"], "2.1e-05");
    assert.equal(rows[0]!["region"], "");
    assert.equal(rows[0]!["pue"], "1.0");
  });

  test("an empty file has no rows; a missing file rejects", () =>
    inTempDir(async (dir) => {
      const file = path.join(dir, "empty.csv");
      fs.writeFileSync(file, "");
      assert.deepEqual(await readEmissionsCsv(file), []);
      await assert.rejects(readEmissionsCsv(path.join(dir, "missing.csv")), { code: "ENOENT" });
    }));
});
