/** The status bar item with the current notebook's emissions rate. */
import type { JupyterFrontEndPlugin } from "@jupyterlab/application";
import { IStatusBar } from "@jupyterlab/statusbar";
import { CarbonStatusItem } from "../status-item";
import { ICarbonNotebooks, PluginIds } from "../tokens";

export const statusBarPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIds.statusBar,
  description: "The current notebook's emissions rate in the status bar while it is tracked.",
  autoStart: true,
  requires: [ICarbonNotebooks],
  // Optional so that a JupyterLab without a status bar (a custom app) starts without an error.
  optional: [IStatusBar],
  activate: (_app, carbons: ICarbonNotebooks, statusBar: IStatusBar | null): void => {
    if (statusBar === null) return;
    const item = new CarbonStatusItem();
    item.follow(carbons.current);
    carbons.currentChanged.connect((_, carbon) => item.follow(carbon));
    statusBar.registerStatusItem("codecarbon-jupyterlab:status", { item, align: "left", rank: 5 });
  },
};
