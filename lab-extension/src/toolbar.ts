/** The notebook toolbar's start/stop toggle (declared in the schema under jupyter.lab.toolbars.Notebook). */
import { Widget } from "@lumino/widgets";
import { leafIcon } from "./icons";
import { toggleView } from "./model/tracking-state";
import type { NotebookCarbon } from "./notebook-carbon";
import { reportError } from "./report";

export class TrackingToggle extends Widget {
  private readonly button: HTMLButtonElement;
  private readonly label: HTMLSpanElement;

  constructor(private readonly carbon: NotebookCarbon) {
    super();
    this.addClass("jp-codecarbon-toggle");
    this.button = document.createElement("button");
    this.button.type = "button";
    this.button.className = "jp-ToolbarButtonComponent jp-mod-minimal jp-Button jp-codecarbon-toggle-button";
    const icon = document.createElement("span");
    icon.className = "jp-ToolbarButtonComponent-icon jp-codecarbon-toggle-icon";
    leafIcon.element({ container: icon });
    this.label = document.createElement("span");
    this.label.className = "jp-ToolbarButtonComponent-label jp-codecarbon-toggle-label";
    this.button.append(icon, this.label);
    this.button.addEventListener("click", () => this.onClick());
    this.node.appendChild(this.button);
    carbon.changed.connect(this.render, this);
    this.render();
  }

  private onClick(): void {
    // The model turns a failed command into its error state; this catch is for the unforeseen.
    this.carbon.toggle().catch((error: unknown) => reportError("the toolbar toggle failed", error));
  }

  private render(): void {
    const { phase } = this.carbon.state;
    const view = toggleView(this.carbon.state);
    this.label.textContent = view.label;
    this.button.title = view.caption;
    this.button.setAttribute("aria-label", view.caption);
    this.button.setAttribute("aria-pressed", String(view.pressed));
    this.button.disabled = !view.enabled;
    this.node.dataset["state"] = phase;
    this.node.dataset["mode"] = this.carbon.state.mode ?? "none";
  }
}
