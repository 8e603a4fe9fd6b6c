/** The logger output (output_methods logger): each report as one JSON line in the log. */
import type { TrackerSettings } from "../config/options.generated";
import { log } from "../log";
import type { EmissionsData } from "./emissions-data";
import type { OutputSink } from "./sink";

export function createLoggerSink(settings: TrackerSettings): OutputSink {
  const line = (row: EmissionsData) =>
    `${settings.loggerPreamble ? `[${settings.loggerPreamble}] ` : ""}${JSON.stringify(row)}`;
  return {
    name: "logger",
    quiet: true,
    out: async (total) => log.info(line(total)),
    liveOut: async (total) => log.info(line(total)),
  };
}
