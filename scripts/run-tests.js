// Runs every compiled test file with Node's test runner. Files are found here rather than by a
// shell glob so the command is the same on every shell, and a run that finds no test fails.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..", ".test-build", "test");
const filter = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith(".test.js")) files.push(full);
  }
})(root);
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
if (selected.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}
selected.sort();
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...selected], { stdio: "inherit" });
process.exit(result.status ?? 1);
