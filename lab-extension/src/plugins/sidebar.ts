/** The right-hand sidebar with the current notebook's live chart, restored with the layout. */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { IThemeManager } from "@jupyterlab/apputils";
import { csvActions } from "../csv-actions";
import { reportError } from "../report";
import { CarbonSidebar } from "../sidebar";
import { ICarbonNotebooks, ICarbonSidebar, PluginIds } from "../tokens";

export const sidebarPlugin: JupyterFrontEndPlugin<ICarbonSidebar> = {
  id: PluginIds.sidebar,
  description: "A sidebar with the current notebook's live energy and CO2 chart, totals and power sources.",
  autoStart: true,
  requires: [ICarbonNotebooks],
  optional: [ILayoutRestorer, IThemeManager],
  provides: ICarbonSidebar,
  activate: (
    app: JupyterFrontEnd,
    carbons: ICarbonNotebooks,
    restorer: ILayoutRestorer | null,
    themeManager: IThemeManager | null,
  ): ICarbonSidebar => {
    // The closures below run on clicks and on show/hide, after the sidebar exists.
    const showMessage = (text: string): void => {
      sidebar.message.textContent = text;
    };
    const csv = csvActions({ contents: app.serviceManager.contents, commands: app.commands, showMessage });
    const sidebar = new CarbonSidebar({
      toggle: (carbon) =>
        void carbon
          .toggle()
          .catch((error: unknown) => showMessage(reportError("the tracker could not be toggled", error))),
      exportCsv: (carbon) => void csv.exportCsv(carbon),
      openCsv: (carbon) => void csv.openCsv(carbon),
      showCell: (carbon, cellId) => {
        const notebook = carbon.panel.content;
        const index = notebook.widgets.findIndex((cell) => cell.model.id === cellId);
        if (index < 0) {
          showMessage("That cell is no longer in the notebook.");
          return;
        }
        app.shell.activateById(carbon.panel.id);
        notebook.activeCellIndex = index;
        notebook
          .scrollToItem(index, "center")
          .catch((error: unknown) => reportError("could not scroll to the cell", error));
      },
      // Only a sidebar on screen needs the fast cadence.
      visibilityChanged: () => (carbons.sidebarVisible = sidebar.isVisible),
    });
    sidebar.follow(carbons.current);
    carbons.currentChanged.connect((_, carbon) => sidebar.follow(carbon));

    app.shell.add(sidebar, "right", { rank: 900 });
    if (restorer) restorer.add(sidebar, "codecarbon-sidebar");
    // Plotly does not read CSS variables: the chart is drawn again in the new theme's colours.
    themeManager?.themeChanged.connect(() => sidebar.redrawChart());
    return {
      open: () => {
        if (!sidebar.isAttached) app.shell.add(sidebar, "right", { rank: 900 });
        app.shell.activateById(sidebar.id);
      },
      showMessage,
    };
  },
};
