/**
 * The models of open notebooks, and the cadence at which each reads its feed: it depends on
 * which notebook is current, whether its chart is on screen and whether it is tracked, so it is
 * set here, where all three are known.
 */
import type { NotebookPanel, INotebookTracker } from "@jupyterlab/notebook";
import { Signal, type ISignal } from "@lumino/signaling";
import { NotebookCarbon, type CarbonEnvironment } from "./notebook-carbon";
import { feedPollIntervalMs } from "./model/poll-cadence";
import type { ICarbonNotebooks } from "./tokens";

export class CarbonNotebooks implements ICarbonNotebooks {
  private readonly carbons = new WeakMap<NotebookPanel, NotebookCarbon>();
  /** The models whose poll cadence is kept up to date (a WeakMap cannot be walked). */
  private readonly live = new Set<NotebookCarbon>();
  private _sidebarVisible = false;
  private readonly _currentChanged = new Signal<this, NotebookCarbon | null>(this);
  private readonly _phaseChanged = new Signal<this, NotebookCarbon>(this);

  constructor(
    private readonly notebooks: INotebookTracker,
    private readonly env: CarbonEnvironment,
  ) {
    notebooks.currentChanged.connect(() => {
      const carbon = this.current;
      this.updatePolling();
      this._currentChanged.emit(carbon);
    });
    // The poll stands by in a hidden tab; coming back, the user should not wait a whole interval.
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) return;
      for (const carbon of this.live) carbon.resume();
    });
  }

  get currentChanged(): ISignal<this, NotebookCarbon | null> {
    return this._currentChanged;
  }
  get phaseChanged(): ISignal<this, NotebookCarbon> {
    return this._phaseChanged;
  }

  get current(): NotebookCarbon | null {
    const panel = this.notebooks.currentWidget;
    return panel ? this.carbonFor(panel) : null;
  }

  get sidebarVisible(): boolean {
    return this._sidebarVisible;
  }
  set sidebarVisible(visible: boolean) {
    if (visible === this._sidebarVisible) return;
    this._sidebarVisible = visible;
    this.updatePolling();
  }

  carbonFor(panel: NotebookPanel): NotebookCarbon {
    const known = this.carbons.get(panel);
    if (known !== undefined) return known;
    const carbon = new NotebookCarbon(panel, this.env);
    this.carbons.set(panel, carbon);
    this.live.add(carbon);
    let phase = carbon.state.phase;
    carbon.changed.connect(() => {
      if (carbon.state.phase === phase) return;
      phase = carbon.state.phase;
      this.updatePolling();
      this._phaseChanged.emit(carbon);
    });
    panel.disposed.connect(() => this.live.delete(carbon));
    this.updatePolling();
    return carbon;
  }

  /** The display settings changed: every open notebook's footers follow. */
  settingsChanged(): void {
    for (const carbon of this.live) carbon.settingsChanged();
  }

  private updatePolling(): void {
    const panel = this.notebooks.currentWidget;
    const active = panel ? this.carbons.get(panel) : undefined;
    for (const carbon of this.live) {
      carbon.setPollInterval(
        feedPollIntervalMs({
          isCurrent: carbon === active,
          sidebarVisible: this._sidebarVisible,
          tracking: carbon.state.phase === "tracking",
          measurePowerSecs: carbon.feed?.measurePowerSecs ?? null,
        }),
      );
    }
  }
}
