/**
 * Per-cell attribution on the tracker's side: the run's full-resolution series, kept in memory
 * (the live feed's points are thinned for the chart), and, at flush and stop, the notebook's cell
 * executions (written by the JupyterLab extension beside the feed) turned into CodeCarbon task
 * rows. The tracker is the one writer of the task CSV; the extension only writes the cells file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { log } from "../log";
import type { TaskEmissionsData } from "../output/emissions-data";
import type { Measurement } from "../output/sink";
import { attributeExecution, type EnergyShare, type RunSeries, type SeriesPoint } from "../protocol/attribution";
import { cellsRelativePath, parseCellsFile } from "../protocol/cells";
import type { LiveFeedTarget } from "./live-feed-sink";

/** A cells file larger than this is not read (5000 executions take well under a megabyte). */
const MAX_CELLS_FILE_BYTES = 4 * 1024 * 1024;

export type ShareRow = (taskName: string, share: EnergyShare) => TaskEmissionsData;

export class CellAttribution {
  private readonly points: SeriesPoint[] = [];
  private readonly file: string;
  private readonly startMs: number;

  constructor(
    private readonly target: LiveFeedTarget,
    private readonly toRow: ShareRow,
  ) {
    this.file = path.join(path.dirname(path.dirname(target.file)), ...cellsRelativePath(target.kernelId).split("/"));
    this.startMs = Date.parse(target.startedAt);
  }

  record({ sample }: Measurement): void {
    const { cpu, gpu, ram } = sample.energyKWh;
    this.points.push({
      tMs: Date.parse(sample.timestamp),
      cpuKWh: cpu,
      gpuKWh: gpu,
      ramKWh: ram,
      g: sample.intensityGPerKWh,
    });
  }

  /** One task row per cell execution of this run; none when the notebook wrote no cells file. */
  taskRows(stopped: boolean): TaskEmissionsData[] {
    const text = this.readCellsFile();
    if (text === null) return [];
    const parsed = parseCellsFile(text);
    if (!parsed.ok) {
      log.once("warning", `cells-file:${parsed.reason}`, `Ignoring ${this.file}: ${parsed.reason}.`);
      return [];
    }
    if (parsed.file.runId !== this.target.runId || parsed.file.kernelId !== this.target.kernelId) return [];
    const series: RunSeries = { startMs: this.startMs, points: this.points, stopped };
    const rows: TaskEmissionsData[] = [];
    for (const execution of parsed.file.executions) {
      const share = attributeExecution(series, execution);
      if (share.state !== "attributed") continue;
      const count = execution.executionCount === null ? " " : String(execution.executionCount);
      rows.push(this.toRow(`In [${count}] ${execution.label}`, share));
    }
    return rows;
  }

  /** The cells file's text, or null when there is none; never follows a link or reads a special file. */
  private readCellsFile(): string | null {
    let fd: number;
    try {
      // O_NOFOLLOW: a link planted in a shared folder is not followed; O_NONBLOCK: a FIFO does not block.
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        log.once("warning", "cells-file-open", `Ignoring ${this.file}: ${String(error)}`);
      }
      return null;
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.size > MAX_CELLS_FILE_BYTES) {
        log.once("warning", "cells-file-kind", `Ignoring ${this.file}: not a regular file of a sensible size.`);
        return null;
      }
      return fs.readFileSync(fd, "utf8");
    } catch (error) {
      log.once("warning", "cells-file-read", `Could not read ${this.file}: ${String(error)}`);
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }
}
