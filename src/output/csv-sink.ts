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

/**
 * CodeCarbon's task file for a run: `emissions_<experiment_name>_<run_id>.csv` in the output
 * folder. The experiment name is a name, not a path: a separator, `..` or a control character
 * in it becomes `_`, so the file stays in the output folder whatever the name says.
 */
export function taskFileFor(settings: Pick<TrackerSettings, "outputDir" | "experimentName">, runId: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is being removed
  const name = settings.experimentName.replace(/[/\\\x00-\x1f]|\.\./g, "_").slice(0, 100);
  return path.join(settings.outputDir, `emissions_${name}_${runId}.csv`);
}

export function createCsvSink(settings: TrackerSettings, runId: string): OutputSink {
  const target: CsvTarget = {
    outputDir: settings.outputDir,
    outputFile: settings.outputFile,
    onCsvWrite: settings.onCsvWrite,
    escapeFormulas: settings.csvEscapeFormulas,
  };
  const taskFile = taskFileFor(settings, runId);
  const checkpoints = new CheckpointWriter(settings.outputDir, runId);
  const identity = currentProcessIdentity();
  let latestRow: EmissionsData | undefined;
  let finishedTasks: readonly TaskEmissionsData[] = [];
  /** Why the latest row (or task file) did not reach the CSV; null once both are written. */
  let unwritten: string | null = null;
  let tasksUnwritten: string | null = null;

  const checkpoint = (final = false) => {
    if (latestRow === undefined) return false;
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
        ...(final ? { final: true } : {}),
      });
      return true;
    } catch (error) {
      log.once(
        "warning",
        "checkpoint",
        `Could not write the run checkpoint in ${settings.outputDir}: ${String(error)}`,
      );
      return false;
    }
  };

  return {
    name: "csv",
    quiet: true,
    measured(measurement) {
      latestRow = measurement.row;
      checkpoint();
    },
    tasksChanged(tasks) {
      finishedTasks = tasks;
      checkpoint();
    },
    out: async (total) => {
      latestRow = total;
      try {
        await writeEmissionsRow(total, target);
        unwritten = null;
      } catch (error) {
        unwritten = String(error);
        throw error;
      }
    },
    taskOut: async (tasks) => {
      try {
        await writeTaskRows([...tasks], taskFile, target);
        tasksUnwritten = null;
      } catch (error) {
        tasksUnwritten = String(error);
        throw error;
      }
    },
    exit: async (final) => {
      if (final !== undefined) {
        await appendProvenance(provenanceFile(settings.outputDir, settings.outputFile), final.provenance).catch(
          (error: unknown) =>
            log.once("warning", "provenance", `Could not write the run's provenance beside the CSV: ${String(error)}`),
        );
      }
      // The checkpoint goes only once its rows are durably in the CSV: until then it is the
      // only copy of the run.
      const failure = unwritten ?? tasksUnwritten;
      if (failure === null) {
        checkpoints.close();
        await removeCheckpoint(settings.outputDir, runId).catch(() => undefined);
        return;
      }
      const kept = checkpoint(true);
      checkpoints.close();
      const csv = path.join(settings.outputDir, settings.outputFile);
      log.error(
        kept
          ? `The run's row could not be written to ${csv} (${failure}). It is kept in ${checkpoints.file} and will ` +
              `be written by the next tracker started with output_dir ${settings.outputDir}, or by \`codecarbon recover\`.`
          : `The run's row could not be written to ${csv} (${failure}), nor kept in a checkpoint: this run is lost.`,
      );
    },
  };
}
