/**
 * The server extension against a real `jupyter server` with real ipykernel (python3) kernels:
 * runs started over REST beside the kernel, a CPU-busy cell driven by jupyter_client against an
 * idle run, the kernel's restart and the server's SIGTERM and SIGKILL, and the checks every
 * request goes through (authentication, origin, kernel id, the root folder).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import {
  driveKernel,
  makeJupyterBox,
  startJupyterServer,
  type JupyterBox,
  type JupyterServer,
} from "../helpers/jupyter";
import { readCsvRows, waitFor } from "../helpers/sandbox";
import { OFFLINE_ENV } from "../cli/cli-run";
import { parseLiveFeed } from "../../src/protocol/live-feed";

interface RunReply {
  ok: boolean;
  state: string;
  runId: string | null;
  feed: string | null;
  mode?: string;
  error?: string;
}

/** Offline, a fixed CPU power so energy follows the kernel tree's CPU share, one point a second. */
const START = {
  action: "start",
  offline: true,
  settings: { country_iso_code: "FRA", force_cpu_power: 100, measure_power_secs: 1 },
};

/** The pids whose command line contains `needle` (Linux /proc). */
function pidsWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function killAll(pids: number[]): void {
  for (const pid of pids)
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
}

async function until<T>(probe: () => T | undefined, what: string, server: JupyterServer, ms = 20_000): Promise<T> {
  try {
    return await waitFor(probe, what, ms);
  } catch (error) {
    throw new Error(`${String(error)}; the server logged:\n${server.log().slice(-4000)}`, { cause: error });
  }
}

const rowsIn = (folder: string) => {
  const file = path.join(folder, "emissions.csv");
  return fs.existsSync(file) ? readCsvRows(file) : [];
};

async function openNotebook(box: JupyterBox, server: JupyterServer, notebook: string): Promise<string> {
  fs.mkdirSync(path.join(box.work, path.dirname(notebook)), { recursive: true });
  const session = await server.api("/api/sessions", {
    method: "POST",
    body: { path: notebook, name: path.basename(notebook), type: "notebook", kernel: { name: "python3" } },
  });
  assert.equal(session.status, 201, JSON.stringify(session.json));
  return (session.json as { kernel: { id: string } }).kernel.id;
}

async function run(server: JupyterServer, kernelId: string, body: object = START): Promise<RunReply> {
  const answer = await server.api(`/codecarbon/kernels/${kernelId}`, { method: "POST", body });
  assert.equal(answer.status, 200, `${JSON.stringify(answer.json)}\n${server.log().slice(-3000)}`);
  return answer.json as RunReply;
}

/** A POST with exactly these headers (node:http, which sends Origin as given). */
function rawPost(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", headers: { ...headers, "content-type": "application/json" } },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(START));
  });
}

const connectionFile = (box: JupyterBox, kernelId: string) =>
  path.join(box.env["JUPYTER_RUNTIME_DIR"]!, `kernel-${kernelId}.json`);

describe("the server extension tracks a python3 kernel from beside it", () => {
  let box: JupyterBox;
  let server: JupyterServer;
  before(async () => {
    box = makeJupyterBox();
    server = await startJupyterServer(box, { codecarbon: true, env: OFFLINE_ENV });
  });
  after(async () => {
    await server.stop();
    killAll(pidsWith(box.root));
    box.cleanup();
  });

  test("a busy cell's run has more CPU energy than an idle run of the same length; one run per kernel", async () => {
    const busyId = await openNotebook(box, server, "busy/train.ipynb");
    const idleId = await openNotebook(box, server, "idle/wait.ipynb");
    const sent = Date.now();
    const busy = await run(server, busyId);
    assert.deepEqual([busy.ok, busy.state, busy.mode], [true, "running", "beside"], JSON.stringify(busy));
    assert.equal(busy.feed, `codecarbon-live/${busyId}.json`);
    const idle = await run(server, idleId);
    assert.equal(idle.state, "running");
    // The same kernel started twice: the same run.
    assert.equal((await run(server, busyId)).runId, busy.runId);
    const feedFile = path.join(box.work, "busy", busy.feed!);
    await until(
      () => {
        const parsed = fs.existsSync(feedFile) ? parseLiveFeed(fs.readFileSync(feedFile, "utf8")) : null;
        return parsed?.ok === true && parsed.feed.points.length >= 1 ? true : undefined;
      },
      "the first point of the live feed",
      server,
    );
    console.log(`# REST start → first live-feed point: ${Date.now() - sent} ms`);
    const status = await server.api(`/codecarbon/kernels/${busyId}`);
    assert.equal((status.json as RunReply).state, "running");

    const started = Date.now();
    await driveKernel(box, {
      connection_file: connectionFile(box, busyId),
      steps: [{ code: "import time\nt = time.time()\nwhile time.time() - t < 4:\n    pass", timeout: 60 }],
    });
    // The idle run lasts as long.
    const elapsed = Date.now() - started;
    const stops = await Promise.all([run(server, busyId, { action: "stop" }), run(server, idleId, { action: "stop" })]);
    assert.deepEqual(
      stops.map((s) => s.state),
      ["stopped", "stopped"],
    );
    const [busyRow] = rowsIn(path.join(box.work, "busy"));
    const [idleRow] = rowsIn(path.join(box.work, "idle"));
    assert.ok(busyRow && idleRow, "a row beside each notebook");
    assert.equal(busyRow["project_name"], "train", "named after the notebook");
    assert.equal(idleRow["project_name"], "wait");
    assert.equal(busyRow["tracking_mode"], "process");
    assert.equal(busyRow["run_id"], busy.runId);
    assert.ok(Number(busyRow["duration"]) >= elapsed / 1000 - 1);
    const busyCpu = Number(busyRow["cpu_energy"]);
    const idleCpu = Number(idleRow["cpu_energy"]);
    assert.ok(busyCpu > 2 * idleCpu, `busy ${busyCpu} kWh vs idle ${idleCpu} kWh`);
  });

  test("a kernel restart stops its run and writes its row", async () => {
    const kernelId = await openNotebook(box, server, "restart/nb.ipynb");
    const started = await run(server, kernelId);
    assert.equal(started.state, "running");
    await new Promise((r) => setTimeout(r, 2000));
    const restarted = await server.api(`/api/kernels/${kernelId}/restart`, { method: "POST" });
    assert.equal(restarted.status, 200);
    const [row] = await until(
      () => {
        const rows = rowsIn(path.join(box.work, "restart"));
        return rows.length > 0 ? rows : undefined;
      },
      "the row after the restart",
      server,
    );
    assert.equal(row!["run_id"], started.runId);
    assert.ok(Number(row!["duration"]) >= 1.5);
    // The child has written its row; once it exits the server says so.
    for (let i = 0; i < 100; i++) {
      const status = (await server.api(`/codecarbon/kernels/${kernelId}`)).json as RunReply;
      if (status.state === "stopped") return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail("the status never said stopped");
  });

  test("refused: no token, another origin, an unknown kernel, a notebook folder outside the root, a bad action", async () => {
    const kernelId = await openNotebook(box, server, "guarded/nb.ipynb");
    const route = `${server.url}/codecarbon/kernels/${kernelId}`;
    const anonymous = await fetch(route, { method: "POST", body: JSON.stringify(START) });
    assert.equal(anonymous.status, 403, "no token");
    assert.equal((await fetch(route)).status, 403, "no token, GET");
    // A browser's requests carry the login cookie, not the token: from this server's pages they
    // need the XSRF token; from another origin they are refused outright.
    const login = await fetch(`${server.url}/api/status?token=${server.token}`);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    assert.match(cookie, /username-/, "a login cookie");
    const host = new URL(server.url).host;
    assert.equal(await rawPost(route, { cookie, origin: `http://${host}` }), 403, "cookie without XSRF token");
    const crossOrigin = await rawPost(route, { cookie, origin: "http://evil.example" });
    assert.ok([403, 404].includes(crossOrigin), `cross-origin: ${crossOrigin}`);
    assert.equal(fs.existsSync(path.join(box.work, "guarded", "codecarbon-live")), false, "nothing started");

    const unknown = await server.api("/codecarbon/kernels/00000000-0000-0000-0000-000000000000", {
      method: "POST",
      body: START,
    });
    assert.equal(unknown.status, 404);
    assert.match((unknown.json as { message: string }).message, /no running kernel/);

    const bad = await server.api(`/codecarbon/kernels/${kernelId}`, { method: "POST", body: { action: "explode" } });
    assert.equal(bad.status, 400);

    // A folder inside the root that is a link to one outside it.
    const outside = path.join(box.root, "outside");
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(box.work, "escape"), "dir");
    const escapeId = await openNotebook(box, server, "escape/nb.ipynb");
    const escaped = await server.api(`/codecarbon/kernels/${escapeId}`, { method: "POST", body: START });
    assert.equal(escaped.status, 403, JSON.stringify(escaped.json));
    assert.match((escaped.json as { message: string }).message, /outside the server's root/);
    assert.deepEqual(fs.readdirSync(outside), [], "nothing written outside the root");
    const capabilities = await server.api("/codecarbon/capabilities?path=../x.ipynb");
    assert.equal(capabilities.status, 403);
  });

  test("capabilities: the tracker found, and whether codecarbon resolves for a tslab kernel in-kernel", async () => {
    fs.mkdirSync(path.join(box.work, "deep", "er"), { recursive: true });
    const found = await server.api("/codecarbon/capabilities?path=deep/er/nb.ipynb");
    assert.equal(found.status, 200);
    const json = found.json as {
      beside: { available: boolean };
      inKernel: { codecarbonResolves: boolean; package: string };
    };
    assert.equal(json.beside.available, true, JSON.stringify(json));
    // makeJupyterBox links the package into work/node_modules: found walking up.
    assert.deepEqual(json.inKernel, { codecarbonResolves: true, package: "node_modules/codecarbon/package.json" });
  });
});

describe("the server's end stops the runs", () => {
  test("SIGTERM: every run stops with its row before the kernels are shut down", async () => {
    const box = makeJupyterBox();
    const server = await startJupyterServer(box, { codecarbon: true, env: OFFLINE_ENV });
    try {
      const a = await openNotebook(box, server, "a/one.ipynb");
      const b = await openNotebook(box, server, "b/two.ipynb");
      await run(server, a);
      await run(server, b);
      await new Promise((r) => setTimeout(r, 2000));
      await server.stop();
      for (const folder of ["a", "b"]) {
        const rows = rowsIn(path.join(box.work, folder));
        assert.equal(rows.length, 1, `${folder}: one row\n${server.log().slice(-3000)}`);
        assert.ok(Number(rows[0]!["duration"]) >= 1.5);
      }
      assert.deepEqual(pidsWith(`--kernel-id ${a}`), []);
    } finally {
      await server.stop();
      killAll(pidsWith(box.root));
      box.cleanup();
    }
  });

  test("SIGKILL: the tracker sees its stdin close and writes the row, losing at most one interval", async () => {
    const box = makeJupyterBox();
    const server = await startJupyterServer(box, { codecarbon: true, env: OFFLINE_ENV });
    try {
      const kernelId = await openNotebook(box, server, "killed/nb.ipynb");
      const started = Date.now();
      await run(server, kernelId);
      await new Promise((r) => setTimeout(r, 3000));
      const elapsed = (Date.now() - started) / 1000;
      const exited = new Promise((resolve) => server.process.once("exit", resolve));
      server.process.kill("SIGKILL");
      await exited;
      const [row] = await until(
        () => {
          const rows = rowsIn(path.join(box.work, "killed"));
          return rows.length > 0 ? rows : undefined;
        },
        "the row after the server's SIGKILL",
        server,
      );
      const interval = START.settings.measure_power_secs;
      assert.ok(
        Number(row!["duration"]) >= elapsed - interval - 0.5,
        `duration ${row!["duration"]} s of about ${elapsed} s`,
      );
      await waitFor(
        () => (pidsWith(`--kernel-id ${kernelId}`).length === 0 ? true : undefined),
        "the tracker to exit",
        10_000,
      );
    } finally {
      killAll(pidsWith(box.root)); // the orphaned kernel
      box.cleanup();
    }
  });
});
