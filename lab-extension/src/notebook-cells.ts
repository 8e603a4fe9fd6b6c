/**
 * Which cell spent the energy: times each code-cell execution of one notebook from its kernel's
 * own messages (the `status` busy and idle whose parent is the cell's execute request: the
 * kernel's clock, the sampler's, not the browser's), gives it its share of the tracked run once
 * the feed covers it, keeps the result in the cell's metadata, and writes the run's executions
 * to the cells file the kernel-side tracker turns into task rows at flush and stop.
 *
 * The execute request is recognised by the `cellId` JupyterLab puts in its metadata, so the
 * extension's own commands (no cell) and other clients' requests are not counted.
 */
import type { NotebookPanel } from "@jupyterlab/notebook";
import type { Contents, Kernel, KernelMessage } from "@jupyterlab/services";
import type { ICellModel } from "@jupyterlab/cells";
import { Signal, type ISignal } from "@lumino/signaling";
import {
  cellRows,
  resolveExecution,
  type AttributedExecution,
  type CellRow,
  type FinishedExecution,
  type FooterState,
} from "./model/cell-energy";
import type { CellExecution } from "./protocol/attribution";
import {
  CELL_METADATA_KEY,
  CELLS_FILE_VERSION,
  cellLabel,
  cellsRelativePath,
  MAX_CELL_EXECUTIONS,
  parseCellCarbon,
  type CellCarbon,
  type CellsFile,
} from "./protocol/cells";
import { joinPath, parentFolder, type LiveFeed } from "./protocol/live-feed";
import { reportError } from "./report";

/** What the notebook's model tells the cells about the run. */
export interface CellsHost {
  contents: Contents.IManager;
  /** The latest feed read, and when (browser clock) the read that gave it began. */
  feed(): LiveFeed | null;
  feedReadStartedMs(): number;
  /** The run the toggle shows as tracked (or stopping), null otherwise. */
  trackedRunId(): string | null;
}

interface RunningExecution {
  cellId: string;
  label: string;
  start: string | null;
  executionCount: number | null;
}

interface RunCells {
  executions: FinishedExecution[];
  attributed: Map<string, AttributedExecution>;
}

function toExecution(e: FinishedExecution): CellExecution {
  return { cellId: e.cellId, executionCount: e.executionCount, label: e.label, start: e.start, end: e.end };
}

export class NotebookCells {
  private kernel: Kernel.IKernelConnection | null = null;
  /** Executions sent and not yet idle, by their execute request's msg_id. */
  private readonly running = new Map<string, RunningExecution>();
  private unresolved: FinishedExecution[] = [];
  private readonly runs = new Map<string, RunCells>();
  /** Each cell's latest execution: only it may write the cell's metadata. */
  private readonly latestByCell = new Map<string, string>();
  private readonly transient = new Map<string, FooterState>();
  private hadRun = false;
  private writes: Promise<void> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];
  private readonly _changed = new Signal<this, void>(this);
  /** Bumped at every change of what the table or the footers show. */
  version = 0;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly host: CellsHost,
  ) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Follows the session's kernel: executions of the previous one are dropped. */
  setKernel(kernel: Kernel.IKernelConnection | null): void {
    if (kernel === this.kernel) return;
    this.kernel?.anyMessage.disconnect(this.onMessage, this);
    this.kernel = kernel;
    kernel?.anyMessage.connect(this.onMessage, this);
    this.reset();
  }

  /** The kernel restarted or died: what it was running will never end. */
  reset(): void {
    this.running.clear();
    this.unresolved = [];
    this.transient.clear();
    this.hadRun = false;
    this.releaseWaiters();
    this.bump();
  }

  dispose(): void {
    this.kernel?.anyMessage.disconnect(this.onMessage, this);
    this.kernel = null;
    this.releaseWaiters();
    Signal.clearData(this);
  }

  /** The feed was read: executions waiting for it are resolved. */
  feedUpdated(): void {
    if (this.host.feed() !== null) this.hadRun = true;
    if (this.unresolved.length > 0) this.resolve();
  }

  /**
   * Before the toolbar stops the run: waits for the executions already sent to end (the stop queues behind them in
   * the kernel anyway) and for the cells file to hold them, so the run's last task rows include the last cell.
   */
  async beforeStop(): Promise<void> {
    if (this.running.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.writes;
  }

  /** What a cell's footer shows: a transient state (measuring, not tracked), else its metadata, else nothing. */
  footerState(cell: ICellModel): FooterState | null {
    const transient = this.transient.get(cell.id);
    if (transient !== undefined) return transient;
    const carbon = parseCellCarbon(cell.getMetadata(CELL_METADATA_KEY));
    return carbon === null ? null : { kind: "carbon", carbon };
  }

  /**
   * The Cells table for the feed's run: the executions seen in this session, and for cells run before a reload, the
   * latest execution their metadata keeps.
   */
  rows(feed: LiveFeed | null): CellRow[] {
    return feed === null ? [] : cellRows(this.executionsOf(feed), feed);
  }

  /** The feed's run's executions with their shares (this session's, and those cell metadata keeps). */
  executionsOf(feed: LiveFeed): AttributedExecution[] {
    const executions = [...(this.runs.get(feed.runId)?.attributed.values() ?? [])];
    const seen = new Set(executions.map((e) => e.execution.cellId));
    for (const cell of this.cellModels()) {
      if (seen.has(cell.id)) continue;
      const carbon = parseCellCarbon(cell.getMetadata(CELL_METADATA_KEY));
      if (carbon === null || carbon.runId !== feed.runId) continue;
      const count = (cell as { executionCount?: number | null }).executionCount ?? null;
      executions.push({
        execution: {
          cellId: cell.id,
          executionCount: count,
          label: cellLabel(cell.sharedModel.getSource()),
          start: carbon.start,
          end: carbon.end,
        },
        carbon,
      });
    }
    return executions;
  }

  private *cellModels(): Iterable<ICellModel> {
    const cells = this.panel.content.model?.cells;
    if (!cells) return;
    for (let i = 0; i < cells.length; i++) yield cells.get(i);
  }

  private cellModel(cellId: string): ICellModel | null {
    for (const cell of this.cellModels()) if (cell.id === cellId) return cell;
    return null;
  }

  private onMessage(_: Kernel.IKernelConnection, args: Kernel.IAnyMessageArgs): void {
    const { msg, direction } = args;
    if (direction === "send") {
      if (msg.header.msg_type !== "execute_request") return;
      const cellId = (msg.metadata as { cellId?: unknown }).cellId;
      if (typeof cellId !== "string" || cellId === "") return;
      const cell = this.cellModel(cellId);
      if (cell === null || cell.type !== "code") return;
      this.running.set(msg.header.msg_id, {
        cellId,
        label: cellLabel(cell.sharedModel.getSource()),
        start: null,
        executionCount: null,
      });
      return;
    }
    const parentId = (msg.parent_header as Partial<KernelMessage.IHeader>).msg_id;
    if (parentId === undefined) return;
    const running = this.running.get(parentId);
    if (running === undefined) return;
    switch (msg.header.msg_type) {
      case "execute_input":
        running.executionCount = (msg.content as KernelMessage.IExecuteInputMsg["content"]).execution_count ?? null;
        break;
      case "execute_reply": {
        const count = (msg.content as { execution_count?: unknown }).execution_count;
        if (typeof count === "number") running.executionCount = count;
        break;
      }
      case "status": {
        const state = (msg.content as KernelMessage.IStatusMsg["content"]).execution_state;
        if (state === "busy" && running.start === null) running.start = msg.header.date;
        else if (state === "idle") this.finish(parentId, running, msg.header.date);
        break;
      }
      default:
        break;
    }
  }

  private finish(requestId: string, running: RunningExecution, end: string): void {
    this.running.delete(requestId);
    if (this.running.size === 0) this.releaseWaiters();
    if (running.start === null || !Number.isFinite(Date.parse(running.start)) || !Number.isFinite(Date.parse(end)))
      return;
    const model = this.cellModel(running.cellId);
    const modelCount = (model as { executionCount?: number | null } | null)?.executionCount ?? null;
    const execution: FinishedExecution = {
      cellId: running.cellId,
      executionCount: running.executionCount ?? modelCount,
      label: running.label,
      start: running.start,
      end,
      requestId,
      seenEndMs: Date.now(),
    };
    this.latestByCell.set(execution.cellId, requestId);
    this.unresolved.push(execution);
    if (this.unresolved.length > MAX_CELL_EXECUTIONS) this.unresolved.shift();
    this.resolve();
  }

  private resolve(): void {
    const feed = this.host.feed();
    const readStartedMs = this.host.feedReadStartedMs();
    const trackedRunId = this.host.trackedRunId();
    const waiting: FinishedExecution[] = [];
    for (const execution of this.unresolved) {
      const resolution = resolveExecution(feed, readStartedMs, execution);
      switch (resolution.state) {
        case "pending": {
          // Ended while the toggle shows a run whose feed has not caught up: it belongs to that run.
          const runId = resolution.runId ?? trackedRunId;
          if (runId !== null) {
            this.join(runId, execution);
            this.setTransient(execution, { kind: "measuring" });
          }
          waiting.push(execution);
          break;
        }
        case "untracked":
          this.untracked(execution);
          break;
        case "attributed":
          this.join(resolution.runId, execution);
          this.attributed(resolution.runId, execution, resolution.carbon);
          if (!resolution.final) waiting.push(execution);
          break;
      }
    }
    this.unresolved = waiting;
    this.bump();
  }

  private runCells(runId: string): RunCells {
    let run = this.runs.get(runId);
    if (run === undefined) {
      run = { executions: [], attributed: new Map() };
      this.runs.set(runId, run);
    }
    return run;
  }

  /** Adds the execution to the run's cells file (once), while that run is tracked. */
  private join(runId: string, execution: FinishedExecution): void {
    const run = this.runCells(runId);
    if (run.executions.some((e) => e.requestId === execution.requestId)) return;
    run.executions.push(execution);
    if (run.executions.length > MAX_CELL_EXECUTIONS) run.executions.shift();
    const feed = this.host.feed();
    const live = this.host.trackedRunId() === runId || (feed?.runId === runId && feed.state === "running");
    if (live) this.writeCellsFile(runId);
  }

  private attributed(runId: string, execution: FinishedExecution, carbon: CellCarbon): void {
    this.runCells(runId).attributed.set(execution.requestId, { execution: toExecution(execution), carbon });
    if (this.latestByCell.get(execution.cellId) !== execution.requestId) return;
    this.transient.delete(execution.cellId);
    this.cellModel(execution.cellId)?.setMetadata(CELL_METADATA_KEY, carbon as unknown as Record<string, unknown>);
  }

  /**
   * Ran while nothing was tracked: a result kept from an earlier run would now describe other outputs, so it goes;
   * the footer says "not tracked" only in a kernel that has tracked (users who never track see nothing).
   */
  private untracked(execution: FinishedExecution): void {
    if (this.latestByCell.get(execution.cellId) !== execution.requestId) return;
    const model = this.cellModel(execution.cellId);
    if (model?.getMetadata(CELL_METADATA_KEY) !== undefined) model.deleteMetadata(CELL_METADATA_KEY);
    if (this.hadRun) this.transient.set(execution.cellId, { kind: "untracked" });
    else this.transient.delete(execution.cellId);
  }

  private setTransient(execution: FinishedExecution, state: FooterState): void {
    if (this.latestByCell.get(execution.cellId) === execution.requestId) this.transient.set(execution.cellId, state);
  }

  private writeCellsFile(runId: string): void {
    const kernel = this.kernel;
    const run = this.runs.get(runId);
    if (kernel === null || run === undefined) return;
    const path = joinPath(parentFolder(this.panel.context.path), cellsRelativePath(kernel.id));
    // One write at a time, in order: each holds every execution so far, so the last one wins.
    this.writes = this.writes
      .then(async () => {
        const file: CellsFile = {
          version: CELLS_FILE_VERSION,
          kernelId: kernel.id,
          runId,
          executions: run.executions.slice(-MAX_CELL_EXECUTIONS).map(toExecution),
        };
        await this.host.contents.save(path, { type: "file", format: "text", content: JSON.stringify(file) });
      })
      .catch((error: unknown) => {
        reportError(`the cells file ${path} could not be written (the run's task rows will miss these cells)`, error);
      });
  }

  private releaseWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private bump(): void {
    this.version += 1;
    this._changed.emit();
  }
}
