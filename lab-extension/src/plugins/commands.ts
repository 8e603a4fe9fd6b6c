/**
 * Commands (palette category CodeCarbon) on the current notebook: start and stop (Start shows as
 * toggled while the notebook is tracked), the sidebar, export and the CSV.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette } from "@jupyterlab/apputils";
import { csvActions } from "../csv-actions";
import { leafIcon } from "../icons";
import type { TrackingPhase } from "../model/tracking-state";
import { reportError } from "../report";
import { CommandIds, ICarbonNotebooks, ICarbonSidebar, PluginIds } from "../tokens";

export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIds.commands,
  description: "Commands to start and stop codecarbon's tracker, show the sidebar, export and open the CSV.",
  autoStart: true,
  requires: [ICarbonNotebooks],
  optional: [ICommandPalette, ICarbonSidebar],
  activate: (
    app: JupyterFrontEnd,
    carbons: ICarbonNotebooks,
    palette: ICommandPalette | null,
    sidebar: ICarbonSidebar | null,
  ): void => {
    const { commands } = app;
    const csv = csvActions({
      contents: app.serviceManager.contents,
      commands,
      showMessage: (text) => sidebar?.showMessage(text),
    });
    const inPhase =
      (...phases: TrackingPhase[]) =>
      (): boolean => {
        const carbon = carbons.current;
        return carbon !== null && phases.includes(carbon.state.phase);
      };
    /** Command promises reach the palette and menus, which do not catch: failures are told here. */
    const run = (what: string, action: Promise<void> | undefined): Promise<void> | undefined =>
      action?.catch((error: unknown) => {
        const sentence = reportError(what, error);
        sidebar?.showMessage(sentence);
      });

    commands.addCommand(CommandIds.start, {
      label: "Start Tracking Emissions",
      caption: "Start codecarbon's tracker in this notebook's kernel",
      icon: leafIcon,
      isEnabled: inPhase("idle", "error"),
      isToggled: inPhase("tracking"),
      execute: () => run("the tracker could not be started", carbons.current?.start()),
    });
    commands.addCommand(CommandIds.stop, {
      label: "Stop Tracking Emissions",
      caption: "Stop the tracker and write this run's row to the CSV",
      isEnabled: inPhase("tracking"),
      execute: () => run("the tracker could not be stopped", carbons.current?.stop()),
    });
    if (sidebar) {
      commands.addCommand(CommandIds.openSidebar, {
        label: "Show Emissions Sidebar",
        icon: leafIcon,
        execute: () => sidebar.open(),
      });
    }
    commands.addCommand(CommandIds.export, {
      label: "Export Notebook Emissions as CSV",
      caption: "Download this notebook's runs as emissions.csv, with CodeCarbon's columns",
      isEnabled: () => carbons.current !== null,
      execute: () => {
        const carbon = carbons.current;
        return carbon ? csv.exportCsv(carbon) : undefined;
      },
    });
    commands.addCommand(CommandIds.openCsv, {
      label: "Open Emissions CSV",
      isEnabled: () => carbons.current !== null,
      execute: () => {
        const carbon = carbons.current;
        return carbon ? csv.openCsv(carbon) : undefined;
      },
    });
    if (palette) {
      for (const command of Object.values(CommandIds)) {
        if (commands.hasCommand(command)) palette.addItem({ command, category: "CodeCarbon" });
      }
    }

    // Enabled and toggled states follow the current notebook and its phase.
    const refresh = (): void => commands.notifyCommandChanged();
    carbons.currentChanged.connect(refresh);
    carbons.phaseChanged.connect(refresh);
  },
};
