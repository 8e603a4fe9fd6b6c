/** The status bar item: the current notebook's emissions rate while it is tracked. */
import { Widget } from "@lumino/widgets";
import { emissionsRateKgPerH } from "./protocol/live-feed";
import { formatRate } from "./protocol/format";
import type { NotebookCarbon } from "./notebook-carbon";

export class CarbonStatusItem extends Widget {
  private carbon: NotebookCarbon | null = null;

  constructor() {
    super();
    this.addClass("jp-codecarbon-status-item");
    this.node.title = "CodeCarbon: emissions rate of this notebook's run";
    this.render();
  }

  follow(carbon: NotebookCarbon | null): void {
    this.carbon?.changed.disconnect(this.render, this);
    this.carbon = carbon;
    carbon?.changed.connect(this.render, this);
    this.render();
  }

  get active(): boolean {
    return this.carbon?.state.phase === "tracking";
  }

  private render(): void {
    const feed = this.carbon?.feed ?? null;
    const rate = feed && this.active ? emissionsRateKgPerH(feed) : null;
    this.node.textContent = rate === null ? "" : `CO₂ ${formatRate(rate)}`;
    this.node.hidden = rate === null;
  }
}
