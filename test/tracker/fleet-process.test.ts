/**
 * The fleet outputs in real processes against the real servers: Debian's Pushgateway and
 * Prometheus on loopback, and a loopback OTLP/HTTP receiver that decodes the JSON payload the
 * official exporter sends. Every figure is compared with the row the same run wrote to
 * emissions.csv.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, runChild, startChild, waitFor, type Sandbox } from "../helpers/sandbox";
import { freePort, startLoopbackServer, type LoopbackServer } from "../helpers/loopback-server";
import {
  promQuery,
  pushgatewayGroups,
  startPrometheus,
  startPushgateway,
  type RunningServer,
} from "../helpers/fleet-servers";

import { JOULES_PER_KWH as J_PER_KWH } from "../../src/protocol/units";
/** bcrypt of "fleet-secret" (cost 4), for the Pushgateway's basic_auth_users. */
const FLEET_SECRET_BCRYPT = "$2b$04$HuRSfL9q95OSA5JwfgvIB.sIhAa7wts99IDBE3OWTaGQ936Y2yMmi";

async function waitForAsync(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
}

function onlyRow(sandbox: Sandbox): Record<string, string> {
  const rows = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
  assert.equal(rows.length, 1);
  return rows[0]!;
}

const trackerScript = (
  options: Record<string, unknown>,
  workMs: number,
) => `const { OfflineEmissionsTracker } = require(CODECARBON);
  (async () => {
    const tracker = new OfflineEmissionsTracker(${JSON.stringify({ countryIsoCode: "FRA", measurePowerSecs: 0.3, apiCallInterval: 2, ...options })}).start();
    console.log("RUN_ID=" + tracker.runId);
    await new Promise((r) => setTimeout(r, ${workMs}));
    await tracker.stop();
  })();`;

describe("fleet outputs against the real servers", () => {
  let sandbox: Sandbox;
  let gateway: RunningServer;
  before(async () => {
    gateway = await startPushgateway();
  });
  after(async () => {
    await gateway.stop();
    sandbox?.cleanup();
  });
  const fresh = () => {
    sandbox?.cleanup();
    sandbox = makeSandbox();
    return sandbox;
  };

  test("the Pushgateway holds the run's totals, equal to its CSV row, under CodeCarbon's job name", async () => {
    const box = fresh();
    // CodeCarbon's default form, host:port without a scheme.
    const address = gateway.url.replace("http://", "");
    const result = await runChild(
      trackerScript(
        {
          outputMethods: ["csv", "prometheus"],
          prometheusUrl: address,
          prometheusDeleteOnExit: false,
          projectName: "fleet demo",
          experimentName: "base",
        },
        1500,
      ),
      box,
    );
    const runId = /RUN_ID=(\S+)/.exec(result.stdout)![1]!;
    const row = onlyRow(box);
    const group = (await pushgatewayGroups(gateway)).find((g) => g.labels["run_id"] === runId);
    assert.ok(group, `a group for run ${runId}`);
    assert.equal(group.labels["job"], "fleet_demo_base");
    assert.ok(group.labels["instance"]);
    const energy = group.metrics.get("codecarbon_energy_joules_total");
    assert.equal(energy?.type, "COUNTER");
    close(energy!.samples.reduce((sum, s) => sum + s.value, 0) / J_PER_KWH, Number(row["energy_consumed"]), "energy");
    close(
      energy!.samples.find((s) => s.labels["device"] === "cpu")!.value / J_PER_KWH,
      Number(row["cpu_energy"]),
      "cpu energy",
    );
    const grams = group.metrics.get("codecarbon_emissions_grams_total")!.samples[0]!;
    close(grams.value / 1000, Number(row["emissions"]), "emissions");
    assert.equal(grams.labels["project"], "fleet demo");
    assert.equal(grams.labels["country"], "FRA");
    assert.equal(grams.labels["run_id"], runId);
    assert.ok(grams.labels["cpu_model"]);
    // CodeCarbon's gauges, for dashboards built on them, with their labels filled in.
    const compat = group.metrics.get("codecarbon_energy_consumed")!.samples[0]!;
    assert.equal(compat.labels["project_name"], "fleet demo");
    assert.equal(compat.labels["country_iso_code"], "FRA");
    assert.ok(compat.value >= 0);
  });

  test("a run stopped at once, measured on the calling thread, still pushes its totals", async () => {
    const box = fresh();
    const result = await runChild(
      trackerScript(
        {
          outputMethods: ["csv", "prometheus"],
          prometheusUrl: gateway.url,
          prometheusDeleteOnExit: false,
          projectName: "instant",
        },
        0,
      ),
      box,
      { CODECARBON_LOG_LEVEL: "debug" },
    );
    assert.match(result.stderr, /the run is measured on this thread/);
    const runId = /RUN_ID=(\S+)/.exec(result.stdout)![1]!;
    const row = onlyRow(box);
    const group = (await pushgatewayGroups(gateway)).find((g) => g.labels["run_id"] === runId);
    assert.ok(group, `a group for run ${runId}`);
    const energy = group.metrics.get("codecarbon_energy_joules_total")!;
    close(energy.samples.reduce((sum, s) => sum + s.value, 0) / J_PER_KWH, Number(row["energy_consumed"]), "energy");
  });

  test("pushes arrive during the run, and the group is deleted when the tracker stops (the default)", async () => {
    const box = fresh();
    const running = startChild(
      trackerScript({ outputMethods: ["csv", "prometheus"], prometheusUrl: gateway.url, projectName: "short" }, 3000),
      box,
    );
    let seenDuringRun = false;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && running.child.exitCode === null) {
      if ((await pushgatewayGroups(gateway)).some((g) => g.labels["job"] === "short_base")) {
        seenDuringRun = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(seenDuringRun, "a live push before the run ended");
    assert.equal(
      (await pushgatewayGroups(gateway)).some((g) => g.labels["job"] === "short_base"),
      false,
      "deleted at exit",
    );
  });

  test("basic auth from PROMETHEUS_USERNAME/PROMETHEUS_PASSWORD; without them one clear warning and the CSV still written", async () => {
    const secured = await startPushgateway({ user: "fleet", bcryptHash: FLEET_SECRET_BCRYPT });
    try {
      const auth = { authorization: `Basic ${Buffer.from("fleet:fleet-secret").toString("base64")}` };
      let box = fresh();
      const refused = await runChild(
        trackerScript(
          {
            outputMethods: ["csv", "prometheus"],
            prometheusUrl: secured.url,
            prometheusDeleteOnExit: false,
            projectName: "anon",
          },
          900,
        ),
        box,
      );
      const warnings = refused.stderr.split("\n").filter((l) => l.includes("Could not push to the Pushgateway"));
      assert.equal(warnings.length, 1, refused.stderr);
      assert.match(warnings[0]!, /HTTP 401 \(set PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD\)/);
      assert.equal(readCsvRows(path.join(box.cwd, "emissions.csv")).length, 1);

      box = fresh();
      await runChild(
        trackerScript(
          {
            outputMethods: ["csv", "prometheus"],
            prometheusUrl: secured.url,
            prometheusDeleteOnExit: false,
            projectName: "authed",
          },
          900,
        ),
        box,
        {
          PROMETHEUS_USERNAME: "fleet",
          PROMETHEUS_PASSWORD: "fleet-secret",
        },
      );
      const groups = await pushgatewayGroups(secured, auth);
      assert.ok(groups.some((g) => g.labels["job"] === "authed_base"));
      assert.ok(!groups.some((g) => g.labels["job"] === "anon_base"));
    } finally {
      await secured.stop();
    }
  });

  test("an unreachable gateway costs one warning; the run and its CSV row are unaffected", async () => {
    const box = fresh();
    const result = await runChild(
      trackerScript(
        { outputMethods: ["csv", "prometheus"], prometheusUrl: `127.0.0.1:${await freePort()}`, apiTimeoutSecs: 1 },
        1500,
      ),
      box,
    );
    assert.equal(
      result.stderr.split("\n").filter((l) => l.includes("Could not push to the Pushgateway")).length,
      1,
      result.stderr,
    );
    assert.ok(Number(onlyRow(box)["energy_consumed"]) > 0);
  });

  test("Prometheus scrapes /metrics (answered while the main thread blocks); its values equal the CSV row", async () => {
    const box = fresh();
    const port = await freePort();
    const prometheus = await startPrometheus([`127.0.0.1:${port}`]);
    try {
      const done = path.join(box.cwd, "done");
      // Measurements only at start and at flush: the values Prometheus scrapes after the flush are the flushed row's.
      const script = `const { OfflineEmissionsTracker } = require(CODECARBON);
        const fs = require("node:fs");
        (async () => {
          const tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 3600, prometheusPort: ${port}, projectName: "scraped" }).start();
          console.log("RUN_ID=" + tracker.runId);
          await new Promise((r) => setTimeout(r, 300));
          const until = Date.now() + 2500;
          while (Date.now() < until) {} // a cell that blocks the event loop
          await tracker.flush();
          console.log("FLUSHED");
          while (!fs.existsSync(${JSON.stringify(done)})) await new Promise((r) => setTimeout(r, 50));
          await tracker.stop();
        })();`;
      const running = startChild(script, box);
      let stdout = "";
      running.child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
      const runId = await waitFor(() => /RUN_ID=(\S+)/.exec(stdout)?.[1], "the run id", 20_000);
      // During the blocking loop: the sampling thread answers.
      await new Promise((r) => setTimeout(r, 600));
      const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(scrape.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(await scrape.text(), /# TYPE codecarbon_energy_joules_total counter/);
      await waitFor(() => (stdout.includes("FLUSHED") ? true : undefined), "the flush", 20_000);
      const row = readCsvRows(path.join(box.cwd, "emissions.csv")).find((r) => r["run_id"] === runId)!;
      const expectJ = Number(row["energy_consumed"]) * J_PER_KWH;
      let scrapedJ = NaN;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const [sample] = await promQuery(prometheus, `sum(codecarbon_energy_joules_total{run_id="${runId}"})`);
        scrapedJ = sample ? Number(sample.value[1]) : NaN;
        if (Math.abs(scrapedJ - expectJ) <= 1e-9 * expectJ) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      close(scrapedJ, expectJ, "energy scraped by Prometheus");
      const [grams] = await promQuery(prometheus, `codecarbon_emissions_grams_total{run_id="${runId}"}`);
      close(Number(grams!.value[1]) / 1000, Number(row["emissions"]), "emissions scraped by Prometheus");
      assert.equal(grams!.metric["project"], "scraped");
      assert.equal(grams!.metric["job"], "codecarbon");
      const [intensity] = await promQuery(
        prometheus,
        `codecarbon_carbon_intensity_grams_per_kilowatt_hour{run_id="${runId}"}`,
      );
      close(
        Number(intensity!.value[1]),
        (Number(row["emissions"]) * 1000) / Number(row["energy_consumed"]),
        "intensity",
      );
      // Counters: Prometheus' increase() over the run is the energy since the first scrape, never negative.
      await waitForAsync(
        async () =>
          Number(
            (
              await promQuery(prometheus, `min(count_over_time(codecarbon_energy_joules_total{run_id="${runId}"}[1m]))`)
            )[0]?.value[1] ?? 0,
          ) >= 3,
        "three scrapes",
      );
      const [increase] = await promQuery(
        prometheus,
        `sum(increase(codecarbon_energy_joules_total{run_id="${runId}"}[1m]))`,
      );
      assert.ok(
        Number(increase!.value[1]) >= 0 && Number(increase!.value[1]) <= expectJ * 1.5,
        `increase ${increase!.value[1]} of ${expectJ}`,
      );
      const metadata = (await (
        await fetch(`${prometheus.url}/api/v1/metadata?metric=codecarbon_energy_joules_total`)
      ).json()) as { data: Record<string, Array<{ type: string }>> };
      assert.equal(metadata.data["codecarbon_energy_joules_total"]?.[0]?.type, "counter");
      fs.writeFileSync(done, "");
      const result = await running.done;
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await prometheus.stop();
    }
  });

  describe("OpenTelemetry", () => {
    let receiver: LoopbackServer;
    before(async () => {
      receiver = await startLoopbackServer(() => ({ status: 200, json: {} }));
    });
    after(() => receiver.close());

    test("OTLP/HTTP: hw.energy (J, monotonic counter) and hw.power (W) per device, emissions in g, equal to the CSV row", async () => {
      const box = fresh();
      receiver.requests.length = 0;
      const result = await runChild(
        trackerScript({ outputMethods: ["csv", "otel"], projectName: "otel-run" }, 1200),
        box,
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_SERVICE_NAME: "training-job",
        },
      );
      const runId = /RUN_ID=(\S+)/.exec(result.stdout)![1]!;
      const row = onlyRow(box);
      const posts = receiver.requests.filter((r) => r.method === "POST" && r.path === "/v1/metrics");
      assert.ok(posts.length >= 2, `${posts.length} exports (live and final)`);
      assert.match(String(posts[0]!.headers["content-type"]), /application\/json/);
      type Attr = { key: string; value: { stringValue?: string } };
      type Point = { attributes: Attr[]; asDouble?: number; asInt?: number | string };
      type Metric = {
        name: string;
        unit: string;
        sum?: { dataPoints: Point[]; isMonotonic: boolean; aggregationTemporality: number };
        gauge?: { dataPoints: Point[] };
      };
      const payload = JSON.parse(posts.at(-1)!.body) as {
        resourceMetrics: Array<{
          resource: { attributes: Attr[] };
          scopeMetrics: Array<{ scope: { name: string }; metrics: Metric[] }>;
        }>;
      };
      const resource = payload.resourceMetrics[0]!;
      const attr = (attrs: Attr[], key: string) => attrs.find((a) => a.key === key)?.value.stringValue;
      assert.equal(attr(resource.resource.attributes, "service.name"), "training-job");
      const metrics = resource.scopeMetrics.flatMap((s) => s.metrics);
      const byName = (name: string) => metrics.find((m) => m.name === name)!;
      const value = (p: Point) => p.asDouble ?? Number(p.asInt);
      const energy = byName("hw.energy");
      assert.equal(energy.unit, "J");
      assert.equal(energy.sum?.isMonotonic, true);
      assert.equal(energy.sum?.aggregationTemporality, 2, "cumulative");
      const cpu = energy.sum!.dataPoints.find((p) => attr(p.attributes, "hw.type") === "cpu")!;
      assert.equal(attr(cpu.attributes, "hw.id"), "cpu");
      assert.equal(attr(cpu.attributes, "codecarbon.run_id"), runId);
      assert.equal(attr(cpu.attributes, "codecarbon.project"), "otel-run");
      assert.ok(energy.sum!.dataPoints.some((p) => attr(p.attributes, "hw.type") === "memory"));
      close(
        energy.sum!.dataPoints.reduce((s, p) => s + value(p), 0) / J_PER_KWH,
        Number(row["energy_consumed"]),
        "hw.energy",
      );
      close(value(cpu) / J_PER_KWH, Number(row["cpu_energy"]), "cpu hw.energy");
      const power = byName("hw.power");
      assert.equal(power.unit, "W");
      close(
        value(power.gauge!.dataPoints.find((p) => attr(p.attributes, "hw.type") === "cpu")!),
        Number(row["cpu_power"]),
        "cpu hw.power",
      );
      const emissions = byName("codecarbon.emissions");
      assert.equal(emissions.unit, "g");
      close(value(emissions.sum!.dataPoints[0]!) / 1000, Number(row["emissions"]), "emissions");
      assert.equal(byName("codecarbon.carbon_intensity").unit, "g/kWh");
    });

    test("an unreachable collector costs one warning and never fails the run", async () => {
      const box = fresh();
      const result = await runChild(trackerScript({ outputMethods: ["csv", "otel"], apiTimeoutSecs: 1 }, 1200), box, {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      });
      assert.equal(
        result.stderr.split("\n").filter((l) => l.includes("OpenTelemetry collector")).length,
        1,
        result.stderr,
      );
      assert.ok(Number(onlyRow(box)["energy_consumed"]) > 0);
    });
  });
});
