/** `codecarbon monitor`, run as a real child process tracking real commands and real signals. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, waitFor, type Sandbox } from "../helpers/sandbox";
import { startFakeCodeCarbonApi } from "../helpers/fake-codecarbon-api";
import { runCli, startCli } from "./cli-run";

const OFFLINE_FRA = ["monitor", "--no-api", "--offline", "--country-iso-code", "FRA", "--measure-power-secs", "0.2"];
const NODE = process.execPath;

let sandbox: Sandbox;
before(() => {
  sandbox = makeSandbox();
});
after(() => sandbox.cleanup());

function freshOutputDir(name: string): string {
  const dir = path.join(sandbox.dir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
}

describe("monitor: refusals", () => {
  test("--offline without a country exits 1 and says what is missing", async () => {
    const result = await runCli(
      ["monitor", "--offline", "--no-api", "--", NODE, "-e", "console.log('never')"],
      sandbox,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^codecarbon: Country ISO code is required for offline mode: pass --country-iso-code/m);
    assert.ok(!result.stdout.includes("never"), "the command does not run");
    assert.equal(fs.existsSync(path.join(sandbox.cwd, "emissions.csv")), false);
  });

  test("online with the API and no experiment id exits 1, with or without a command", async () => {
    for (const args of [["monitor"], ["monitor", "--", NODE, "-e", "console.log('never')"]]) {
      const result = await runCli(args, sandbox);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^codecarbon: No experiment id: run `codecarbon init` first or pass --no-api/m);
      assert.equal(result.stdout, "");
    }
  });

  test("an unknown country is a configuration error, exit 1", async () => {
    const result = await runCli(
      ["monitor", "--no-api", "--offline", "--country-iso-code", "XXZ", "--", NODE, "-e", ""],
      sandbox,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^codecarbon: .*"XXZ" is not a known ISO 3166-1 alpha-3 country code/m);
  });
});

describe("monitor -- <command>", () => {
  test("the command's output passes through, its exit status is returned, and a process-mode row is written", async () => {
    const outputDir = freshOutputDir("out-command");
    const script =
      "console.log('hello from the command'); setTimeout(() => process.exit(Number(process.argv[1])), 500)";
    const ok = await runCli(
      [...OFFLINE_FRA, "--output-dir", outputDir, "--verbose", "--", NODE, "-e", script, "0"],
      sandbox,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "hello from the command\n");
    const failing = await runCli([...OFFLINE_FRA, "--output-dir", outputDir, "--", NODE, "-e", script, "3"], sandbox);
    assert.equal(failing.code, 3, failing.stderr);
    assert.equal(failing.stdout, "hello from the command\n");

    const csv = path.join(outputDir, "emissions.csv");
    const rows = readCsvRows(csv);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row["tracking_mode"], "process");
      assert.equal(row["country_iso_code"], "FRA");
      assert.ok(Number(row["duration"]) > 0.3, `duration ${row["duration"]}`);
      assert.ok(Number(row["energy_consumed"]) > 0);
    }
    // The summary goes to stderr, after the command ended.
    assert.match(
      failing.stderr,
      /\(exit status 3\)\n {2}Duration: .*\n {2}Energy: {4}[\d.]+ Wh\n {2}Emissions: [\d.]+ g CO2eq\n {2}Saved to: {2}(.+)\n/,
    );
    assert.ok(failing.stderr.includes(`Saved to:  ${csv}\n`));
    // Not a terminal: status lines only with --verbose.
    assert.match(ok.stderr, /^codecarbon: [\d.]+ W · [\d.]+ Wh · [\d.]+ gCO2eq · [\d.]+ g\/h · /m);
    assert.doesNotMatch(failing.stderr, / W · /);
  });

  test("a command that is not found exits 127 and writes no row", async () => {
    const outputDir = freshOutputDir("out-missing");
    const result = await runCli(
      [...OFFLINE_FRA, "--output-dir", outputDir, "--", "codecarbon-no-such-command-xyz", "--flag"],
      sandbox,
    );
    assert.equal(result.code, 127);
    assert.match(result.stderr, /^codecarbon: command not found: codecarbon-no-such-command-xyz$/m);
    assert.equal(fs.existsSync(path.join(outputDir, "emissions.csv")), false);
  });

  test("a command killed by a signal gives 128 + the signal number", async () => {
    const outputDir = freshOutputDir("out-killed");
    const result = await runCli(
      [
        ...OFFLINE_FRA,
        "--output-dir",
        outputDir,
        "--",
        NODE,
        "-e",
        "process.kill(process.pid, 'SIGTERM'); setInterval(() => {}, 1000)",
      ],
      sandbox,
    );
    assert.equal(result.code, 143, result.stderr);
    assert.match(result.stderr, /\(killed by SIGTERM\)/);
    assert.equal(readCsvRows(path.join(outputDir, "emissions.csv")).length, 1);
  });

  test("SIGINT is forwarded: a command that handles it ends with its own status, one that does not gives 130", async () => {
    const outputDir = freshOutputDir("out-sigint");
    const handles =
      "process.on('SIGINT', () => { console.log('command got SIGINT'); process.exit(5); }); console.log('ready'); setInterval(() => {}, 1000)";
    const handled = startCli([...OFFLINE_FRA, "--output-dir", outputDir, "--", NODE, "-e", handles], sandbox);
    await waitFor(() => (handled.output().stdout.includes("ready") ? true : undefined), "the command to start");
    handled.child.kill("SIGINT");
    const first = await handled.done;
    assert.equal(first.code, 5, first.stderr);
    assert.equal(first.stdout, "ready\ncommand got SIGINT\n");

    const plain = startCli(
      [
        ...OFFLINE_FRA,
        "--output-dir",
        outputDir,
        "--",
        NODE,
        "-e",
        "console.log('ready'); setInterval(() => {}, 1000)",
      ],
      sandbox,
    );
    await waitFor(() => (plain.output().stdout.includes("ready") ? true : undefined), "the command to start");
    plain.child.kill("SIGINT");
    const second = await plain.done;
    assert.equal(second.code, 130, second.stderr);
    assert.equal(readCsvRows(path.join(outputDir, "emissions.csv")).length, 2);
  });
});

describe("monitor online with the API", () => {
  test("with an experiment id, the run and its emissions go to the API as well as the CSV", async () => {
    const api = await startFakeCodeCarbonApi();
    try {
      const outputDir = freshOutputDir("out-api");
      const env = {
        CODECARBON_API_ENDPOINT: api.url,
        CODECARBON_API_KEY: api.token ?? "",
        CODECARBON_EXPERIMENT_ID: "11111111-2222-4333-8444-555555555555",
        CODECARBON_COUNTRY_ISO_CODE: "FRA",
      };
      // Over a second: the API refuses emissions shorter than one whole second.
      const args = [
        "monitor",
        "--measure-power-secs",
        "0.3",
        "--output-dir",
        outputDir,
        "--",
        NODE,
        "-e",
        "setTimeout(() => {}, 1500)",
      ];
      const result = await runCli(args, sandbox, env);
      assert.equal(result.code, 0, result.stderr);
      const routes = api.accepted.map((r) => `${r.method} ${r.path}`);
      assert.equal(routes[0], "POST /runs");
      assert.ok(routes.includes("POST /emissions"), routes.join(", "));
      const rows = readCsvRows(path.join(outputDir, "emissions.csv"));
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.["experiment_id"], "11111111-2222-4333-8444-555555555555");
    } finally {
      await api.close();
    }
  });
});

describe("monitor without a command", () => {
  test("tracks the machine until SIGINT, then writes the row, prints the summary and exits 0", async () => {
    const outputDir = freshOutputDir("out-machine");
    const running = startCli([...OFFLINE_FRA, "--output-dir", outputDir], sandbox);
    await waitFor(
      () => (running.output().stderr.includes("press Ctrl-C to stop") ? true : undefined),
      "monitoring to start",
    );
    running.child.kill("SIGINT");
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^codecarbon: SIGINT received, stopping\.$/m);
    assert.match(result.stderr, /^codecarbon: monitored this machine\n {2}Duration:/m);
    const rows = readCsvRows(path.join(outputDir, "emissions.csv"));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.["tracking_mode"], "machine");
    assert.equal(rows[0]?.["country_iso_code"], "FRA");
  });

  test("SIGTERM stops it the same way", async () => {
    const outputDir = freshOutputDir("out-machine-term");
    const running = startCli([...OFFLINE_FRA, "--output-dir", outputDir], sandbox);
    await waitFor(
      () => (running.output().stderr.includes("press Ctrl-C to stop") ? true : undefined),
      "monitoring to start",
    );
    running.child.kill("SIGTERM");
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readCsvRows(path.join(outputDir, "emissions.csv")).length, 1);
  });
});
