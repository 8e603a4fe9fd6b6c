// The fleet outputs' cost, for `npm run bench`: rendering the /metrics body (done once per
// measurement in the sampling thread), one Prometheus scrape of it over loopback, and one push
// to a real Pushgateway (Debian's prometheus-pushgateway, started here on a loopback port).
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const dist = path.join(__dirname, "..", "dist", "output");
const { fleetMetrics, renderExposition } = require(path.join(dist, "fleet", "metrics.js"));
const { createExpositionSink } = require(path.join(dist, "fleet", "exposition.js"));
const { createPushgatewaySink } = require(path.join(dist, "fleet", "pushgateway.js"));
const { setLogLevel } = require(path.join(__dirname, "..", "dist", "log.js"));

const ROUNDS = 200;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
const now = () => Number(process.hrtime.bigint()) / 1e6;

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const row = {
  timestamp: "2026-11-28T12:00:00",
  project_name: "bench",
  run_id: "0b5e4c1a-1f0e-4c47-9d43-3f0d7f5d9f10",
  experiment_id: "5b0fa12a-3dd7-45bb-9766-cc326314d9f1",
  duration: 3600,
  emissions: 0.0123,
  emissions_rate: 3.4e-6,
  cpu_power: 42,
  gpu_power: 250,
  ram_power: 12,
  cpu_energy: 0.042,
  gpu_energy: 0.25,
  ram_energy: 0.012,
  energy_consumed: 0.304,
  water_consumed: 0,
  country_name: "France",
  country_iso_code: "FRA",
  region: null,
  cloud_provider: "",
  cloud_region: "",
  os: "Linux",
  python_version: process.versions.node,
  codecarbon_version: "0.1.0",
  cpu_count: 16,
  cpu_model: "Intel(R) Xeon(R) Gold 6248",
  gpu_count: 1,
  gpu_model: "NVIDIA H100",
  longitude: null,
  latitude: null,
  ram_total_size: 64,
  tracking_mode: "machine",
  cpu_utilization_percent: 55,
  gpu_utilization_percent: 90,
  ram_utilization_percent: 30,
  ram_used_gb: 20,
  on_cloud: "N",
  pue: 1,
  wue: 0,
};

module.exports = async function benchFleet() {
  setLogLevel("error");
  const render = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = now();
    renderExposition(fleetMetrics({ ...row, emissions: row.emissions + i * 1e-6 }, 44));
    render.push(now() - t);
  }
  const body = renderExposition(fleetMetrics(row, 44));

  const exposition = createExpositionSink({ host: "127.0.0.1", port: 0, currentRow: () => row });
  const port = await exposition.listening;
  const scrape = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = now();
    await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    scrape.push(now() - t);
  }
  await exposition.exit();

  let push = null;
  const binary = ["/usr/bin/prometheus-pushgateway", "/usr/local/bin/prometheus-pushgateway"].find((b) =>
    fs.existsSync(b),
  );
  if (binary) {
    const gwPort = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-bench-gw-"));
    const gateway = spawn(
      binary,
      [`--web.listen-address=127.0.0.1:${gwPort}`, `--persistence.file=${path.join(dir, "m")}`],
      { stdio: "ignore" },
    );
    try {
      for (let i = 0; i < 100; i++) {
        if (
          await fetch(`http://127.0.0.1:${gwPort}/-/ready`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const sink = createPushgatewaySink(
        {
          prometheusUrl: `127.0.0.1:${gwPort}`,
          prometheusDeleteOnExit: true,
          projectName: "bench",
          experimentName: "base",
          apiTimeoutSecs: 5,
        },
        { runId: row.run_id, env: { NO_PROXY: "127.0.0.1" } },
      );
      const times = [];
      for (let i = 0; i < 50; i++) {
        const t = now();
        await sink.out(row, row);
        times.push(now() - t);
      }
      await sink.exit();
      push = times;
    } finally {
      gateway.kill("SIGTERM");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const f = (x) => `${x.toFixed(3)} ms`;
  console.log(`\nFleet outputs (${ROUNDS} rounds, median / p95)`);
  console.log(
    `  render the /metrics body (first scrape after a measurement): ${f(median(render))} / ${f(p95(render))}, ${body.length} bytes`,
  );
  console.log(`  one Prometheus scrape over loopback (client's view):       ${f(median(scrape))} / ${f(p95(scrape))}`);
  if (push)
    console.log(`  one push to a real Pushgateway (PUT, loopback):             ${f(median(push))} / ${f(p95(push))}`);
  else console.log("  one push to a Pushgateway: skipped, prometheus-pushgateway is not installed");
};

if (require.main === module) module.exports();
