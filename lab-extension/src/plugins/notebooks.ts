/** The per-notebook tracker models, which every other plugin reads. */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { INotebookTracker } from "@jupyterlab/notebook";
import { DEFAULT_LAB_SETTINGS } from "../model/settings";
import { CarbonNotebooks } from "../notebook-registry";
import { ICarbonNotebooks, ICarbonSettings, PluginIds } from "../tokens";

export const notebooksPlugin: JupyterFrontEndPlugin<ICarbonNotebooks> = {
  id: PluginIds.notebooks,
  description: "The codecarbon tracker model of each open notebook: kernel support, tracking state and live feed.",
  autoStart: true,
  requires: [INotebookTracker],
  // Without the settings plugin, trackers started here use the config files only.
  optional: [ICarbonSettings],
  provides: ICarbonNotebooks,
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker, settings: ICarbonSettings | null): ICarbonNotebooks => {
    const carbons = new CarbonNotebooks(notebooks, {
      contents: app.serviceManager.contents,
      trackerSettings: () => settings?.trackerSettings() ?? {},
      labSettings: () => settings?.labSettings() ?? DEFAULT_LAB_SETTINGS,
    });
    settings?.changed.connect(() => carbons.settingsChanged());
    return carbons;
  },
};
