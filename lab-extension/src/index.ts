/**
 * codecarbon for JupyterLab: a toolbar toggle on notebooks, a live sidebar, commands, a status
 * bar item and settings from codecarbon's one schema, on every kernel. The tracker runs in a
 * tslab/jslab kernel when codecarbon resolves from the notebook's folder, else beside the kernel
 * (the package's server extension); this extension only drives it and reads its live feed.
 *
 * Small plugins that meet through tokens.ts (settings → per-notebook models → toolbar, sidebar,
 * status bar, commands), so each part can be read, tested and disabled on its own.
 */
import type { JupyterFrontEndPlugin } from "@jupyterlab/application";
import { commandsPlugin } from "./plugins/commands";
import { notebooksPlugin } from "./plugins/notebooks";
import { settingsPlugin } from "./plugins/settings";
import { sidebarPlugin } from "./plugins/sidebar";
import { statusBarPlugin } from "./plugins/status-bar";
import { toolbarPlugin } from "./plugins/toolbar";

export { CommandIds, ICarbonNotebooks, ICarbonSettings, ICarbonSidebar, PluginIds } from "./tokens";

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  settingsPlugin,
  notebooksPlugin,
  toolbarPlugin,
  sidebarPlugin,
  statusBarPlugin,
  commandsPlugin,
];

export default plugins;
