/**
 * A `stop()` that comes before the sampler thread has begun the run: the tracker takes the run
 * and measures it on the user's thread, with the same code and files. These tests hold it to the
 * same row, the same files and the same messages as a run the sampler measured, and race the two.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, runChild, waitFor, type Sandbox } from "../helpers/sandbox";
import { useLogCapture } from "../helpers/log-capture";
import { spawn } from "node:child_process";
import { OfflineEmissionsTracker, CSV_COLUMNS, trackEmissions } from "../../src/index";
import { seededRandom } from "../helpers/seeded-random";

let box: Sandbox;
let dirCount = 0;
const log = useLogCapture();

before(() => {
  box = makeSandbox();
  process.env["HOME"] = box.home;
  for (const key of Object.keys(process.env)) if (key.toUpperCase().startsWith("CODECARBON_")) delete process.env[key];
  process.chdir(box.cwd);
});

after(() => {
  process.chdir(path.dirname(box.dir));
  box.cleanup();
});

/** The files in an output folder, its (emptied) checkpoint folder aside. */
function filesLeft(dir: string): string[] {
  const files = fs.readdirSync(dir, { recursive: true, encoding: "utf8" });
  return files.filter((name) => !fs.statSync(path.join(dir, name)).isDirectory()).sort();
}

function outputDir(): string {
  const dir = path.join(box.cwd, `out-${++dirCount}`);
  fs.mkdirSync(dir);
  return dir;
}

const options = { countryIsoCode: "CAN", measurePowerSecs: 1, logLevel: "debug" } as const;
const TAKEN_HERE = "the run is measured on this thread";
const takenHere = () => log.lines.some((l) => l.message.includes(TAKEN_HERE));
/** Errors and warnings, but for the one about this machine's CPU missing from the TDP table. */
const complaints = () =>
  log.lines.filter((l) => l.level !== "info" && l.level !== "debug" && !l.message.includes("not in the TDP table"));

/** Columns that depend on when and how long the run was, not on the machine or the settings. */
const PER_RUN = new Set([
  "timestamp",
  "run_id",
  "duration",
  "emissions",
  "emissions_rate",
  "cpu_energy",
  "gpu_energy",
  "ram_energy",
  "energy_consumed",
  "water_consumed",
  "cpu_utilization_percent",
  "ram_utilization_percent",
  "ram_used_gb",
  "cpu_power",
  "ram_power",
]);

test("stop() right after start(): one row with every column the sampler writes, and no complaint", async () => {
  const dir = outputDir();
  const short = new OfflineEmissionsTracker({ ...options, outputDir: dir });
  short.start();
  const kg = await short.stop();
  assert.ok(takenHere(), "the run was taken by the user's thread");
  assert.deepEqual(complaints(), []);
  assert.equal(typeof kg, "number");
  assert.ok(kg! > 0);
  assert.equal(short.finalEmissionsData?.emissions, kg);
  assert.equal(short.finalEmissionsData?.provenance?.run_id, short.runId);

  // A run the sampler measured (it relayed a measurement, so it had begun the run).
  log.lines.length = 0;
  const long = new OfflineEmissionsTracker({ ...options, outputDir: dir });
  let heard: () => void;
  const measured = new Promise<void>((resolve) => (heard = resolve));
  long.onMeasurement(() => heard());
  long.start();
  // The sampler thread does not keep a process alive on its own: this test waits for it.
  const keepAlive = setInterval(() => undefined, 1000);
  await measured;
  clearInterval(keepAlive);
  await long.stop();
  assert.ok(!takenHere(), "the sampler had begun this run, so it stopped it");

  const text = fs.readFileSync(path.join(dir, "emissions.csv"), "utf8");
  assert.equal(text.split("\n")[0], CSV_COLUMNS.join(","));
  const [a, b] = readCsvRows(path.join(dir, "emissions.csv"));
  assert.ok(a && b);
  assert.equal(a["run_id"], short.runId);
  assert.equal(b["run_id"], long.runId);
  for (const column of CSV_COLUMNS) if (!PER_RUN.has(column)) assert.equal(a[column], b[column], column);
  assert.ok(Number(a["duration"]) > 0 && Number(a["duration"]) < Number(b["duration"]));
  // Both wrote their provenance line, and neither left its checkpoint behind.
  const provenance = fs.readFileSync(path.join(dir, "emissions.provenance.jsonl"), "utf8").trim().split("\n");
  assert.equal(provenance.length, 2);
  assert.deepEqual(filesLeft(dir), ["emissions.csv", "emissions.provenance.jsonl"]);
});

test("a run asked for something first (flush, a task) stays with the sampler, which must answer", async () => {
  const dir = outputDir();
  const flushed = new OfflineEmissionsTracker({ ...options, outputDir: dir });
  flushed.start();
  void flushed.flush();
  await flushed.stop();
  const tasked = new OfflineEmissionsTracker({ ...options, outputDir: dir });
  tasked.start();
  void tasked.startTask("quick");
  await tasked.stop();
  assert.ok(!takenHere());
  assert.deepEqual(complaints(), []);
  const runs = readCsvRows(path.join(dir, "emissions.csv")).map((row) => row["run_id"]);
  // flush() writes a row and stop() a second; the tasked run writes one.
  assert.deepEqual([...new Set(runs)], [flushed.runId, tasked.runId]);
});

test("a run taken here that cannot open says so once, as a sampler's would, and stop() resolves", async () => {
  const blocker = path.join(box.cwd, "not-a-folder");
  fs.writeFileSync(blocker, "");
  const tracker = new OfflineEmissionsTracker({ ...options, outputDir: path.join(blocker, "sub") });
  tracker.start();
  assert.equal(await tracker.stop(), undefined);
  assert.ok(takenHere());
  const errors = complaints();
  assert.equal(errors.length, 1, errors.map((l) => l.message).join("\n"));
  assert.match(errors[0]!.message, /^Tracking could not start: .*output_dir/);
  // The tracker is usable again: a later run in a good folder writes its row.
  const dir = outputDir();
  const again = new OfflineEmissionsTracker({ ...options, outputDir: dir });
  again.start();
  assert.equal(typeof (await again.stop()), "number");
});

test("trackEmissions around a quick function, and a tracker of another process, take the short way too", async () => {
  const dir = outputDir();
  const sum = trackEmissions((n: number) => n + 1, {
    ...options,
    offline: true,
    outputDir: dir,
    projectName: "wrapped",
  });
  assert.equal(sum(41), 42);
  // A synchronous function returns at once; its row follows.
  await waitFor(() => (fs.existsSync(path.join(dir, "emissions.csv")) ? true : undefined), "the wrapped run's row");
  assert.ok(takenHere());

  log.lines.length = 0;
  const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
  try {
    const tracker = new OfflineEmissionsTracker(
      { ...options, outputDir: dir, projectName: "kernel" },
      { pid: other.pid! },
    );
    tracker.start();
    assert.equal(typeof (await tracker.stop()), "number");
    assert.ok(takenHere());
  } finally {
    other.kill();
  }
  assert.deepEqual(complaints(), []);
  const rows = readCsvRows(path.join(dir, "emissions.csv"));
  assert.deepEqual(
    rows.map((row) => [row["project_name"], row["tracking_mode"]]),
    [
      ["wrapped", "machine"],
      ["kernel", "process"],
    ],
  );
});

test("start/stop raced against the sampler's start-up: every run writes exactly one row, whoever takes it", async () => {
  const dir = outputDir();
  const random = seededRandom(17);
  const runIds: string[] = [];
  let takenByTracker = 0;
  for (let i = 0; i < 24; i++) {
    log.lines.length = 0;
    const tracker = new OfflineEmissionsTracker({ ...options, outputDir: dir });
    tracker.start();
    // 0–150 ms: around the sampler thread's start-up, so both sides win some.
    const waitMs = i === 0 ? 0 : Math.floor(random() * 150);
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    const kg = await tracker.stop();
    assert.equal(typeof kg, "number", `run ${i}`);
    if (takenHere()) takenByTracker += 1;
    assert.deepEqual(complaints(), [], `run ${i}`);
    runIds.push(tracker.runId!);
  }
  const rows = readCsvRows(path.join(dir, "emissions.csv"));
  assert.deepEqual(
    rows.map((row) => row["run_id"]),
    runIds,
  );
  assert.ok(takenByTracker > 0, "some stops came before the sampler began");
  assert.deepEqual(filesLeft(dir), ["emissions.csv", "emissions.provenance.jsonl"]);
});

test("a script that starts and stops at once exits by itself, its row written", async () => {
  const dir = outputDir();
  const result = await runChild(
    `const { OfflineEmissionsTracker } = require(CODECARBON);
     const tracker = new OfflineEmissionsTracker({ countryIsoCode: "CAN", outputDir: ${JSON.stringify(dir)}, logLevel: "error" });
     tracker.start();
     tracker.stop().then((kg) => console.log(JSON.stringify({ kg, runId: tracker.runId })));`,
    box,
  );
  const { kg, runId } = JSON.parse(result.stdout.trim()) as { kg: number; runId: string };
  assert.ok(kg > 0);
  assert.equal(result.stderr, "");
  assert.deepEqual(
    readCsvRows(path.join(dir, "emissions.csv")).map((row) => row["run_id"]),
    [runId],
  );
});
