/**
 * The toolbar toggle and the live sidebar on a tslab notebook, end to end: JupyterLab, the
 * extension, the kernel-side tracker and the CSV it writes.
 */
import { expect, test } from "@playwright/test";
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
  pointsDuringCell,
  rowsFor,
  runCell,
  SCREENSHOTS,
  sidebar,
  toggle,
  toggleButton,
  writeNotebook,
} from "../lab";

test("start from the toolbar, the chart gains points while a cell blocks the kernel, stop writes the row", async ({
  page,
}) => {
  writeNotebook("main-flow.ipynb", [
    "const until = Date.now() + 7000;\nwhile (Date.now() < until) {}\nconsole.log('done blocking');",
  ]);
  await openNotebook(page, "main-flow.ipynb");
  await openSidebar(page);
  await expect(sidebar(page).locator(".jp-codecarbon-status")).toContainText("Not tracking");
  await expectPhase(page, "idle");
  await expect(toggleButton(page)).toHaveAttribute("title", /Start tracking/);

  // Keyboard: the toggle is a real button.
  await toggleButton(page).focus();
  await page.keyboard.press("Enter");
  await expectPhase(page, "tracking");
  await expect.poll(() => chartPoints(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  await expect(page.locator(".jp-codecarbon-status-item")).toContainText("CO₂");

  // Points arrive while the cell still runs: the sampler thread writes the feed, the server serves it.
  const added = await pointsDuringCell(page, 0);
  expect(added, "points added while the cell was running").toBeGreaterThanOrEqual(2);
  await expect(page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output")).toContainText("done blocking", {
    timeout: 20_000,
  });

  await toggleButton(page).click();
  await expectPhase(page, "idle");
  const totals = sidebar(page).locator(".jp-codecarbon-totals");
  await expect(totals).toContainText("Energy");
  await expect(totals).toContainText("CO₂eq");
  await expect(sidebar(page).locator(".jp-codecarbon-sources")).toContainText("CPU");
  const [row] = await rowsFor("main-flow");
  expect(Number(row!["duration"])).toBeGreaterThan(5);
  expect(Number(row!["emissions"])).toBeGreaterThan(0);
  expect(row!["country_iso_code"]).toBe("FRA");

  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await sidebar(page).screenshot({ path: path.join(SCREENSHOTS, "sidebar-light.png") });
  await command(page, "apputils:change-theme", { theme: "JupyterLab Dark" });
  await expect(page.locator("body")).toHaveAttribute("data-jp-theme-light", "false");
  await page.waitForTimeout(500); // the chart redraws in the new theme's colours at the next render
  await sidebar(page).screenshot({ path: path.join(SCREENSHOTS, "sidebar-dark.png") });
  await command(page, "apputils:change-theme", { theme: "JupyterLab Light" });
});

test("a tracker started in a cell shows in the toggle, and the toolbar stops it", async ({ page }) => {
  writeNotebook("cell-started.ipynb", [
    'import { EmissionsTracker } from "codecarbon";\nconst tracker = new EmissionsTracker().start();',
    "console.log('still running:', tracker.isRunning);",
  ]);
  await openNotebook(page, "cell-started.ipynb");
  await expectPhase(page, "idle");
  await runCell(page, 0);
  await expectPhase(page, "tracking");
  await openSidebar(page);
  await expect(sidebar(page).locator(".jp-codecarbon-status")).toContainText("Tracking cell-started");
  await toggleButton(page).click();
  await expectPhase(page, "idle");
  await runCell(page, 1);
  await expect(page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output").last()).toContainText(
    "still running: false",
  );
  await rowsFor("cell-started");
});

test("reloading the page mid-run: the toggle and the chart resume", async ({ page }) => {
  writeNotebook("reload.ipynb", ["1 + 1"]);
  const workspace = await openNotebook(page, "reload.ipynb");
  await openSidebar(page);
  await toggleButton(page).click();
  await expectPhase(page, "tracking");
  await expect.poll(() => chartPoints(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  const before = await chartPoints(page);
  await page.goto(`${lab.url}/lab/workspaces/${workspace}?token=${lab.token}`);
  await expect(toggle(page)).toBeVisible({ timeout: 60_000 });
  await expectPhase(page, "tracking");
  // The sidebar was open: the layout restorer brings it back.
  await expect(sidebar(page)).toBeVisible();
  await expect.poll(() => chartPoints(page), { timeout: 20_000 }).toBeGreaterThan(before);
  await expect(chart(page)).toBeVisible();
  await toggleButton(page).click();
  await expectPhase(page, "idle");
  await rowsFor("reload");
});
