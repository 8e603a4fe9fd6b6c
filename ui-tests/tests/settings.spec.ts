/** The settings editor, driven by codecarbon's schema, sets what the toolbar's tracker uses. */
import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { command, lab, openNotebook, openSidebar, rowsFor, trackBrieflyFromToolbar, writeNotebook } from "../lab";

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
