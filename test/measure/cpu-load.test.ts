import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createMachineLoadSampler, machineLoadPowerW, processLoadPowerW } from "../../src/measure/cpu-load";

describe("machineLoadPowerW: TDP × (0.1 + 0.9 × load³)", () => {
  test("CodeCarbon's vector: TDP 1000 W at 50 % load draws 212.5 W", () => {
    // 0.1 + 0.1125 is 0.21250000000000002 in binary floating point, in Python as here.
    assert.ok(Math.abs(machineLoadPowerW(1000, 50) - 212.5) < 1e-9);
  });

  test("an idle machine draws the 10 % floor, a busy one its TDP", () => {
    assert.equal(machineLoadPowerW(85, 0), 8.5);
    assert.equal(machineLoadPowerW(85, 100), 85);
    assert.equal(machineLoadPowerW(200, 10), 200 * (0.1 + 0.9 * 0.001));
  });

  test("power rises with load", () => {
    let previous = -1;
    for (let load = 0; load <= 100; load += 5) {
      const powerW = machineLoadPowerW(125, load);
      assert.ok(powerW > previous);
      previous = powerW;
    }
  });
});

describe("processLoadPowerW: TDP × (load / logical CPUs) / 100", () => {
  test("two of eight cores busy (200 %) is a quarter of the TDP", () => {
    assert.equal(processLoadPowerW(100, 200, 8), 25);
  });

  test("no floor: an idle process costs nothing; every core busy costs the TDP", () => {
    assert.equal(processLoadPowerW(65, 0, 4), 0);
    assert.equal(processLoadPowerW(65, 400, 4), 65);
  });

  test("a CPU count below one reads as one", () => {
    assert.equal(processLoadPowerW(50, 100, 0), 50);
  });
});

/** A fake /proc whose `stat` file the test rewrites between samples. */
function fakeProc(): { root: string; write(cpuLine: string, cpus?: number): void; remove(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  return {
    root,
    write(cpuLine: string, cpus = 2) {
      const perCpu = Array.from({ length: cpus }, (_, i) => `cpu${i} 0 0 0 0 0 0 0 0 0 0`);
      fs.writeFileSync(
        path.join(root, "stat"),
        [`cpu  ${cpuLine}`, ...perCpu, "intr 12345", "ctxt 678", ""].join("\n"),
      );
    },
    remove() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

describe("createMachineLoadSampler over /proc/stat", () => {
  test("null on the first call, then busy % since the previous call", () => {
    const proc = fakeProc();
    try {
      const sampler = createMachineLoadSampler({ procRoot: proc.root });
      // user nice system idle iowait irq softirq steal guest guest_nice
      proc.write("100 0 100 800 0 0 0 0 0 0");
      assert.equal(sampler.sample(), null);
      proc.write("200 0 200 1000 0 0 0 0 0 0");
      assert.equal(sampler.sample(), 50);
      proc.write("200 0 200 1400 0 0 0 0 0 0");
      assert.equal(sampler.sample(), 0);
    } finally {
      proc.remove();
    }
  });

  test("iowait counts as idle, steal and interrupts as busy, guest time is not counted twice", () => {
    const proc = fakeProc();
    try {
      const sampler = createMachineLoadSampler({ procRoot: proc.root });
      proc.write("0 0 0 0 0 0 0 0 0 0");
      sampler.sample();
      // busy: user 40 (incl. guest 20) + nice 10 + system 10 + irq 5 + softirq 5 + steal 10 = 80;
      // idle: idle 60 + iowait 60 = 120; total 200 → 40 %.
      proc.write("40 10 10 60 60 5 5 10 20 0");
      assert.equal(sampler.sample(), 40);
    } finally {
      proc.remove();
    }
  });

  test("rounds to 0.1 % as psutil does", () => {
    const proc = fakeProc();
    try {
      const sampler = createMachineLoadSampler({ procRoot: proc.root });
      proc.write("0 0 0 0");
      sampler.sample();
      proc.write("1 0 0 2"); // 33.33… %
      assert.equal(sampler.sample(), 33.3);
    } finally {
      proc.remove();
    }
  });

  test("a counter that goes backwards counts as unchanged", () => {
    const proc = fakeProc();
    try {
      const sampler = createMachineLoadSampler({ procRoot: proc.root });
      proc.write("500 0 0 500");
      sampler.sample();
      proc.write("400 0 0 600");
      assert.equal(sampler.sample(), 0);
    } finally {
      proc.remove();
    }
  });

  test("a call less than a tick per CPU after the previous one repeats the last figure and keeps the window", () => {
    const proc = fakeProc();
    try {
      const sampler = createMachineLoadSampler({ procRoot: proc.root });
      proc.write("0 0 0 0", 4);
      assert.equal(sampler.sample(), null);
      // Only 3 ticks on a 4-CPU machine: too little to judge, and there is no figure yet.
      proc.write("3 0 0 0", 4);
      assert.equal(sampler.sample(), null);
      proc.write("25 0 0 75", 4);
      assert.equal(sampler.sample(), 25);
      proc.write("25 0 0 76", 4);
      assert.equal(sampler.sample(), 25);
      // The window still starts at the 25/75 sample.
      proc.write("125 0 0 76", 4);
      assert.equal(sampler.sample(), 99);
    } finally {
      proc.remove();
    }
  });

  test("falls back to os.cpus() times when /proc/stat is unreadable", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    try {
      let busyMs = 0;
      let idleMs = 0;
      const cpu = (): os.CpuInfo => ({
        model: "fake",
        speed: 1000,
        times: { user: busyMs, nice: 0, sys: busyMs, idle: idleMs, irq: 0 },
      });
      const sampler = createMachineLoadSampler({ procRoot: path.join(dir, "missing"), cpuTimes: () => [cpu(), cpu()] });
      assert.equal(sampler.sample(), null);
      busyMs = 100; // 2 CPUs × (user + sys) = 400 ms busy
      idleMs = 300; // 2 CPUs × 300 = 600 ms idle
      assert.equal(sampler.sample(), 40);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a change of source restarts the window", () => {
    const proc = fakeProc();
    try {
      const times = { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 };
      const sampler = createMachineLoadSampler({
        procRoot: proc.root,
        cpuTimes: () => [{ model: "fake", speed: 1, times }],
      });
      proc.write("0 0 0 0");
      sampler.sample();
      proc.write("50 0 0 50");
      assert.equal(sampler.sample(), 50);
      fs.rmSync(path.join(proc.root, "stat"));
      assert.equal(sampler.sample(), null);
      times.user = 30;
      times.idle = 70;
      assert.equal(sampler.sample(), 30);
    } finally {
      proc.remove();
    }
  });

  test("null when no source can be read", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
    try {
      const sampler = createMachineLoadSampler({ procRoot: dir, cpuTimes: () => [] });
      assert.equal(sampler.sample(), null);
      assert.equal(sampler.sample(), null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the real machine gives a figure between 0 and 100", () => {
    const sampler = createMachineLoadSampler();
    sampler.sample();
    // Burn a little CPU so at least a tick passes on every CPU's clock.
    let figure: number | null = null;
    for (let attempt = 0; attempt < 200 && figure === null; attempt++) {
      const until = process.hrtime.bigint() + 20_000_000n;
      while (process.hrtime.bigint() < until) {
        // busy wait
      }
      figure = sampler.sample();
    }
    assert.notEqual(figure, null);
    assert.ok(figure !== null && figure >= 0 && figure <= 100, String(figure));
  });
});
