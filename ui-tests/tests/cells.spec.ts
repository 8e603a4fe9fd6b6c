/**
 * Per-cell energy end to end: cells timed by the kernel's messages, their share of the toolbar's
 * run under each cell, in the sidebar's Cells table and as bands on the chart, kept in the cells'
 * metadata through a reload, and one task row per execution in the tracker's task CSV.
 */
import { expect, test, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  chart,
  chartPoints,
  command,
  expectPhase,
  lab,
  openNotebook,
  openSidebar,
  readCsv,
  runCell,
  SCREENSHOTS,
  sidebar,
  toggleButton,
  waitForNotebook,
  writeNotebook,
} from "../lab";

const BUSY_5 = "// busy 5 s\nconst until5 = Date.now() + 5000;\nwhile (Date.now() < until5) {}";
const SLEEP_5 = "// sleep 5 s\nawait new Promise((resolve) => setTimeout(resolve, 5000));";
const BUSY_2 = "// busy 2 s\nconst until2 = Date.now() + 2000;\nwhile (Date.now() < until2) {}";

function footers(page: Page) {
  return page.locator(".jp-NotebookPanel:visible .jp-codecarbon-cell-footer:visible");
}

function cellRows(page: Page) {
  return sidebar(page).locator(".jp-codecarbon-cells tbody tr");
}

async function kernelId(page: Page): Promise<string> {
  return page.evaluate(() => {
    const app = (window as unknown as { jupyterapp: { shell: { currentWidget: unknown } } }).jupyterapp;
    const panel = app.shell.currentWidget as { sessionContext: { session?: { kernel?: { id: string } } } };
    return panel.sessionContext.session?.kernel?.id ?? "";
  });
}

test("three cells: footers, the Cells table busy-first, bands, metadata through a reload, task rows", async ({
  page,
}) => {
  writeNotebook("cells.ipynb", [BUSY_5, SLEEP_5, BUSY_2]);
  // Process mode for this run: the kernel's own CPU time decides which cell used more, whatever
  // else the (shared, possibly busy) machine is doing; machine mode follows the whole machine's load.
  const config = path.join(lab.work, ".codecarbon.config");
  const configBefore = fs.readFileSync(config, "utf8");
  fs.writeFileSync(config, `${configBefore.trimEnd()}\ntracking_mode = process\n`);
  try {
    await threeCells(page);
  } finally {
    fs.writeFileSync(config, configBefore);
  }
});

async function threeCells(page: Page): Promise<void> {
  const workspace = await openNotebook(page, "cells.ipynb");
  await openSidebar(page);
  await expectPhase(page, "idle");
  await toggleButton(page).click();
  await expectPhase(page, "tracking");
  await expect.poll(() => chartPoints(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);

  for (const index of [0, 1, 2]) await runCell(page, index);
  await expect(footers(page)).toHaveCount(3, { timeout: 30_000 });
  for (const footer of await footers(page).all()) {
    await expect(footer).toHaveAttribute("data-state", "carbon", { timeout: 30_000 });
    await expect(footer).toHaveText(/^⚡ [\d.]+ (mWh|Wh) · [\d.]+ (mg|g) CO₂eq · [\d.]+ s$/);
  }
  // The table: one row per cell, most energy first (a busy cell), then the idle kernel.
  await expect(sidebar(page).locator(".jp-codecarbon-cells tbody tr[data-cell-id]")).toHaveCount(3);
  await expect(cellRows(page).first()).toHaveAttribute("data-cell-id", "c0");
  await expect(cellRows(page).first()).toContainText(/\[\d+\] \/\/ busy 5 s/);
  await expect(cellRows(page).last()).toContainText("Outside cells");
  await expect.poll(async () => Number(await chart(page).getAttribute("data-bands")), { timeout: 20_000 }).toBe(3);

  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, "cells.png") });

  // A click on a row shows its cell.
  await cellRows(page).nth(1).click();
  const active = await page.evaluate(() => {
    const app = (window as unknown as { jupyterapp: { shell: { currentWidget: unknown } } }).jupyterapp;
    return (app.shell.currentWidget as { content: { activeCell: { model: { id: string } } } }).content.activeCell.model
      .id;
  });
  expect(active).toBe(await cellRows(page).nth(1).getAttribute("data-cell-id"));

  const kernel = await kernelId(page);
  await toggleButton(page).click();
  await expectPhase(page, "idle");

  // One task row per execution, with the cells' figures, in the run's task CSV.
  const taskFile = () =>
    fs.readdirSync(lab.work).find((name) => /^emissions_.+\.csv$/.test(name) && name !== "emissions.csv");
  await expect.poll(() => taskFile() ?? "", { timeout: 30_000 }).not.toBe("");
  const cellsFile = JSON.parse(fs.readFileSync(path.join(lab.work, "codecarbon-live", `${kernel}.cells.json`), "utf8"));
  expect(cellsFile.executions.map((e: { cellId: string }) => e.cellId)).toEqual(["c0", "c1", "c2"]);
  const tasks = readCsv(path.join(lab.work, taskFile()!)).filter((r) => (r["task_name"] ?? "").startsWith("In ["));
  expect(tasks.map((r) => (r["task_name"] ?? "").replace(/^In \[\d+\] /, ""))).toEqual([
    "// busy 5 s",
    "// sleep 5 s",
    "// busy 2 s",
  ]);
  const durations = tasks.map((r) => Number(r["duration"]));
  expect(durations[0]).toBeGreaterThan(4.5);
  expect(durations[0]).toBeLessThan(6.5);
  expect(durations[2]).toBeGreaterThan(1.5);
  expect(durations[2]).toBeLessThan(3.5);
  for (const row of tasks) expect(Number(row["energy_consumed"])).toBeGreaterThan(0);

  // Metadata travels with the notebook: saved, and the footers come back after a reload.
  await command(page, "docmanager:save");
  await expect
    .poll(
      () => {
        const notebook = JSON.parse(fs.readFileSync(path.join(lab.work, "cells.ipynb"), "utf8"));
        return notebook.cells.filter((c: { metadata: Record<string, unknown> }) => c.metadata["codecarbon"]).length;
      },
      { timeout: 20_000 },
    )
    .toBe(3);
  const saved = JSON.parse(fs.readFileSync(path.join(lab.work, "cells.ipynb"), "utf8"));
  const first = saved.cells[0].metadata.codecarbon;
  expect(first.runId).toBe(cellsFile.runId);
  expect(first.energyKWh.total).toBeGreaterThan(0);
  expect(first.durationS).toBeGreaterThan(4.5);
  // The footer and the task row agree on the cell's energy (one series, one method).
  expect(Math.abs(first.energyKWh.total - Number(tasks[0]!["energy_consumed"]))).toBeLessThan(
    0.2 * first.energyKWh.total,
  );

  await page.goto(`${lab.url}/lab/workspaces/${workspace}?token=${lab.token}`);
  await waitForNotebook(page);
  await expect(footers(page)).toHaveCount(3, { timeout: 30_000 });
  await expect(footers(page).first()).toHaveAttribute("data-state", "carbon");
}

test("the cell footer setting hides the footers; cells run while nothing is tracked say so", async ({ page }) => {
  writeNotebook("cells-off.ipynb", ["1 + 1", "2 + 2"]);
  await openNotebook(page, "cells-off.ipynb");
  await openSidebar(page);
  // Never tracked in this kernel: nothing under the cell.
  await runCell(page, 0);
  await expect(sidebar(page).locator(".jp-codecarbon-status")).toContainText("Not tracking");
  await expect(footers(page)).toHaveCount(0);
  await toggleButton(page).click();
  await expectPhase(page, "tracking");
  await expect.poll(() => chartPoints(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  await runCell(page, 1);
  await expect(footers(page)).toHaveCount(1, { timeout: 30_000 });
  await expect(footers(page).first()).toHaveAttribute("data-state", "carbon", { timeout: 30_000 });
  await toggleButton(page).click();
  await expectPhase(page, "idle");
  // After a run, an untracked execution says so, and drops the earlier figures from the metadata.
  await runCell(page, 1);
  await expect(footers(page).first()).toHaveText("⚡ not tracked", { timeout: 30_000 });

  const settingsFile = path.join(lab.root, "lab-settings", "codecarbon-jupyterlab", "plugin.jupyterlab-settings");
  try {
    // Turned off in the settings editor: the footers go at once, without a reload.
    await command(page, "settingeditor:open", { query: "CodeCarbon" });
    const toggleField = page.locator(".jp-SettingsPanel input[id$='cell_footer']").first();
    await expect(toggleField).toBeVisible();
    await toggleField.uncheck();
    await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab[title*="cells-off.ipynb"]').first().click();
    await expect(footers(page)).toHaveCount(0, { timeout: 20_000 });
  } finally {
    fs.rmSync(settingsFile, { force: true });
  }
});

test("sidebar render time with 200 cells (printed, not asserted)", async ({ page }) => {
  const runId = "bench-run-200";
  const startMs = Date.parse("2026-01-01T10:00:00.000Z");
  const cells = Array.from({ length: 200 }, (_, i) => `// cell ${i}\n${i}`);
  writeNotebook("cells-200.ipynb", cells);
  // Each cell as if it ran for 1 s of a 400 s run: its metadata, as the extension writes it.
  const file = path.join(lab.work, "cells-200.ipynb");
  const notebook = JSON.parse(fs.readFileSync(file, "utf8"));
  notebook.cells.forEach((cell: { metadata: Record<string, unknown>; execution_count: number }, i: number) => {
    const kWh = (i + 1) * 1e-7;
    cell.execution_count = i + 1;
    cell.metadata["codecarbon"] = {
      runId,
      start: new Date(startMs + (2 * i + 1) * 1000).toISOString(),
      end: new Date(startMs + (2 * i + 2) * 1000).toISOString(),
      durationS: 1,
      energyKWh: { cpu: kWh * 0.8, gpu: 0, ram: kWh * 0.2, total: kWh },
      emissionsKg: kWh * 0.05,
      intensityGPerKWh: 50,
    };
  });
  fs.writeFileSync(file, JSON.stringify(notebook));
  await openNotebook(page, "cells-200.ipynb");
  const kernel = await kernelId(page);
  // A stopped run's feed for this kernel, with 360 points (the feed's cap).
  const points = Array.from({ length: 360 }, (_, i) => {
    const kWh = ((i + 1) * 20) / 3.6e6;
    return {
      t: new Date(startMs + (i + 1) * 1000).toISOString(),
      s: i + 1,
      cpuW: 15,
      gpuW: 0,
      ramW: 5,
      kWh,
      kg: kWh * 0.05,
      cpuKWh: kWh * 0.75,
      gpuKWh: 0,
      ramKWh: kWh * 0.25,
      g: 50,
    };
  });
  const last = points.at(-1)!;
  fs.mkdirSync(path.join(lab.work, "codecarbon-live"), { recursive: true });
  fs.writeFileSync(
    path.join(lab.work, "codecarbon-live", `${kernel}.json`),
    JSON.stringify({
      version: 2,
      kernelId: kernel,
      runId,
      projectName: "cells-200",
      pid: 1,
      state: "stopped",
      startedAt: new Date(startMs).toISOString(),
      updatedAt: last.t,
      measurePowerSecs: 1,
      sources: ["CPU from a model", "RAM from a model"],
      intensity: { gPerKWh: 50, source: "test" },
      totals: { durationS: 360, energyKWh: last.kWh, emissionsKg: last.kg },
      points,
      csv: "emissions.csv",
    }),
  );
  await openSidebar(page);
  const table = sidebar(page).locator(".jp-codecarbon-cells");
  await expect(table).toHaveAttribute("data-rows", "201", { timeout: 30_000 });
  await expect(footers(page).first()).toBeVisible();
  const renderMs = Number(await table.getAttribute("data-render-ms"));
  const footerCount = await page.locator(".jp-codecarbon-cell-footer").count();
  console.log(
    `[bench] Cells table with 200 cells + the idle line: built in ${renderMs.toFixed(2)} ms; ${footerCount} footers drawn`,
  );
  expect(renderMs).toBeGreaterThan(0);
});
