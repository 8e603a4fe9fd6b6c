/**
 * UI tests: a real JupyterLab (the project's .venv, pinned in requirements-test.txt) with the
 * tslab kernel and the built extension, installed the npm way (`codecarbon jupyter install`),
 * driven in Debian's Chromium. The server is started fresh for every run by global-setup.ts.
 */
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "./tests",
  globalSetup: require.resolve("./global-setup"),
  outputDir: "./test-results",
  // One JupyterLab and its kernels on a 2-core machine: tests run one after the other.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  use: {
    browserName: "chromium",
    headless: true,
    viewport: { width: 1400, height: 900 },
    launchOptions: { executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium", args: ["--no-sandbox"] },
    acceptDownloads: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
});
