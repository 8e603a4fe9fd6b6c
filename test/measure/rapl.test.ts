import { test, describe, afterEach } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRaplReader, probeRapl, type RaplDomain, type RaplProbe } from "../../src/measure/rapl";
import { MICROJOULES_PER_KWH } from "../../src/units";
import { useLogCapture } from "../helpers/log-capture";
import { buildRaplTree, denyReads, type FakeZone, type RaplTree } from "../helpers/rapl-tree";

const PACKAGE_PSYS_DRAM: FakeZone[] = [
  { id: "intel-rapl:0", name: "package-0", energyUJ: 1_000_000 },
  { id: "intel-rapl:0:0", name: "core", energyUJ: 400_000 },
  { id: "intel-rapl:0:1", name: "uncore", energyUJ: 100_000 },
  { id: "intel-rapl:0:2", name: "dram", energyUJ: 500_000 },
  { id: "intel-rapl:1", name: "psys", energyUJ: 9_000_000 },
];

let trees: RaplTree[] = [];
const captured = useLogCapture();

function tree(zones: FakeZone[], layout: "nested" | "flat" = "nested"): RaplTree {
  const built = buildRaplTree(zones, layout);
  trees.push(built);
  return built;
}

function domainsOf(probe: RaplProbe): RaplDomain[] {
  assert.ok(probe.ok, probe.ok ? "" : probe.reason);
  return probe.domains;
}

function names(probe: RaplProbe): string[] {
  return domainsOf(probe).map((d) => d.name);
}

const kwh = (microjoules: number): number => microjoules / MICROJOULES_PER_KWH;

afterEach(() => {
  for (const t of trees) t.cleanup();
  trees = [];
});

describe("probeRapl: classification and selection", () => {
  test("by default only the package is used (not psys, DRAM, core or uncore)", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const domains = domainsOf(probeRapl({ root: t.root }));
    assert.deepEqual(
      domains.map((d) => ({ name: d.name, kind: d.kind, provider: d.provider, path: d.path })),
      [{ name: "package-0", kind: "package", provider: "msr", path: t.zoneDir("intel-rapl:0") }],
    );
  });

  test("includeDram adds the DRAM zone", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const domains = domainsOf(probeRapl({ root: t.root, includeDram: true }));
    assert.deepEqual(
      domains.map((d) => [d.name, d.kind]),
      [
        ["package-0", "package"],
        ["package-0/dram", "dram"],
      ],
    );
  });

  test("a top-level DRAM zone is included too", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
      { id: "intel-rapl:1", name: "dram", energyUJ: 20 },
    ]);
    assert.deepEqual(names(probeRapl({ root: t.root, includeDram: true })), ["dram", "package-0"]);
    assert.deepEqual(names(probeRapl({ root: t.root })), ["package-0"]);
  });

  test("preferPsys uses psys alone", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    assert.deepEqual(names(probeRapl({ root: t.root, preferPsys: true })), ["psys"]);
  });

  test("preferPsys and includeDram together still use psys alone", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const domains = domainsOf(probeRapl({ root: t.root, preferPsys: true, includeDram: true }));
    assert.deepEqual(
      domains.map((d) => d.kind),
      ["psys"],
    );
  });

  test("preferPsys without a psys zone falls back to the packages", () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 10 }]);
    assert.deepEqual(names(probeRapl({ root: t.root, preferPsys: true })), ["package-0"]);
  });

  test("with no package, psys is used and a warning says so", () => {
    const t = tree([{ id: "intel-rapl:1", name: "psys", energyUJ: 10 }]);
    assert.deepEqual(names(probeRapl({ root: t.root })), ["psys"]);
    assert.ok(captured.lines.some((l) => l.level === "warning" && /psys/.test(l.message)));
  });

  test("two sockets keep both packages and both DRAM zones apart", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
      { id: "intel-rapl:0:0", name: "dram", energyUJ: 11 },
      { id: "intel-rapl:1", name: "package-1", energyUJ: 20 },
      { id: "intel-rapl:1:0", name: "dram", energyUJ: 21 },
    ]);
    assert.deepEqual(names(probeRapl({ root: t.root, includeDram: true })), [
      "package-0",
      "package-0/dram",
      "package-1",
      "package-1/dram",
    ]);
  });

  test("only core and uncore zones: RAPL is unavailable", () => {
    const t = tree([
      { id: "intel-rapl:0:0", name: "core", energyUJ: 10 },
      { id: "intel-rapl:0:1", name: "uncore", energyUJ: 10 },
    ]);
    const probe = probeRapl({ root: t.root, includeDram: true });
    assert.equal(probe.ok, false);
  });

  test("the max energy range is read, or null when the file is missing", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10, maxUJ: 105 },
      { id: "intel-rapl:0:2", name: "dram", energyUJ: 10, maxUJ: null },
    ]);
    const domains = domainsOf(probeRapl({ root: t.root, includeDram: true }));
    assert.deepEqual(
      domains.map((d) => d.maxEnergyUJ),
      [105, null],
    );
  });
});

describe("probeRapl: layouts and duplicates", () => {
  test("the flat /sys/class/powercap layout, with its subsystem loop, finds each zone once", () => {
    const t = tree(PACKAGE_PSYS_DRAM, "flat");
    const domains = domainsOf(probeRapl({ root: t.root, includeDram: true }));
    assert.deepEqual(
      domains.map((d) => d.name),
      ["package-0", "package-0/dram"],
    );
    assert.equal(fs.readFileSync(path.join(domains[0]?.path ?? "", "name"), "utf8").trim(), "package-0");
  });

  test("a package exposed through MSR and MMIO is counted once, through MMIO", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
      { id: "intel-rapl-mmio:0", name: "package-0", energyUJ: 10 },
    ]);
    const domains = domainsOf(probeRapl({ root: t.root }));
    assert.equal(domains.length, 1);
    assert.equal(domains[0]?.provider, "mmio");
    assert.equal(domains[0]?.path, t.zoneDir("intel-rapl-mmio:0"));
  });

  test("MMIO is preferred in the flat layout as well", () => {
    const t = tree(
      [
        { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
        { id: "intel-rapl-mmio:0", name: "package-0", energyUJ: 10 },
        { id: "intel-rapl:1", name: "psys", energyUJ: 10 },
      ],
      "flat",
    );
    const domains = domainsOf(probeRapl({ root: t.root }));
    assert.deepEqual(
      domains.map((d) => [d.name, d.provider]),
      [["package-0", "mmio"]],
    );
  });

  test("a root naming the intel-rapl control type also finds its MMIO sibling", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
      { id: "intel-rapl-mmio:0", name: "package-0", energyUJ: 10 },
    ]);
    const domains = domainsOf(probeRapl({ root: path.join(t.root, "intel-rapl") }));
    assert.deepEqual(
      domains.map((d) => [d.name, d.provider]),
      [["package-0", "mmio"]],
    );
  });

  test("die zones that mirror one socket counter are counted once (#1274)", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0-die-0", energyUJ: 123_456_789 },
      { id: "intel-rapl:1", name: "package-0-die-1", energyUJ: 123_456_789 },
    ]);
    const domains = domainsOf(probeRapl({ root: t.root }));
    assert.deepEqual(
      domains.map((d) => d.name),
      ["package-0-die-0"],
    );
    assert.ok(captured.lines.some((l) => /package-0-die-1/.test(l.message)));
  });

  test("die zones with their own counters are all kept", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0-die-0", energyUJ: 123_456_789 },
      { id: "intel-rapl:1", name: "package-0-die-1", energyUJ: 98_765_432 },
      { id: "intel-rapl:2", name: "package-1-die-0", energyUJ: 123_456_789 },
    ]);
    assert.deepEqual(names(probeRapl({ root: t.root })), ["package-0-die-0", "package-0-die-1", "package-1-die-0"]);
  });

  test("counters at zero are no evidence of mirroring", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0-die-0", energyUJ: 0 },
      { id: "intel-rapl:1", name: "package-0-die-1", energyUJ: 0 },
    ]);
    assert.equal(domainsOf(probeRapl({ root: t.root })).length, 2);
  });
});

describe("probeRapl: missing and unreadable files", () => {
  test("a missing root says there is no powercap tree", () => {
    const missing = path.join(os.tmpdir(), "cc-no-such-powercap-dir");
    const probe = probeRapl({ root: missing });
    assert.equal(probe.ok, false);
    assert.match(probe.ok ? "" : probe.reason, /no powercap tree at .*cc-no-such-powercap-dir/);
  });

  test("a root without intel-rapl zones is unavailable", () => {
    const t = tree([]);
    fs.mkdirSync(path.join(t.root, "dtpm"));
    const probe = probeRapl({ root: t.root });
    assert.equal(probe.ok, false);
    assert.match(probe.ok ? "" : probe.reason, /no intel-rapl zone/);
  });

  test("every main domain denied: unavailable, with the chmod hint", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
      { id: "intel-rapl-mmio:0", name: "package-0", energyUJ: 10 },
    ]);
    const probe = probeRapl({
      root: t.root,
      readFile: denyReads([t.energyFile("intel-rapl:0"), t.energyFile("intel-rapl-mmio:0")]),
    });
    assert.equal(probe.ok, false);
    const reason = probe.ok ? "" : probe.reason;
    assert.match(reason, /^permission denied: /);
    assert.match(reason, /sudo chmod -R a\+r \/sys\/class\/powercap\/\*/);
    assert.ok(reason.includes(t.energyFile("intel-rapl:0")) || reason.includes("intel-rapl:0/energy_uj"));
  });

  test("mixed permissions: the readable provider is used and a warning is logged", () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0", energyUJ: 10 },
      { id: "intel-rapl-mmio:0", name: "package-0", energyUJ: 10 },
    ]);
    const probe = probeRapl({ root: t.root, readFile: denyReads([t.energyFile("intel-rapl-mmio:0")]) });
    assert.deepEqual(
      domainsOf(probe).map((d) => d.provider),
      ["msr"],
    );
    assert.ok(captured.lines.some((l) => l.level === "warning" && /permission denied/.test(l.message)));
  });

  test("an unreadable sub-zone is skipped with a warning and the package still measures", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const probe = probeRapl({ root: t.root, includeDram: true, readFile: denyReads([t.energyFile("intel-rapl:0:2")]) });
    assert.deepEqual(names(probe), ["package-0"]);
    assert.ok(captured.lines.some((l) => l.level === "warning" && /intel-rapl:0:2/.test(l.message)));
  });

  test("an unreadable zone that would not be measured raises no warning", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const probe = probeRapl({
      root: t.root,
      readFile: denyReads([t.energyFile("intel-rapl:1"), t.energyFile("intel-rapl:0:2")]),
    });
    assert.deepEqual(names(probe), ["package-0"]);
    assert.deepEqual(
      captured.lines.filter((l) => l.level === "warning"),
      [],
    );
  });

  test("a dangling energy_uj link makes the zone unusable", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    t.breakEnergy("intel-rapl:0", "dangling-link");
    assert.deepEqual(names(probeRapl({ root: t.root })), ["psys"]);
  });

  test("a folder in place of energy_uj makes the zone unusable", () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 10 }]);
    t.breakEnergy("intel-rapl:0", "directory");
    const probe = probeRapl({ root: t.root });
    assert.equal(probe.ok, false);
    assert.match(probe.ok ? "" : probe.reason, /no readable package or psys zone/);
  });

  test("a counter file holding text is not a counter", () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 10 }]);
    fs.writeFileSync(t.energyFile("intel-rapl:0"), "garbage\n");
    assert.equal(probeRapl({ root: t.root }).ok, false);
  });
});

describe("createRaplReader", () => {
  test("the source lists the domains and whether DRAM is included", () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root, includeDram: true })));
    assert.equal(reader.device, "cpu");
    assert.deepEqual(reader.source, {
      device: "cpu",
      method: "rapl",
      domains: ["package-0", "package-0/dram"],
      includesDram: true,
    });
  });

  test("energy is the counter delta and power is energy over the interval", async () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 5_000_000 }]);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root })));
    await reader.start();
    t.setEnergy("intel-rapl:0", 5_000_000 + 20_000_000); // 20 J
    const reading = await reader.read(10);
    assert.equal(reading.energyKWh, kwh(20_000_000));
    assert.ok(Math.abs(reading.powerW - 2) < 1e-9);
    t.setEnergy("intel-rapl:0", 5_000_000 + 20_000_000 + 3_000_000);
    assert.equal((await reader.read(1)).energyKWh, kwh(3_000_000));
  });

  test("DRAM energy is summed with the package when included (#1305)", async () => {
    const t = tree(PACKAGE_PSYS_DRAM);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root, includeDram: true })));
    await reader.start();
    t.setEnergy("intel-rapl:0", 1_000_000 + 7_000_000);
    t.setEnergy("intel-rapl:0:2", 500_000 + 2_000_000);
    t.setEnergy("intel-rapl:0:0", 400_000 + 99_000_000); // core: part of the package, never added
    t.setEnergy("intel-rapl:1", 9_000_000 + 99_000_000); // psys: not selected
    const reading = await reader.read(1);
    assert.equal(reading.energyKWh, kwh(9_000_000));
  });

  test("wraparound: last 100, max 105, new 10 gives 15 µJ", async () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 100, maxUJ: 105 }]);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root })));
    await reader.start();
    t.setEnergy("intel-rapl:0", 10);
    assert.equal((await reader.read(1)).energyKWh, kwh(15));
  });

  test("a backwards counter with no readable max counts 0, logs once, and resumes (#1309)", async () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 1000, maxUJ: null }]);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root })));
    await reader.start();
    t.setEnergy("intel-rapl:0", 10);
    const reading = await reader.read(1);
    assert.equal(reading.energyKWh, 0);
    assert.equal(reading.powerW, 0);
    t.setEnergy("intel-rapl:0", 5);
    assert.equal((await reader.read(1)).energyKWh, 0);
    assert.equal(captured.lines.filter((l) => /went backwards/.test(l.message)).length, 1);
    t.setEnergy("intel-rapl:0", 505);
    assert.equal((await reader.read(1)).energyKWh, kwh(500));
  });

  test("a zone that stops reading counts 0 and its energy is caught up when it returns", async () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 1000 }]);
    const domains = domainsOf(probeRapl({ root: t.root }));
    let locked = false;
    const lockable = (file: string): string => {
      if (locked) throw Object.assign(new Error("EIO"), { code: "EIO" });
      return fs.readFileSync(file, "utf8");
    };
    const reader = createRaplReader(domains, { readFile: lockable });
    await reader.start();
    locked = true;
    t.setEnergy("intel-rapl:0", 3000);
    assert.equal((await reader.read(1)).energyKWh, 0);
    locked = false;
    t.setEnergy("intel-rapl:0", 4000);
    assert.equal((await reader.read(1)).energyKWh, kwh(3000));
    assert.equal(captured.lines.filter((l) => /cannot read/.test(l.message)).length, 1);
  });

  test("a zero interval gives 0 W, not a division by zero", async () => {
    const t = tree([{ id: "intel-rapl:0", name: "package-0", energyUJ: 1000 }]);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root })));
    await reader.start();
    t.setEnergy("intel-rapl:0", 2000);
    const reading = await reader.read(0);
    assert.equal(reading.powerW, 0);
    assert.equal(reading.energyKWh, kwh(1000));
  });

  test("mirrored die zones are not double counted when read", async () => {
    const t = tree([
      { id: "intel-rapl:0", name: "package-0-die-0", energyUJ: 1_000_000 },
      { id: "intel-rapl:1", name: "package-0-die-1", energyUJ: 1_000_000 },
    ]);
    const reader = createRaplReader(domainsOf(probeRapl({ root: t.root })));
    await reader.start();
    t.setEnergy("intel-rapl:0", 4_000_000);
    t.setEnergy("intel-rapl:1", 4_000_000);
    assert.equal((await reader.read(1)).energyKWh, kwh(3_000_000));
  });
});
