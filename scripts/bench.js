// Benchmark: what the tracker costs the process it measures. Each figure is taken against a
// no-tracker baseline measured in the same run, in fresh child processes (medians).
//   npm run bench            (builds first)
//   BENCH_RUNS=15 npm run bench
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const entry = path.join(__dirname, "..", "dist", "index.js");
const runs = Number(process.env.BENCH_RUNS ?? 9);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "cc-bench-"));
const env = { ...process.env, HOME: work, CODECARBON_LOG_LEVEL: "error" };
for (const key of Object.keys(env))
  if (key.startsWith("CODECARBON_") && key !== "CODECARBON_LOG_LEVEL") delete env[key];

function child(source) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["-e", source], { cwd: work, env, encoding: "utf8" });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`bench child failed:\n${result.stderr}`);
  const last = result.stdout.trim().split("\n").pop();
  return { wallMs, out: last ? JSON.parse(last) : {} };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, unit, digits = 1) => `${x.toFixed(digits)} ${unit}`;

const LIFECYCLE = `
const t0 = process.hrtime.bigint();
const { OfflineEmissionsTracker } = require(${JSON.stringify(entry)});
const t1 = process.hrtime.bigint();
const tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA" });
const t2 = process.hrtime.bigint();
tracker.start();
const t3 = process.hrtime.bigint();
tracker.stop().then(() => {
  const t4 = process.hrtime.bigint();
  const ms = (a, b) => Number(b - a) / 1e6;
  console.log(JSON.stringify({ importMs: ms(t0, t1), constructMs: ms(t1, t2), startMs: ms(t2, t3), stopMs: ms(t3, t4) }));
});`;
const BARE = `console.log("{}")`;

console.log(
  `codecarbon bench on ${os.cpus()[0]?.model ?? "unknown CPU"} (${os.cpus().length} threads), Node ${process.versions.node}, ${runs} runs each\n`,
);

// 1. Cold lifecycle: import + construct + start + stop, in a fresh process, against a bare node.
const bare = [];
const life = [];
const parts = [];
child(BARE);
child(LIFECYCLE); // warm the file cache
for (let i = 0; i < runs; i++) {
  bare.push(child(BARE).wallMs);
  const r = child(LIFECYCLE);
  life.push(r.wallMs);
  parts.push(r.out);
}
const pick = (k) => median(parts.map((p) => p[k]));
console.log("Cold lifecycle (fresh process, median)");
console.log(`  bare node process:               ${fmt(median(bare), "ms")}`);
console.log(`  node + import/construct/start/stop: ${fmt(median(life), "ms")}`);
console.log(`  added by the tracker:            ${fmt(median(life) - median(bare), "ms")}   (target ≤ 100 ms)`);
console.log(`    import:    ${fmt(pick("importMs"), "ms")}`);
console.log(`    construct: ${fmt(pick("constructMs"), "ms")}`);
console.log(`    start():   ${fmt(pick("startMs"), "ms", 2)}   (returns at once; sampling starts in a worker)`);
console.log(
  `    stop():    ${fmt(pick("stopMs"), "ms")}   (includes waiting for the worker to start, one measurement and the CSV write)\n`,
);

// 2. Steady state: CPU per measurement and RSS added, against the same script without a
// tracker. V8 spends the first seconds of a new thread compiling and collecting, so the window
// opens after a warm-up; the three processes of a round run side by side (they are idle).
const WARM_S = Number(process.env.BENCH_WARMUP_SECONDS ?? 20);
const WINDOW_S = Number(process.env.BENCH_WINDOW_SECONDS ?? 30);
const steady = (period) => `
const { OfflineEmissionsTracker } = require(${JSON.stringify(entry)});
const tracker = ${period} > 0 ? new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: ${period} }).start() : null;
setTimeout(() => {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  setTimeout(async () => {
    const cpu = process.cpuUsage(cpu0);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssMiB = process.memoryUsage.rss() / 1048576;
    if (tracker) await tracker.stop();
    console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, seconds, rssMiB }));
  }, ${WINDOW_S * 1000});
}, ${WARM_S * 1000});`;

function childAsync(source) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["-e", source], { cwd: work, env });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (err += d));
    proc.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop())) : reject(new Error(err)),
    );
  });
}

(async () => {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const results = { 0: [], 1: [], 15: [] };
  for (let i = 0; i < rounds; i++) {
    const [b, one, fifteen] = await Promise.all([childAsync(steady(0)), childAsync(steady(1)), childAsync(steady(15))]);
    results[0].push(b);
    results[1].push(one);
    results[15].push(fifteen);
  }
  const cpu = (k) => median(results[k].map((r) => r.cpuMs));
  const rss = (k) => median(results[k].map((r) => r.rssMiB));
  console.log(`Steady state (${WINDOW_S} s window after a ${WARM_S} s warm-up, median of ${rounds})`);
  console.log(`  process CPU without tracker:     ${fmt(cpu(0), "ms", 2)}`);
  const perMeasurement1 = (cpu(1) - cpu(0)) / (WINDOW_S / 1);
  console.log(
    `  measure_power_secs=1:  ${fmt(cpu(1), "ms", 2)} → ${fmt(perMeasurement1, "ms", 3)} CPU per measurement   (target ≤ 0.25 ms)`,
  );
  const perMeasurement15 = (cpu(15) - cpu(0)) / (WINDOW_S / 15);
  console.log(
    `  measure_power_secs=15: ${fmt(cpu(15), "ms", 2)} → ${fmt(perMeasurement15, "ms", 3)} CPU per measurement, ${fmt((cpu(15) - cpu(0)) / WINDOW_S, "ms", 3)} per second (with the 1 Hz load sub-samples)`,
  );
  console.log(`  RSS without tracker (module loaded): ${fmt(rss(0), "MiB")}`);
  console.log(`  RSS with a running tracker:      ${fmt(rss(1), "MiB")}`);
  console.log(`  RSS added by a running tracker:  ${fmt(rss(1) - rss(0), "MiB")}   (target ≤ 25 MB)`);
  fs.rmSync(work, { recursive: true, force: true });
  await require("./bench-fleet.js")();
})();
