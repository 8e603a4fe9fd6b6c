/**
 * codecarbon for JupyterLab: a toolbar toggle on notebooks, a live sidebar, commands, a status
 * bar item and settings from codecarbon's one schema. The tracker itself runs in the notebook's
 * tslab kernel (the codecarbon package); this extension only drives it and reads its live feed.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, IThemeManager, IToolbarWidgetRegistry, Notification } from "@jupyterlab/apputils";
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { IStatusBar } from "@jupyterlab/statusbar";
import { leafIcon } from "./icons";
import { exportNotebookRows } from "./model/csv-export";
import { trackerSettingsFrom } from "./model/settings";
import { NotebookCarbon } from "./notebook-carbon";
import { CarbonSidebar } from "./sidebar";
import { CarbonStatusItem } from "./status-item";
import { TrackingToggle } from "./toolbar";

const PLUGIN_ID = "codecarbon-jupyterlab:plugin";

export const CommandIds = {
  start: "codecarbon:start",
  stop: "codecarbon:stop",
  openSidebar: "codecarbon:open-sidebar",
  export: "codecarbon:export",
  openCsv: "codecarbon:open-csv",
} as const;

/** How often the current notebook's feed is read: the measurement cadence while a chart is shown. */
function pollIntervalMs(carbon: NotebookCarbon, isCurrent: boolean, sidebarVisible: boolean): number | null {
  if (document.hidden) return null;
  const tracking = carbon.state.phase === "tracking";
  if (!isCurrent) return tracking ? 10_000 : null;
  if (sidebarVisible && tracking) return Math.min(Math.max((carbon.feed?.measurePowerSecs ?? 1) * 1000, 1000), 5000);
  return 3000;
}

function download(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function activate(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  toolbarRegistry: IToolbarWidgetRegistry,
  settingRegistry: ISettingRegistry,
  restorer: ILayoutRestorer | null,
  palette: ICommandPalette | null,
  statusBar: IStatusBar | null,
  themeManager: IThemeManager | null,
): void {
  const carbons = new WeakMap<NotebookPanel, NotebookCarbon>();
  const live = new Set<NotebookCarbon>();
  let settings: ISettingRegistry.ISettings | null = null;
  settingRegistry.load(PLUGIN_ID).then(
    (loaded) => {
      settings = loaded;
    },
    (error: unknown) => console.warn("codecarbon: settings could not be loaded; the toolbar starts trackers with the config files only.", error),
  );

  const current = (): NotebookCarbon | null => {
    const panel = notebooks.currentWidget;
    return panel ? carbonFor(panel) : null;
  };

  const sidebar = new CarbonSidebar({
    toggle: (carbon) => void (carbon.state.phase === "tracking" ? carbon.stop() : carbon.start()),
    exportCsv: (carbon) => void exportCsv(carbon),
    openCsv: (carbon) => void openCsv(carbon),
    visibilityChanged: () => updatePolling(),
  });
  const statusItem = new CarbonStatusItem();

  function carbonFor(panel: NotebookPanel): NotebookCarbon {
    let carbon = carbons.get(panel);
    if (carbon === undefined) {
      carbon = new NotebookCarbon(panel, {
        contents: app.serviceManager.contents,
        trackerSettings: () => {
          if (settings === null) return {};
          const known = new Set(Object.keys(settings.schema.properties ?? {}));
          return trackerSettingsFrom(settings.user as Record<string, unknown>, known);
        },
      });
      carbons.set(panel, carbon);
      live.add(carbon);
      let phase = carbon.state.phase;
      carbon.changed.connect((c) => {
        if (c.state.phase !== phase) {
          phase = c.state.phase;
          updatePolling();
          app.commands.notifyCommandChanged();
        }
      });
      panel.disposed.connect(() => live.delete(carbon!));
      updatePolling();
    }
    return carbon;
  }

  function updatePolling(): void {
    const active = current();
    for (const carbon of live) carbon.setPollInterval(pollIntervalMs(carbon, carbon === active, sidebar.isVisible));
  }

  async function exportCsv(carbon: NotebookCarbon): Promise<void> {
    const path = carbon.csvPath;
    let text: string;
    try {
      const model = await app.serviceManager.contents.get(path, { type: "file", format: "text", content: true });
      text = typeof model.content === "string" ? model.content : "";
    } catch {
      const message = `No ${path} yet: stop a run first (the kernel writes the CSV when a run stops).`;
      sidebar.message.textContent = message;
      Notification.warning(message, { autoClose: 5000 });
      return;
    }
    const result = exportNotebookRows(text, carbon.projectName);
    if (!result.ok) {
      sidebar.message.textContent = `Nothing exported: ${result.reason}.`;
      Notification.warning(sidebar.message.textContent, { autoClose: 5000 });
      return;
    }
    download("emissions.csv", result.csv);
    sidebar.message.textContent = `Exported ${result.rows} row${result.rows === 1 ? "" : "s"} of ${carbon.projectName} from ${path}.`;
  }

  async function openCsv(carbon: NotebookCarbon): Promise<void> {
    const path = carbon.csvPath;
    try {
      await app.serviceManager.contents.get(path, { content: false });
    } catch {
      sidebar.message.textContent = `No ${path} yet: stop a run first.`;
      return;
    }
    await app.commands.execute("docmanager:open", { path });
  }

  toolbarRegistry.addFactory<NotebookPanel>("Notebook", "codecarbon", (panel) => new TrackingToggle(carbonFor(panel)));

  notebooks.currentChanged.connect(() => {
    const carbon = current();
    sidebar.follow(carbon);
    statusItem.follow(carbon);
    updatePolling();
    app.commands.notifyCommandChanged();
  });
  document.addEventListener("visibilitychange", () => updatePolling());

  const enabledFor = (phases: string[]) => () => {
    const carbon = current();
    return carbon !== null && phases.includes(carbon.state.phase);
  };
  app.commands.addCommand(CommandIds.start, {
    label: "Start Tracking Emissions",
    caption: "Start codecarbon's tracker in this notebook's kernel",
    icon: leafIcon,
    isEnabled: enabledFor(["idle", "error"]),
    execute: () => current()?.start(),
  });
  app.commands.addCommand(CommandIds.stop, {
    label: "Stop Tracking Emissions",
    caption: "Stop the tracker and write this run's row to the CSV",
    isEnabled: enabledFor(["tracking"]),
    execute: () => current()?.stop(),
  });
  app.commands.addCommand(CommandIds.openSidebar, {
    label: "Show Emissions Sidebar",
    icon: leafIcon,
    execute: () => {
      if (!sidebar.isAttached) app.shell.add(sidebar, "right", { rank: 900 });
      app.shell.activateById(sidebar.id);
    },
  });
  app.commands.addCommand(CommandIds.export, {
    label: "Export Notebook Emissions as CSV",
    caption: "Download this notebook's runs as emissions.csv, with CodeCarbon's columns",
    isEnabled: () => current() !== null,
    execute: () => {
      const carbon = current();
      return carbon ? exportCsv(carbon) : undefined;
    },
  });
  app.commands.addCommand(CommandIds.openCsv, {
    label: "Open Emissions CSV",
    isEnabled: () => current() !== null,
    execute: () => {
      const carbon = current();
      return carbon ? openCsv(carbon) : undefined;
    },
  });
  if (palette) {
    for (const command of Object.values(CommandIds)) palette.addItem({ command, category: "CodeCarbon" });
  }

  app.shell.add(sidebar, "right", { rank: 900 });
  if (restorer) restorer.add(sidebar, "codecarbon-sidebar");
  themeManager?.themeChanged.connect(() => sidebar.redrawChart());
  if (statusBar) statusBar.registerStatusItem("codecarbon-jupyterlab:status", { item: statusItem, align: "left", rank: 5 });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: "Live energy and CO2 of notebooks on tslab kernels, with codecarbon.",
  autoStart: true,
  requires: [INotebookTracker, IToolbarWidgetRegistry, ISettingRegistry],
  optional: [ILayoutRestorer, ICommandPalette, IStatusBar, IThemeManager],
  activate,
};

export default plugin;
