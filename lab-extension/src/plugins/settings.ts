/**
 * Settings: codecarbon's schema (schema/plugin.json) in JupyterLab's settings editor. They are
 * loaded once the layout is restored, off JupyterLab's start-up path; a tracker started before
 * that gets the config files only, as when the settings cannot be loaded at all.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { Signal, type ISignal } from "@lumino/signaling";
import {
  DEFAULT_LAB_SETTINGS,
  labSettingsFrom,
  trackerSettingsFrom,
  type LabSettings,
  type SettingProperty,
} from "../model/settings";
import { reportError } from "../report";
import { ICarbonSettings, PluginIds } from "../tokens";

class CarbonSettings implements ICarbonSettings {
  private values: Record<string, unknown> = {};
  private lab: LabSettings = DEFAULT_LAB_SETTINGS;
  private readonly _changed = new Signal<this, void>(this);

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  trackerSettings(): Record<string, unknown> {
    return { ...this.values };
  }

  labSettings(): LabSettings {
    return this.lab;
  }

  /** Follows the loaded settings: the editor's changes apply at the next start. */
  follow(settings: ISettingRegistry.ISettings): void {
    const read = (): void => {
      const properties = (settings.schema.properties ?? {}) as Record<string, SettingProperty>;
      this.values = trackerSettingsFrom(settings.user as Record<string, unknown>, properties);
      this.lab = labSettingsFrom(settings.composite as Record<string, unknown>);
      this._changed.emit();
    };
    settings.changed.connect(read);
    read();
  }
}

export const settingsPlugin: JupyterFrontEndPlugin<ICarbonSettings> = {
  id: PluginIds.settings,
  description: "codecarbon's tracker settings from the settings editor, for trackers started from JupyterLab.",
  autoStart: true,
  requires: [ISettingRegistry],
  provides: ICarbonSettings,
  activate: (app: JupyterFrontEnd, registry: ISettingRegistry): ICarbonSettings => {
    const settings = new CarbonSettings();
    // Not awaited here: app.restored waits for every plugin's activation, this one included.
    app.restored
      .then(() => registry.load(PluginIds.settings))
      .then((loaded) => settings.follow(loaded))
      .catch((error: unknown) =>
        reportError("settings could not be loaded; trackers started from the toolbar use the config files only", error),
      );
    return settings;
  },
};
