/**
 * One notebook's view of its kernel's tracker: support of the kernel, the toggle's state, and
 * the latest live feed. The toolbar, the sidebar and the status bar all read it, so they agree.
 */
import type { ISessionContext } from "@jupyterlab/apputils";
import type { NotebookPanel } from "@jupyterlab/notebook";
import type { Contents, Kernel } from "@jupyterlab/services";
import { Signal, type ISignal } from "@lumino/signaling";
import { Poller, readFeed } from "./feed-poller";
import { sendKernelCommand } from "./kernel-bridge";
import { feedPathFor, joinPath, parentFolder, type LiveFeed } from "./protocol/live-feed";
import { KERNEL_API_VERSION } from "./protocol/kernel-command";
import { kernelSupport } from "./model/kernel-support";
import { INITIAL_STATE, isFeedStale, nextTrackingState, type TrackingEvent, type TrackingState } from "./model/tracking-state";

export interface CarbonEnvironment {
  contents: Contents.IManager;
  /** The settings editor's values, read at each start. */
  trackerSettings(): Record<string, unknown>;
}

export class NotebookCarbon {
  private _state: TrackingState = INITIAL_STATE;
  private _feed: LiveFeed | null = null;
  private _feedProblem: string | null = null;
  private feedSeenAt = 0;
  private feedUpdatedAt: string | null = null;
  private readonly poller: Poller;
  private readonly _changed = new Signal<this, void>(this);
  private disposed = false;

  constructor(
    readonly panel: NotebookPanel,
    private readonly env: CarbonEnvironment,
  ) {
    this.poller = new Poller(() => this.refresh());
    const session = panel.sessionContext;
    session.kernelChanged.connect(this.onKernelChanged, this);
    session.statusChanged.connect(this.onStatusChanged, this);
    void session.ready.then(() => this.onKernelChanged());
    panel.disposed.connect(() => this.dispose());
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get state(): TrackingState {
    return this._state;
  }
  get feed(): LiveFeed | null {
    return this._feed;
  }
  /** Why the feed could not be read, when it exists but is unusable. */
  get feedProblem(): string | null {
    return this._feedProblem;
  }
  get notebookPath(): string {
    return this.panel.context.path;
  }
  /** The kernel's default project name: the notebook's file name without .ipynb. */
  get notebookName(): string {
    const base = this.notebookPath.slice(this.notebookPath.lastIndexOf("/") + 1);
    return base.replace(/\.ipynb$/i, "");
  }
  /** The CSV this notebook's runs go to, as a contents path. */
  get csvPath(): string {
    return joinPath(parentFolder(this.notebookPath), this._feed?.csv ?? "emissions.csv");
  }
  get projectName(): string {
    return this._feed?.projectName ?? this.notebookName;
  }

  setPollInterval(intervalMs: number | null): void {
    this.poller.setInterval(intervalMs);
  }

  async start(): Promise<void> {
    await this.command("start");
  }

  async stop(): Promise<void> {
    await this.command("stop");
  }

  async refresh(): Promise<void> {
    const kernel = this.kernel();
    if (kernel === null || this._state.phase === "unsupported" || this._state.phase === "no-kernel") return;
    const read = await readFeed(this.env.contents, feedPathFor(this.notebookPath, kernel.id));
    if (this.disposed) return;
    if (read.kind === "feed") {
      if (read.feed.updatedAt !== this.feedUpdatedAt) {
        this.feedUpdatedAt = read.feed.updatedAt;
        this.feedSeenAt = Date.now();
      }
      this._feed = read.feed;
      this._feedProblem = null;
      this.dispatch({ type: "feed", feed: read.feed, stale: isFeedStale(read.feed, Date.now() - this.feedSeenAt) });
    } else if (read.kind === "missing") {
      this._feed = null;
      this._feedProblem = null;
      this.dispatch({ type: "feed", feed: null, stale: false });
    } else if (read.kind === "invalid") {
      // Keep the last good feed: a file caught mid-replacement is not news.
      this._feedProblem = read.reason;
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.poller.dispose();
    Signal.clearData(this);
  }

  private kernel(): Kernel.IKernelConnection | null {
    return this.panel.sessionContext.session?.kernel ?? null;
  }

  private async command(action: "start" | "stop"): Promise<void> {
    const kernel = this.kernel();
    if (kernel === null) return;
    const before = this._state;
    this.dispatch({ type: action === "start" ? "start-requested" : "stop-requested" });
    if (this._state === before) return;
    try {
      const settings = action === "start" ? this.env.trackerSettings() : undefined;
      const reply = await sendKernelCommand(kernel, { version: KERNEL_API_VERSION, action, ...(settings ? { settings } : {}) });
      this.dispatch({ type: "reply", answer: reply });
    } catch (error) {
      this.dispatch({ type: "command-failed", message: error instanceof Error ? error.message : String(error) });
    }
    this.poller.poke();
  }

  private dispatch(event: TrackingEvent): void {
    const next = nextTrackingState(this._state, event);
    const changed = next !== this._state;
    this._state = next;
    if (changed || event.type === "feed") this._changed.emit();
  }

  private onKernelChanged(): void {
    const kernel = this.kernel();
    this._feed = null;
    this.feedUpdatedAt = null;
    if (kernel === null) {
      this.dispatch({ type: "kernel", kernel: null });
      return;
    }
    void kernel.spec.then((spec) => {
      if (this.disposed || kernel !== this.kernel()) return;
      const support = kernelSupport({ name: kernel.name, language: spec?.language, argv: spec?.argv, displayName: spec?.display_name });
      this.dispatch({ type: "kernel", kernel: support });
      if (support.supported) this.poller.poke();
    });
  }

  private onStatusChanged(_: ISessionContext, status: Kernel.Status): void {
    if (status === "restarting" || status === "autorestarting" || status === "dead") {
      this.dispatch({ type: "kernel-restarted" });
    }
  }
}
