/** The fleet metrics as text: names, units, labels, escaping, and the Pushgateway's addresses. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { codecarbonCompatMetrics, fleetMetrics, renderExposition, runLabels } from "../../src/output/fleet/metrics";
import { pushgatewayBaseUrl, pushgatewayGroupUrl, pushgatewayJob } from "../../src/output/fleet/pushgateway";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeRow, REPO_ROOT } from "./fixture-rows";

test("counters in joules and grams, per device, from the CSV row's kWh and kg", () => {
  const row = makeRow({
    cpu_energy: 0.001,
    gpu_energy: 0,
    ram_energy: 0.0005,
    energy_consumed: 0.0015,
    emissions: 0.00009,
    gpu_count: 0,
  });
  const families = fleetMetrics(row, 60, "host-1");
  const energy = families.find((f) => f.name === "codecarbon_energy_joules_total")!;
  assert.equal(energy.type, "counter");
  assert.deepEqual(
    energy.samples.map((s) => [s.labels["device"], s.value]),
    [
      ["cpu", 3600],
      ["ram", 1800],
    ],
    "no GPU series on a machine without GPUs",
  );
  const grams = families.find((f) => f.name === "codecarbon_emissions_grams_total")!;
  assert.ok(Math.abs(grams.samples[0]!.value - 0.09) < 1e-12);
  assert.equal(grams.samples[0]!.labels["host"], "host-1");
  assert.equal(
    families.find((f) => f.name === "codecarbon_carbon_intensity_grams_per_kilowatt_hour")!.samples[0]!.value,
    60,
  );
  for (const f of families)
    assert.match(
      f.name,
      f.type === "counter" ? /_total$/ : /^(?!.*_total$)/,
      `${f.name}: counters end in _total, gauges do not`,
    );
  const withGpu = fleetMetrics(makeRow({ gpu_count: 1, gpu_energy: 0.002 }), null, "h");
  assert.deepEqual(
    withGpu.find((f) => f.name === "codecarbon_energy_joules_total")!.samples.map((s) => s.labels["device"]),
    ["cpu", "gpu", "ram"],
  );
});

test("the text format escapes label values and types each family", () => {
  const row = makeRow({ project_name: 'my "quoted"\\project\nline2' });
  const text = renderExposition(fleetMetrics(row, 50, "h"));
  assert.match(text, /^# HELP codecarbon_energy_joules_total /m);
  assert.match(text, /^# TYPE codecarbon_energy_joules_total counter$/m);
  assert.match(text, /^# TYPE codecarbon_power_watts gauge$/m);
  assert.ok(text.includes('project="my \\"quoted\\"\\\\project\\nline2"'), text.split("\n")[2]);
  assert.ok(text.endsWith("\n"));
  for (const line of text.trim().split("\n"))
    assert.match(line, /^(# (HELP|TYPE) \S+ .+|[a-z_]+\{[^\n]*\} [-+0-9.eE]+|NaN)$/);
});

test("CodeCarbon's Pushgateway gauges keep their names and 14 labels, filled", () => {
  const total = makeRow({ project_name: "p", country_iso_code: "FRA" });
  const delta = makeRow({ energy_consumed: 0.25 });
  const families = codecarbonCompatMetrics(delta, total);
  assert.deepEqual(
    families.map((f) => f.name),
    [
      "codecarbon_duration",
      "codecarbon_emissions",
      "codecarbon_emissions_rate",
      "codecarbon_cpu_power",
      "codecarbon_gpu_power",
      "codecarbon_ram_power",
      "codecarbon_cpu_energy",
      "codecarbon_gpu_energy",
      "codecarbon_ram_energy",
      "codecarbon_energy_consumed",
    ],
  );
  const labels = families[0]!.samples[0]!.labels;
  assert.equal(Object.keys(labels).length, 14);
  assert.equal(labels["country_iso_code"], "FRA");
  assert.equal(families.at(-1)!.samples[0]!.value, 0.25);
});

test("the Pushgateway address: CodeCarbon's job name, a scheme when there is none, one group per host and run", () => {
  assert.equal(pushgatewayJob("my project", "exp/1"), "my_project_exp_1");
  assert.equal(pushgatewayBaseUrl("localhost:9091"), "http://localhost:9091");
  assert.equal(pushgatewayBaseUrl("https://gw.example:9091/"), "https://gw.example:9091");
  const url = pushgatewayGroupUrl(
    {
      prometheusUrl: "localhost:9091",
      prometheusDeleteOnExit: true,
      projectName: "p",
      experimentName: "base",
      apiTimeoutSecs: 5,
    },
    "run-1",
    "node/7",
  );
  assert.equal(
    url,
    `http://localhost:9091/metrics/job/p_base/instance/@base64/${Buffer.from("node/7").toString("base64url")}/run_id/run-1`,
  );
});

test("the Grafana dashboard queries only metrics the exporters serve, counters through rate() or increase()", () => {
  const dashboard = JSON.parse(
    fs.readFileSync(path.join(REPO_ROOT, "examples", "grafana", "codecarbon-fleet.json"), "utf8"),
  ) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  const served = new Map(fleetMetrics(makeRow({ gpu_count: 1 }), 50, "h").map((f) => [f.name, f.type]));
  assert.ok(dashboard.panels.length >= 6);
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const names = target.expr.match(/codecarbon_[a-z_]+/g) ?? [];
      assert.ok(names.length > 0, panel.title);
      for (const name of names) {
        assert.ok(served.has(name), `${panel.title}: ${name} is served`);
        if (served.get(name) === "counter")
          assert.match(
            target.expr,
            new RegExp(`(rate|increase)\\(${name}`),
            `${panel.title}: counter ${name} read through rate() or increase()`,
          );
      }
    }
  }
});

test("notebook and user labels: the notebook Jupyter names, the JupyterHub user, else the account", () => {
  const row = makeRow({});
  const hub = runLabels(row, "h", { JPY_SESSION_NAME: "projects/ada/train.ipynb", JUPYTERHUB_USER: "ada" });
  assert.equal(hub["notebook"], "projects/ada/train.ipynb");
  assert.equal(hub["user"], "ada");
  const plain = runLabels(row, "h", {});
  assert.equal(plain["notebook"], "");
  assert.equal(plain["user"], os.userInfo().username);
  for (const family of fleetMetrics(row, 50, "h"))
    for (const sample of family.samples) assert.ok("notebook" in sample.labels && "user" in sample.labels, family.name);
});
