/**
 * The extension's plugins meet through these tokens, so each one can be read (and replaced, or
 * disabled in the plugin manager) on its own: settings → notebooks → toolbar, sidebar, status
 * bar, commands.
 */
import type { NotebookPanel } from "@jupyterlab/notebook";
import { Token } from "@lumino/coreutils";
import type { ISignal } from "@lumino/signaling";
import type { LabSettings } from "./model/settings";
import type { NotebookCarbon } from "./notebook-carbon";

/** The package's name: JupyterLab finds schema/plugin.json under `<package>:plugin`. */
const PACKAGE = "codecarbon-jupyterlab";

export const PluginIds = {
  /** The settings plugin keeps the id the schema is registered under, so saved settings still apply. */
  settings: `${PACKAGE}:plugin`,
  notebooks: `${PACKAGE}:notebooks`,
  toolbar: `${PACKAGE}:toolbar`,
  sidebar: `${PACKAGE}:sidebar`,
  statusBar: `${PACKAGE}:status-bar`,
  commands: `${PACKAGE}:commands`,
} as const;

export const CommandIds = {
  start: "codecarbon:start",
  stop: "codecarbon:stop",
  openSidebar: "codecarbon:open-sidebar",
  export: "codecarbon:export",
  openCsv: "codecarbon:open-csv",
} as const;

/** codecarbon's settings from JupyterLab's settings editor, as trackers started here receive them. */
export interface ICarbonSettings {
  /**
   * The tracker keys the user changed (values equal to the schema's default are left out, as JupyterLab's form saves
   * every key); {} until the settings are loaded. Never the extension's display keys.
   */
  trackerSettings(): Record<string, unknown>;
  /** The extension's display settings (`"x-scope": "lab"` keys); their defaults until loaded. */
  labSettings(): LabSettings;
  /** Emitted when the settings are loaded and whenever the user changes them. */
  readonly changed: ISignal<ICarbonSettings, void>;
}

export const ICarbonSettings = new Token<ICarbonSettings>(
  `${PACKAGE}:ICarbonSettings`,
  "codecarbon's tracker settings from the settings editor.",
);

/** Every open notebook's tracker model, and which one the sidebar, status bar and commands follow. */
export interface ICarbonNotebooks {
  /** The current notebook's model (the last notebook focused), or null when none is open. */
  readonly current: NotebookCarbon | null;
  readonly currentChanged: ISignal<ICarbonNotebooks, NotebookCarbon | null>;
  /** A notebook's tracking phase changed: commands are enabled and toggled by it. */
  readonly phaseChanged: ISignal<ICarbonNotebooks, NotebookCarbon>;
  /** The model of a notebook, made on first use; it lives as long as the panel. */
  carbonFor(panel: NotebookPanel): NotebookCarbon;
  /**
   * Whether the sidebar (with the current notebook's chart) is on screen: the feed is read at the measurement cadence
   * then.
   */
  sidebarVisible: boolean;
}

export const ICarbonNotebooks = new Token<ICarbonNotebooks>(
  `${PACKAGE}:ICarbonNotebooks`,
  "The codecarbon tracker model of each open notebook.",
);

/** The sidebar, for commands that open it or report in it. */
export interface ICarbonSidebar {
  /** Adds the sidebar to the shell if it was closed, and shows it. */
  open(): void;
  /** Shows a line under the sidebar's chart: the outcome of an export, say. */
  showMessage(text: string): void;
}

export const ICarbonSidebar = new Token<ICarbonSidebar>(`${PACKAGE}:ICarbonSidebar`, "The codecarbon sidebar.");
