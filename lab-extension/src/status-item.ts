/**
 * The status bar item: the current notebook's emissions rate while it is tracked, or that its
 * live feed cannot be read (the reason in the tooltip), so a broken feed is not a silent blank.
 */
import { Widget } from "@lumino/widgets";
import { emissionsRateKgPerH } from "./protocol/live-feed";
import { formatRate } from "./protocol/format";
import type { NotebookCarbon } from "./notebook-carbon";

const RATE_TITLE = "CodeCarbon: emissions rate of this notebook's run";

export class CarbonStatusItem extends Widget {
  private carbon: NotebookCarbon | null = null;

  constructor() {
    super();
    this.addClass("jp-codecarbon-status-item");
    this.node.title = RATE_TITLE;
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
    const problem = this.active ? (this.carbon?.feedProblem ?? null) : null;
    const feed = this.carbon?.feed ?? null;
    const rate = feed && this.active ? emissionsRateKgPerH(feed) : null;
    if (problem !== null) {
      this.node.textContent = "CO₂ feed unreadable";
      this.node.title = `CodeCarbon: the live feed could not be read: ${problem}`;
    } else {
      this.node.textContent = rate === null ? "" : `CO₂ ${formatRate(rate)}`;
      this.node.title = RATE_TITLE;
    }
    this.node.dataset["feed"] = problem === null ? "ok" : "unreadable";
    this.node.hidden = problem === null && rate === null;
  }
}
