/**
 * The right-hand sidebar: the current notebook's live chart, totals and power sources. Every
 * string that comes from a file, a setting or the kernel is set as text, never parsed as HTML.
 */
import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import { EmissionsChart } from "./chart";
import { leafIcon } from "./icons";
import { cellBands, emissionsText, type CellRow } from "./model/cell-energy";
import { latestPowerW, type LiveFeed } from "./protocol/live-feed";
import { carEquivalent, formatDuration, formatEnergy, formatIntensity, formatPower } from "./protocol/format";
import type { NotebookCarbon } from "./notebook-carbon";

export interface SidebarActions {
  toggle(carbon: NotebookCarbon): void;
  exportCsv(carbon: NotebookCarbon): void;
  openCsv(carbon: NotebookCarbon): void;
  /** Shows the notebook and scrolls to one of its cells (a click in the Cells table). */
  showCell(carbon: NotebookCarbon, cellId: string): void;
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
  private readonly cellsTitle = element("h3", "jp-codecarbon-subheading", "Cells");
  private readonly cellsTable = element("table", "jp-codecarbon-cells");
  private readonly cellsBody = element("tbody", "jp-codecarbon-cells-body");
  private readonly cellsNote = element("p", "jp-codecarbon-cells-note");
  /** What the Cells table shows now: redrawn only when the cells or the feed changed. */
  private drawnCells: string | null = null;
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
    this.chartNode.setAttribute(
      "aria-label",
      "Power per device and cumulative emissions over time; shaded bands are cell executions",
    );
    const head = element("thead", "");
    const headRow = element("tr", "");
    for (const [text, cls] of [
      ["Cell", "jp-codecarbon-cell-label"],
      ["Energy", "jp-codecarbon-num"],
      ["CO₂eq", "jp-codecarbon-num"],
      ["Time", "jp-codecarbon-num"],
    ] as const) {
      const th = element("th", cls, text);
      th.scope = "col";
      headRow.append(th);
    }
    head.append(headRow);
    this.cellsTable.append(head, this.cellsBody);
    this.cellsTable.setAttribute("aria-label", "Energy per cell in this run, most first");
    this.cellsBody.addEventListener("click", (event) => this.onCellClick(event));
    this.cellsBody.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") this.onCellClick(event);
    });
    this.chartNode.setAttribute("role", "img");
    this.node.append(
      heading,
      this.notebookLine,
      this.statusLine,
      buttons,
      this.totals,
      this.chartNode,
      this.cellsTitle,
      this.cellsNote,
      this.cellsTable,
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

  private onCellClick(event: Event): void {
    const row = (event.target as HTMLElement | null)?.closest<HTMLElement>("tr[data-cell-id]");
    const cellId = row?.dataset["cellId"];
    if (cellId && this.carbon) {
      event.preventDefault();
      this.actions.showCell(this.carbon, cellId);
    }
  }

  /** The Cells table: one row per cell of the run, most energy first, then the time outside cells. */
  private renderCells(carbon: NotebookCarbon | null, feed: LiveFeed | null): void {
    const key = carbon && feed ? `${feed.runId}|${feed.updatedAt}|${carbon.cells.version}` : "";
    if (key === this.drawnCells) return;
    this.drawnCells = key;
    const startedMs = performance.now();
    const rows: CellRow[] = carbon && feed ? carbon.cells.rows(feed) : [];
    const cellRows = rows.filter((r) => r.cellId !== null);
    this.cellsTitle.hidden = feed === null;
    this.cellsTable.hidden = cellRows.length === 0;
    this.cellsNote.hidden = feed === null || cellRows.length > 0;
    this.cellsNote.textContent = "No cell has run in this run yet: each cell's share appears here when it ends.";
    this.cellsBody.replaceChildren(
      ...rows.map((row) => {
        const tr = element("tr", row.cellId === null ? "jp-codecarbon-cell-row jp-mod-idle" : "jp-codecarbon-cell-row");
        if (row.cellId !== null) {
          tr.dataset["cellId"] = row.cellId;
          tr.tabIndex = 0;
          tr.title = `${row.executions} execution${row.executions === 1 ? "" : "s"} in this run: click to show the cell`;
        }
        tr.append(
          element("td", "jp-codecarbon-cell-label", row.label),
          element("td", "jp-codecarbon-num", formatEnergy(row.energyKWh)),
          // The column's head says CO₂eq: the unit alone keeps the figures narrow.
          element(
            "td",
            "jp-codecarbon-num",
            emissionsText(row.emissionsKg, row.energyKWh, row.priced).replace(" CO₂eq", ""),
          ),
          element("td", "jp-codecarbon-num", formatDuration(row.durationS)),
        );
        return tr;
      }),
    );
    // How long this table took to build (ms): the lab benchmark and the UI tests read it.
    this.cellsTable.dataset["renderMs"] = (performance.now() - startedMs).toFixed(2);
    this.cellsTable.dataset["rows"] = String(rows.length);
  }

  private render(): void {
    if (!this.isVisible) return;
    const carbon = this.carbon;
    const feed = carbon?.feed ?? null;
    const phase = carbon?.state.phase ?? "no-kernel";
    this.notebookLine.textContent = carbon ? carbon.notebookPath : "";
    this.node.dataset["state"] = carbon ? phase : "no-notebook";
    this.node.dataset["mode"] = carbon?.state.mode ?? "none";
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
    else
      status =
        carbon.state.mode === "beside"
          ? "Not tracking. Click Track in the notebook toolbar: the tracker runs beside the kernel."
          : "Not tracking. Click Track in the notebook toolbar, or run tracker.start() in a cell.";
    if (carbon?.feedProblem) status += ` (The live feed could not be read: ${carbon.feedProblem}.)`;
    this.node.dataset["feed"] = carbon?.feedProblem ? "unreadable" : "ok";
    this.statusLine.textContent = status;

    const showFeed =
      feed !== null && feed.points.length > 0 && (phase === "tracking" || phase === "idle" || phase === "error");
    this.renderCells(carbon, showFeed ? feed : null);
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
    const priced = feed.intensity.gPerKWh !== null;
    // The run's duration so far: at the first point the totals may still read 0 s.
    const durationS = Math.max(feed.totals.durationS, feed.points.at(-1)?.s ?? 0);
    this.showTotals([
      ["Energy", formatEnergy(feed.totals.energyKWh)],
      ["Emissions", emissionsText(feed.totals.emissionsKg, feed.totals.energyKWh, priced)],
      ["Duration", formatDuration(durationS)],
      ["Power", power ? formatPower(power.total) : "–"],
      ["Carbon intensity", formatIntensity(feed.intensity.gPerKWh, feed.intensity.source)],
      ["Equivalent", priced ? carEquivalent(feed.totals.emissionsKg) : "pricing…"],
    ]);
    const sourceItems = feed.sources.length > 0 ? feed.sources : ["No power source found yet"];
    this.sources.replaceChildren(...sourceItems.map((s) => element("li", "jp-codecarbon-source", s)));
    this.chartNode.hidden = false;
    const update = `${feed.updatedAt}|${carbon?.cells.version ?? 0}`;
    if (feed.runId !== this.drawnRunId || update !== this.drawnUpdate) {
      this.drawnRunId = feed.runId;
      this.drawnUpdate = update;
      const bands = carbon ? cellBands(feed, carbon.cells.executionsOf(feed)) : [];
      void this.chart.draw(feed, bands).catch((error: unknown) => {
        this.message.textContent = `The chart could not be drawn: ${error instanceof Error ? error.message : String(error)}`;
      });
    }
  }
}
