/**
 * The line under each executed code cell, in the style of jupyterlab-execute-time:
 * `⚡ 12.3 mWh · 5.80 mg CO₂eq · 14.2 s`. It is drawn from the cell's metadata (so it comes back
 * after a reload) or from a passing state ("measuring…", "not tracked"); text only, never HTML.
 * The `cell_footer` setting hides it.
 */
import type { Cell } from "@jupyterlab/cells";
import type { NotebookPanel } from "@jupyterlab/notebook";
import { footerText, type FooterState } from "./model/cell-energy";
import { formatEnergy, formatPower } from "./protocol/format";
import type { NotebookCells } from "./notebook-cells";

const FOOTER_CLASS = "jp-codecarbon-cell-footer";

function detail(state: FooterState): string {
  if (state.kind === "measuring") return "CodeCarbon: this cell's share arrives with the next measurement";
  if (state.kind === "untracked") return "CodeCarbon: this execution ran while nothing was tracked";
  const { carbon } = state;
  const { cpu, gpu, ram } = carbon.energyKWh;
  const meanW = carbon.durationS > 0 ? (carbon.energyKWh.total * 3.6e6) / carbon.durationS : 0;
  const parts = [
    `CPU ${formatEnergy(cpu)}`,
    ...(gpu > 0 ? [`GPU ${formatEnergy(gpu)}`] : []),
    `RAM ${formatEnergy(ram)}`,
    `mean ${formatPower(meanW)}`,
    carbon.intensityGPerKWh === null
      ? "intensity still being looked up"
      : `${carbon.intensityGPerKWh.toFixed(0)} g CO₂eq/kWh`,
  ];
  return `CodeCarbon, this cell's latest execution (${carbon.start} → ${carbon.end}): ${parts.join(", ")}`;
}

export class CellFooters {
  private readonly waiting = new WeakSet<Cell>();
  private scheduled = false;
  private disposed = false;

  constructor(
    private readonly panel: NotebookPanel,
    private readonly cells: NotebookCells,
    private readonly enabled: () => boolean,
  ) {
    cells.changed.connect(this.schedule, this);
    panel.context.ready.then(
      () => {
        if (this.disposed) return;
        panel.content.model?.cells.changed.connect(this.schedule, this);
        this.schedule();
      },
      () => undefined,
    );
    panel.content.modelChanged.connect(this.schedule, this);
  }

  dispose(): void {
    this.disposed = true;
  }

  /** Redraws on the next frame: many changes in a row (a run of all cells) draw once. */
  schedule(): void {
    if (this.scheduled || this.disposed) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (!this.disposed) this.render();
    });
  }

  render(): void {
    const on = this.enabled();
    for (const cell of this.panel.content.widgets) {
      if (cell.model.type !== "code") continue;
      const state = on ? this.cells.footerState(cell.model) : null;
      let node = cell.node.querySelector<HTMLElement>(`.${FOOTER_CLASS}`);
      if (state === null) {
        if (node) node.hidden = true;
        continue;
      }
      if (node === null) {
        const editor = cell.editorWidget;
        if (editor === null) {
          // Not rendered yet (the notebook renders cells as they scroll into view).
          if (!this.waiting.has(cell)) {
            this.waiting.add(cell);
            void cell.ready.then(() => this.schedule());
          }
          continue;
        }
        node = document.createElement("div");
        node.className = FOOTER_CLASS;
        editor.node.appendChild(node);
      }
      const text = footerText(state);
      if (node.textContent !== text) node.textContent = text;
      node.title = detail(state);
      node.dataset["state"] = state.kind;
      node.hidden = false;
    }
  }
}
