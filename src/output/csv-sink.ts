/**
 * The CSV output (output_methods csv): the run's row in `<output_dir>/<output_file>`, the task
 * rows in `emissions_<experiment_name>_<run_id>.csv`, the checkpoint that makes the run
 * crash-safe (rewritten at every measurement, removed at stop) and the provenance line beside
 * the CSV. One owner for all four, so they always name the same files.
 */
import * as path from "node:path";
import type { TrackerSettings } from "../config/options.generated";
import { log } from "../log";
import { CheckpointWriter, removeCheckpoint } from "./checkpoint";
import { writeEmissionsRow, writeTaskRows, type CsvTarget } from "./csv-file";
import type { EmissionsData, TaskEmissionsData } from "./emissions-data";
import { currentProcessIdentity } from "../fs/process-identity";
import { appendProvenance, provenanceFile } from "./provenance";
import type { OutputSink } from "./sink";

/** CodeCarbon's task file for a run: `emissions_<experiment_name>_<run_id>.csv` in the output folder. */
export function taskFileFor(settings: Pick<TrackerSettings, "outputDir" | "experimentName">, runId: string): string {
  return path.join(settings.outputDir, `emissions_${settings.experimentName}_${runId}.csv`);
}

export function createCsvSink(settings: TrackerSettings, runId: string): OutputSink {
  const target: CsvTarget = {
    outputDir: settings.outputDir,
    outputFile: settings.outputFile,
    onCsvWrite: settings.onCsvWrite,
  };
  const taskFile = taskFileFor(settings, runId);
  const checkpoints = new CheckpointWriter(settings.outputDir, runId);
  const identity = currentProcessIdentity();
  let latestRow: EmissionsData | undefined;
  let finishedTasks: readonly TaskEmissionsData[] = [];

  const checkpoint = () => {
    if (latestRow === undefined) return;
    try {
      checkpoints.write({
        version: 1,
        runId,
        ...identity,
        target,
        row: latestRow,
        taskRows: [...finishedTasks],
        taskFile: finishedTasks.length > 0 ? taskFile : null,
        updatedAt: new Date().toISOString(),
      });
    } catch (error) {
      log.once(
        "warning",
        "checkpoint",
        `Could not write the run checkpoint in ${settings.outputDir}: ${String(error)}`,
      );
    }
  };

  return {
    name: "csv",
    measured(measurement) {
      latestRow = measurement.row;
      checkpoint();
    },
    tasksChanged(tasks) {
      finishedTasks = tasks;
      checkpoint();
    },
    out: async (total) => {
      await writeEmissionsRow(total, target);
    },
    taskOut: async (tasks) => {
      await writeTaskRows([...tasks], taskFile);
    },
    // Written while the row is: a file of its own, so stop() waits for one write, not two.
    provenance: async (provenance) => {
      await appendProvenance(provenanceFile(settings.outputDir, settings.outputFile), provenance).catch(
        (error: unknown) =>
          log.once("warning", "provenance", `Could not write the run's provenance beside the CSV: ${String(error)}`),
      );
    },
    exit: async () => {
      checkpoints.close();
      await removeCheckpoint(settings.outputDir, runId).catch(() => undefined);
    },
  };
}
