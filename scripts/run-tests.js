// Runs every test: the compiled unit and integration tests with Node's test runner, then the
// UI tests (Playwright, in a real JupyterLab), and ends with one line that counts both, so a run
// that executes no test is visible. Files are found here rather than by a shell glob so the
// command is the same on every shell.
//   node scripts/run-tests.js [filter ...]   only Node test files whose path contains a filter (no UI tests)
//   node scripts/run-tests.js --ui-only      only the UI tests
//   node scripts/run-tests.js --unit         only the fast tests: no kernel, server, browser or Python
// Without a filter it first checks the prerequisites (scripts/prerequisites.js).
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const args = process.argv.slice(2);
const uiOnly = args.includes("--ui-only");
const unitOnly = args.includes("--unit");
// Test files that start kernels, servers (the real Code Carbon API), proxies, Python or `npm pack`: left out by --unit.
const INTEGRATION = [
  /[/\\](jupyter|differential|package|real-server)[/\\]/,
  /-process\.test\.js$/,
  /packaging\.test\.js$/,
  /proxy\.test\.js$/,
];
const filter = args.filter((a) => !a.startsWith("--"));

// Tests never reach the internet: every call to a host other than loopback goes to a proxy
// address where nothing listens, so it fails at once. Tests that exercise proxies or online
// services set their own variables and run their own servers on 127.0.0.1.
const offline = "http://127.0.0.1:47";
const env = { ...process.env };
for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) env[name] = offline;
for (const name of ["NO_PROXY", "no_proxy"]) env[name] = "127.0.0.1,localhost,::1";

/** Runs a command, echoing its output, and returns its exit status and what it printed. */
function run(command, commandArgs) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      output += chunk.toString();
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function nodeTests() {
  const root = path.join(ROOT, ".test-build", "test");
  const files = [];
  (function walk(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".test.js")) files.push(full);
    }
  })(root);
  const wanted = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
  const selected = (unitOnly ? wanted.filter((f) => !INTEGRATION.some((pattern) => pattern.test(f))) : wanted).sort();
  if (selected.length === 0) {
    console.error("run-tests: no test files found");
    return { passed: 0, failed: 1 };
  }
  const { code, output } = await run(process.execPath, ["--test", "--test-reporter=spec", ...selected]);
  const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(output)?.[1] ?? 0);
  const failed = count("fail") + count("cancelled");
  return { passed: count("pass"), failed: code !== 0 && failed === 0 ? 1 : failed };
}

async function uiTests() {
  const results = path.join(ROOT, "ui-tests", "test-results", "results.json");
  fs.rmSync(results, { force: true });
  const cli = path.join(ROOT, "node_modules", "@playwright", "test", "cli.js");
  const { code } = await run(process.execPath, [cli, "test", "-c", path.join("ui-tests", "playwright.config.ts")]);
  let stats = null;
  try {
    stats = JSON.parse(fs.readFileSync(results, "utf8")).stats;
  } catch {
    // No report: the run did not start (e.g. JupyterLab missing); counted as one failure below.
  }
  const passed = stats ? stats.expected + stats.flaky : 0;
  const failed = stats ? stats.unexpected : 0;
  return { passed, failed: code !== 0 && failed === 0 ? 1 : failed };
}

(async () => {
  // A whole run needs every prerequisite: name all that is missing at once, rather than let
  // suites fail one by one (`npm test` checks this before it builds; this covers direct runs).
  if (filter.length === 0 && !unitOnly) {
    const prerequisites = require("./prerequisites");
    const text = prerequisites.message(prerequisites.missing());
    if (text) {
      console.error(text);
      process.exit(1);
    }
  }
  const parts = [];
  if (!uiOnly) parts.push(["node", await nodeTests()]);
  if (uiOnly || (filter.length === 0 && !unitOnly)) parts.push(["ui", await uiTests()]);
  const passed = parts.reduce((sum, [, r]) => sum + r.passed, 0);
  const failed = parts.reduce((sum, [, r]) => sum + r.failed, 0);
  const detail = parts.map(([name, r]) => `${name}: ${r.passed} passed, ${r.failed} failed`).join("; ");
  console.log(`\n${passed} passed, ${failed} failed (${detail})`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
})();
