/** `codecarbon monitor --prometheus-port`: a machine exporter a Prometheus server can scrape. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeSandbox } from "../helpers/sandbox";
import { freePort } from "../helpers/loopback-server";
import { startCli } from "./cli-run";

test("monitor --prometheus-port serves /metrics while it runs and stops cleanly on SIGINT", async () => {
  const sandbox = makeSandbox();
  try {
    const port = await freePort();
    const running = startCli(
      [
        "monitor",
        "--offline",
        "--country-iso-code",
        "FRA",
        "--measure-power-secs",
        "0.5",
        "--prometheus-port",
        String(port),
      ],
      sandbox,
    );
    // A failed assertion must not leave the monitor running after the test.
    const stopMonitor = () => {
      if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill("SIGKILL");
    };
    process.once("exit", stopMonitor);
    let body = "";
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !/codecarbon_energy_joules_total\{[^}]*device="cpu"[^}]*\} [1-9]/.test(body)) {
      body = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => "",
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(body, /codecarbon_energy_joules_total\{[^}]*country="FRA"[^}]*device="cpu"[^}]*\} [1-9]/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    running.child.kill("SIGINT");
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`), "the endpoint closes with the run");
  } finally {
    sandbox.cleanup();
  }
});

test("--prometheus-port refuses what is not a port", async () => {
  const sandbox = makeSandbox();
  try {
    const result = await startCli(
      ["monitor", "--offline", "--country-iso-code", "FRA", "--prometheus-port", "http"],
      sandbox,
    ).done;
    assert.equal(result.code, 2);
    assert.match(result.stderr, /expected a TCP port from 0 to 65535/);
  } finally {
    sandbox.cleanup();
  }
});
