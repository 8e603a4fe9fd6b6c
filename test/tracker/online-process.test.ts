/**
 * The online tracker in real processes against loopback services that speak the real
 * protocols: geolocation, Electricity Maps and the Code Carbon API.
 */
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, runChild, type Sandbox } from "../helpers/sandbox";
import { startFakeCodeCarbonApi, type FakeCodeCarbonApi } from "../helpers/fake-codecarbon-api";
import { startLoopbackServer, type LoopbackServer } from "../helpers/loopback-server";

const TOKEN = "cpt_test-token-0123456789";

describe("the online tracker in a real process", () => {
  let sandbox: Sandbox;
  let api: FakeCodeCarbonApi;
  let geojs: LoopbackServer;
  let electricityMaps: LoopbackServer;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    api = await startFakeCodeCarbonApi();
    geojs = await startLoopbackServer(() => ({
      status: 200,
      json: {
        country_code3: "FRA",
        country_code: "FR",
        country: "France",
        region: "Ile-de-France",
        latitude: "48.86",
        longitude: "2.35",
      },
    }));
    electricityMaps = await startLoopbackServer((r) =>
      r.headers["auth-token"] === "em-token-0123456789"
        ? { status: 200, json: { zone: "FR", carbonIntensity: 31.5 } }
        : { status: 401, json: { error: "bad token" } },
    );
  });
  after(async () => {
    await Promise.all([api.close(), geojs.close(), electricityMaps.close()]);
  });
  beforeEach(() => {
    sandbox?.cleanup();
    sandbox = makeSandbox();
    api.mode = "ok";
    api.emissions.length = 0;
    api.runs.clear();
    env = {
      CODECARBON_GEOLOCATION_ENDPOINT: `${geojs.url}/v1/ip/geo.json`,
      CODECARBON_GEOLOCATION_BACKUP_ENDPOINT: `${geojs.url}/none`,
      CODECARBON_CLOUD_DETECTION: "false",
      CODECARBON_ELECTRICITYMAPS_ENDPOINT: `${electricityMaps.url}/v3`,
      CODECARBON_API_ENDPOINT: api.url,
      CODECARBON_API_KEY: TOKEN,
      CODECARBON_API_TIMEOUT_SECS: "1",
      CODECARBON_LOG_LEVEL: "info",
    };
  });
  after(() => sandbox?.cleanup());

  test("geolocation and Electricity Maps price the run; the CSV says where it ran", async () => {
    await runChild(
      `const { EmissionsTracker } = require(CODECARBON);
       (async () => {
         const tracker = new EmissionsTracker({ measurePowerSecs: 0.2, electricitymapsApiToken: "em-token-0123456789" }).start();
         await new Promise((r) => setTimeout(r, 600));
         await tracker.stop();
       })();`,
      sandbox,
      env,
    );
    const [row] = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
    assert.equal(row?.["country_iso_code"], "FRA");
    assert.equal(row?.["country_name"], "France");
    assert.equal(row?.["latitude"], "48.86");
    const emissions = Number(row?.["emissions"]);
    const energy = Number(row?.["energy_consumed"]);
    assert.ok(
      Math.abs(emissions - (energy * 31.5) / 1000) < 1e-12,
      `every kWh priced at the live intensity: ${emissions} vs ${energy} kWh; ${electricityMaps.requests.length} EM calls`,
    );
    assert.equal(geojs.requests.length >= 1, true);
  });

  test("a run stopped at once is located, priced and uploaded like any other", async () => {
    const result = await runChild(
      `const { EmissionsTracker } = require(CODECARBON);
       const tracker = new EmissionsTracker({ electricitymapsApiToken: "em-token-0123456789", outputMethods: ["csv", "api"] });
       tracker.start();
       tracker.stop().then(() => console.log("RUN_ID=" + tracker.runId));`,
      sandbox,
      { ...env, CODECARBON_LOG_LEVEL: "debug" },
    );
    assert.match(result.stderr, /the run is measured on this thread/);
    const [row] = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
    assert.equal(row?.["run_id"], /RUN_ID=(\S+)/.exec(result.stdout)?.[1]);
    assert.equal(row?.["country_iso_code"], "FRA");
    const energy = Number(row?.["energy_consumed"]);
    assert.ok(Math.abs(Number(row?.["emissions"]) - (energy * 31.5) / 1000) < 1e-12, "priced at the live intensity");
    assert.equal(api.runs.size, 1);
    const sent = api.emissions.reduce((sum, e) => sum + (e["energy_consumed"] as number), 0);
    assert.ok(Math.abs(sent - energy) < 1e-9, "the uploads add up to the CSV total");
  });

  test("uploads keep coming while the main thread is blocked, and runId is a real id", async () => {
    const result = await runChild(
      `const { EmissionsTracker } = require(CODECARBON);
       (async () => {
         const tracker = new EmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.25, apiCallInterval: 2, outputMethods: ["csv", "api"] }).start();
         await new Promise((r) => setTimeout(r, 300));
         const until = Date.now() + 3000;
         while (Date.now() < until) {} // a cell that blocks the event loop
         console.log("RUN_ID=" + tracker.runId);
         await tracker.stop();
       })();`,
      sandbox,
      env,
    );
    const runId = /RUN_ID=(\S+)/.exec(result.stdout)?.[1];
    assert.match(runId ?? "", /^[0-9a-f-]{36}$/);
    const [row] = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
    assert.equal(row?.["run_id"], runId);
    assert.equal(api.runs.size, 1);
    // Each upload's timestamp says when it was made: several during the 3 s block.
    const stamps = api.emissions.map((e) => Date.parse(String(e["timestamp"])));
    assert.ok(api.emissions.length >= 3, `got ${api.emissions.length} uploads`);
    const spanS = (Math.max(...stamps) - Math.min(...stamps)) / 1000;
    assert.ok(spanS >= 1.5, `uploads spread over ${spanS} s, not bunched at the end`);
    const sent = api.emissions.reduce((sum, e) => sum + (e["energy_consumed"] as number), 0);
    assert.ok(Math.abs(sent - Number(row?.["energy_consumed"])) < 1e-9, "the uploads add up to the CSV total");
  });

  test("a run during an API outage loses nothing: the next run sends its points first", async () => {
    api.mode = "unavailable-503";
    const script = `const { EmissionsTracker } = require(CODECARBON);
       (async () => {
         const tracker = new EmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.25, apiCallInterval: 2, outputMethods: ["csv", "api"] }).start();
         await new Promise((r) => setTimeout(r, 1600));
         await tracker.stop();
       })();`;
    const down = await runChild(script, sandbox, env);
    assert.match(down.stderr, /Could not send emissions/);
    assert.equal(api.emissions.length, 0);
    const spool = path.join(sandbox.cwd, ".codecarbon", "spool.jsonl");
    const waiting = fs.readFileSync(spool, "utf8").trim().split("\n").length;
    assert.ok(waiting >= 3, `${waiting} items waiting`);
    api.mode = "ok";
    await runChild(script, sandbox, env);
    const rows = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
    assert.equal(rows.length, 2);
    assert.equal(api.runs.size, 2);
    const apiRunIds = [...api.runs.keys()];
    for (const [i, row] of rows.entries()) {
      const points = api.emissions.filter((e) => e["run_id"] === apiRunIds[i]);
      const sent = points.reduce((sum, e) => sum + (e["energy_consumed"] as number), 0);
      assert.ok(Math.abs(sent - Number(row["energy_consumed"])) < 1e-9, `run ${i + 1}: uploads add up to its CSV row`);
    }
    const keys = api.emissions.map((e) => JSON.stringify(e));
    assert.equal(new Set(keys).size, keys.length, "no point sent twice");
    assert.equal(fs.readFileSync(spool, "utf8"), "");
  });
});
