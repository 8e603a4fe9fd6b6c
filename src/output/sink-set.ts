/**
 * A run's outputs, called together: each sink's failure is logged once and never stops the
 * others, the run, or the user's computation.
 */
import { log } from "../log";
import type { EmissionsData, TaskEmissionsData } from "./emissions-data";
import type { RunProvenance } from "./provenance";
import type { Measurement, OutputSink, RunDescription } from "./sink";

export class SinkSet {
  constructor(private readonly sinks: readonly OutputSink[]) {}

  /** Whether every output is quiet (see `OutputSink.quiet`). */
  get quiet(): boolean {
    return this.sinks.every((sink) => sink.quiet === true);
  }

  measured(measurement: Measurement): void {
    this.each("measure", (sink) => sink.measured?.(measurement));
  }

  described(description: RunDescription): void {
    this.each("describe", (sink) => sink.described?.(description));
  }

  tasksChanged(tasks: readonly TaskEmissionsData[]): void {
    this.each("tasks", (sink) => sink.tasksChanged?.(tasks));
  }

  /** A report: `live` every api_call_interval measurements, `out` at flush and stop. */
  async report(kind: "live" | "out", total: EmissionsData, delta: EmissionsData): Promise<void> {
    for (const sink of this.sinks) {
      try {
        await (kind === "out" ? sink.out(total, delta) : sink.liveOut?.(total, delta));
      } catch (error) {
        log.once("error", `sink:${sink.name}:${String(error)}`, `Output "${sink.name}" failed: ${String(error)}`);
      }
    }
  }

  async tasks(tasks: readonly TaskEmissionsData[]): Promise<void> {
    if (tasks.length === 0) return;
    for (const sink of this.sinks) {
      try {
        await sink.taskOut?.(tasks);
      } catch (error) {
        log.once("error", `sink-task:${sink.name}`, `Output "${sink.name}" failed to write tasks: ${String(error)}`);
      }
    }
  }

  async exit(provenance: RunProvenance): Promise<void> {
    for (const sink of this.sinks) await sink.exit?.({ provenance }).catch(() => undefined);
  }

  /** Calls a synchronous hook on every sink; one that throws is logged once and the others still run. */
  private each(hook: string, call: (sink: OutputSink) => void): void {
    for (const sink of this.sinks) {
      try {
        call(sink);
      } catch (error) {
        log.once("warning", `sink-${hook}:${sink.name}`, `Output "${sink.name}" failed: ${String(error)}`);
      }
    }
  }
}
