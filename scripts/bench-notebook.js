// Notebook figures: the cost of one live-feed update, the feed's size after an hour of
// measurements, and the time from launching a tslab kernel to the tracker's first point.
// Run after `npm run build` (and `bash scripts/setup.sh` for the kernel part):
//   node scripts/bench-notebook.js
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { writeTslabKernelSpec } = require("./lib/tslab-kernel");
const { performance } = require("node:perf_hooks");
const { createLiveFeedSink } = require("../dist/notebook/live-feed-sink");
const { LIVE_FEED_FOLDER, MAX_POINTS } = require("../dist/protocol/live-feed");

const root = path.join(__dirname, "..");

function sample(i) {
  return {
    timestamp: new Date(Date.now() + i * 1000).toISOString(),
    elapsedS: i,
    intervalS: 1,
    powerW: { cpu: 12 + (i % 7), gpu: 0, ram: 3 },
    energyKWh: { cpu: i * 3.3e-6, gpu: 0, ram: i * 8e-7, total: i * 4.1e-6 },
    emissionsKg: i * 2.3e-7,
    intensityGPerKWh: 56.04,
  };
}

function feedFigures() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-bench-feed-"));
  const file = path.join(dir, LIVE_FEED_FOLDER, "bench.json");
  const sink = createLiveFeedSink({
    file,
    kernelId: "bench",
    runId: "r",
    projectName: "bench",
    measurePowerSecs: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
  });
  sink.describe(["CPU from TDP 64 W × machine load", "RAM from a 4-DIMM model (16 GiB)"], {
    gPerKWh: 56.04,
    source: "country FRA (2023)",
  });
  const hour = 3600;
  const costs = [];
  for (let i = 1; i <= hour; i++) {
    const t0 = performance.now();
    sink.measured({ sample: sample(i), row: null });
    costs.push(performance.now() - t0);
  }
  const size = fs.statSync(file).size;
  const points = JSON.parse(fs.readFileSync(file, "utf8")).points.length;
  fs.rmSync(dir, { recursive: true, force: true });
  costs.sort((a, b) => a - b);
  const full = costs.slice(MAX_POINTS);
  return {
    medianMs: full[Math.floor(full.length / 2)],
    p95Ms: full[Math.floor(full.length * 0.95)],
    size,
    points,
  };
}

function kernelStartToFirstPoint() {
  const python = path.join(root, ".venv", "bin", "python");
  if (!fs.existsSync(python)) return Promise.resolve(null);
  const box = fs.mkdtempSync(path.join(os.tmpdir(), "cc-bench-kernel-"));
  const work = path.join(box, "work");
  fs.mkdirSync(path.join(work, "node_modules", "@types"), { recursive: true });
  fs.symlinkSync(root, path.join(work, "node_modules", "codecarbon"), "dir");
  fs.symlinkSync(
    path.join(root, "node_modules", "@types", "node"),
    path.join(work, "node_modules", "@types", "node"),
    "dir",
  );
  writeTslabKernelSpec(path.join(box, "jupyter"));
  const plan = path.join(box, "plan.json");
  fs.writeFileSync(
    plan,
    JSON.stringify({
      kernel_name: "tslab",
      cwd: work,
      steps: [
        {
          code: 'import { OfflineEmissionsTracker } from "codecarbon";\nconst tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 1 }).start();',
        },
        { sleep: 2 },
        { code: "await tracker.stop();" },
      ],
    }),
  );
  const env = {
    ...process.env,
    JUPYTER_PATH: path.join(box, "jupyter"),
    JUPYTER_RUNTIME_DIR: path.join(box, "runtime"),
    JUPYTER_DATA_DIR: path.join(box, "data"),
  };
  const started = performance.now();
  const child = spawn(python, [path.join(root, "test", "jupyter", "kernel_driver.py"), plan], { env, stdio: "ignore" });
  return new Promise((resolve) => {
    let firstPointMs = null;
    const feedDir = path.join(work, LIVE_FEED_FOLDER);
    const poll = setInterval(() => {
      if (firstPointMs !== null || !fs.existsSync(feedDir)) return;
      for (const name of fs.readdirSync(feedDir)) {
        try {
          if (JSON.parse(fs.readFileSync(path.join(feedDir, name), "utf8")).points.length > 0)
            firstPointMs = performance.now() - started;
        } catch {
          // Being replaced: read it next time.
        }
      }
    }, 10);
    child.on("exit", () => {
      clearInterval(poll);
      fs.rmSync(box, { recursive: true, force: true });
      resolve(firstPointMs);
    });
  });
}

(async () => {
  const feed = feedFigures();
  console.log(
    `Live feed, one update with a full feed (${MAX_POINTS} points): median ${feed.medianMs.toFixed(3)} ms, p95 ${feed.p95Ms.toFixed(3)} ms`,
  );
  console.log(
    `Live feed after an hour at 1 measurement/s: ${(feed.size / 1024).toFixed(1)} KiB, ${feed.points} points`,
  );
  const firstPoint = await kernelStartToFirstPoint();
  console.log(
    firstPoint === null
      ? "Kernel start to first point: skipped (no .venv: run bash scripts/setup.sh)"
      : `Kernel launch (python driver + tslab kernel) to the first live-feed point: ${(firstPoint / 1000).toFixed(2)} s`,
  );
})();
