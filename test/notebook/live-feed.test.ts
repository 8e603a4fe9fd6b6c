import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cleanOldFeeds, createLiveFeedSink } from "../../src/notebook/live-feed-sink";
import {
  appendPoint,
  FULL_RESOLUTION_POINTS,
  LIVE_FEED_VERSION,
  MAX_POINTS,
  type LiveFeed,
  type LiveFeedPoint,
} from "../../src/protocol/live-feed";
import { detectKernel } from "../../src/notebook/kernel";
import type { EmissionsData } from "../../src/output/emissions-data";

/** The live feed reads only the sample of a measurement. */
const NO_ROW = undefined as unknown as EmissionsData;
import { codecarbonKernel } from "../../src/jupyter";

const point = (s: number): LiveFeedPoint => ({
  t: new Date(s * 1000).toISOString(),
  s,
  cpuW: s % 2 === 0 ? 10 : 20,
  gpuW: 0,
  ramW: 3,
  kWh: s / 1000,
  kg: s / 1e6,
  cpuKWh: s / 2000,
  gpuKWh: 0,
  ramKWh: s / 2000,
  g: 56,
});

describe("the live feed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-feed-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("stays bounded however long the run, covering it from start to latest", () => {
    let points: LiveFeedPoint[] = [];
    for (let s = 1; s <= 3600; s++) points = appendPoint(points, point(s));
    assert.ok(points.length <= MAX_POINTS);
    assert.equal(points.at(-1)!.s, 3600, "the latest point is kept");
    assert.equal(points[0]!.s, 1, "the start of the run is still there");
    assert.ok(points.length >= MAX_POINTS / 2, `enough points to draw (${points.length})`);
    for (let i = 1; i < points.length; i++) assert.ok(points[i]!.s > points[i - 1]!.s, "in time order");
    assert.equal(points.at(-1)!.kWh, 3.6, "cumulative values are never averaged away");
    const recent = points.slice(-FULL_RESOLUTION_POINTS).map((p) => p.s);
    assert.deepEqual(
      recent,
      Array.from({ length: FULL_RESOLUTION_POINTS }, (_, i) => 3600 - FULL_RESOLUTION_POINTS + 1 + i),
    );
  });

  test("is rewritten whole at every measurement and says when the run stopped", async () => {
    const file = path.join(dir, "codecarbon-live", "k1.json");
    const sink = createLiveFeedSink({
      file,
      kernelId: "k1",
      runId: "r1",
      projectName: "p",
      measurePowerSecs: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      csv: "emissions.csv",
    });
    sink.describe(["CPU from RAPL (package-0)"], { gPerKWh: 56, source: "country FRA (2023)" });
    for (let i = 1; i <= 3; i++) {
      sink.measured!({
        sample: {
          timestamp: new Date().toISOString(),
          elapsedS: i,
          intervalS: 1,
          powerW: { cpu: 12.5, gpu: 0, ram: 3 },
          energyKWh: { cpu: i * 0.001, gpu: 0, ram: 0, total: i * 0.001 },
          emissionsKg: i * 0.00005,
          intensityGPerKWh: 56,
        },
        row: NO_ROW,
      });
    }
    let feed = JSON.parse(fs.readFileSync(file, "utf8")) as LiveFeed;
    assert.equal(feed.points.length, 3);
    assert.equal(feed.state, "running");
    assert.deepEqual(feed.sources, ["CPU from RAPL (package-0)"]);
    assert.equal(feed.totals.energyKWh, 0.003);
    await sink.exit!();
    feed = JSON.parse(fs.readFileSync(file, "utf8")) as LiveFeed;
    assert.equal(feed.state, "stopped");
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["k1.json"], "no temporary file left behind");
  });

  test("feeds of kernels that are gone are cleaned up; live ones are kept", () => {
    const folder = path.join(dir, "clean");
    fs.mkdirSync(folder);
    const old = new Date(Date.now() - 2 * 3600_000).toISOString();
    const feed = (kernelId: string, pid: number, updatedAt: string) =>
      JSON.stringify({
        version: LIVE_FEED_VERSION,
        kernelId,
        runId: "r",
        projectName: "p",
        pid,
        state: "running",
        startedAt: updatedAt,
        updatedAt,
        measurePowerSecs: 15,
        sources: [],
        intensity: { gPerKWh: null, source: null },
        totals: { durationS: 0, energyKWh: 0, emissionsKg: 0 },
        points: [],
        csv: null,
      });
    fs.writeFileSync(path.join(folder, "dead.json"), feed("dead", 2 ** 22 + 12345, old));
    fs.writeFileSync(path.join(folder, "alive.json"), feed("alive", process.pid, old));
    fs.writeFileSync(
      path.join(folder, "ancient.json"),
      feed("ancient", process.pid, new Date(Date.now() - 8 * 24 * 3600_000).toISOString()),
    );
    // Only feeds this package wrote are cleaned: not another program's JSON, nor a feed under another name.
    fs.writeFileSync(path.join(folder, "other.json"), JSON.stringify({ pid: 2 ** 22 + 12345, updatedAt: old }));
    fs.writeFileSync(path.join(folder, "renamed.json"), feed("dead", 2 ** 22 + 12345, old));
    fs.writeFileSync(path.join(folder, "notes.txt"), "not a feed");
    // A gone kernel's cells file (per-cell attribution) goes with its feed; a live one's stays.
    fs.writeFileSync(path.join(folder, "dead.cells.json"), "{}");
    fs.writeFileSync(path.join(folder, "alive.cells.json"), "{}");
    cleanOldFeeds(folder);
    assert.deepEqual(fs.readdirSync(folder).sort(), [
      "alive.cells.json",
      "alive.json",
      "notes.txt",
      "other.json",
      "renamed.json",
    ]);
  });
});

describe("kernel detection and the kernel entry point", () => {
  test("a server's kernel is named by its connection file; other processes are not kernels", () => {
    assert.deepEqual(detectKernel(["node", "tslab", "kernel", "--config-path", "/run/jupyter/kernel-3f2a-77.json"]), {
      kernelId: "3f2a-77",
      connectionFile: "/run/jupyter/kernel-3f2a-77.json",
      inKernel: true,
    });
    assert.equal(detectKernel(["node", "script.js", "data.json"]), null);
    assert.equal(detectKernel(process.argv), null);
  });

  test("requests are checked: version, action, settings", async () => {
    assert.match(
      (await codecarbonKernel({ version: 2, action: "status" })).error ?? "",
      /unsupported request version 2/,
    );
    assert.match((await codecarbonKernel({ version: 1, action: "explode" })).error ?? "", /unknown action/);
    assert.match(
      (await codecarbonKernel({ version: 1, action: "start", settings: [] })).error ?? "",
      /settings must be an object/,
    );
    const bad = await codecarbonKernel({
      version: 1,
      action: "start",
      offline: true,
      settings: { country_iso_code: "FRA", measure_power_secs: -1 },
    });
    assert.equal(bad.ok, false);
    assert.match(bad.error ?? "", /measure_power_secs|measurePowerSecs/);
    const status = await codecarbonKernel({ version: 1, action: "status" });
    assert.deepEqual([status.ok, status.state, status.kernelId, status.feed], [true, "idle", null, null]);
  });
});
