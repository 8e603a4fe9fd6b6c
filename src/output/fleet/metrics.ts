/**
 * The run's metrics for fleet monitoring, computed from the same row the CSV gets, so what
 * Prometheus or an OpenTelemetry backend shows equals emissions.csv. Names follow Prometheus'
 * rules (base units, `_total` on counters) and the exporters fleets already run (Kepler,
 * Scaphandre): monotonic energy and emissions counters, so `rate()` and `increase()` work.
 */
import * as os from "node:os";
import type { EmissionsData } from "../emissions-data";
import { JOULES_PER_KWH } from "../../protocol/units";

export type MetricType = "counter" | "gauge";

export interface MetricSample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: MetricSample[];
}

export type Device = "cpu" | "gpu" | "ram";

/**
 * Who and what a run serves, for a notebook fleet (a JupyterHub): `notebook` is the notebook's
 * path, which Jupyter gives its kernels and the server extension its trackers in
 * JPY_SESSION_NAME ("" outside a notebook); `user` is JUPYTERHUB_USER on a JupyterHub's
 * single-user server, else the account the tracker runs as.
 */
export function notebookLabels(env: NodeJS.ProcessEnv = process.env): { notebook: string; user: string } {
  let account = "";
  try {
    account = os.userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): no account name.
  }
  return { notebook: env["JPY_SESSION_NAME"] ?? "", user: env["JUPYTERHUB_USER"] || account };
}

/** The labels every series carries: which run, where, on what, for whom. */
export function runLabels(
  row: EmissionsData,
  host = os.hostname(),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return {
    project: row.project_name,
    experiment_id: row.experiment_id,
    run_id: row.run_id,
    host,
    country: row.country_iso_code ?? "",
    region: row.region ?? "",
    cloud_provider: row.cloud_provider,
    cloud_region: row.cloud_region,
    cpu_model: row.cpu_model,
    gpu_model: row.gpu_model,
    ...notebookLabels(env),
  };
}

/** The device types a row reports on: GPUs only where there are some. */
export function devices(row: EmissionsData): Device[] {
  return row.gpu_count > 0 || row.gpu_energy > 0 ? ["cpu", "gpu", "ram"] : ["cpu", "ram"];
}

export const energyKWh = (row: EmissionsData, device: Device): number =>
  device === "cpu" ? row.cpu_energy : device === "gpu" ? row.gpu_energy : row.ram_energy;
export const powerW = (row: EmissionsData, device: Device): number =>
  device === "cpu" ? row.cpu_power : device === "gpu" ? row.gpu_power : row.ram_power;
const utilisationPercent = (row: EmissionsData, device: Device): number =>
  device === "cpu"
    ? row.cpu_utilization_percent
    : device === "gpu"
      ? row.gpu_utilization_percent
      : row.ram_utilization_percent;

/** The intensity a row implies (g CO2eq/kWh), for when the measurement's own is not at hand. */
export function rowIntensity(row: EmissionsData): number | null {
  return row.energy_consumed > 0 ? (row.emissions * 1000) / row.energy_consumed : null;
}

/** The families of the /metrics endpoint (and of each push), for one run's latest row. */
export function fleetMetrics(
  row: EmissionsData,
  intensityGPerKWh: number | null,
  host = os.hostname(),
): MetricFamily[] {
  const labels = runLabels(row, host);
  const perDevice = (value: (device: Device) => number): MetricSample[] =>
    devices(row).map((device) => ({ labels: { ...labels, device }, value: value(device) }));
  const intensity = intensityGPerKWh ?? rowIntensity(row);
  const families: MetricFamily[] = [
    {
      name: "codecarbon_energy_joules_total",
      help: `Energy used since the run started, per device type, PUE applied (J). emissions.csv's <device>_energy in kWh × ${JOULES_PER_KWH}.`,
      type: "counter",
      samples: perDevice((d) => energyKWh(row, d) * JOULES_PER_KWH),
    },
    {
      name: "codecarbon_emissions_grams_total",
      help: "Emissions since the run started (g CO2eq). emissions.csv's emissions in kg × 1000.",
      type: "counter",
      samples: [{ labels, value: row.emissions * 1000 }],
    },
    {
      name: "codecarbon_power_watts",
      help: "Mean power per device type over the run so far (W), as emissions.csv's <device>_power.",
      type: "gauge",
      samples: perDevice((d) => powerW(row, d)),
    },
    {
      name: "codecarbon_utilization_ratio",
      help: "Mean utilisation per device type over the run so far (0 to 1), emissions.csv's <device>_utilization_percent / 100.",
      type: "gauge",
      samples: perDevice((d) => utilisationPercent(row, d) / 100),
    },
    {
      name: "codecarbon_run_duration_seconds",
      help: "Seconds since the run started, as emissions.csv's duration.",
      type: "gauge",
      samples: [{ labels, value: row.duration }],
    },
  ];
  if (intensity !== null) {
    families.push({
      name: "codecarbon_carbon_intensity_grams_per_kilowatt_hour",
      help: "Carbon intensity of the electricity in force (g CO2eq/kWh).",
      type: "gauge",
      samples: [{ labels, value: intensity }],
    });
  }
  return families;
}

/**
 * CodeCarbon's Pushgateway gauges, same names, set from the part of the run since the previous
 * push as CodeCarbon does, with its 14 labels (which CodeCarbon leaves empty but project_name;
 * here they are filled), so dashboards built for CodeCarbon keep working.
 */
export function codecarbonCompatMetrics(delta: EmissionsData, total: EmissionsData): MetricFamily[] {
  const labels: Record<string, string> = {
    project_name: total.project_name,
    country_name: total.country_name ?? "",
    country_iso_code: total.country_iso_code ?? "",
    region: total.region ?? "",
    cloud_provider: total.cloud_provider,
    cloud_region: total.cloud_region,
    os: total.os,
    codecarbon_version: total.codecarbon_version,
    cpu_model: total.cpu_model,
    cpu_count: String(total.cpu_count),
    gpu_model: total.gpu_model,
    gpu_count: String(total.gpu_count),
    tracking_mode: total.tracking_mode,
    ram_total_size: String(total.ram_total_size),
  };
  const gauge = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: "gauge",
    samples: [{ labels, value }],
  });
  return [
    gauge("codecarbon_duration", "Duration since the previous push (s), CodeCarbon's gauge", delta.duration),
    gauge("codecarbon_emissions", "Emissions since the previous push (kg CO2eq), CodeCarbon's gauge", delta.emissions),
    gauge(
      "codecarbon_emissions_rate",
      "Emissions rate since the previous push (kg/s), CodeCarbon's gauge",
      delta.emissions_rate,
    ),
    gauge("codecarbon_cpu_power", "CPU power (W), CodeCarbon's gauge", delta.cpu_power),
    gauge("codecarbon_gpu_power", "GPU power (W), CodeCarbon's gauge", delta.gpu_power),
    gauge("codecarbon_ram_power", "RAM power (W), CodeCarbon's gauge", delta.ram_power),
    gauge("codecarbon_cpu_energy", "CPU energy since the previous push (kWh), CodeCarbon's gauge", delta.cpu_energy),
    gauge("codecarbon_gpu_energy", "GPU energy since the previous push (kWh), CodeCarbon's gauge", delta.gpu_energy),
    gauge("codecarbon_ram_energy", "RAM energy since the previous push (kWh), CodeCarbon's gauge", delta.ram_energy),
    gauge(
      "codecarbon_energy_consumed",
      "Energy since the previous push (kWh), CodeCarbon's gauge",
      delta.energy_consumed,
    ),
  ];
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** The Prometheus text exposition format, version 0.0.4. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels)
        .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
        .join(",");
      lines.push(`${family.name}${labels ? `{${labels}}` : ""} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
