/** Export of a notebook's rows, opening the CSV, and text that must never run as HTML. */
import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  expectPhase,
  lab,
  openNotebook,
  openSidebar,
  readCsv,
  rowsFor,
  sidebar,
  toggleButton,
  trackBrieflyFromToolbar,
  writeNotebook,
} from "../lab";

// CodeCarbon's header, from the package the kernel runs.
const { CSV_COLUMNS } = require(path.join(__dirname, "..", "..", "dist")) as { CSV_COLUMNS: readonly string[] };

test("export downloads this notebook's rows as emissions.csv with CodeCarbon's columns; Open CSV opens the file", async ({
  page,
}) => {
  const folder = path.join(lab.work, "export");
  fs.mkdirSync(folder, { recursive: true });
  // Another notebook's run in the same CSV: the export leaves it out.
  const foreign = CSV_COLUMNS.map((c) => (c === "project_name" ? "someone-else" : c === "emissions" ? "0.001" : ""));
  fs.writeFileSync(path.join(folder, "emissions.csv"), `${CSV_COLUMNS.join(",")}\n${foreign.join(",")}\n`);
  writeNotebook("export/mine.ipynb", ["1 + 1"]);
  await openNotebook(page, "export/mine.ipynb");
  await openSidebar(page);
  await trackBrieflyFromToolbar(page);
  await rowsFor("mine", path.join(folder, "emissions.csv"));

  const downloadPromise = page.waitForEvent("download");
  await sidebar(page).locator(".jp-codecarbon-export").click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe("emissions.csv");
  const saved = path.join(lab.root, "downloaded-emissions.csv");
  await download.saveAs(saved);
  const header = fs.readFileSync(saved, "utf8").split("\n")[0];
  expect(header).toBe(CSV_COLUMNS.join(","));
  const rows = readCsv(saved);
  expect(rows.length).toBe(1);
  expect(rows[0]!["project_name"]).toBe("mine");
  await expect(sidebar(page).locator(".jp-codecarbon-message")).toContainText("Exported 1 row of mine");

  await sidebar(page).locator(".jp-codecarbon-open-csv").click();
  await expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab[title*="emissions.csv"]').first()).toBeVisible();
});

test("names from files are shown as text, never run as HTML", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const name = "<img src=x onerror=alert(1)>";
  writeNotebook(`${name}.ipynb`, ["1 + 1"]);
  await openNotebook(page, `${name}.ipynb`);
  await openSidebar(page);
  await toggleButton(page).click();
  await expectPhase(page, "tracking");
  await expect(sidebar(page).locator(".jp-codecarbon-status")).toContainText(`Tracking ${name}`);
  await expect(sidebar(page).locator(".jp-codecarbon-notebook")).toHaveText(`${name}.ipynb`);
  await expect(sidebar(page).locator("img")).toHaveCount(0);
  await toggleButton(page).click();
  await expectPhase(page, "idle");
  await rowsFor(name);
  expect(dialogs).toEqual([]);
});
