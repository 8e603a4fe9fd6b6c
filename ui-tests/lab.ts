/** Helpers for the UI tests: notebooks in the server's folder, JupyterLab driven like a user. */
import { expect, type Locator, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCsv } from "../src/protocol/csv";

export const lab = {
  get url(): string {
    return required("CC_UI_URL");
  },
  get token(): string {
    return required("CC_UI_TOKEN");
  },
  /** The server's root folder: notebooks, their kernels' working folder, and emissions.csv. */
  get work(): string {
    return required("CC_UI_WORK");
  },
  get root(): string {
    return required("CC_UI_ROOT");
  },
};

function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the UI tests through ui-tests/playwright.config.ts (its global setup starts JupyterLab)`,
    );
  return value;
}

export type KernelName = "tslab" | "python3";

export function writeNotebook(relativePath: string, cells: string[], kernel: KernelName = "tslab"): void {
  const kernelspec =
    kernel === "tslab"
      ? { name: "tslab", display_name: "TypeScript", language: "typescript" }
      : { name: "python3", display_name: "Python 3 (ipykernel)", language: "python" };
  const file = path.join(lab.work, relativePath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec },
      cells: cells.map((source, i) => ({
        cell_type: "code",
        id: `c${i}`,
        metadata: {},
        execution_count: null,
        outputs: [],
        source,
      })),
    }),
  );
}

let workspaceCount = 0;

/** Opens a notebook in a fresh workspace (no panels from another test) and waits for its kernel. */
export async function openNotebook(
  page: Page,
  relativePath: string,
  options: { workspace?: string; waitForKernel?: boolean } = {},
): Promise<string> {
  const workspace = options.workspace ?? `ui-${Date.now().toString(36)}-${++workspaceCount}`;
  const encoded = relativePath.split("/").map(encodeURIComponent).join("/");
  await page.goto(`${lab.url}/lab/workspaces/${workspace}/tree/${encoded}?reset&token=${lab.token}`);
  await waitForNotebook(page, options.waitForKernel ?? true);
  return workspace;
}

export async function waitForNotebook(page: Page, waitForKernel = true): Promise<void> {
  await page.waitForFunction(
    () => {
      const app = (window as unknown as { jupyterapp?: { shell: { currentWidget: unknown } } }).jupyterapp;
      const panel = app?.shell.currentWidget as { sessionContext?: { isReady: boolean } } | null | undefined;
      return panel?.sessionContext?.isReady === true;
    },
    undefined,
    { timeout: 60_000 },
  );
  if (waitForKernel) {
    await page.waitForFunction(
      () => {
        const app = (window as unknown as { jupyterapp: { shell: { currentWidget: unknown } } }).jupyterapp;
        const panel = app.shell.currentWidget as { sessionContext: { session?: { kernel?: { status: string } } } };
        return panel.sessionContext.session?.kernel?.status === "idle";
      },
      undefined,
      { timeout: 60_000 },
    );
  }
}

/** Runs a cell by index through JupyterLab's own command; resolves when the cell has finished. */
export async function runCell(page: Page, index: number): Promise<void> {
  await page.evaluate(async (i) => {
    const app = (
      window as unknown as {
        jupyterapp: { shell: { currentWidget: unknown }; commands: { execute(id: string): Promise<unknown> } };
      }
    ).jupyterapp;
    const panel = app.shell.currentWidget as { content: { activeCellIndex: number } };
    panel.content.activeCellIndex = i;
    await app.commands.execute("notebook:run-cell");
  }, index);
}

/** Starts a cell without waiting for it (a long cell whose run the test watches). */
export async function startCell(page: Page, index: number): Promise<void> {
  await page.evaluate((i) => {
    const app = (
      window as unknown as {
        jupyterapp: { shell: { currentWidget: unknown }; commands: { execute(id: string): Promise<unknown> } };
      }
    ).jupyterapp;
    const panel = app.shell.currentWidget as { content: { activeCellIndex: number } };
    panel.content.activeCellIndex = i;
    void app.commands.execute("notebook:run-cell");
  }, index);
}

export async function command(page: Page, id: string, args: Record<string, unknown> = {}): Promise<void> {
  await page.evaluate(
    async ([commandId, commandArgs]) => {
      const app = (
        window as unknown as { jupyterapp: { commands: { execute(id: string, args: unknown): Promise<unknown> } } }
      ).jupyterapp;
      await app.commands.execute(commandId as string, commandArgs);
    },
    [id, args] as const,
  );
}

export function toggle(page: Page): Locator {
  return page.locator(".jp-NotebookPanel:visible .jp-codecarbon-toggle");
}

export function toggleButton(page: Page): Locator {
  return toggle(page).locator("button");
}

export function sidebar(page: Page): Locator {
  return page.locator("#codecarbon-sidebar");
}

export function chart(page: Page): Locator {
  return page.locator("#codecarbon-sidebar .jp-codecarbon-chart");
}

export async function openSidebar(page: Page): Promise<void> {
  const tab = page.locator('.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="codecarbon-sidebar"]');
  await expect(tab).toBeVisible();
  if (!(await sidebar(page).isVisible())) await tab.click();
  await expect(sidebar(page)).toBeVisible();
}

export async function chartPoints(page: Page): Promise<number> {
  const value = await chart(page).getAttribute("data-points");
  return value === null ? 0 : Number(value);
}

/** Points added to the chart while the cell's prompt shows it running. */
export async function pointsDuringCell(page: Page, index: number): Promise<number> {
  const prompt = page.locator(".jp-NotebookPanel:visible .jp-Cell .jp-InputPrompt").nth(index);
  await startCell(page, index);
  await expect(prompt).toContainText("*");
  const before = await chartPoints(page);
  let during = before;
  await expect
    .poll(
      async () => {
        const running = ((await prompt.textContent()) ?? "").includes("*");
        if (running) during = await chartPoints(page);
        return running ? during - before : Number.POSITIVE_INFINITY;
      },
      { timeout: 20_000, intervals: [250] },
    )
    .toBeGreaterThanOrEqual(2);
  return during - before;
}

export async function expectPhase(page: Page, phase: string, timeout = 45_000): Promise<void> {
  await expect(toggle(page)).toHaveAttribute("data-state", phase, { timeout });
}

/** A short run from the toolbar: start, at least one point on the chart, stop. The sidebar must be open. */
export async function trackBrieflyFromToolbar(page: Page): Promise<void> {
  await toggleButton(page).click();
  await expectPhase(page, "tracking");
  await expect.poll(() => chartPoints(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  await toggleButton(page).click();
  await expectPhase(page, "idle");
}

/** Rows of a CSV written by the tracker, read with the extension's own CSV parser. */
export function readCsv(file: string): Record<string, string>[] {
  if (!fs.existsSync(file)) return [];
  const [header, ...rows] = parseCsv(fs.readFileSync(file, "utf8"));
  if (header === undefined) return [];
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ""])));
}

export async function rowsFor(
  projectName: string,
  file = path.join(lab.work, "emissions.csv"),
): Promise<Record<string, string>[]> {
  let rows: Record<string, string>[] = [];
  await expect
    .poll(() => (rows = readCsv(file).filter((r) => r["project_name"] === projectName)).length, { timeout: 30_000 })
    .toBeGreaterThan(0);
  return rows;
}

export const SCREENSHOTS = path.join(__dirname, "test-results", "screenshots");
