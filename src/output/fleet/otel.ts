/**
 * OpenTelemetry metrics over OTLP/HTTP, with the official SDK, configured by the standard
 * variables (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, _HEADERS,
 * _TIMEOUT; OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), so any collector or vendor backend
 * receives them. Instruments follow the hardware semantic conventions: `hw.energy` (J, counter)
 * and `hw.power` (W, gauge) per device, plus `codecarbon.emissions` (g, counter) and
 * `codecarbon.carbon_intensity` (g/kWh, gauge). The SDK is loaded only when this output is on.
 * The exporter uses its own HTTP client, which does not read HTTP(S)_PROXY.
 */
import * as os from "node:os";
import type { TrackerSettings } from "../../config/options.generated";
import { log } from "../../log";
import { RetryGate } from "../../net/backoff";
import type { EmissionsData } from "../emissions-data";
import type { OutputSink } from "../sink";
import { JOULES_PER_KWH } from "../../protocol/units";
import { timeoutMsFromSeconds } from "../../units";
import { devices, energyKWh, powerW, rowIntensity, runLabels, type Device } from "./metrics";

export interface OtelContext {
  currentRow(): EmissionsData;
  packageVersion: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

const HW_TYPE: Record<Device, string> = { cpu: "cpu", gpu: "gpu", ram: "memory" };

type SdkMetrics = typeof import("@opentelemetry/sdk-metrics");
type OtlpHttp = typeof import("@opentelemetry/exporter-metrics-otlp-http");
type Resources = typeof import("@opentelemetry/resources");
type PushMetricExporter = import("@opentelemetry/sdk-metrics").PushMetricExporter;

export function createOtelSink(settings: Pick<TrackerSettings, "apiTimeoutSecs">, context: OtelContext): OutputSink {
  const env = context.env ?? process.env;
  const now = context.now ?? Date.now;
  const protocol = env["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"] ?? env["OTEL_EXPORTER_OTLP_PROTOCOL"];
  if (protocol && protocol !== "http/json") {
    log.once(
      "warning",
      "otel-protocol",
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: this exporter speaks http/json (OTLP/HTTP with JSON bodies), which collectors accept on the same port; using it.`,
    );
  }
  const { MeterProvider, PeriodicExportingMetricReader } = require("@opentelemetry/sdk-metrics") as SdkMetrics;
  const { OTLPMetricExporter } = require("@opentelemetry/exporter-metrics-otlp-http") as OtlpHttp;
  const { resourceFromAttributes, defaultResource } = require("@opentelemetry/resources") as Resources;

  const first = context.currentRow();
  const otlp = new OTLPMetricExporter({ timeoutMillis: timeoutMsFromSeconds(settings.apiTimeoutSecs) });
  // The reader hands export failures to the SDK's global error handler, not to forceFlush():
  // the result is caught here so the sink can say once what went wrong and back off.
  let lastFailure: Error | null = null;
  const exporter: PushMetricExporter = {
    export: (metrics, done) =>
      otlp.export(metrics, (result) => {
        lastFailure = result.code === 0 ? null : (result.error ?? new Error("the export failed"));
        done(result);
      }),
    forceFlush: () => otlp.forceFlush(),
    shutdown: () => otlp.shutdown(),
    selectAggregationTemporality: (kind) => otlp.selectAggregationTemporality(kind),
  };
  // Exports happen when the run reports (every api_call_interval measurements, flush, stop);
  // the periodic timer is only a backstop for long intervals.
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 60_000,
    exportTimeoutMillis: timeoutMsFromSeconds(settings.apiTimeoutSecs),
  });
  const resource = defaultResource().merge(
    resourceFromAttributes({
      "service.name": env["OTEL_SERVICE_NAME"] ?? "codecarbon",
      "service.version": context.packageVersion,
      "host.name": os.hostname(),
    }),
  );
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter("codecarbon", context.packageVersion);
  const energy = meter.createObservableCounter("hw.energy", {
    unit: "J",
    description: "Energy used since the run started, per device, PUE applied",
  });
  const power = meter.createObservableGauge("hw.power", {
    unit: "W",
    description: "Mean power per device over the run so far",
  });
  const emissions = meter.createObservableCounter("codecarbon.emissions", {
    unit: "g",
    description: "Emissions since the run started (g CO2eq)",
  });
  const intensityGauge = meter.createObservableGauge("codecarbon.carbon_intensity", {
    unit: "g/kWh",
    description: "Carbon intensity of the electricity in force (g CO2eq/kWh)",
  });
  let intensity: number | null = null;
  let row = first;

  meter.addBatchObservableCallback(
    (result) => {
      const labels = runLabels(row);
      const runAttributes = {
        "codecarbon.project": labels["project"] ?? "",
        "codecarbon.experiment_id": labels["experiment_id"] ?? "",
        "codecarbon.run_id": labels["run_id"] ?? "",
        "codecarbon.country": labels["country"] ?? "",
        "codecarbon.region": labels["region"] ?? "",
        "cloud.provider": labels["cloud_provider"] ?? "",
        "cloud.region": labels["cloud_region"] ?? "",
        "codecarbon.notebook": labels["notebook"] ?? "",
        "user.name": labels["user"] ?? "",
      };
      for (const device of devices(row)) {
        const name = device === "cpu" ? row.cpu_model : device === "gpu" ? row.gpu_model : `${row.ram_total_size} GiB`;
        const attributes = { ...runAttributes, "hw.id": device, "hw.type": HW_TYPE[device], "hw.name": name };
        result.observe(energy, energyKWh(row, device) * JOULES_PER_KWH, attributes);
        result.observe(power, powerW(row, device), attributes);
      }
      result.observe(emissions, row.emissions * 1000, runAttributes);
      const g = intensity ?? rowIntensity(row);
      if (g !== null) result.observe(intensityGauge, g, runAttributes);
    },
    [energy, power, emissions, intensityGauge],
  );

  const gate = new RetryGate(now);
  const flush = async (force: boolean): Promise<void> => {
    row = context.currentRow();
    if (!gate.allows(force)) return;
    try {
      lastFailure = null;
      await reader.forceFlush({ timeoutMillis: timeoutMsFromSeconds(settings.apiTimeoutSecs) });
      if (lastFailure !== null) throw lastFailure;
      if (gate.succeeded()) log.info("The OpenTelemetry collector answers again; the run's totals are exported.");
    } catch (error) {
      gate.failed();
      const where =
        env["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] ??
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] ??
        "http://localhost:4318 (the OTLP default)";
      log.once(
        "warning",
        "otel-export",
        `Could not export metrics to the OpenTelemetry collector at ${where} (${error instanceof Error ? error.message : String(error)}); retrying with backoff. Counters are cumulative, so the next export carries the run's totals.`,
      );
    }
  };

  return {
    name: "opentelemetry",
    measured({ sample, row: latest }) {
      intensity = sample.intensityGPerKWh;
      row = latest;
    },
    liveOut: (total) => {
      row = total;
      return flush(false);
    },
    out: (total) => {
      row = total;
      return flush(true);
    },
    exit: async () => {
      await provider.shutdown({ timeoutMillis: timeoutMsFromSeconds(settings.apiTimeoutSecs) }).catch(() => undefined);
    },
  };
}
