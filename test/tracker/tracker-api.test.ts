/**
 * The public tracker API, exercised in this process with real workers and real files.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, type Sandbox } from "../helpers/sandbox";
import {
  EmissionsTracker,
  OfflineEmissionsTracker,
  trackEmissions,
  isCodeCarbonError,
  CSV_COLUMNS,
} from "../../src/index";
import { setLogSink } from "../../src/log";

let box: Sandbox;
const logs: string[] = [];
let dirCount = 0;

before(() => {
  box = makeSandbox();
  process.env["HOME"] = box.home;
  for (const key of Object.keys(process.env)) if (key.toUpperCase().startsWith("CODECARBON_")) delete process.env[key];
  process.chdir(box.cwd);
  setLogSink((level, message) => logs.push(`${level}: ${message}`));
});

after(() => {
  process.chdir(path.dirname(box.dir));
  box.cleanup();
});

/** A fresh output folder per test, so row counts are independent. */
function outputDir(): string {
  const dir = path.join(box.cwd, `out-${++dirCount}`);
  fs.mkdirSync(dir);
  return dir;
}

const fast = { countryIsoCode: "FRA", measurePowerSecs: 0.1, forceCpuPower: 20, forceRamPower: 5 } as const;

test("start() chains and stop() returns kg CO2eq, written as one CSV row with CodeCarbon's header", async () => {
  const dir = outputDir();
  const tracker = new OfflineEmissionsTracker({ ...fast, outputDir: dir, projectName: "api" });
  assert.equal(tracker.start(), tracker);
  await new Promise((r) => setTimeout(r, 300));
  const kg = await tracker.stop();
  assert.equal(typeof kg, "number");
  assert.ok(kg! > 0);
  assert.equal(tracker.finalEmissions, kg);
  assert.equal(tracker.finalEmissionsData?.emissions, kg);
  const text = fs.readFileSync(path.join(dir, "emissions.csv"), "utf8");
  assert.equal(text.split("\n")[0], CSV_COLUMNS.join(","));
  const rows = readCsvRows(path.join(dir, "emissions.csv"));
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  assert.equal(row["project_name"], "api");
  assert.equal(row["run_id"], tracker.runId);
  assert.equal(row["country_iso_code"], "FRA");
  assert.equal(row["country_name"], "France");
  assert.equal(row["python_version"], process.versions.node);
  assert.equal(row["on_cloud"], "N");
  assert.equal(row["longitude"], "");
  assert.ok(Math.abs(Number(row["emissions"]) - kg!) <= kg! * 1e-12);
});

test("start twice warns and keeps one run; stop is idempotent; start after stop is a new run", async () => {
  const dir = outputDir();
  const tracker = new OfflineEmissionsTracker({ ...fast, outputDir: dir });
  tracker.start();
  const firstRun = tracker.runId;
  logs.length = 0;
  tracker.start();
  assert.equal(tracker.runId, firstRun);
  assert.ok(
    logs.some((l) => l.startsWith("warning: Already started tracking")),
    logs.join("\n"),
  );
  const [a, b] = await Promise.all([tracker.stop(), tracker.stop()]);
  assert.equal(a, b);
  assert.equal(await tracker.stop(), a);
  assert.equal(readCsvRows(path.join(dir, "emissions.csv")).length, 1);

  tracker.start();
  assert.notEqual(tracker.runId, firstRun);
  await tracker.stop();
  const rows = readCsvRows(path.join(dir, "emissions.csv"));
  assert.deepEqual(
    rows.map((r) => r["run_id"]),
    [firstRun, tracker.runId],
  );
});

test("flush() writes a row so far and keeps running; update mode keeps one row per run", async () => {
  const appendDir = outputDir();
  const t1 = new OfflineEmissionsTracker({ ...fast, outputDir: appendDir }).start();
  const soFar = await t1.flush();
  assert.ok(typeof soFar === "number");
  const total = await t1.stop();
  assert.ok(total! >= soFar!);
  assert.equal(readCsvRows(path.join(appendDir, "emissions.csv")).length, 2);

  const updateDir = outputDir();
  const t2 = new OfflineEmissionsTracker({ ...fast, outputDir: updateDir, onCsvWrite: "update" }).start();
  await t2.flush();
  await t2.stop();
  const rows = readCsvRows(path.join(updateDir, "emissions.csv"));
  assert.equal(rows.length, 1);
  assert.equal(Number(rows[0]!["emissions"]), t2.finalEmissions);
});

test("await using stops the tracker when the scope ends, also on throw", async () => {
  const dir = outputDir();
  let tracker: OfflineEmissionsTracker | undefined;
  await assert.rejects(async () => {
    await using t = new OfflineEmissionsTracker({ ...fast, outputDir: dir }).start();
    tracker = t;
    throw new Error("the user's code failed");
  }, /the user's code failed/);
  assert.ok(tracker?.finalEmissions !== undefined);
  assert.equal(readCsvRows(path.join(dir, "emissions.csv")).length, 1);
});

test("trackEmissions wraps sync and async functions and returns their results", async () => {
  const dir = outputDir();
  const add = trackEmissions((a: number, b: number) => a + b, { ...fast, offline: true, outputDir: dir });
  assert.equal(add(2, 3), 5);
  const slow = trackEmissions(
    async (x: string) => {
      await new Promise((r) => setTimeout(r, 150));
      return x.toUpperCase();
    },
    { ...fast, offline: true, outputDir: dir },
  );
  assert.equal(await slow("ok"), "OK");
  const failing = trackEmissions(
    async () => {
      throw new Error("boom");
    },
    { ...fast, offline: true, outputDir: dir },
  );
  await assert.rejects(failing(), /boom/);
  // The synchronous call's row is written in the background; give it a moment.
  const file = path.join(dir, "emissions.csv");
  for (let i = 0; i < 100 && (!fs.existsSync(file) || readCsvRows(file).length < 3); i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal(readCsvRows(file).length, 3);
});

test("@trackEmissions decorates methods (TypeScript 5 standard decorators)", async () => {
  const dir = outputDir();
  class Model {
    factor = 3;
    @trackEmissions({ ...fast, offline: true, outputDir: dir, projectName: "decorated" })
    async fit(x: number): Promise<number> {
      await new Promise((r) => setTimeout(r, 50));
      return x * this.factor;
    }
  }
  assert.equal(await new Model().fit(2), 6);
  const rows = readCsvRows(path.join(dir, "emissions.csv"));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!["project_name"], "decorated");
});

test("tasks report their own share and are written to the task CSV", async () => {
  const dir = outputDir();
  const tracker = new OfflineEmissionsTracker({ ...fast, outputDir: dir, experimentName: "exp" }).start();
  const name = await tracker.startTask("load");
  assert.equal(name, "load");
  await new Promise((r) => setTimeout(r, 200));
  const task = await tracker.stopTask();
  assert.ok(task);
  assert.equal(task.task_name, "load");
  assert.ok(task.duration > 0.15 && task.duration < 5, String(task.duration));
  assert.ok(task.ram_energy > 0);
  await tracker.stop();
  assert.ok(task.energy_consumed <= tracker.finalEmissionsData!.energy_consumed);
  const taskRows = readCsvRows(path.join(dir, `emissions_exp_${tracker.runId}.csv`));
  assert.deepEqual(
    taskRows.map((r) => r["task_name"]),
    ["load"],
  );
});

test("getDetectedHardware() reports CodeCarbon's seven keys", async () => {
  const hardware = await new OfflineEmissionsTracker({ countryIsoCode: "FRA" }).getDetectedHardware();
  assert.deepEqual(Object.keys(hardware).sort(), [
    "cpu_count",
    "cpu_model",
    "cpu_physical_count",
    "gpu_count",
    "gpu_ids",
    "gpu_model",
    "ram_total_size",
  ]);
  assert.ok(hardware.cpu_count >= 1);
  assert.ok(hardware.ram_total_size > 0);
});

test("construction errors name the option and the value", () => {
  const expectError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (error: unknown) => {
      assert.ok(isCodeCarbonError(error), String(error));
      assert.match((error as Error).message, pattern);
      return true;
    });
  expectError(() => new OfflineEmissionsTracker(), /countryIsoCode/);
  expectError(() => new OfflineEmissionsTracker({ countryIsoCode: "XYZ" }), /"XYZ".*listCountryCodes/);
  expectError(() => new EmissionsTracker({ measurePowerSecs: -1 }), /measurePowerSecs.*-1/);
  expectError(() => new EmissionsTracker({ trackingMode: "everything" as "machine" }), /trackingMode.*everything/);
  expectError(() => trackEmissions(() => 1, { offline: true }), /countryIsoCode/);
});

test("stop() before start() and flush() on a stopped tracker log instead of throwing", async () => {
  const tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA" });
  logs.length = 0;
  assert.equal(await tracker.stop(), undefined);
  assert.equal(await tracker.flush(), undefined);
  assert.ok(logs.some((l) => l.startsWith("error: stop() was called before start()")));
});

test("allow_multiple_runs = false lets one tracker run at a time, and a dead holder's lock is taken over", async () => {
  const previousTmp = process.env["TMPDIR"];
  process.env["TMPDIR"] = box.dir;
  try {
    const dir = outputDir();
    const first = new OfflineEmissionsTracker({ ...fast, outputDir: dir, allowMultipleRuns: false }).start();
    const second = new OfflineEmissionsTracker({ ...fast, outputDir: dir, allowMultipleRuns: false });
    logs.length = 0;
    second.start();
    assert.equal(second.runId, undefined);
    assert.ok(
      logs.some((l) => l.includes("Another codecarbon tracker is already running")),
      logs.join("\n"),
    );
    await first.stop();
    second.start();
    assert.ok(second.runId);
    await second.stop();

    const { spawnSync } = await import("node:child_process");
    const dead = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    fs.writeFileSync(
      path.join(box.dir, ".codecarbon.lock"),
      JSON.stringify({
        pid: Number(dead.stdout.trim()),
        hostname: (await import("node:os")).hostname(),
        processStartTime: null,
        runId: "gone",
      }),
    );
    const third = new OfflineEmissionsTracker({ ...fast, outputDir: dir, allowMultipleRuns: false }).start();
    assert.ok(third.runId, "a lock whose process is gone does not block");
    await third.stop();
    assert.equal(fs.existsSync(path.join(box.dir, ".codecarbon.lock")), false, "stop() releases the lock");
  } finally {
    if (previousTmp === undefined) delete process.env["TMPDIR"];
    else process.env["TMPDIR"] = previousTmp;
  }
});

test("an output_dir that cannot be created is reported with what to do, and stop() does not throw", async () => {
  const blocker = path.join(box.cwd, "a-file");
  fs.writeFileSync(blocker, "");
  const tracker = new OfflineEmissionsTracker({ ...fast, outputDir: path.join(blocker, "sub") });
  logs.length = 0;
  tracker.start();
  assert.equal(await tracker.stop(), undefined);
  assert.ok(
    logs.some((l) => l.startsWith("error: Tracking could not start") && l.includes("set output_dir")),
    logs.join("\n"),
  );
});
