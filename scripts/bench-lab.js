#!/usr/bin/env node
// The lab extension's cost and responsiveness, in a real JupyterLab and Debian's Chromium:
//  - the extension's JavaScript loaded when JupyterLab starts (Plotly's chunk comes later, on
//    the first chart), from the browser's own network log;
//  - JupyterLab's load time (navigation to a notebook with its toolbar) with and without the
//    extension, median of several loads;
//  - the delay from a measurement written by the kernel's sampler to its point on the chart.
// Run after `bash scripts/setup.sh`: npm run bench:lab
/* global window, document, MutationObserver -- functions passed to page.evaluate() run in the browser */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("@playwright/test");
const { startLab } = require("../ui-tests/lab-server");

const LOADS = Number(process.env.BENCH_LAB_LOADS || 5);
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const EXT = "/lab/extensions/codecarbon-jupyterlab/static/";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

function writeNotebook(work, name) {
  fs.writeFileSync(
    path.join(work, name),
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" } },
      cells: [{ cell_type: "code", id: "c0", metadata: {}, execution_count: null, outputs: [], source: "1 + 1" }],
    }),
  );
}

async function loadTimes(browser, withExtension) {
  const lab = await startLab({ withExtension });
  try {
    writeNotebook(lab.work, "bench.ipynb");
    const times = [];
    let extensionBytes = 0;
    const files = new Set();
    for (let i = 0; i < LOADS + 1; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const sizes = [];
      page.on("response", async (response) => {
        const url = new URL(response.url());
        if (!url.pathname.startsWith(EXT)) return;
        try {
          const body = await response.body();
          sizes.push(body.length);
          files.add(url.pathname.slice(EXT.length));
        } catch {
          // A response without a body (redirect): nothing to count.
        }
      });
      const started = Date.now();
      await page.goto(
        `${lab.url}/lab/workspaces/bench-${withExtension}-${i}/tree/bench.ipynb?reset&token=${lab.token}`,
      );
      await page.waitForSelector(".jp-NotebookPanel-toolbar", { state: "visible", timeout: 60_000 });
      await page.waitForFunction(
        () =>
          window.jupyterapp &&
          window.jupyterapp.shell.currentWidget &&
          window.jupyterapp.shell.currentWidget.sessionContext.isReady,
        undefined,
        { timeout: 60_000 },
      );
      const elapsed = Date.now() - started;
      // The first load warms the server's caches and the kernel: not counted.
      if (i > 0) times.push(elapsed);
      if (i === LOADS) extensionBytes = sizes.reduce((a, b) => a + b, 0);
      await context.close();
    }
    return { medianMs: median(times), times, extensionBytes, files: [...files].sort() };
  } finally {
    await lab.stop();
  }
}

async function chartDelay(browser) {
  const lab = await startLab();
  try {
    writeNotebook(lab.work, "delay.ipynb");
    const page = await browser.newPage();
    await page.goto(`${lab.url}/lab/tree/delay.ipynb?reset&token=${lab.token}`);
    await page.waitForFunction(
      () =>
        window.jupyterapp &&
        window.jupyterapp.shell.currentWidget &&
        window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === "idle",
      undefined,
      { timeout: 60_000 },
    );
    await page.locator('.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="codecarbon-sidebar"]').click();
    await page.evaluate(() => {
      window.__chartDelays = [];
      const chart = document.querySelector("#codecarbon-sidebar .jp-codecarbon-chart");
      new MutationObserver(() => {
        const written = Date.parse(chart.dataset.updatedAt || "");
        if (Number.isFinite(written)) window.__chartDelays.push(Date.now() - written);
      }).observe(chart, { attributes: true, attributeFilter: ["data-updated-at"] });
    });
    const startedAt = Date.now();
    await page.locator(".jp-NotebookPanel:visible .jp-codecarbon-toggle button").click();
    await page.waitForSelector('.jp-NotebookPanel:visible .jp-codecarbon-toggle[data-state="tracking"]', {
      timeout: 60_000,
    });
    const toTracking = Date.now() - startedAt;
    await page.waitForFunction(() => window.__chartDelays.length >= 16, undefined, { timeout: 60_000 });
    const plotlyBytes = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .filter((e) => e.name.includes("codecarbon-jupyterlab/static/"))
        .reduce((sum, e) => sum + (e.encodedBodySize || 0), 0),
    );
    const delays = (await page.evaluate(() => window.__chartDelays)).slice(1);
    await page.locator(".jp-NotebookPanel:visible .jp-codecarbon-toggle button").click();
    await page.waitForSelector('.jp-NotebookPanel:visible .jp-codecarbon-toggle[data-state="idle"]', {
      timeout: 60_000,
    });
    return {
      toTrackingMs: toTracking,
      medianMs: median(delays),
      maxMs: Math.max(...delays),
      samples: delays.length,
      bytesAfterChart: plotlyBytes,
    };
  } finally {
    await lab.stop();
  }
}

(async () => {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const without = await loadTimes(browser, false);
    const withExt = await loadTimes(browser, true);
    const delay = await chartDelay(browser);
    const staticDir = path.join(__dirname, "..", "lab-extension", "codecarbon_jupyterlab", "labextension", "static");
    const onDisk = Object.fromEntries(
      fs
        .readdirSync(staticDir)
        .filter((f) => f.endsWith(".js"))
        .map((f) => [f, fs.statSync(path.join(staticDir, f)).size]),
    );
    const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
    console.log("codecarbon lab extension");
    console.log(
      `  JavaScript loaded at JupyterLab start: ${kib(withExt.extensionBytes)} (${withExt.files.join(", ")})`,
    );
    console.log(
      `  static files on disk: ${Object.entries(onDisk)
        .map(([f, s]) => `${f} ${kib(s)}`)
        .join(", ")}`,
    );
    console.log(
      `  JupyterLab load to a notebook toolbar, median of ${LOADS}: ${without.medianMs} ms without the extension, ${withExt.medianMs} ms with it (${withExt.medianMs - without.medianMs >= 0 ? "+" : ""}${withExt.medianMs - without.medianMs} ms); loads: [${without.times.join(", ")}] vs [${withExt.times.join(", ")}]`,
    );
    console.log(`  toolbar click to "tracking" (first command in a fresh tslab kernel): ${delay.toTrackingMs} ms`);
    console.log(
      `  measurement written to its point on the chart (1 s measurements): median ${delay.medianMs} ms, max ${delay.maxMs} ms over ${delay.samples} updates`,
    );
    console.log(
      `  extension JavaScript after the first chart (with Plotly's chunk): ${kib(delay.bytesAfterChart)} transferred`,
    );
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
