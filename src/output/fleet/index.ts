/**
 * Outputs for fleets, into monitoring systems that already aggregate many machines: a
 * Prometheus /metrics endpoint (prometheus_port), CodeCarbon's Pushgateway push
 * (output_methods prometheus) and OpenTelemetry OTLP/HTTP (output_methods otel). All run in the
 * sampling thread and never throw into the run: failures are logged once and retried.
 */
import type { TrackerSettings } from "../../config/options.generated";
import { log } from "../../log";
import type { EmissionsData } from "../emissions-data";
import type { OutputSink } from "../sink";

export interface FleetContext {
  runId: string;
  packageVersion: string;
  /** The run's latest row, the CSV's, updated at every measurement. */
  currentRow(): EmissionsData;
  env?: NodeJS.ProcessEnv;
}

export function createFleetOutputs(settings: TrackerSettings, context: FleetContext): OutputSink[] {
  const sinks: OutputSink[] = [];
  if (settings.prometheusPort !== null) {
    const { createExpositionSink } = require("./exposition") as typeof import("./exposition");
    sinks.push(createExpositionSink({ host: settings.prometheusHost, port: settings.prometheusPort, currentRow: context.currentRow }));
  }
  if (settings.outputMethods.includes("prometheus")) {
    const { createPushgatewaySink } = require("./pushgateway") as typeof import("./pushgateway");
    sinks.push(createPushgatewaySink(settings, { runId: context.runId, ...(context.env ? { env: context.env } : {}) }));
  }
  if (settings.outputMethods.includes("otel")) {
    try {
      const { createOtelSink } = require("./otel") as typeof import("./otel");
      sinks.push(createOtelSink(settings, { currentRow: context.currentRow, packageVersion: context.packageVersion, ...(context.env ? { env: context.env } : {}) }));
    } catch (error) {
      log.once("warning", "otel-load", `The OpenTelemetry output could not start (${error instanceof Error ? error.message : String(error)}); the other outputs go on.`);
    }
  }
  return sinks;
}
