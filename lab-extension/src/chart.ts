/**
 * The live chart: power per device (W) and cumulative emissions (g) against time. Plotly is
 * large, so it is loaded on first show as a chunk of its own and never on JupyterLab's start.
 */
import type { CellBand } from "./model/cell-energy";
import type { LiveFeed } from "./protocol/live-feed";

/** More bands than this are drawn without captions, which would overlap. */
const MAX_CAPTIONED_BANDS = 40;

type PlotlyModule = {
  react(
    root: HTMLElement,
    data: unknown[],
    layout: Record<string, unknown>,
    config: Record<string, unknown>,
  ): Promise<unknown>;
  purge(root: HTMLElement): void;
  Plots: { resize(root: HTMLElement): void };
};

let plotly: Promise<PlotlyModule> | null = null;

function loadPlotly(): Promise<PlotlyModule> {
  plotly ??= import(/* webpackChunkName: "codecarbon-plotly" */ "plotly.js-dist-min").then(
    (m) => ("default" in m ? m.default : m) as unknown as PlotlyModule,
  );
  return plotly;
}

function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

export class EmissionsChart {
  private module: PlotlyModule | null = null;
  private drawn = false;

  constructor(readonly node: HTMLElement) {}

  /** Draws the feed, with the run's cell executions as bands behind the lines; the first call loads Plotly. */
  async draw(feed: LiveFeed, bands: readonly CellBand[] = []): Promise<void> {
    this.module ??= await loadPlotly();
    const seconds = feed.points.map((p) => p.s);
    // Grams, or milligrams for short runs, so the axis reads "3.4 mg" rather than "0.0034 g".
    const maxG = Math.max(0, ...feed.points.map((p) => p.kg * 1000));
    const [massUnit, massScale] = maxG < 1 ? ["mg", 1e6] : ["g", 1e3];
    // The CO₂ axis starts at 0 exactly: left to autorange, an all-zero or flat series got a negative tick.
    const maxMass = maxG * (massScale / 1e3);
    const massRange = [0, maxMass > 0 ? maxMass * 1.08 : 1];
    // A single measurement is a point, not an invisible line of one.
    const mode = feed.points.length === 1 ? "markers" : "lines";
    const band = themeColor("--jp-brand-color2", "#90caf9");
    const text = themeColor("--jp-ui-font-color1", "#222");
    const grid = themeColor("--jp-border-color2", "#ddd");
    const series = (name: string, values: number[], color: string, axis: "y" | "y2", dash?: string) => ({
      type: "scatter",
      mode,
      name,
      x: seconds,
      y: values,
      yaxis: axis,
      line: { color, width: 2, ...(dash ? { dash } : {}) },
      hovertemplate: `%{y:.3~f}${axis === "y" ? " W" : ` ${massUnit}`} at %{x:.0f} s<extra>${name}</extra>`,
    });
    const data = [
      series(
        "CPU W",
        feed.points.map((p) => p.cpuW),
        "#1f77b4",
        "y",
      ),
      series(
        "RAM W",
        feed.points.map((p) => p.ramW),
        "#9467bd",
        "y",
      ),
      ...(feed.points.some((p) => p.gpuW > 0)
        ? [
            series(
              "GPU W",
              feed.points.map((p) => p.gpuW),
              "#ff7f0e",
              "y",
            ),
          ]
        : []),
      series(
        `CO₂eq ${massUnit}`,
        feed.points.map((p) => p.kg * massScale),
        "#2ca02c",
        "y2",
        "dot",
      ),
    ];
    const layout = {
      margin: { l: 40, r: 48, t: bands.length > 0 && bands.length <= MAX_CAPTIONED_BANDS ? 18 : 8, b: 24 },
      height: 300,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: text, size: 11 },
      showlegend: true,
      legend: { orientation: "h", x: 0, y: -0.12, yanchor: "top" },
      xaxis: { ticksuffix: " s", gridcolor: grid, zeroline: false },
      yaxis: { ticksuffix: " W", gridcolor: grid, rangemode: "tozero" },
      yaxis2: {
        ticksuffix: ` ${massUnit}`,
        tickformat: ".3~g",
        nticks: 5,
        overlaying: "y",
        side: "right",
        range: massRange,
        autorange: false,
        showgrid: false,
        exponentformat: "none",
      },
      shapes: bands.map((b) => ({
        type: "rect",
        xref: "x",
        yref: "paper",
        x0: b.x0,
        x1: b.x1,
        y0: 0,
        y1: 1,
        fillcolor: band,
        opacity: 0.25,
        line: { width: 0 },
        layer: "below",
      })),
      annotations:
        bands.length > MAX_CAPTIONED_BANDS
          ? []
          : bands.map((b) => ({
              x: (b.x0 + b.x1) / 2,
              y: 1,
              xref: "x",
              yref: "paper",
              yanchor: "bottom",
              text: b.caption,
              showarrow: false,
              font: { size: 9, color: text },
            })),
      uirevision: feed.runId,
    };
    await this.module.react(this.node, data, layout, { displayModeBar: false, responsive: true });
    this.drawn = true;
    this.node.dataset["points"] = String(feed.points.length);
    this.node.dataset["bands"] = String(bands.length);
    // When the drawn feed was written: the UI tests and the lab benchmark read the delay from it.
    this.node.dataset["updatedAt"] = feed.updatedAt;
  }

  resize(): void {
    if (this.module && this.drawn) this.module.Plots.resize(this.node);
  }

  clear(): void {
    if (this.module && this.drawn) this.module.purge(this.node);
    this.drawn = false;
    delete this.node.dataset["points"];
    delete this.node.dataset["bands"];
    delete this.node.dataset["updatedAt"];
  }
}
