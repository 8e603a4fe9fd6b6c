/**
 * Every kernel: a python3 notebook tracked beside its kernel by the server extension (toggle,
 * chart during a busy cell, per-cell footer, the CSV row, export's advice), and a tslab notebook
 * in a folder where `codecarbon` does not resolve, tracked beside the kernel too, with no failing
 * import sent to the kernel, so its later cells still print.
 */
import { expect, test, type Page } from "@playwright/test";
import * as path from "node:path";
import {
  chartPoints,
  expectPhase,
  openNotebook,
  openSidebar,
  pointsDuringCell,
  rowsFor,
  runCell,
  sidebar,
  toggle,
  toggleButton,
  writeNotebook,
} from "../lab";

const { startLab } = require("../lab-server") as {
  startLab(options?: {
    codecarbonInFolder?: boolean;
  }): Promise<{ url: string; token: string; root: string; work: string; stop(): Promise<void> }>;
};

function outputs(page: Page) {
  return page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output");
}

test("a python3 notebook: toggle enabled, start, the chart gains points during a busy cell, stop, the row", async ({
  page,
}) => {
  writeNotebook(
    "python-flow.ipynb",
    ["import time\nt0 = time.time()\nwhile time.time() - t0 < 5:\n    pass\nprint('done busy')", "print('after')"],
    "python3",
  );
  await openNotebook(page, "python-flow.ipynb");
  await openSidebar(page);
  await expectPhase(page, "idle");
  await expect(toggle(page)).toHaveAttribute("data-mode", "beside");
  await expect(toggleButton(page)).toBeEnabled();
  await expect(toggleButton(page)).toHaveAttribute("title", /beside the kernel/);
  await expect(sidebar(page).locator(".jp-codecarbon-status")).toContainText("beside the kernel");

  // Nothing tracked yet: the export gives the ordinary advice, not "cannot run the tracker".
  await sidebar(page).locator(".jp-codecarbon-export").click();
  const message = sidebar(page).locator(".jp-codecarbon-message");
  await expect(message).toContainText(/track a run/i);
  await expect(message).not.toContainText("cannot run the tracker");

  const clickedAt = Date.now();
  await toggleButton(page).click();
  await expectPhase(page, "tracking");
  await expect.poll(() => chartPoints(page), { timeout: 30_000, intervals: [100] }).toBeGreaterThanOrEqual(1);
  const firstPointMs = Date.now() - clickedAt;
  console.log(`python3, beside the kernel: click → first point on the chart in ${firstPointMs} ms`);
  test.info().annotations.push({ type: "click-to-first-point-ms", description: String(firstPointMs) });

  const added = await pointsDuringCell(page, 0);
  expect(added, "points added while the python cell was busy").toBeGreaterThanOrEqual(2);
  await expect(outputs(page).first()).toContainText("done busy", { timeout: 20_000 });
  // The busy cell's share of the run, under the cell, as on a tslab kernel.
  const footer = page.locator(".jp-NotebookPanel:visible .jp-codecarbon-cell-footer:visible").first();
  await expect(footer).toHaveAttribute("data-state", "carbon", { timeout: 30_000 });

  await toggleButton(page).click();
  await expectPhase(page, "idle");
  await expect(sidebar(page).locator(".jp-codecarbon-totals")).toContainText("CO₂eq");
  const [row] = await rowsFor("python-flow");
  expect(Number(row!["duration"])).toBeGreaterThan(4);
  expect(Number(row!["emissions"])).toBeGreaterThan(0);
  expect(row!["country_iso_code"]).toBe("FRA");
  // The kernel itself was never touched: its next cell runs as usual.
  await runCell(page, 1);
  await expect(outputs(page).last()).toContainText("after");
});

test.describe("a tslab notebook where codecarbon does not resolve", () => {
  let bare: Awaited<ReturnType<typeof startLab>>;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    // A JupyterLab of its own whose folder has @types/node but no node_modules/codecarbon.
    bare = await startLab({ codecarbonInFolder: false });
  });
  test.afterAll(async () => {
    await bare?.stop();
  });

  test("tracked beside the kernel, and later cells still print", async ({ page }) => {
    const previous = {
      url: process.env["CC_UI_URL"],
      token: process.env["CC_UI_TOKEN"],
      work: process.env["CC_UI_WORK"],
    };
    Object.assign(process.env, { CC_UI_URL: bare.url, CC_UI_TOKEN: bare.token, CC_UI_WORK: bare.work });
    try {
      writeNotebook("bare.ipynb", [
        "const until = Date.now() + 3000;\nwhile (Date.now() < until) {}\nconsole.log('busy done');",
        "console.log('still printing', 6 * 7);",
      ]);
      await openNotebook(page, "bare.ipynb");
      await openSidebar(page);
      await expectPhase(page, "idle");
      await expect(toggle(page)).toHaveAttribute("data-mode", "beside");
      await expect(toggleButton(page)).toHaveAttribute("title", /beside the kernel/);
      await toggleButton(page).click();
      await expectPhase(page, "tracking");
      await expect.poll(() => chartPoints(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      await runCell(page, 0);
      await expect(outputs(page).first()).toContainText("busy done");
      await toggleButton(page).click();
      await expectPhase(page, "idle");
      await rowsFor("bare", path.join(bare.work, "emissions.csv"));
      await runCell(page, 1);
      await expect(outputs(page).last()).toContainText("still printing 42");
    } finally {
      Object.assign(process.env, { CC_UI_URL: previous.url, CC_UI_TOKEN: previous.token, CC_UI_WORK: previous.work });
    }
  });
});
