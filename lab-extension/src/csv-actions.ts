/**
 * Export and Open CSV: the sidebar's buttons and the commands share them. This notebook's rows of
 * the CSV the kernel writes are downloaded as emissions.csv (model/csv-export.ts picks them); the
 * CSV itself opens in JupyterLab's viewer. Outcomes are told through `report`, never thrown.
 */
import type { JupyterFrontEnd } from "@jupyterlab/application";
import { Notification } from "@jupyterlab/apputils";
import type { Contents } from "@jupyterlab/services";
import { exportNotebookRows, nothingToExportAdvice, type ExportContext } from "./model/csv-export";
import type { NotebookCarbon } from "./notebook-carbon";
import { reportError } from "./report";

export interface CsvActionsContext {
  contents: Contents.IManager;
  commands: JupyterFrontEnd["commands"];
  /** Where outcomes are written (the sidebar's message line). */
  showMessage(text: string): void;
}

export interface CsvActions {
  exportCsv(carbon: NotebookCarbon): Promise<void>;
  openCsv(carbon: NotebookCarbon): Promise<void>;
}

/** Saves text as a file through the browser's download (no server round trip: the text is here). */
export function downloadText(fileName: string, text: string, type = "text/csv"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started by then; revoking at once can cancel it in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function csvActions(context: CsvActionsContext): CsvActions {
  /** A problem the user must act on: in the sidebar, and as a toast in case the sidebar is closed. */
  const warn = (text: string): void => {
    context.showMessage(text);
    Notification.warning(text, { autoClose: 5000 });
  };

  const situation = (carbon: NotebookCarbon): ExportContext => ({
    phase: carbon.state.phase,
    reason: carbon.state.message,
  });

  async function exportCsv(carbon: NotebookCarbon): Promise<void> {
    const path = carbon.csvPath;
    let text: string;
    try {
      const model = await context.contents.get(path, { type: "file", format: "text", content: true });
      text = typeof model.content === "string" ? model.content : "";
    } catch {
      warn(`Nothing exported: no ${path} yet. ${capitalize(nothingToExportAdvice(situation(carbon)))}.`);
      return;
    }
    const result = exportNotebookRows(text, carbon.projectName, situation(carbon));
    if (!result.ok) {
      warn(`Nothing exported: ${result.reason}.`);
      return;
    }
    downloadText("emissions.csv", result.csv);
    context.showMessage(
      `Exported ${result.rows} row${result.rows === 1 ? "" : "s"} of ${carbon.projectName} from ${path}.`,
    );
  }

  async function openCsv(carbon: NotebookCarbon): Promise<void> {
    const path = carbon.csvPath;
    try {
      await context.contents.get(path, { content: false });
    } catch {
      context.showMessage(`No ${path} yet. ${capitalize(nothingToExportAdvice(situation(carbon)))}.`);
      return;
    }
    await context.commands.execute("docmanager:open", { path });
  }

  // Anything unexpected (a download the browser refuses, a viewer that fails to open) is told once.
  return {
    exportCsv: (carbon) => exportCsv(carbon).catch((error: unknown) => warn(reportError("The export failed", error))),
    openCsv: (carbon) =>
      openCsv(carbon).catch((error: unknown) => warn(reportError(`${carbon.csvPath} could not be opened`, error))),
  };
}
