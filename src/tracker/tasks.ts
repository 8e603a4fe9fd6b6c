/**
 * Tasks inside a run (`startTask` / `stopTask`): each task is the difference between the run's
 * totals when it stopped and when it started, as CodeCarbon computes it.
 */
import { log } from "../log";
import type { TaskEmissionsData } from "../output/emissions-data";
import type { EnergyShare } from "../protocol/attribution";
import { emptyTotals, subtractTotals, type RunTotals } from "./accumulator";
import type { MeasurementBuilder } from "./measurement";
import { buildTaskRow } from "./rows";

interface TaskState {
  name: string;
  startTotals: RunTotals;
  result: TaskEmissionsData | null;
}

export class TaskBook {
  private readonly tasks: TaskState[] = [];

  /** `measureNow` takes a measurement so a task's edges fall on fresh totals. */
  constructor(
    private readonly builder: MeasurementBuilder,
    private readonly measureNow: () => Promise<unknown>,
  ) {}

  /** A task row for a share of the run measured elsewhere (a notebook cell's execution). */
  rowForShare(name: string, share: EnergyShare): TaskEmissionsData {
    const { pue, wue } = this.builder.meta;
    const delta: RunTotals = {
      ...emptyTotals(),
      durationS: share.durationS,
      cpuEnergyKWh: share.cpuKWh,
      gpuEnergyKWh: share.gpuKWh,
      ramEnergyKWh: share.ramKWh,
      cpuRawKWh: share.cpuKWh / pue,
      gpuRawKWh: share.gpuKWh / pue,
      ramRawKWh: share.ramKWh / pue,
      waterL: share.energyKWh * wue,
      emissionsKg: share.emissionsKg,
    };
    return buildTaskRow(name, this.builder.meta, delta, this.builder.utilisationMeans());
  }

  finished(): TaskEmissionsData[] {
    return this.tasks.flatMap((t) => (t.result ? [t.result] : []));
  }

  async start(name: string): Promise<string> {
    const active = this.tasks.find((t) => t.result === null);
    if (active) {
      log.warning(`Task "${active.name}" is still running; stop it before starting "${name}".`);
      return active.name;
    }
    const unique = this.tasks.some((t) => t.name === name) ? `${name}_${this.tasks.length}` : name;
    await this.measureNow();
    this.tasks.push({ name: unique, startTotals: this.builder.accumulator.snapshot(), result: null });
    return unique;
  }

  /** Stops the running task (or the one named); null, with a warning, when there is none. */
  async stop(name?: string): Promise<TaskEmissionsData | null> {
    const task = this.tasks.find((t) => t.result === null && (name === undefined || t.name === name));
    if (!task) {
      log.warning(
        name === undefined ? "stopTask(): no task is running." : `stopTask(): no running task named "${name}".`,
      );
      return null;
    }
    return this.finish(task);
  }

  /** At stop: tasks still running end with the run. */
  async finishAll(): Promise<void> {
    for (const task of this.tasks) if (task.result === null) await this.finish(task);
  }

  private async finish(task: TaskState): Promise<TaskEmissionsData> {
    await this.measureNow();
    const delta = subtractTotals(this.builder.accumulator.snapshot(), task.startTotals);
    task.result = buildTaskRow(task.name, this.builder.meta, delta, this.builder.utilisationMeans());
    return task.result;
  }
}
