/**
 * Against the real Code Carbon API server (carbonserver + PostgreSQL, see
 * ../shared/servers/codecarbon-api): `codecarbon init` on the development server (no sign-in)
 * and on the upstream default (OIDC sign-in), a tracker with the api output, `monitor -- cmd`, an
 * outage (the server stopped mid-run and started again) and a bad token. Every run is read back
 * from the database: its emissions rows must add up to the CSV row (energy, emissions, and the
 * duration within the 1 s the API's whole seconds allow), with no point lost or sent twice.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { startApiServer, type ApiServer } from "../helpers/codecarbon-api-server";
import { makeSandbox, readCsvRows, runChild, startChild, waitFor, type Sandbox } from "../helpers/sandbox";
import { runCli } from "../cli/cli-run";

let server: ApiServer;
const sandboxes: Sandbox[] = [];

function sandbox(): Sandbox {
  const made = makeSandbox();
  sandboxes.push(made);
  return made;
}

before(async () => {
  server = await startApiServer({ oidc: true });
});
after(async () => {
  await server?.stop();
  for (const s of sandboxes) s.cleanup();
});

/** The environment a tracker needs to report to the fixture's experiment. */
function apiEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    CODECARBON_API_ENDPOINT: server.url,
    CODECARBON_API_KEY: server.apiKey,
    CODECARBON_EXPERIMENT_ID: server.experimentId,
    CODECARBON_API_TIMEOUT_SECS: "5",
    CODECARBON_CLOUD_DETECTION: "false",
    CODECARBON_COUNTRY_ISO_CODE: "FRA",
    CODECARBON_GEOLOCATION_ENDPOINT: "http://127.0.0.1:9/geo.json",
    CODECARBON_GEOLOCATION_BACKUP_ENDPOINT: "http://127.0.0.1:9/json",
    ...extra,
  };
}

interface RunTotals {
  n: number;
  distinct: number;
  duration: number;
  emissions: number;
  energy: number;
  cpu: number;
  ram: number;
}

async function totals(apiRunId: string): Promise<RunTotals> {
  const [row] = await server.query(
    "select count(*) n, count(distinct (timestamp, duration, energy_consumed)) as distinct, sum(duration) duration, " +
      "sum(emissions_sum) emissions, sum(energy_consumed) energy, sum(cpu_energy) cpu, sum(ram_energy) ram " +
      `from emissions where run_id = '${apiRunId}'`,
  );
  assert.ok(row);
  return {
    n: Number(row["n"]),
    distinct: Number(row["distinct"]),
    duration: Number(row["duration"]),
    emissions: Number(row["emissions"]),
    energy: Number(row["energy"]),
    cpu: Number(row["cpu"]),
    ram: Number(row["ram"]),
  };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-30);

/** The database's rows of the run equal the CSV row; returns the figures for the report. */
async function assertDatabaseMatchesCsv(csvRow: Record<string, string>, apiRunId: string): Promise<string> {
  const db = await totals(apiRunId);
  assert.ok(db.n >= 1, "the run has emissions rows");
  assert.equal(db.distinct, db.n, "no point sent twice");
  const csv = {
    duration: Number(csvRow["duration"]),
    emissions: Number(csvRow["emissions"]),
    energy: Number(csvRow["energy_consumed"]),
    cpu: Number(csvRow["cpu_energy"]),
    ram: Number(csvRow["ram_energy"]),
  };
  assert.ok(close(db.energy, csv.energy), `energy: database ${db.energy} kWh, CSV ${csv.energy} kWh`);
  assert.ok(close(db.emissions, csv.emissions), `emissions: database ${db.emissions} kg, CSV ${csv.emissions} kg`);
  assert.ok(close(db.cpu, csv.cpu) && close(db.ram, csv.ram), "cpu and ram energy");
  assert.ok(Math.abs(db.duration - csv.duration) < 1, `duration: database ${db.duration} s, CSV ${csv.duration} s`);
  const [run] = await server.query(`select experiment_id, os, cpu_count from runs where id = '${apiRunId}'`);
  assert.equal(run?.["experiment_id"], server.experimentId);
  return (
    `${db.n} points; duration ${db.duration} s (CSV ${csv.duration}); energy ${db.energy} kWh (CSV ${csv.energy}); ` +
    `emissions ${db.emissions} kg (CSV ${csv.emissions})`
  );
}

function provenanceOf(dir: string, runId: string): Record<string, unknown> {
  const lines = fs.readFileSync(path.join(dir, "emissions.provenance.jsonl"), "utf8").trim().split("\n");
  const record = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r["run_id"] === runId);
  assert.ok(record, "the run has a provenance line");
  return record;
}

const TRACKER_SCRIPT = (seconds: number) => `const { EmissionsTracker } = require(CODECARBON);
  (async () => {
    const tracker = new EmissionsTracker({ measurePowerSecs: 0.5, apiCallInterval: 2, outputMethods: ["csv", "api"] }).start();
    await new Promise((r) => setTimeout(r, ${seconds * 1000}));
    await tracker.stop();
    process.stdout.write(JSON.stringify({ runId: tracker.runId, apiRunId: tracker.finalEmissionsData?.api_run_id }));
  })();`;

describe("the real Code Carbon API server", () => {
  test("codecarbon init creates the experiment on a server without sign-in", async () => {
    const box = sandbox();
    const result = await runCli(["init", "--name", "real-server init"], box, {
      CODECARBON_API_ENDPOINT: server.url,
      CODECARBON_API_KEY: server.apiKey,
      CODECARBON_PROJECT_ID: server.projectId,
    });
    assert.equal(result.code, 0, result.stderr);
    const id = /experiment_id = (\S+)/.exec(fs.readFileSync(path.join(box.cwd, ".codecarbon.config"), "utf8"))?.[1];
    assert.ok(id);
    const [row] = await server.query(`select name, project_id from experiments where id = '${id}'`);
    assert.deepEqual(row, { name: "real-server init", project_id: server.projectId });
  });

  test("codecarbon init on a server with sign-in says what it needs, not to set api_key again", async () => {
    assert.ok(server.oidcUrl);
    const box = sandbox();
    const result = await runCli(["init", "--name", "needs sign-in"], box, {
      CODECARBON_API_ENDPOINT: server.oidcUrl,
      CODECARBON_API_KEY: server.apiKey,
      CODECARBON_PROJECT_ID: server.projectId,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 401/);
    assert.match(result.stderr, /signed-in user/);
    assert.match(result.stderr, /set experiment_id = /);
    assert.match(result.stderr, /your api_key is still what runs and emissions need/);
    assert.doesNotMatch(result.stderr, /set api_key in/);
    assert.equal(fs.existsSync(path.join(box.cwd, ".codecarbon.config")), false);
    // What the message says the server needs is what it takes: a signed-in user (here the
    // development sign-in mode's JWT) creates the experiment on the same route.
    assert.ok(server.userToken, "the fixture ran the OIDC server in its development sign-in mode");
    const signedIn = await fetch(`${server.oidcUrl}/experiments`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.userToken}` },
      body: JSON.stringify({ name: "signed in", description: "", project_id: server.projectId, on_cloud: false }),
    });
    assert.equal(signedIn.status, 201, await signedIn.text());
  });

  test("a tracker's points add up in the database to its CSV row; the API's run id joins them", async (t) => {
    const box = sandbox();
    const { stdout } = await runChild(TRACKER_SCRIPT(4.2), box, apiEnv());
    const ids = JSON.parse(stdout) as { runId: string; apiRunId: string };
    const [row] = readCsvRows(path.join(box.cwd, "emissions.csv"));
    assert.ok(row);
    assert.equal(row["run_id"], ids.runId, "the CSV keeps our run id");
    assert.match(ids.apiRunId, /^[0-9a-f-]{36}$/);
    assert.notEqual(ids.apiRunId, ids.runId);
    assert.equal(provenanceOf(box.cwd, ids.runId)["api_run_id"], ids.apiRunId);
    t.diagnostic(`tracker: ${await assertDatabaseMatchesCsv(row, ids.apiRunId)}`);
  });

  test("codecarbon monitor -- cmd reports the command's run; the summary names the API run", async (t) => {
    const box = sandbox();
    const result = await runCli(
      [
        "monitor",
        "--measure-power-secs",
        "0.5",
        "--api-call-interval",
        "2",
        "--",
        process.execPath,
        "-e",
        "setTimeout(() => {}, 3300)",
      ],
      box,
      apiEnv(),
    );
    assert.equal(result.code, 0, result.stderr);
    const [row] = readCsvRows(path.join(box.cwd, "emissions.csv"));
    assert.ok(row);
    const apiRunId = /API run: +(\S+) \(CSV run_id (\S+)\)/.exec(result.stderr);
    assert.ok(apiRunId, result.stderr);
    assert.equal(apiRunId[2], row["run_id"]);
    t.diagnostic(`monitor: ${await assertDatabaseMatchesCsv(row, apiRunId[1]!)}`);
  });

  test("an outage: the server stopped mid-run and started again loses no point and sends none twice", async (t) => {
    const box = sandbox();
    const stopFile = path.join(box.dir, "stop-now");
    const script = `const fs = require("node:fs");
      const { EmissionsTracker } = require(CODECARBON);
      (async () => {
        const tracker = new EmissionsTracker({ measurePowerSecs: 0.5, apiCallInterval: 2, outputMethods: ["csv", "api"] }).start();
        while (!fs.existsSync(${JSON.stringify(stopFile)})) await new Promise((r) => setTimeout(r, 100));
        await tracker.stop();
        process.stdout.write(JSON.stringify({ runId: tracker.runId, apiRunId: tracker.finalEmissionsData?.api_run_id }));
      })();`;
    const child = startChild(script, box, apiEnv({ CODECARBON_API_TIMEOUT_SECS: "2" }));
    try {
      const spool = path.join(box.cwd, ".codecarbon", "spool.jsonl");
      const apiRuns = path.join(box.cwd, ".codecarbon", "api-runs.json");
      const apiRunId = await waitFor(() => {
        try {
          return Object.values(JSON.parse(fs.readFileSync(apiRuns, "utf8")) as Record<string, string>)[0];
        } catch {
          return undefined;
        }
      }, "the run's creation in the API");
      // At least one point reached the server before it goes away.
      for (let i = 0; i < 200 && (await totals(apiRunId)).n === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await server.stopServer();
      // Points keep coming and wait in the spool while the server is away.
      await waitFor(() => {
        const lines = fs.existsSync(spool) ? fs.readFileSync(spool, "utf8").split("\n").filter(Boolean) : [];
        return lines.length >= 2 ? true : undefined;
      }, "points spooled during the outage");
      await server.startServer();
      fs.writeFileSync(stopFile, "");
      const result = await child.done;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Could not send emissions/);
      const ids = JSON.parse(result.stdout) as { runId: string; apiRunId: string };
      assert.equal(ids.apiRunId, apiRunId);
      const [row] = readCsvRows(path.join(box.cwd, "emissions.csv"));
      assert.ok(row);
      assert.equal(fs.readFileSync(spool, "utf8").trim(), "", "the spool is empty");
      t.diagnostic(`outage: ${await assertDatabaseMatchesCsv(row, apiRunId)}`);
    } finally {
      if (!fs.existsSync(stopFile)) fs.writeFileSync(stopFile, "");
      await child.done;
    }
  });

  test("a bad token: the server's refusal goes to the rejected file with a message that says what to fix", async () => {
    const box = sandbox();
    const { stderr } = await runChild(TRACKER_SCRIPT(1.2), box, apiEnv({ CODECARBON_API_KEY: "cpt_not-a-real-token" }));
    assert.match(stderr, /refused a run creation for good \(POST .*\/runs answered HTTP 403: Not allowed/);
    assert.match(stderr, /api_key/);
    const rejected = fs
      .readFileSync(path.join(box.cwd, ".codecarbon", "spool-rejected.jsonl"), "utf8")
      .trim()
      .split("\n");
    assert.ok(rejected.length >= 2, "the run creation and its points are kept in the rejected file");
    const [row] = readCsvRows(path.join(box.cwd, "emissions.csv"));
    assert.ok(row, "the CSV row is written anyway");
  });
});
