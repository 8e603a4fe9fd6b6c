// Benchmark: what the tracker costs the process it measures, side by side with Python
// CodeCarbon 3.3.0 (from .venv) in the same run, interleaved, with the same options (offline,
// country CAN, one measurement per second, forced RAM power where coverage is measured). Each
// figure is taken against a bare runtime of the same language measured in the same run, and
// printed for both with their ratio and issue 17's target. The absolute figures are information
// only on a shared machine; the ratios are what to compare. Then the fleet outputs' cost.
//   npm run bench                      (builds first)
//   BENCH_RUNS=9                       cold lifecycles per side (default 7)
//   BENCH_WINDOW_SECONDS=60            steady-state window (default 60, long enough for GC)
//   BENCH_WARMUP_SECONDS=5             from start() to the window (default 5)
//   BENCH_BUSY_SECONDS=5               the busy run whose energy coverage is checked (default 5)
//   BENCH_FLEET=0                      skip the fleet outputs
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const entry = path.join(ROOT, "dist", "index.js");
const python = path.join(ROOT, ".venv", "bin", "python");
const runs = Number(process.env.BENCH_RUNS ?? 7);
const WARM_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const WINDOW_S = Number(process.env.BENCH_WINDOW_SECONDS ?? 60);
const BUSY_S = Number(process.env.BENCH_BUSY_SECONDS ?? 5);
// The steady rate is also given from here on (s after start): past the sampler's first seconds,
// which cost more (see the README's Performance section).
const LATE_S = Math.min(20, WARM_S + WINDOW_S / 2);
const RAM_W = 10;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "cc-bench-"));
const env = { ...process.env, HOME: work, CODECARBON_LOG_LEVEL: "error", PYTHONDONTWRITEBYTECODE: "1" };
for (const key of Object.keys(env))
  if (key.startsWith("CODECARBON_") && key !== "CODECARBON_LOG_LEVEL") delete env[key];
const hasPython = fs.existsSync(python);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const outDir = (name) => {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

// ---------------------------------------------------------------------------------------------
// The children. Each prints one JSON line last; CPU is the process's own (all threads).

const NODE_CPU = "const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };";
const PY_PRELUDE = `
import json, resource, sys, time
def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000
def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1048576
`;

const nodeBare = `${NODE_CPU} console.log(JSON.stringify({ cpuMs: cpuMs() }));`;
const pyBare = `${PY_PRELUDE}\nprint(json.dumps({"cpuMs": cpu_ms()}))`;

const nodeLifecycle = (dir) => `${NODE_CPU}
const ms = (a, b) => Number(b - a) / 1e6;
const t0 = process.hrtime.bigint();
const { OfflineEmissionsTracker } = require(${JSON.stringify(entry)});
const t1 = process.hrtime.bigint();
const tracker = new OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 1, outputDir: ${JSON.stringify(dir)}, logLevel: "error" });
const t2 = process.hrtime.bigint();
tracker.start();
const t3 = process.hrtime.bigint();
tracker.stop().then(() => {
  const t4 = process.hrtime.bigint();
  console.log(JSON.stringify({ importMs: ms(t0, t1), constructMs: ms(t1, t2), startMs: ms(t2, t3), stopMs: ms(t3, t4), cpuMs: cpuMs() }));
});`;
const pyLifecycle = (dir) => `${PY_PRELUDE}
t0 = time.perf_counter()
from codecarbon import OfflineEmissionsTracker
t1 = time.perf_counter()
tracker = OfflineEmissionsTracker(country_iso_code="CAN", measure_power_secs=1, output_dir=${JSON.stringify(dir)}, log_level="error")
t2 = time.perf_counter()
tracker.start()
t3 = time.perf_counter()
tracker.stop()
t4 = time.perf_counter()
ms = lambda a, b: (b - a) * 1000
print(json.dumps({"importMs": ms(t0, t1), "constructMs": ms(t1, t2), "startMs": ms(t2, t3), "stopMs": ms(t3, t4), "cpuMs": cpu_ms()}))`;

// Steady state: start, wait WARM_S, measure CPU over WINDOW_S, read the RSS, then time stop()
// (a run older than one interval). kind: bare | import | track.
const nodeSteady = (kind, dir) => `${NODE_CPU}
const pkg = ${kind === "bare" ? "null" : `require(${JSON.stringify(entry)})`};
const tracker = ${kind === "track" ? `new pkg.OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 1, outputDir: ${JSON.stringify(dir)}, logLevel: "error" }).start()` : "null"};
let late;
setTimeout(() => (late = cpuMs()), ${LATE_S * 1000});
setTimeout(() => {
  const c0 = cpuMs();
  setTimeout(async () => {
    const cpu = cpuMs() - c0;
    const lateCpu = cpuMs() - late;
    const rssMiB = process.memoryUsage.rss() / 1048576;
    const s0 = process.hrtime.bigint();
    if (tracker) await tracker.stop();
    const stopMs = Number(process.hrtime.bigint() - s0) / 1e6;
    console.log(JSON.stringify({ cpuPerS: cpu / ${WINDOW_S}, lateCpuPerS: lateCpu / ${WARM_S + WINDOW_S - LATE_S}, rssMiB, stopMs }));
  }, ${WINDOW_S * 1000});
}, ${WARM_S * 1000});`;
const pySteady = (kind, dir) => `${PY_PRELUDE}
tracker = None
${
  kind === "track"
    ? `from codecarbon import OfflineEmissionsTracker
tracker = OfflineEmissionsTracker(country_iso_code="CAN", measure_power_secs=1, output_dir=${JSON.stringify(dir)}, log_level="error")
tracker.start()`
    : ""
}
time.sleep(${WARM_S})
c0 = cpu_ms()
time.sleep(${LATE_S - WARM_S})
late = cpu_ms()
time.sleep(${WARM_S + WINDOW_S - LATE_S})
cpu = cpu_ms() - c0
late_cpu = cpu_ms() - late
rss = rss_mib()
s0 = time.perf_counter()
if tracker is not None: tracker.stop()
print(json.dumps({"cpuPerS": cpu / ${WINDOW_S}, "lateCpuPerS": late_cpu / ${WARM_S + WINDOW_S - LATE_S}, "rssMiB": rss, "stopMs": (time.perf_counter() - s0) * 1000}))`;

// The floors of any 1 Hz sampler on this machine, in a worker thread that sleeps in
// Atomics.wait as ours does: waking once a second and nothing else; the same reading /proc/stat
// (what a machine-load model must read every second); the same writing 200 bytes in place (a
// checkpoint). Each is printed over the bare node.
// They end a little before the trackers stop, so that their exits do not share the CPU with the
// stop() being timed.
const FLOOR_WINDOW_S = Math.max(1, WINDOW_S - 3);
const FLOOR_WORK = fs.existsSync("/proc/stat")
  ? {
      wake: "",
      procStat: "fs.readSync(stat, buffer, 0, 512, 0);",
      procStatAndWrite: "fs.readSync(stat, buffer, 0, 512, 0); fs.writeSync(out, buffer, 0, 200, 0);",
    }
  : {};
const nodeFloor = (work, dir) => `${NODE_CPU}
const { Worker } = require("node:worker_threads");
const worker = new Worker(\`
  const fs = require("node:fs");
  const word = new Int32Array(new SharedArrayBuffer(4));
  const buffer = Buffer.alloc(512);
  const stat = fs.openSync("/proc/stat", "r");
  const out = fs.openSync(${JSON.stringify(path.join(dir, "floor.bin"))}, "w");
  for (;;) { Atomics.wait(word, 0, 0, 1000); ${FLOOR_WORK[work]} }\`, { eval: true });
worker.unref();
setTimeout(() => {
  const c0 = cpuMs();
  setTimeout(() => console.log(JSON.stringify({ cpuPerS: (cpuMs() - c0) / ${FLOOR_WINDOW_S} })), ${FLOOR_WINDOW_S * 1000});
}, ${WARM_S * 1000});`;

// Coverage: a busy main thread for BUSY_S seconds with a forced RAM power; the RAM energy over
// (power × the duration the row records) is the share of the run the energy integral covers.
const nodeCoverage = (dir) => `
const { OfflineEmissionsTracker } = require(${JSON.stringify(entry)});
const tracker = new OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 1, forceRamPower: ${RAM_W}, outputDir: ${JSON.stringify(dir)}, logLevel: "error" });
tracker.start();
const end = Date.now() + ${BUSY_S * 1000};
let x = 0;
while (Date.now() < end) x += Math.sqrt(x + 1);
tracker.stop().then(() => {
  const row = tracker.finalEmissionsData;
  console.log(JSON.stringify({ coverage: (row.ram_energy * 3.6e6) / (${RAM_W} * row.duration) }));
});`;
const pyCoverage = (dir) => `${PY_PRELUDE}
from codecarbon import OfflineEmissionsTracker
tracker = OfflineEmissionsTracker(country_iso_code="CAN", measure_power_secs=1, force_ram_power=${RAM_W}, output_dir=${JSON.stringify(dir)}, log_level="error")
tracker.start()
end = time.time() + ${BUSY_S}
x = 0.0
while time.time() < end:
    x += (x + 1) ** 0.5
tracker.stop()
row = tracker.final_emissions_data
print(json.dumps({"coverage": row.ram_energy * 3.6e6 / (${RAM_W} * row.duration)}))`;

// ---------------------------------------------------------------------------------------------

function argsFor(lang, source) {
  return lang === "py" ? [python, ["-c", source]] : [process.execPath, ["-e", source]];
}

function lastJson(stdout, stderr, what) {
  const last = stdout.trim().split("\n").pop();
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`bench child ${what} printed no result:\n${stdout}\n${stderr}`);
  }
}

function runSync(lang, source, what) {
  const [cmd, args] = argsFor(lang, source);
  const started = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { cwd: work, env, encoding: "utf8" });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`bench child ${what} failed:\n${result.stderr}`);
  return { wallMs, ...lastJson(result.stdout, result.stderr, what) };
}

function runAsync(lang, source, what) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = argsFor(lang, source);
    const proc = spawn(cmd, args, { cwd: work, env });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (err += d));
    proc.on("close", (code) => {
      if (code !== 0) return reject(new Error(`bench child ${what} failed:\n${err}`));
      if (process.env.BENCH_DEBUG) console.error(what, err);
      try {
        resolve(lastJson(out, err, what));
      } catch (error) {
        reject(error);
      }
    });
  });
}

const f = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const ratio = (theirs, ours) => (Number.isFinite(theirs) && Number.isFinite(ours) && ours > 0 ? theirs / ours : NaN);
const rows = [];
const row = (figure, py, ours, r, target, verdict) => rows.push([figure, py, ours, r, target, verdict]);

function printTable() {
  const head = ["figure", "Python CodeCarbon 3.3.0", "this package", "ratio", "target", "met"];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

(async () => {
  const cc = hasPython
    ? spawnSync(python, ["-c", "import codecarbon; print(codecarbon.__version__)"], {
        env,
        encoding: "utf8",
      }).stdout.trim()
    : "not installed";
  console.log(
    `codecarbon bench on ${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} threads), Node ${process.versions.node}, ` +
      `Python CodeCarbon ${cc}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  console.log(`${runs} cold lifecycles per side, interleaved; steady state over ${WINDOW_S} s after ${WARM_S} s\n`);

  // 1. Cold lifecycle: import + construct + start + stop in a fresh process, against the bare
  // runtime, interleaved: bare node, node, bare python, python, and again.
  const life = { nodeBare: [], node: [], pyBare: [], py: [] };
  runSync("node", nodeLifecycle(outDir("warm")), "node lifecycle (file cache)");
  if (hasPython) runSync("py", pyLifecycle(outDir("warm")), "python lifecycle (file cache)");
  for (let i = 0; i < runs; i++) {
    life.nodeBare.push(runSync("node", nodeBare, "bare node"));
    life.node.push(runSync("node", nodeLifecycle(outDir(`node-life-${i}`)), "node lifecycle"));
    if (!hasPython) continue;
    life.pyBare.push(runSync("py", pyBare, "bare python"));
    life.py.push(runSync("py", pyLifecycle(outDir(`py-life-${i}`)), "python lifecycle"));
  }
  const med = (list, key) => median(list.map((r) => r[key]));
  const lifeWall = {
    node: med(life.node, "wallMs") - med(life.nodeBare, "wallMs"),
    py: med(life.py, "wallMs") - med(life.pyBare, "wallMs"),
  };
  const lifeCpu = {
    node: med(life.node, "cpuMs") - med(life.nodeBare, "cpuMs"),
    py: med(life.py, "cpuMs") - med(life.pyBare, "cpuMs"),
  };
  console.log("Cold lifecycle (fresh process, medians; ms)");
  for (const [side, list, bare] of [
    ["node  ", life.node, life.nodeBare],
    ["python", life.py, life.pyBare],
  ]) {
    if (list.length === 0) continue;
    console.log(
      `  ${side}: bare ${f(med(bare, "wallMs"))} wall / ${f(med(bare, "cpuMs"))} CPU; with tracker ${f(med(list, "wallMs"))} wall / ${f(med(list, "cpuMs"))} CPU` +
        ` (import ${f(med(list, "importMs"))}, construct ${f(med(list, "constructMs"))}, start ${f(med(list, "startMs"), 2)}, stop ${f(med(list, "stopMs"))})`,
    );
  }

  // 2. Steady state, side by side: every child of the round runs at once (they are idle).
  const jobs = {
    nodeBare: runAsync("node", nodeSteady("bare"), "bare node (steady)"),
    nodeImport: runAsync("node", nodeSteady("import"), "node import-only"),
    node: runAsync("node", nodeSteady("track", outDir("node-steady")), "node tracker"),
    ...Object.fromEntries(
      Object.keys(FLOOR_WORK).map((work) => [
        `floor-${work}`,
        runAsync("node", nodeFloor(work, outDir(`floor-${work}`)), `floor ${work}`),
      ]),
    ),
  };
  if (hasPython) {
    jobs.pyBare = runAsync("py", pySteady("bare"), "bare python (steady)");
    jobs.py = runAsync("py", pySteady("track", outDir("py-steady")), "python tracker");
  }
  const coverage = {
    node: runSync("node", nodeCoverage(outDir("node-coverage")), "node coverage").coverage,
    py: hasPython ? runSync("py", pyCoverage(outDir("py-coverage")), "python coverage").coverage : NaN,
  };
  const steady = Object.fromEntries(await Promise.all(Object.entries(jobs).map(async ([k, p]) => [k, await p])));
  const none = { cpuPerS: NaN, rssMiB: NaN, stopMs: NaN };
  const pyS = steady.py ?? none;
  const pyB = steady.pyBare ?? none;
  console.log(`Steady state (${WINDOW_S} s window, ${WARM_S} s after start; CPU ms per second, all threads)`);
  console.log(
    `  node: bare ${f(steady.nodeBare.cpuPerS, 3)}, import only ${f(steady.nodeImport.cpuPerS, 3)}, tracking ${f(steady.node.cpuPerS, 3)};` +
      "",
  );
  const floor = (work) => f((steady[`floor-${work}`]?.cpuPerS ?? NaN) - steady.nodeBare.cpuPerS, 3);
  console.log(
    `  floors of a 1 Hz sampler here (a worker in Atomics.wait, over bare node): waking ${floor("wake")};` +
      ` + reading /proc/stat ${floor("procStat")}; + a 200-byte write in place ${floor("procStatAndWrite")}`,
  );
  console.log(`  python: bare ${f(pyB.cpuPerS, 3)}, tracking ${f(pyS.cpuPerS, 3)}`);
  console.log(
    `  RSS (MiB): node bare ${f(steady.nodeBare.rssMiB)}, tracking ${f(steady.node.rssMiB)}; python bare ${f(pyB.rssMiB)}, tracking ${f(pyS.rssMiB)}\n`,
  );

  // 3. The table.
  const cpu = { node: steady.node.cpuPerS - steady.nodeBare.cpuPerS, py: pyS.cpuPerS - pyB.cpuPerS };
  const rss = { node: steady.node.rssMiB - steady.nodeBare.rssMiB, py: pyS.rssMiB - pyB.rssMiB };
  const importOnly = steady.nodeImport.cpuPerS - steady.nodeBare.cpuPerS;
  const stop = { node: steady.node.stopMs, py: pyS.stopMs };
  const lr = ratio(lifeWall.py, lifeWall.node);
  const lrc = ratio(lifeCpu.py, lifeCpu.node);
  const sr = ratio(cpu.py, cpu.node);
  row(
    "cold import+construct+start+stop, over bare runtime (wall)",
    `${f(lifeWall.py)} ms`,
    `${f(lifeWall.node)} ms`,
    `${f(lr)}×`,
    "≥ 30× (≤ 60 ms)",
    lr >= 30 ? "yes" : "no",
  );
  row("  the same in CPU time (all threads)", `${f(lifeCpu.py)} ms`, `${f(lifeCpu.node)} ms`, `${f(lrc)}×`, "", "");
  row(
    "CPU per second tracking at 1/s, over bare runtime (GC included)",
    `${f(cpu.py, 3)} ms`,
    `${f(cpu.node, 3)} ms`,
    `${f(sr)}×`,
    "≥ 10× (≤ 0.15 ms)",
    sr >= 10 ? "yes" : "no",
  );
  const lateCpu = {
    node: steady.node.lateCpuPerS - steady.nodeBare.lateCpuPerS,
    py: pyS.lateCpuPerS - pyB.lateCpuPerS,
  };
  row(
    `  the same from ${f(LATE_S, 0)} s after start (past the first seconds)`,
    `${f(lateCpu.py, 3)} ms`,
    `${f(lateCpu.node, 3)} ms`,
    `${f(ratio(lateCpu.py, lateCpu.node))}×`,
    "",
    "",
  );
  row(
    "CPU per second after import only, over bare node",
    "–",
    `${f(importOnly, 3)} ms`,
    "",
    "indistinguishable",
    Math.abs(importOnly) <= Math.max(0.02, steady.nodeBare.cpuPerS * 0.5) ? "yes" : "no",
  );
  row(
    "stop() of a run older than one interval",
    `${f(stop.py)} ms`,
    `${f(stop.node)} ms`,
    `${f(ratio(stop.py, stop.node))}×`,
    "≤ 15 ms",
    stop.node <= 15 ? "yes" : "no",
  );
  row(
    "RSS added by a running tracker",
    `${f(rss.py)} MiB`,
    `${f(rss.node)} MiB`,
    `${f(ratio(rss.py, rss.node))}×`,
    "≤ 10 MB",
    rss.node * 1.048576 <= 10 ? "yes" : "no",
  );
  row(
    `energy covering a busy ${BUSY_S} s run's duration`,
    `${f(coverage.py * 100, 3)} %`,
    `${f(coverage.node * 100, 3)} %`,
    "",
    "keep",
    Math.abs(coverage.node - 1) < 0.001 ? "yes" : "no",
  );
  printTable();
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}\n`,
  );
  fs.rmSync(work, { recursive: true, force: true });
  if (process.env.BENCH_FLEET !== "0") await require("./bench-fleet.js")();
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
