import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { countPackagesFromSysfs, readSystemFacts } from "../../src/measure/system-info";

function cpuTree(packages: Array<string | null>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-cpu-"));
  packages.forEach((pkg, i) => {
    const dir = path.join(root, `cpu${i}`);
    fs.mkdirSync(dir);
    if (pkg !== null) {
      fs.mkdirSync(path.join(dir, "topology"));
      fs.writeFileSync(path.join(dir, "topology", "physical_package_id"), `${pkg}\n`);
    }
  });
  fs.mkdirSync(path.join(root, "cpufreq"));
  return root;
}

test("sockets are the distinct physical package ids of the CPUs", () => {
  const two = cpuTree(["0", "0", "1", "1"]);
  const one = cpuTree(["0", "0", null]);
  try {
    assert.equal(countPackagesFromSysfs(two), 2);
    assert.equal(countPackagesFromSysfs(one), 1, "an offline CPU without topology is skipped");
    assert.equal(countPackagesFromSysfs(path.join(two, "missing")), null);
  } finally {
    fs.rmSync(two, { recursive: true, force: true });
    fs.rmSync(one, { recursive: true, force: true });
  }
});

test("system facts come from the running machine", () => {
  const facts = readSystemFacts();
  assert.ok(facts.logicalCpuCount >= 1);
  assert.ok(facts.totalMemoryBytes > 0);
  assert.equal(facts.cpuModel, os.cpus()[0]?.model.trim() || null);
  assert.match(facts.osDescription, /^\w+-/);
});
