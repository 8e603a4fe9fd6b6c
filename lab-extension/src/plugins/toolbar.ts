/** The notebook toolbar's Track toggle, declared in the schema under jupyter.lab.toolbars.Notebook. */
import type { JupyterFrontEndPlugin } from "@jupyterlab/application";
import { IToolbarWidgetRegistry } from "@jupyterlab/apputils";
import type { NotebookPanel } from "@jupyterlab/notebook";
import { TrackingToggle } from "../toolbar";
import { ICarbonNotebooks, PluginIds } from "../tokens";

export const toolbarPlugin: JupyterFrontEndPlugin<void> = {
  id: PluginIds.toolbar,
  description: "A start/stop toggle for codecarbon in the notebook toolbar.",
  autoStart: true,
  requires: [IToolbarWidgetRegistry, ICarbonNotebooks],
  activate: (_app, toolbarRegistry: IToolbarWidgetRegistry, carbons: ICarbonNotebooks): void => {
    // The name matches the schema's toolbar item; JupyterLab places it and lets users move or hide it.
    toolbarRegistry.addFactory<NotebookPanel>(
      "Notebook",
      "codecarbon",
      (panel) => new TrackingToggle(carbons.carbonFor(panel)),
    );
  },
};
