/**
 * Which outputs a run has. Each `output_methods` value maps to one sink factory, and the outputs
 * switched on by their own keys (emissions_endpoint, prometheus_port, a notebook's live feed) are
 * listed beside them; every factory takes the same context. Adding an output is one factory
 * file, one line here and one enum value in the schema.
 *
 * The heavy outputs (network, fleet, OpenTelemetry) are loaded only when a run asks for them,
 * so importing the package stays cheap. A factory that fails is logged once; the others go on.
 */
import * as path from "node:path";
import type { TrackerSettings } from "../config/options.generated";
import { log } from "../log";
import type { EmissionsData } from "./emissions-data";
import type { OutputSink } from "./sink";

export type OutputMethod = TrackerSettings["outputMethods"][number];

export interface SinkContext {
  settings: TrackerSettings;
  runId: string;
  packageVersion: string;
  /** The run's row (the CSV's) as of the latest measurement. */
  latestRow(): EmissionsData;
  /** Called with the Code Carbon API's id for this run once the API has created it. */
  onApiRunId?: (apiRunId: string) => void;
  env?: NodeJS.ProcessEnv;
}

export type SinkFactory = (context: SinkContext) => OutputSink | OutputSink[];

// Each require names its module literally, so a bundler (the wheel's tracker) can follow it.
const networkSinks = (context: SinkContext, api: boolean): OutputSink[] => {
  const { createNetworkOutputs, runFactsFromRow } = require("./api-sink") as typeof import("./api-sink");
  return createNetworkOutputs(context.settings, {
    runId: context.runId,
    runFacts: () => runFactsFromRow(context.latestRow()),
    api,
    ...(context.onApiRunId ? { onApiRunId: context.onApiRunId } : {}),
    ...(context.env ? { env: context.env } : {}),
  });
};

/** One factory per `output_methods` value. */
const OUTPUT_METHOD_SINKS: Record<OutputMethod, SinkFactory> = {
  csv: ({ settings, runId }) => (require("./csv-sink") as typeof import("./csv-sink")).createCsvSink(settings, runId),
  logger: ({ settings }) => (require("./logger-sink") as typeof import("./logger-sink")).createLoggerSink(settings),
  // The API and emissions_endpoint share one spool and uploader.
  api: (context) => networkSinks(context, true),
  prometheus: ({ settings, runId, env }) =>
    (require("./fleet/pushgateway") as typeof import("./fleet/pushgateway")).createPushgatewaySink(settings, {
      runId,
      ...(env ? { env } : {}),
    }),
  otel: ({ settings, latestRow, packageVersion, env }) =>
    (require("./fleet/otel") as typeof import("./fleet/otel")).createOtelSink(settings, {
      currentRow: latestRow,
      packageVersion,
      ...(env ? { env } : {}),
    }),
};

/** An output: when a run wants it and how it is made. Rooms above this one (the notebook) bring their own. */
export interface OutputEntry {
  name: string;
  wanted(context: SinkContext): boolean;
  create: SinkFactory;
}

const byMethod = (method: OutputMethod): OutputEntry => ({
  name: method,
  wanted: ({ settings }) => settings.outputMethods.includes(method),
  create: OUTPUT_METHOD_SINKS[method],
});

/** Every output in the order it runs: files first, then the network, then fleets (then the `extra` ones). */
const OUTPUTS: readonly OutputEntry[] = [
  byMethod("csv"),
  byMethod("logger"),
  byMethod("api"),
  {
    name: "emissions_endpoint",
    wanted: ({ settings }) => settings.emissionsEndpoint !== null && !settings.outputMethods.includes("api"),
    create: (context) => networkSinks(context, false),
  },
  {
    name: "prometheus_port",
    wanted: ({ settings }) => settings.prometheusPort !== null,
    create: ({ settings, latestRow }) =>
      (require("./fleet/exposition") as typeof import("./fleet/exposition")).createExpositionSink({
        host: settings.prometheusHost,
        port: settings.prometheusPort ?? 0,
        currentRow: latestRow,
      }),
  },
  byMethod("prometheus"),
  byMethod("otel"),
];

export function createSinks(context: SinkContext, extra: readonly OutputEntry[] = []): OutputSink[] {
  const sinks: OutputSink[] = [];
  for (const output of [...OUTPUTS, ...extra]) {
    if (!output.wanted(context)) continue;
    try {
      const made = output.create(context);
      sinks.push(...(Array.isArray(made) ? made : [made]));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.once(
        "warning",
        `sink-create:${output.name}`,
        `The ${output.name} output could not start (${reason}); the other outputs go on.`,
      );
    }
  }
  return sinks;
}

/** Whether a run reports to the Code Carbon API (its API run id then goes in the provenance). */
export function reportsToApi(settings: Pick<TrackerSettings, "outputMethods">): boolean {
  return settings.outputMethods.includes("api");
}

/** The CSV a run writes, or null when the csv output is off: the one place that decides it. */
export function csvFile(settings: Pick<TrackerSettings, "outputMethods" | "outputDir" | "outputFile">): string | null {
  return settings.outputMethods.includes("csv") ? path.join(settings.outputDir, settings.outputFile) : null;
}

/** An output folder that cannot be used: one line that names it, says why and what to do. */
export class OutputFolderError extends Error {
  override name = "OutputFolderError";
  constructor(folder: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = OUTPUT_FOLDER_REASONS[code ?? ""] ?? (cause instanceof Error ? cause.message : String(cause));
    super(
      `cannot use output_dir "${folder}" (${why}): set output_dir (or outputDir in code) to a folder this process may write to`,
      { cause },
    );
  }
}

const OUTPUT_FOLDER_REASONS: Readonly<Record<string, string>> = {
  ENOTDIR: "a file is in the way: it, or a folder above it, is not a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "it is on a read-only file system",
  ENOENT: "a folder above it does not exist and cannot be created there",
  ENOSPC: "the disk is full",
  ENAMETOOLONG: "the path is too long",
  ELOOP: "too many symbolic links",
};

/**
 * Makes the output folder (a clear error when it cannot be used: the user can fix that at once)
 * and starts recovering the runs that died in it; the promise settles when recovery is done.
 */
export function prepareOutputFolder(
  settings: Pick<TrackerSettings, "outputDir" | "outputFile" | "onCsvWrite" | "csvEscapeFormulas">,
): Promise<void> {
  const { makeDirectorySync } = require("../fs/atomic-write") as typeof import("../fs/atomic-write");
  const { recoverOrphanedRuns } = require("./checkpoint") as typeof import("./checkpoint");
  try {
    makeDirectorySync(settings.outputDir);
  } catch (error) {
    throw new OutputFolderError(settings.outputDir, error);
  }
  const csv = { ...settings, escapeFormulas: settings.csvEscapeFormulas };
  return recoverOrphanedRuns(settings.outputDir, csv).then(
    (recovered) => recovered.forEach((r) => log.info(`Recovered interrupted run ${r.runId} into ${r.file}.`)),
    (error: unknown) => log.warning(`Could not recover interrupted runs in ${settings.outputDir}: ${String(error)}`),
  );
}
