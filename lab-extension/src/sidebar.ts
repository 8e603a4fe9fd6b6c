/**
 * The right-hand sidebar: the current notebook's live chart, totals and power sources. Every
 * string that comes from a file, a setting or the kernel is set as text, never parsed as HTML.
 */
import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import { EmissionsChart } from "./chart";
import { leafIcon } from "./icons";
import { latestPowerW } from "./protocol/live-feed";
import {
  carEquivalent,
  formatDuration,
  formatEnergy,
  formatIntensity,
  formatMass,
  formatPower,
} from "./protocol/format";
import type { NotebookCarbon } from "./notebook-carbon";

export interface SidebarActions {
  toggle(carbon: NotebookCarbon): void;
  exportCsv(carbon: NotebookCarbon): void;
  openCsv(carbon: NotebookCarbon): void;
  visibilityChanged(): void;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class CarbonSidebar extends Widget {
  private carbon: NotebookCarbon | null = null;
  private readonly notebookLine = element("p", "jp-codecarbon-notebook");
  private readonly statusLine = element("p", "jp-codecarbon-status");
  private readonly totals = element("dl", "jp-codecarbon-totals");
  private readonly sources = element("ul", "jp-codecarbon-sources");
  private readonly chartNode = element("div", "jp-codecarbon-chart");
  private readonly toggleButton = element(
    "button",
    "jp-Button jp-mod-styled jp-mod-accept jp-codecarbon-sidebar-toggle",
  );
  private readonly exportButton = element(
    "button",
    "jp-Button jp-mod-styled jp-mod-reject jp-codecarbon-export",
    "Export CSV",
  );
  private readonly openButton = element(
    "button",
    "jp-Button jp-mod-styled jp-mod-reject jp-codecarbon-open-csv",
    "Open CSV",
  );
  readonly message = element("p", "jp-codecarbon-message");
  private readonly chart = new EmissionsChart(this.chartNode);
  private drawnRunId: string | null = null;
  private drawnUpdate: string | null = null;

  constructor(private readonly actions: SidebarActions) {
    super();
    this.id = "codecarbon-sidebar";
    this.addClass("jp-codecarbon-sidebar");
    this.title.icon = leafIcon;
    this.title.caption = "CodeCarbon: live energy and CO₂ of this notebook";
    this.node.tabIndex = -1;
    this.node.setAttribute("role", "region");
    this.node.setAttribute("aria-label", "CodeCarbon");
    const heading = element("h2", "jp-codecarbon-heading", "CodeCarbon");
    this.statusLine.setAttribute("role", "status");
    this.statusLine.setAttribute("aria-live", "polite");
    this.message.setAttribute("role", "status");
    for (const button of [this.toggleButton, this.exportButton, this.openButton]) button.type = "button";
    this.toggleButton.addEventListener("click", () => this.carbon && this.actions.toggle(this.carbon));
    this.exportButton.addEventListener("click", () => this.carbon && this.actions.exportCsv(this.carbon));
    this.openButton.addEventListener("click", () => this.carbon && this.actions.openCsv(this.carbon));
    const buttons = element("div", "jp-codecarbon-actions");
    buttons.append(this.toggleButton, this.exportButton, this.openButton);
    const sourcesTitle = element("h3", "jp-codecarbon-subheading", "Power sources");
    this.chartNode.setAttribute("aria-label", "Power per device and cumulative emissions over time");
    this.chartNode.setAttribute("role", "img");
    this.node.append(
      heading,
      this.notebookLine,
      this.statusLine,
      buttons,
      this.totals,
      this.chartNode,
      sourcesTitle,
      this.sources,
      this.message,
    );
    this.render();
  }

  /** Draws the chart again, e.g. in a new theme's colours (Plotly does not read CSS variables). */
  redrawChart(): void {
    this.drawnUpdate = null;
    this.render();
  }

  follow(carbon: NotebookCarbon | null): void {
    if (carbon === this.carbon) return;
    this.carbon?.changed.disconnect(this.render, this);
    this.carbon = carbon;
    carbon?.changed.connect(this.render, this);
    this.message.textContent = "";
    this.render();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.actions.visibilityChanged();
    this.render();
  }

  protected override onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.actions.visibilityChanged();
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this.chart.resize();
  }

  private showTotals(rows: [string, string][]): void {
    this.totals.replaceChildren(
      ...rows.flatMap(([term, value]) => [
        element("dt", "jp-codecarbon-term", term),
        element("dd", "jp-codecarbon-value", value),
      ]),
    );
  }

  private render(): void {
    if (!this.isVisible) return;
    const carbon = this.carbon;
    const feed = carbon?.feed ?? null;
    const phase = carbon?.state.phase ?? "no-kernel";
    this.notebookLine.textContent = carbon ? carbon.notebookPath : "";
    this.node.dataset["state"] = carbon ? phase : "no-notebook";
    this.toggleButton.textContent = phase === "tracking" ? "Stop" : "Start";
    this.toggleButton.disabled = !(phase === "tracking" || phase === "idle" || phase === "error");
    this.exportButton.disabled = carbon === null;
    this.openButton.disabled = carbon === null;

    let status: string;
    if (carbon === null) status = "Open a notebook to see its emissions.";
    else if (phase === "no-kernel") status = "This notebook has no kernel.";
    else if (phase === "unsupported")
      status = `Not available: ${carbon.state.message ?? "this kernel cannot run the tracker"}.`;
    else if (phase === "error") status = `Error: ${carbon.state.message ?? "unknown"}`;
    else if (phase === "starting") status = "Starting the tracker…";
    else if (phase === "stopping") status = "Stopping the tracker…";
    else if (phase === "tracking") {
      if (feed === null || feed.points.length === 0) status = "Tracking: waiting for the first measurement…";
      else status = `Tracking ${feed.projectName}, one measurement every ${feed.measurePowerSecs} s.`;
    } else if (feed !== null && feed.state === "stopped")
      status = `Not tracking. Last run of ${feed.projectName} shown.`;
    else status = "Not tracking. Click Track in the notebook toolbar, or run tracker.start() in a cell.";
    if (carbon?.feedProblem) status += ` (The live feed could not be read: ${carbon.feedProblem}.)`;
    this.node.dataset["feed"] = carbon?.feedProblem ? "unreadable" : "ok";
    this.statusLine.textContent = status;

    const showFeed =
      feed !== null && feed.points.length > 0 && (phase === "tracking" || phase === "idle" || phase === "error");
    if (!showFeed || feed === null) {
      this.showTotals([]);
      this.sources.replaceChildren();
      if (this.drawnRunId !== null) this.chart.clear();
      this.drawnRunId = null;
      this.drawnUpdate = null;
      this.chartNode.hidden = true;
      return;
    }
    const power = latestPowerW(feed);
    this.showTotals([
      ["Energy", formatEnergy(feed.totals.energyKWh)],
      ["Emissions", formatMass(feed.totals.emissionsKg)],
      ["Duration", formatDuration(feed.totals.durationS)],
      ["Power", power ? formatPower(power.total) : "–"],
      ["Carbon intensity", formatIntensity(feed.intensity.gPerKWh, feed.intensity.source)],
      ["Equivalent", carEquivalent(feed.totals.emissionsKg)],
    ]);
    const sourceItems = feed.sources.length > 0 ? feed.sources : ["No power source found yet"];
    this.sources.replaceChildren(...sourceItems.map((s) => element("li", "jp-codecarbon-source", s)));
    this.chartNode.hidden = false;
    if (feed.runId !== this.drawnRunId || feed.updatedAt !== this.drawnUpdate) {
      this.drawnRunId = feed.runId;
      this.drawnUpdate = feed.updatedAt;
      void this.chart.draw(feed).catch((error: unknown) => {
        this.message.textContent = `The chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
      });
    }
  }
}
