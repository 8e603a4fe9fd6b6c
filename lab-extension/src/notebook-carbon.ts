/**
 * One notebook's view of its kernel's tracker: where it runs (in the kernel or beside it, decided
 * at each kernel change from the kernel's spec and the server's capabilities), the toggle's state, and
 * the latest live feed, read by a Lumino Poll. The toolbar, the sidebar and the status bar all
 * read it, so they agree. Its promises never reject: failures become its state.
 */
import type { ISessionContext } from "@jupyterlab/apputils";
import type { NotebookPanel } from "@jupyterlab/notebook";
import type { Contents, Kernel } from "@jupyterlab/services";
import { Poll } from "@lumino/polling";
import { Signal, type ISignal } from "@lumino/signaling";
import { CellFooters } from "./cell-footers";
import { FeedLocator } from "./feed-reader";
import { readCapabilities, sendKernelCommand, sendServerCommand } from "./kernel-bridge";
import { applyFeedRead, describeError, NO_FEED, type FeedView } from "./model/feed-read";
import { kernelSupport } from "./model/kernel-support";
import { FEED_BACKOFF_MAX_MS } from "./model/poll-cadence";
import { INITIAL_STATE, nextTrackingState, type TrackingEvent, type TrackingState } from "./model/tracking-state";
import type { LabSettings } from "./model/settings";
import { NotebookCells } from "./notebook-cells";
import { KERNEL_API_VERSION } from "./protocol/kernel-command";
import { feedPathFor, joinPath, parentFolder, type LiveFeed } from "./protocol/live-feed";
import { LOG_PREFIX, reportError } from "./report";

export interface CarbonEnvironment {
  contents: Contents.IManager;
  /** The settings editor's values, read at each start. */
  trackerSettings(): Record<string, unknown>;
  /** The extension's display settings (the cell footers). */
  labSettings(): LabSettings;
}

export class NotebookCarbon {
  private _state: TrackingState = INITIAL_STATE;
  private feedView: FeedView = NO_FEED;
  /** Reads may overlap (a refresh during a slow read): only the newest result is applied. */
  private readsStarted = 0;
  private lastReadApplied = 0;
  private readonly poll: Poll<void, Error>;
  private readonly _changed = new Signal<this, void>(this);
  private disposed = false;
  private locator: FeedLocator | null = null;
  /** When (browser clock) the read that gave the current feed began. */
  private feedReadStartedMs = 0;
  /** Per-cell energy: executions timed from the kernel's messages, and the footers under the cells. */
  readonly cells: NotebookCells;
  private readonly footers: CellFooters;

  constructor(
    readonly panel: NotebookPanel,
    private readonly env: CarbonEnvironment,
  ) {
    // No timer until the registry sets a cadence: a notebook nobody looks at costs nothing.
    // Failed reads reject the tick, so the poll backs off (up to FEED_BACKOFF_MAX_MS) instead of
    // hammering a failing server, and a hidden browser tab stands the poll by.
    this.poll = new Poll<void, Error>({
      auto: false,
      factory: () => this.readFeedOnce(),
      frequency: { interval: Poll.NEVER, backoff: true, max: FEED_BACKOFF_MAX_MS },
      standby: "when-hidden",
      name: `codecarbon:feed:${panel.id}`,
    });
    this.cells = new NotebookCells(panel, {
      contents: env.contents,
      feed: () => this.feed,
      feedReadStartedMs: () => this.feedReadStartedMs,
      trackedRunId: () =>
        this._state.phase === "tracking" || this._state.phase === "stopping" ? this._state.runId : null,
    });
    this.cells.changed.connect(() => this._changed.emit());
    this.footers = new CellFooters(panel, this.cells, () => env.labSettings().cellFooter);
    const session = panel.sessionContext;
    session.kernelChanged.connect(this.onKernelChanged, this);
    session.statusChanged.connect(this.onStatusChanged, this);
    session.ready.then(
      () => this.onKernelChanged(),
      (error: unknown) => reportError(`the session of ${this.notebookPath} did not start`, error),
    );
    panel.disposed.connect(() => this.dispose());
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get state(): TrackingState {
    return this._state;
  }
  get feed(): LiveFeed | null {
    return this.feedView.feed;
  }
  /** Why the feed could not be read (the server failed, or the file is not a feed); null when it could. */
  get feedProblem(): string | null {
    return this.feedView.problem;
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
    return joinPath(parentFolder(this.notebookPath), this.feed?.csv ?? "emissions.csv");
  }
  get projectName(): string {
    return this.feed?.projectName ?? this.notebookName;
  }

  /** null: no timer. A new cadence takes effect at once (with a read), as the user just looked. */
  setPollInterval(intervalMs: number | null): void {
    const interval = intervalMs ?? Poll.NEVER;
    if (this.disposed || interval === this.poll.frequency.interval) return;
    this.poll.frequency = { interval, backoff: true, max: FEED_BACKOFF_MAX_MS };
    this.settle(interval === Poll.NEVER ? this.poll.stop() : this.poll.refresh());
  }

  /** Reads now if the poll has a cadence: the browser tab came back after the poll stood by. */
  resume(): void {
    if (!this.disposed && this.poll.frequency.interval !== Poll.NEVER) this.settle(this.poll.refresh());
  }

  /** Starts or stops, whichever the toggle offers. */
  toggle(): Promise<void> {
    return this._state.phase === "tracking" ? this.stop() : this.start();
  }

  start(): Promise<void> {
    return this.command("start");
  }

  stop(): Promise<void> {
    return this.command("stop");
  }

  /** The display settings changed: the footers follow. */
  settingsChanged(): void {
    this.footers.schedule();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.poll.dispose();
    this.footers.dispose();
    this.cells.dispose();
    Signal.clearData(this);
  }

  private locatorFor(folder: string): FeedLocator {
    if (this.locator === null || this.locator.folder !== folder)
      this.locator = new FeedLocator(this.env.contents, folder);
    return this.locator;
  }

  private kernel(): Kernel.IKernelConnection | null {
    return this.panel.sessionContext.session?.kernel ?? null;
  }

  /** The poll's factory: rejects when the read failed, so the poll backs off. */
  private async readFeedOnce(): Promise<void> {
    const kernel = this.kernel();
    if (kernel === null || this._state.phase === "unsupported" || this._state.phase === "no-kernel") return;
    const feedPath = feedPathFor(this.notebookPath, kernel.id);
    const folder = parentFolder(this.notebookPath);
    // A notebook renamed into another folder looks for its feed there.
    const locator = this.locatorFor(folder);
    const readId = ++this.readsStarted;
    const startedMs = Date.now();
    const read = await locator.read(feedPath.slice(feedPath.lastIndexOf("/") + 1));
    // A read that lost a race to a newer one, or that is about another kernel, is old news.
    if (this.disposed || readId < this.lastReadApplied || kernel !== this.kernel()) return;
    this.lastReadApplied = readId;
    const outcome = applyFeedRead(this.feedView, read, Date.now());
    this.feedView = outcome.view;
    if (!outcome.failed) {
      this.feedReadStartedMs = startedMs;
      this.cells.feedUpdated();
    }
    if (outcome.newProblem !== null)
      console.warn(`${LOG_PREFIX} the live feed ${feedPath} could not be read: ${outcome.newProblem}`);
    if (outcome.event !== null) this.dispatch({ type: "feed", ...outcome.event });
    else this._changed.emit();
    if (outcome.failed) throw new Error(outcome.view.problem ?? "the live feed could not be read");
  }

  private async command(action: "start" | "stop"): Promise<void> {
    const kernel = this.kernel();
    if (kernel === null) return;
    const before = this._state;
    this.dispatch({ type: action === "start" ? "start-requested" : "stop-requested" });
    if (this._state === before) return;
    try {
      // The run's last cells reach the cells file before the tracker writes its task rows.
      if (action === "stop") await this.cells.beforeStop();
      const settings = action === "start" ? this.env.trackerSettings() : undefined;
      const request = { version: KERNEL_API_VERSION, action, ...(settings ? { settings } : {}) } as const;
      const reply =
        this._state.mode === "beside"
          ? await sendServerCommand(kernel.serverSettings, kernel.id, request)
          : await sendKernelCommand(kernel, request);
      this.dispatch({ type: "reply", answer: reply });
    } catch (error) {
      this.dispatch({ type: "command-failed", message: describeError(error) });
    }
    if (!this.disposed) this.settle(this.poll.refresh());
  }

  private dispatch(event: TrackingEvent): void {
    const next = nextTrackingState(this._state, event);
    const changed = next !== this._state;
    this._state = next;
    if (changed || event.type === "feed") this._changed.emit();
  }

  private onKernelChanged(): void {
    const kernel = this.kernel();
    this.feedView = NO_FEED;
    this.cells.setKernel(kernel);
    if (kernel === null) {
      this.dispatch({ type: "kernel", kernel: null });
      return;
    }
    // The capabilities say whether codecarbon resolves from the notebook's folder (checked by the
    // server, so a tslab kernel never runs an import that would fail) and whether a tracker can
    // run beside the kernel.
    Promise.all([kernel.spec, readCapabilities(kernel.serverSettings, this.notebookPath)]).then(
      ([spec, capabilities]) => {
        if (this.disposed || kernel !== this.kernel()) return;
        const support = kernelSupport(
          { name: kernel.name, language: spec?.language, argv: spec?.argv, displayName: spec?.display_name },
          capabilities,
        );
        if (!capabilities.ok && capabilities.missing === false)
          console.warn(`${LOG_PREFIX} codecarbon's capabilities could not be read: ${capabilities.problem}`);
        this.dispatch({ type: "kernel", kernel: support });
        if (support.supported) this.settle(this.poll.refresh());
      },
      (error: unknown) => {
        if (this.disposed || kernel !== this.kernel()) return;
        // Without the spec, support is unknown: the toggle stays off and says why.
        const reason = reportError(`the spec of kernel ${kernel.name} could not be read`, error);
        this.dispatch({ type: "kernel", kernel: { supported: false, reason } });
      },
    );
  }

  private onStatusChanged(_: ISessionContext, status: Kernel.Status): void {
    if (status === "restarting" || status === "autorestarting" || status === "dead") {
      this.cells.reset();
      this.dispatch({ type: "kernel-restarted" });
    }
  }

  /** Poll scheduling promises only reject once the poll is disposed, which is expected then. */
  private settle(scheduled: Promise<void>): void {
    scheduled.catch((error: unknown) => {
      if (!this.disposed) reportError("the live feed's poll failed", error);
    });
  }
}
