import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createNetworkOutputs, runCreateBody, type RunFacts } from "../../src/output/api-sink";
import { CodeCarbonApiClient } from "../../src/api/client";
import { HttpError, HttpStatusError } from "../../src/net/http";
import { resolveConfig } from "../../src/config";
import type { TrackerOptions } from "../../src/config/options.generated";
import type { OutputSink } from "../../src/output/sink";
import { makeRow } from "../output/fixture-rows";
import { startFakeCodeCarbonApi, type FakeCodeCarbonApi } from "../helpers/fake-codecarbon-api";
import { useLogCapture } from "../helpers/log-capture";
import { CLOSED_PORT_URL } from "../helpers/loopback-server";

const TOKEN = "cpt_test-token-0123456789";

const facts: RunFacts = {
  os: "Linux-test",
  runtimeVersion: "20.0.0",
  packageVersion: "0.1.0",
  cpuCount: 8,
  cpuModel: "Test CPU",
  gpuCount: 0,
  gpuModel: "",
  latitude: 48.8566,
  longitude: 2.3522,
  cloudRegion: null,
  cloudProvider: null,
  ramTotalSizeGiB: 16,
  trackingMode: "machine",
};

function delta(seconds: number, energyKWh = 0.001) {
  return makeRow({
    duration: seconds,
    energy_consumed: energyKWh,
    cpu_energy: energyKWh,
    emissions: energyKWh * 0.05,
    cpu_power: 10,
    cpu_utilization_percent: 20,
  });
}

function runlessPoint() {
  return {
    timestamp: new Date().toISOString(),
    duration: 1,
    emissions_sum: 0,
    emissions_rate: 0,
    cpu_power: 0,
    gpu_power: 0,
    ram_power: 0,
    cpu_energy: 0,
    gpu_energy: 0,
    ram_energy: 0,
    energy_consumed: 0,
    cpu_utilization_percent: 0,
    gpu_utilization_percent: 0,
    ram_utilization_percent: 0,
    wue: 0,
  };
}

describe("the Code Carbon API client", () => {
  let api: FakeCodeCarbonApi;
  before(async () => (api = await startFakeCodeCarbonApi()));
  after(() => api.close());

  test("creates runs and experiments, sends the project token, reads back ids", async () => {
    const client = new CodeCarbonApiClient({ endpoint: api.url, apiKey: TOKEN, timeoutMs: 2000 });
    const runId = await client.createRun(runCreateBody("5b0fa12a-3dd7-45bb-9766-cc326314d9f1", facts));
    assert.ok(api.runs.has(runId));
    const body = api.runs.get(runId)!;
    assert.deepEqual([body["latitude"], body["longitude"]], [48.9, 2.4], "coordinates rounded to one decimal");
    assert.match(String(body["timestamp"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
    const experiment = await client.addExperiment({
      timestamp: new Date().toISOString(),
      name: "e",
      description: "d",
      on_cloud: false,
      project_id: "p",
    });
    assert.match(experiment.id, /^0000/);
    assert.equal(api.all.at(-1)!.headers["x-api-token"], TOKEN);
  });

  test("a refused token, a validation error and no answer are told apart", async () => {
    const anonymous = new CodeCarbonApiClient({ endpoint: api.url, apiKey: null, timeoutMs: 2000 });
    await assert.rejects(
      anonymous.createRun(runCreateBody("x", facts)),
      (e: unknown) => e instanceof HttpStatusError && e.status === 403 && /Missing project token/.test(e.message),
    );
    const client = new CodeCarbonApiClient({ endpoint: api.url, apiKey: TOKEN, timeoutMs: 2000 });
    await assert.rejects(
      client.addEmission({ ...runlessPoint(), run_id: "r", duration: 0.5 }),
      (e: unknown) => e instanceof HttpStatusError && e.status === 400 && /duration must be an integer/.test(e.message),
    );
    const unreachable = new CodeCarbonApiClient({ endpoint: CLOSED_PORT_URL, apiKey: TOKEN, timeoutMs: 2000 });
    await assert.rejects(
      unreachable.checkAuth(),
      (e: unknown) => e instanceof HttpError && e.code === "ERR_CODECARBON_NETWORK",
    );
  });
});

describe("the api output: spool first, send in the background, lose nothing", () => {
  const logs = useLogCapture();
  let api: FakeCodeCarbonApi;
  let dir: string;
  before(async () => (api = await startFakeCodeCarbonApi()));
  after(() => api.close());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-api-"));
    api.mode = "ok";
    api.accepted.length = 0;
    api.all.length = 0;
    api.emissions.length = 0;
    api.runs.clear();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function sinkFor(runId: string, options: TrackerOptions = {}): OutputSink {
    const settings = resolveConfig(
      {
        outputDir: dir,
        outputMethods: ["csv", "api"],
        apiEndpoint: api.url,
        apiKey: TOKEN,
        apiTimeoutSecs: 0.5,
        ...options,
      },
      { env: {}, cwd: dir, home: dir },
    ).settings;
    const sinks = createNetworkOutputs(settings, { runId, runFacts: () => facts, api: true });
    return sinks.find((s) => s.name === "api")!;
  }

  const spoolFile = () => path.join(dir, ".codecarbon", "spool.jsonl");
  const spooled = () =>
    fs.existsSync(spoolFile()) ? fs.readFileSync(spoolFile(), "utf8").split("\n").filter(Boolean).length : 0;
  async function settle(sink: OutputSink): Promise<void> {
    await sink.out(makeRow(), makeRow({ duration: 0 }));
  }

  test("creates the run once, then posts each delta with CodeCarbon's fields", async () => {
    const sink = sinkFor("run-a");
    await sink.liveOut!(makeRow(), delta(120.7));
    await sink.liveOut!(makeRow(), delta(119.2));
    await settle(sink);
    assert.equal(api.runs.size, 1);
    assert.equal(api.emissions.length, 2);
    const [first] = api.emissions;
    assert.equal(first!["duration"], 120, "whole seconds");
    assert.equal(first!["run_id"], [...api.runs.keys()][0]);
    assert.ok(Math.abs((first!["emissions_rate"] as number) - 0.00005 / 120.7) < 1e-12);
    assert.equal(spooled(), 0, "the spool is empty once everything is accepted");
    assert.ok(logs.lines.some((l) => /run run-a was created as/.test(l.message)));
  });

  test("a delta under a second is carried into the next point, and the last one is sent at exit", async () => {
    const sink = sinkFor("run-b");
    await sink.liveOut!(makeRow(), delta(0.4, 0.0004));
    await sink.liveOut!(makeRow(), delta(0.8, 0.0008));
    await sink.exit!();
    await settle(sink);
    assert.equal(api.emissions.length, 1);
    assert.equal(api.emissions[0]!["duration"], 1);
    assert.ok(Math.abs((api.emissions[0]!["energy_consumed"] as number) - 0.0012) < 1e-12);
  });

  test("the fractions left by each point are carried: the durations sent add up to the run's", async () => {
    // 10 reports of 1.5 s (a 15.0 s run): truncating each would send 10 × 1 s = 10 s.
    const sink = sinkFor("run-f");
    for (let i = 0; i < 10; i++) await sink.liveOut!(makeRow(), delta(1.5, 0.0001));
    await sink.out(makeRow(), delta(0.3, 0.00002));
    await sink.exit!();
    await settle(sink);
    const durations = api.emissions.map((e) => e["duration"] as number);
    assert.deepEqual(durations.slice(0, 10), [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
    const sent = durations.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sent - 15.3) < 1, `sent ${sent} s for a 15.3 s run`);
    const energy = api.emissions.reduce((a, e) => a + (e["energy_consumed"] as number), 0);
    assert.ok(Math.abs(energy - 0.00102) < 1e-12, "every delta's energy was sent once");
  });

  test("an outage keeps every point in the spool; recovery sends them in order, none lost, none twice", async () => {
    const sink = sinkFor("run-c");
    api.mode = "unavailable-503";
    for (let i = 1; i <= 5; i++) await sink.liveOut!(makeRow(), delta(10 * i, 0.001 * i));
    await sink.out(makeRow(), delta(60, 0.006));
    assert.equal(api.emissions.length, 0);
    assert.equal(spooled(), 7, "the run creation and six points wait");
    assert.equal(logs.lines.filter((l) => /Could not send emissions/.test(l.message)).length, 1, "one line per outage");
    api.mode = "ok";
    await sink.out(makeRow(), delta(1, 0.0001));
    assert.deepEqual(
      api.emissions.map((e) => e["duration"]),
      [10, 20, 30, 40, 50, 60, 1],
    );
    assert.equal(spooled(), 0);
    assert.ok(logs.lines.some((l) => /answers again: 8 spooled point\(s\) sent/.test(l.message)));
  });

  test("the next run in the folder sends what the previous one left, first", async () => {
    const old = sinkFor("run-old");
    api.mode = "error-500";
    await old.out(makeRow(), delta(30));
    await old.exit!();
    assert.equal(api.emissions.length, 0);
    api.mode = "ok";
    const next = sinkFor("run-new");
    await next.out(makeRow(), delta(40));
    assert.equal(api.runs.size, 2);
    assert.deepEqual(
      api.emissions.map((e) => e["duration"]),
      [30, 40],
    );
    const [oldRun, newRun] = [...api.runs.values()];
    assert.ok(oldRun && newRun);
  });

  test("a point the server refuses for good goes to spool-rejected.jsonl and the rest goes on", async () => {
    const sink = sinkFor("run-d");
    await sink.liveOut!(makeRow(), delta(10));
    await settle(sink);
    api.mode = "bad-request-400";
    await sink.out(makeRow(), delta(20));
    api.mode = "ok";
    await sink.out(makeRow(), delta(30));
    assert.deepEqual(
      api.emissions.map((e) => e["duration"]),
      [10, 30],
    );
    const rejected = fs
      .readFileSync(path.join(dir, ".codecarbon", "spool-rejected.jsonl"), "utf8")
      .trim()
      .split("\n");
    assert.equal(rejected.length, 1);
    assert.match(rejected[0]!, /HTTP 400: bad request/);
    assert.equal(spooled(), 0);
  });

  test("a hanging server never holds up a live report", async () => {
    const sink = sinkFor("run-e");
    api.mode = "hang";
    // liveOut resolves once the point is on disk, while the server has not answered anything.
    await sink.liveOut!(makeRow(), delta(10));
    assert.equal(spooled(), 2);
    assert.equal(api.accepted.length, 0);
    api.mode = "ok";
    await settle(sink);
    assert.equal(api.emissions.length, 1);
  });

  test("emissions_endpoint receives each run's record as JSON, through the same spool", async () => {
    const settings = resolveConfig(
      { outputDir: dir, emissionsEndpoint: `${api.url}/emissions-record`, apiTimeoutSecs: 0.5 },
      { env: {}, cwd: dir, home: dir },
    ).settings;
    const [sink] = createNetworkOutputs(settings, { runId: "run-f", runFacts: () => facts, api: false });
    assert.equal(sink?.name, "emissions_endpoint");
    await sink!.out(makeRow({ run_id: "run-f" }), makeRow());
    const posted = api.all.filter((r) => r.path === "/emissions-record");
    assert.equal(posted.length, 1);
    const body = JSON.parse(posted[0]!.body) as Record<string, unknown>;
    assert.equal(body["run_id"], "run-f");
    assert.equal(typeof body["user"], "string");
    // The fake answers 404 on that route: a refusal for good, so the record is kept in the rejected file.
    assert.equal(spooled(), 0);
    assert.ok(fs.existsSync(path.join(dir, ".codecarbon", "spool-rejected.jsonl")));
  });
});
