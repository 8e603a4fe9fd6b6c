/** The settings editor, driven by codecarbon's schema, sets what the toolbar's tracker uses. */
import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  command,
  lab,
  openNotebook,
  openSidebar,
  readCsv,
  rowsFor,
  sidebar,
  trackBrieflyFromToolbar,
  writeNotebook,
} from "../lab";

const SETTINGS_FILE = () => path.join(lab.root, "lab-settings", "codecarbon-jupyterlab", "plugin.jupyterlab-settings");

test.afterEach(() => fs.rmSync(SETTINGS_FILE(), { force: true }));

test("a project name set in the settings editor is used by the next start from the toolbar", async ({ page }) => {
  writeNotebook("settings-run.ipynb", ["1 + 1"]);
  await openNotebook(page, "settings-run.ipynb");
  await command(page, "settingeditor:open", { query: "CodeCarbon" });
  const field = page.locator(".jp-SettingsPanel input[id$='project_name']").first();
  await expect(field).toBeVisible();
  await field.fill("from-settings");
  await field.press("Tab");
  await expect
    .poll(() => (fs.existsSync(SETTINGS_FILE()) ? fs.readFileSync(SETTINGS_FILE(), "utf8") : ""), { timeout: 20_000 })
    .toContain("from-settings");

  await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab[title*="settings-run.ipynb"]').first().click();
  await openSidebar(page);
  await trackBrieflyFromToolbar(page);
  const [row] = await rowsFor("from-settings");
  expect(row!["project_name"]).toBe("from-settings");
});

test("editing only measure_power_secs keeps the notebook's name on its rows, and export still finds them", async ({
  page,
}) => {
  writeNotebook("settings-interval.ipynb", ["1 + 1"]);
  await openNotebook(page, "settings-interval.ipynb");
  await command(page, "settingeditor:open", { query: "CodeCarbon" });
  const field = page.locator(".jp-SettingsPanel input[id$='measure_power_secs']").first();
  await expect(field).toBeVisible();
  await field.fill("2");
  await field.press("Tab");
  // JupyterLab's form stores the other keys too (project_name "codecarbon" among them): they must not be sent.
  await expect
    .poll(() => (fs.existsSync(SETTINGS_FILE()) ? fs.readFileSync(SETTINGS_FILE(), "utf8") : ""), { timeout: 20_000 })
    .toMatch(/"measure_power_secs":\s*2/);

  await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab[title*="settings-interval.ipynb"]').first().click();
  await openSidebar(page);
  await trackBrieflyFromToolbar(page);
  const [row] = await rowsFor("settings-interval");
  expect(row!["project_name"]).toBe("settings-interval");
  expect(readCsv(path.join(lab.work, "emissions.csv")).some((r) => r["project_name"] === "codecarbon")).toBe(false);

  const downloadPromise = page.waitForEvent("download");
  await sidebar(page).locator(".jp-codecarbon-export").click();
  const download = await downloadPromise;
  const saved = path.join(lab.root, "settings-interval-export.csv");
  await download.saveAs(saved);
  const exported = readCsv(saved);
  expect(exported.length).toBeGreaterThan(0);
  expect(exported.every((r) => r["project_name"] === "settings-interval")).toBe(true);
});

test("an untracked notebook polls its feed without console errors", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  let feedLookups = 0;
  page.on("requestfinished", (request) => {
    if (request.url().includes("/api/contents")) feedLookups += 1;
  });
  writeNotebook("quiet/idle.ipynb", ["1 + 1"]);
  await openNotebook(page, "quiet/idle.ipynb");
  await openSidebar(page);
  await expect(sidebar(page).locator(".jp-codecarbon-status")).toContainText("Not tracking");
  // Several polls of the feed (every 3 s while not tracking): counted, not timed.
  const before = feedLookups;
  await expect.poll(() => feedLookups - before, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
  expect(errors).toEqual([]);
});
