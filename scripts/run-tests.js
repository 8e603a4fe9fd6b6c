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
// Tests never reach the internet: every call to a host other than loopback goes to a proxy
// address where nothing listens, so it fails at once. Tests that exercise proxies or online
// services set their own variables and run their own servers on 127.0.0.1.
const offline = "http://127.0.0.1:47";
const env = { ...process.env };
for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) env[name] = offline;
for (const name of ["NO_PROXY", "no_proxy"]) env[name] = "127.0.0.1,localhost,::1";
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...selected], { stdio: "inherit", env });
process.exit(result.status ?? 1);
