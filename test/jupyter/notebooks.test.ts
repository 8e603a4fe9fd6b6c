/**
 * The tracker inside real tslab kernels: notebooks executed headlessly with nbclient, a kernel
 * driven cell by cell (interrupt, restart), and a real jupyter server whose contents API serves
 * the live feed while a cell blocks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, readCsvRows } from "../helpers/sandbox";
import {
  driveKernel,
  executeNotebook,
  makeJupyterBox,
  notebookJson,
  startJupyterServer,
  textOf,
  type JupyterBox,
  type JupyterServer,
} from "../helpers/jupyter";
import { attributeExecution, idleShare, type CellExecution } from "../../src/protocol/attribution";
import { CELLS_FILE_VERSION, cellsRelativePath } from "../../src/protocol/cells";
import { LIVE_FEED_VERSION, parseLiveFeed, seriesFromFeed } from "../../src/protocol/live-feed";
import { JOULES_PER_KWH } from "../../src/protocol/units";

const START = (extra = "") =>
  `import { OfflineEmissionsTracker } from "codecarbon";\nconst tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.5${extra} });\ntracker.start();`;
const BUSY = (ms: number) => `{ let n = 0; const until = Date.now() + ${ms}; while (Date.now() < until) n++; }`;

interface Feed {
  version: number;
  kernelId: string;
  runId: string;
  state: string;
  sources: string[];
  points: { t: string; s: number; kWh: number; kg: number }[];
}

describe("notebooks on the tslab kernel", () => {
  let box: JupyterBox;
  before(() => (box = makeJupyterBox()));
  after(() => box.cleanup());

  test("first cell starts, last cell stops: a row beside the notebook, quiet cells between, a summary on display", async () => {
    const dir = path.join(box.work, "first");
    fs.mkdirSync(dir);
    const file = path.join(dir, "first.ipynb");
    fs.writeFileSync(
      file,
      notebookJson([
        START(),
        BUSY(1500),
        "await new Promise((r) => setTimeout(r, 1200));",
        "const kg = await tracker.stop();\nconsole.log(`kg=${kg}`);",
        "tracker",
      ]),
    );
    // The notebook's folder resolves `codecarbon` from the folder above, as in the README recipe.
    const outputs = await executeNotebook(box, file);
    assert.match(textOf(outputs[0], "stderr"), /Tracking started \(run [0-9a-f]{8}, every 0\.5 s → emissions\.csv\)/);
    assert.equal(textOf(outputs[1]) + textOf(outputs[2]), "", "nothing lands in the cells between start and stop");
    assert.match(
      textOf(outputs[3], "stderr"),
      /Tracking stopped: CPU from .*gCO2eq\/kWh from country FRA.* gCO2eq → emissions\.csv/,
    );
    const kg = Number(/kg=(\S+)/.exec(textOf(outputs[3], "stdout"))?.[1]);
    assert.ok(kg > 0);
    const html = outputs[4]?.find((o) => o.output_type === "display_data")?.data?.["text/html"];
    const htmlText = Array.isArray(html) ? html.join("") : String(html);
    assert.match(htmlText, /codecarbon-summary/);
    assert.match(htmlText, /m driven by an average car/);
    const rows = readCsvRows(path.join(dir, "emissions.csv"));
    assert.equal(rows.length, 1);
    assert.ok(Math.abs(Number(rows[0]!["emissions"]) - kg) < 1e-15);
    assert.ok(Number(rows[0]!["duration"]) >= 2.5);
  });

  test("the example notebook runs as shipped", async () => {
    const dir = path.join(box.work, "example");
    fs.mkdirSync(dir);
    const file = path.join(dir, "first-run.ipynb");
    fs.copyFileSync(path.join(REPO_ROOT, "examples", "notebooks", "first-run.ipynb"), file);
    const outputs = await executeNotebook(box, file);
    assert.ok(
      outputs.every((cell) => !cell.some((o) => o.output_type === "error")),
      JSON.stringify(outputs),
    );
    assert.match(textOf(outputs[2], "stdout"), /g CO2eq/);
    const [row] = readCsvRows(path.join(dir, "emissions.csv"));
    assert.equal(row?.["project_name"], "first-run");
  });

  test("re-running the first cell stops the previous run cleanly and starts one new run", async () => {
    const dir = path.join(box.work, "rerun");
    fs.mkdirSync(dir);
    const file = path.join(dir, "rerun.ipynb");
    const start = `import { OfflineEmissionsTracker } from "codecarbon";\nvar tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.5 });\ntracker.start();`;
    fs.writeFileSync(
      file,
      notebookJson([
        start,
        "await new Promise((r) => setTimeout(r, 700));",
        start,
        "await new Promise((r) => setTimeout(r, 700));",
        "await tracker.stop();",
      ]),
    );
    const outputs = await executeNotebook(box, file);
    assert.match(
      textOf(outputs[2], "stderr"),
      /already running in this kernel .*stopped and its row written; a new run starts/,
    );
    const rows = readCsvRows(path.join(dir, "emissions.csv"));
    assert.equal(rows.length, 2, "the replaced run's row and the new run's row");
    assert.notEqual(rows[0]!["run_id"], rows[1]!["run_id"]);
  });

  test("the package's types check with tslab's own TypeScript 5.0 from the notebook's folder", () => {
    const ts = require(
      path.join(REPO_ROOT, "node_modules", "@tslab", "typescript-for-tslab"),
    ) as typeof import("typescript");
    const consumer = path.join(box.work, "consumer.ts");
    fs.writeFileSync(
      consumer,
      `import { EmissionsTracker, OfflineEmissionsTracker, trackEmissions, codecarbonKernel, type EmissionsData } from "codecarbon";\n` +
        `const t = new OfflineEmissionsTracker({ countryIsoCode: "FRA" }).start();\n` +
        `async function main(): Promise<void> { const kg: number | undefined = await t.stop(); const row: EmissionsData | undefined = t.finalEmissionsData; console.log(kg, row, EmissionsTracker, trackEmissions, await codecarbonKernel({ version: 1, action: "status" })); }\nvoid main();\n`,
    );
    const program = ts.createProgram([consumer], {
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.NodeJs,
      target: ts.ScriptTarget.ES2019,
      strict: true,
      noEmit: true,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    assert.equal(ts.version, "5.0.4");
    assert.deepEqual(problems, []);
  });

  test("a kernel restarted mid-run loses nothing: the next start in that folder writes the run", async () => {
    const dir = path.join(box.work, "restart");
    fs.mkdirSync(dir);
    const results = await driveKernel(box, {
      kernel_name: "tslab",
      cwd: dir,
      steps: [
        { code: START() },
        { code: BUSY(4000), wait: false },
        { sleep: 2.5 },
        { interrupt: true },
        { sleep: 0.5 },
        { restart: true },
        { code: `${START()}\nawait new Promise((r) => setTimeout(r, 600));\nawait tracker.stop();` },
      ],
    });
    assert.match(textOf(results.at(-1)?.outputs, "stderr"), /Recovered interrupted run/);
    const rows = readCsvRows(path.join(dir, "emissions.csv"));
    assert.equal(rows.length, 2);
    const recovered = rows[0]!;
    assert.ok(
      Number(recovered["duration"]) >= 1.5,
      `the recovered run covers the time before the restart (${recovered["duration"]} s)`,
    );
    assert.ok(Number(recovered["energy_consumed"]) > 0);
  });
});

describe("the live feed through a real jupyter server", () => {
  let box: JupyterBox;
  let server: JupyterServer;
  before(async () => {
    box = makeJupyterBox();
    server = await startJupyterServer(box);
  });
  after(async () => {
    await server.stop();
    box.cleanup();
  });

  async function openNotebook(name: string): Promise<string> {
    fs.writeFileSync(path.join(box.work, name), notebookJson([]));
    const session = await server.api("/api/sessions", {
      method: "POST",
      body: { path: name, name, type: "notebook", kernel: { name: "tslab" } },
    });
    assert.equal(session.status, 201, JSON.stringify(session.json));
    return (session.json as { kernel: { id: string } }).kernel.id;
  }
  const connectionFile = (kernelId: string) => path.join(box.env["JUPYTER_RUNTIME_DIR"]!, `kernel-${kernelId}.json`);
  async function readFeed(kernelId: string): Promise<Feed | undefined> {
    const answer = await server.api(`/api/contents/codecarbon-live/${kernelId}.json?content=1&type=file&format=text`);
    if (answer.status !== 200) return undefined;
    return JSON.parse((answer.json as { content: string }).content) as Feed;
  }
  const kernelBusy = async (kernelId: string) =>
    ((await server.api(`/api/kernels/${kernelId}`)).json as { execution_state: string }).execution_state === "busy";

  test("a cell that blocks the kernel still moves the feed, served by the contents API", async () => {
    const kernelId = await openNotebook("live.ipynb");
    await driveKernel(box, {
      connection_file: connectionFile(kernelId),
      steps: [{ code: START() }, { code: BUSY(5000), wait: false }],
    });
    const seen: number[] = [];
    const deadline = Date.now() + 4500;
    while (Date.now() < deadline) {
      const feed = await readFeed(kernelId);
      if (feed && (await kernelBusy(kernelId))) seen.push(feed.points.length);
      await new Promise((r) => setTimeout(r, 400));
    }
    assert.ok(seen.length >= 3, `read the feed ${seen.length} times while the cell ran`);
    assert.ok(seen.at(-1)! >= seen[0]! + 3, `points grew while the kernel was busy: ${seen.join(", ")}`);
    const results = await driveKernel(box, {
      connection_file: connectionFile(kernelId),
      steps: [{ code: "await tracker.stop();", timeout: 60 }],
    });
    assert.match(textOf(results[0]?.outputs, "stderr"), /Tracking stopped/);
    const feed = (await readFeed(kernelId))!;
    assert.equal(feed.version, LIVE_FEED_VERSION);
    assert.equal(feed.kernelId, kernelId);
    assert.equal(feed.state, "stopped");
    assert.ok(feed.sources.some((s) => /CPU/.test(s)));
    const [row] = readCsvRows(path.join(box.work, "emissions.csv"));
    assert.equal(row?.["run_id"], feed.runId);
    assert.ok(Math.abs(feed.points.at(-1)!.kWh - Number(row?.["energy_consumed"])) < 1e-12);
    assert.equal(row?.["project_name"], "live", "in a server's kernel the notebook names the project");
  });

  test("two notebooks in one folder write rows that say which is which; the kernel API drives the same tracker", async () => {
    const a = await openNotebook("alpha.ipynb");
    const b = await openNotebook("beta.ipynb");
    const startCell = `import { codecarbonKernel } from "codecarbon";\nconst reply = await codecarbonKernel({ version: 1, action: "start", offline: true, settings: { country_iso_code: "FRA", measure_power_secs: 0.5 } });\nconsole.log(JSON.stringify(reply));`;
    const stopCell = `await new Promise((r) => setTimeout(r, 800));\nconsole.log(JSON.stringify(await codecarbonKernel({ version: 1, action: "stop" })));`;
    const ra = await driveKernel(box, {
      connection_file: connectionFile(a),
      steps: [{ code: startCell }, { code: stopCell }],
    });
    const rb = await driveKernel(box, {
      connection_file: connectionFile(b),
      steps: [{ code: startCell }, { code: stopCell }],
    });
    const started = JSON.parse(textOf(ra[0]?.outputs, "stdout")) as {
      ok: boolean;
      state: string;
      kernelId: string;
      feed: string;
    };
    assert.deepEqual(
      [started.ok, started.state, started.kernelId, started.feed],
      [true, "running", a, `codecarbon-live/${a}.json`],
    );
    const stopped = JSON.parse(textOf(rb[1]?.outputs, "stdout")) as { state: string; emissionsKg: number };
    assert.equal(stopped.state, "stopped");
    assert.ok(stopped.emissionsKg > 0);
    const rows = readCsvRows(path.join(box.work, "emissions.csv")).filter(
      (r) => r["project_name"] === "alpha" || r["project_name"] === "beta",
    );
    assert.deepEqual(rows.map((r) => r["project_name"]).sort(), ["alpha", "beta"]);
  });

  test("each cell gets its share: RAM = 10 W × its time, busy cells more CPU, cells + idle = the run", async (t) => {
    const kernelId = await openNotebook("cells.ipynb");
    const SLEEP = (ms: number) => `await new Promise((r) => setTimeout(r, ${ms}));`;
    const cells = [
      { id: "busy5", code: BUSY(5000) },
      { id: "sleep5", code: SLEEP(5000) },
      { id: "busy2", code: BUSY(2000) },
    ];
    // No measure_power_secs anywhere: the notebook cadence (1 s) applies.
    const started = await driveKernel(box, {
      connection_file: connectionFile(kernelId),
      steps: [
        {
          code:
            'import { OfflineEmissionsTracker } from "codecarbon";\n' +
            // Process mode: the kernel's own CPU time, not the whole (possibly busy) machine's load.
            'var tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", forceRamPower: 10, trackingMode: "process" });\n' +
            "tracker.start();\nconsole.log(tracker.runId);",
        },
        { sleep: 1.5 },
        ...cells.map((c) => ({ code: c.code, timeout: 30 })),
        { sleep: 1.5 },
      ],
    });
    const runId = textOf(started[0]?.outputs, "stdout").trim();
    const executions: CellExecution[] = cells.map((c, i) => {
      const result = started[i + 1]!;
      assert.ok(result.busy && result.idle, `the kernel timed cell ${c.id}`);
      return { cellId: c.id, executionCount: i + 2, label: c.id, start: result.busy!, end: result.idle! };
    });
    // What the extension writes beside the feed after each execution.
    fs.writeFileSync(
      path.join(box.work, ...cellsRelativePath(kernelId).split("/")),
      JSON.stringify({ version: CELLS_FILE_VERSION, kernelId, runId, executions }),
    );
    await driveKernel(box, { connection_file: connectionFile(kernelId), steps: [{ code: "await tracker.stop();" }] });

    const [row] = readCsvRows(path.join(box.work, "emissions.csv")).filter((r) => r["run_id"] === runId);
    assert.ok(row, "the run's row");
    const taskRows = readCsvRows(path.join(box.work, `emissions_${"base"}_${runId}.csv`));
    assert.deepEqual(
      taskRows.map((r) => r["task_name"]),
      cells.map((c, i) => `In [${i + 2}] ${c.id}`),
      "one task row per cell execution, in order",
    );
    const seconds = executions.map((e) => (Date.parse(e.end) - Date.parse(e.start)) / 1000);
    taskRows.forEach((task, i) => {
      const expected = (10 * seconds[i]!) / JOULES_PER_KWH;
      const ram = Number(task["ram_energy"]);
      t.diagnostic(`${cells[i]!.id}: RAM attribution error ${(((ram - expected) / expected) * 100).toFixed(3)} %`);
      assert.ok(
        Math.abs(ram - expected) / expected < 0.02,
        `${cells[i]!.id}: RAM ${ram} kWh vs 10 W × ${seconds[i]} s`,
      );
    });
    const cpu = (id: string) => Number(taskRows[cells.findIndex((c) => c.id === id)]!["cpu_energy"]);
    assert.ok(cpu("busy5") > cpu("sleep5"), `busy ${cpu("busy5")} > sleeping ${cpu("sleep5")} kWh`);

    // The sidebar's view: the feed's idle share plus the tracker's cell rows make the run.
    const answer = await server.api(`/api/contents/codecarbon-live/${kernelId}.json?content=1&type=file&format=text`);
    const parsed = parseLiveFeed((answer.json as { content: string }).content);
    assert.ok(parsed.ok);
    const series = seriesFromFeed(parsed.feed);
    const idle = idleShare(series, executions);
    const cellsKWh = taskRows.reduce((sum, r) => sum + Number(r["energy_consumed"]), 0);
    const runKWh = Number(row["energy_consumed"]);
    t.diagnostic(`cells + idle vs run: ${(((idle.energyKWh + cellsKWh - runKWh) / runKWh) * 100).toFixed(3)} %`);
    assert.ok(
      Math.abs(idle.energyKWh + cellsKWh - runKWh) / runKWh < 0.01,
      `idle + cells vs run: ${idle.energyKWh + cellsKWh} vs ${runKWh}`,
    );
    const fromFeed = attributeExecution(series, executions[0]!);
    assert.ok(fromFeed.state === "attributed");
    assert.ok(
      Math.abs(fromFeed.energyKWh - Number(taskRows[0]!["energy_consumed"])) / fromFeed.energyKWh < 1e-6,
      "the feed and the tracker agree",
    );
  });
});
