import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createProcessTreeSampler } from "../../src/measure/process-tree";

interface FakeProcess {
  pid: number;
  name?: string;
  /** Clock ticks (1/100 s). */
  utime: number;
  stime: number;
  cutime?: number;
  cstime?: number;
  rssPages: number;
  /** Children per thread id. */
  threads?: Record<number, number[]>;
}

/** Writes a /proc-like tree: <pid>/stat, <pid>/statm and <pid>/task/<tid>/children. */
function writeProcTree(root: string, processes: FakeProcess[]): void {
  for (const p of processes) {
    const dir = path.join(root, String(p.pid));
    fs.mkdirSync(dir, { recursive: true });
    const afterName = [
      "S",
      1,
      p.pid,
      p.pid,
      0,
      -1,
      4194560,
      1000,
      0,
      0,
      0,
      p.utime,
      p.stime,
      p.cutime ?? 0,
      p.cstime ?? 0,
      20,
      0,
      1,
      0,
      12345,
      1_000_000,
      p.rssPages,
    ];
    fs.writeFileSync(path.join(dir, "stat"), `${p.pid} (${p.name ?? "node"}) ${afterName.join(" ")}\n`);
    fs.writeFileSync(path.join(dir, "statm"), `${p.rssPages * 3} ${p.rssPages} 100 10 0 500 0\n`);
    for (const [tid, children] of Object.entries(p.threads ?? { [p.pid]: [] })) {
      fs.mkdirSync(path.join(dir, "task", tid), { recursive: true });
      fs.writeFileSync(path.join(dir, "task", tid, "children"), children.length > 0 ? `${children.join(" ")} ` : "");
    }
  }
}

function withTempDir(run: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  try {
    run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("createProcessTreeSampler over a fixture /proc", () => {
  test("sums CPU time and RSS over the whole tree, through every thread's children list", () => {
    withTempDir((root) => {
      writeProcTree(root, [
        // Two threads, each with its own children; a command name with spaces and parentheses.
        {
          pid: 100,
          name: "my (odd) name",
          utime: 250,
          stime: 50,
          cutime: 10,
          cstime: 5,
          rssPages: 1000,
          threads: { 100: [101, 102], 105: [103] },
        },
        { pid: 101, utime: 100, stime: 20, rssPages: 500, threads: { 101: [104] } },
        { pid: 102, utime: 0, stime: 0, rssPages: 0 },
        { pid: 103, utime: 7, stime: 3, rssPages: 10 },
        // Lists the root as a child: the walk must not loop or count it twice.
        { pid: 104, utime: 30, stime: 0, cutime: 40, cstime: 0, rssPages: 250, threads: { 104: [100] } },
      ]);
      const sampler = createProcessTreeSampler({ pid: 100, procRoot: root });
      // (250+50+10+5) + (100+20) + 0 + (7+3) + (30+40) ticks = 515 ticks.
      assert.equal(sampler.cpuSeconds(), 5.15);
      assert.equal(sampler.rssBytes(), (1000 + 500 + 0 + 10 + 250) * 4096);
    });
  });

  test("a child listed but already gone is skipped", () => {
    withTempDir((root) => {
      writeProcTree(root, [
        { pid: 200, utime: 100, stime: 0, rssPages: 10, threads: { 200: [201, 202] } },
        { pid: 202, utime: 50, stime: 50, rssPages: 5 },
      ]);
      const sampler = createProcessTreeSampler({ pid: 200, procRoot: root });
      assert.equal(sampler.cpuSeconds(), 2);
      assert.equal(sampler.rssBytes(), 15 * 4096);
    });
  });

  test("the page size can be given", () => {
    withTempDir((root) => {
      writeProcTree(root, [{ pid: 300, utime: 0, stime: 0, rssPages: 3 }]);
      assert.equal(createProcessTreeSampler({ pid: 300, procRoot: root, pageSizeBytes: 65536 }).rssBytes(), 3 * 65536);
    });
  });

  test("a process that does not exist (or a malformed stat) counts zero", () => {
    withTempDir((root) => {
      const sampler = createProcessTreeSampler({ pid: 999, procRoot: root });
      assert.equal(sampler.cpuSeconds(), 0);
      assert.equal(sampler.rssBytes(), 0);
      fs.mkdirSync(path.join(root, "998"));
      fs.writeFileSync(path.join(root, "998", "stat"), "998 (truncated) S 1 2\n");
      fs.writeFileSync(path.join(root, "998", "statm"), "garbage\n");
      const broken = createProcessTreeSampler({ pid: 998, procRoot: root });
      assert.equal(broken.cpuSeconds(), 0);
      assert.equal(broken.rssBytes(), 0);
    });
  });

  test("our own process is measured with Node's counters, even without /proc", () => {
    withTempDir((root) => {
      const sampler = createProcessTreeSampler({ procRoot: root });
      const before = process.cpuUsage();
      const seconds = sampler.cpuSeconds();
      const after = process.cpuUsage();
      assert.ok(seconds >= (before.user + before.system) / 1e6 && seconds <= (after.user + after.system) / 1e6);
      assert.ok(sampler.rssBytes() > 0);
    });
  });
});

/** Node source for a process that burns `seconds` of its own CPU time, says "ready", then idles. */
const BURN_THEN_IDLE = `
const targetUs = Number(process.argv[1]) * 1e6;
for (;;) { const used = process.cpuUsage(); if (used.user + used.system >= targetUs) break; }
process.stdout.write("ready\\n");
setInterval(() => {}, 60000);
`;

/** Node source for a process that starts a burning grandchild and says "ready" when it is. */
const PARENT_OF_BURNER = `
const { spawn } = require("node:child_process");
const child = spawn(process.execPath, ["-e", process.argv[1], process.argv[2]], { stdio: ["ignore", "pipe", "inherit"] });
child.stdout.on("data", (chunk) => { if (String(chunk).includes("ready")) process.stdout.write("ready\\n"); });
process.on("SIGTERM", () => { child.kill("SIGKILL"); process.exit(0); });
setInterval(() => {}, 60000);
`;

function startNode(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ready")) resolve(child);
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`child exited early with ${String(code)}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function ownCpuSeconds(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

describe("createProcessTreeSampler on real processes", () => {
  const burnS = 0.3;
  // /proc counts in 10 ms ticks and rounds user and system time down separately.
  const countedAtLeastS = burnS - 0.05;

  test(
    "counts a busy child's CPU time and memory, and keeps its time once it has exited",
    { timeout: 60_000 },
    async () => {
      const sampler = createProcessTreeSampler();
      const child = await startNode(["-e", BURN_THEN_IDLE, String(burnS)]);
      try {
        if (process.platform !== "linux") {
          // Without /proc only our own process is visible.
          assert.ok(sampler.cpuSeconds() - ownCpuSeconds() <= 0);
          return;
        }
        const childPid = child.pid ?? -1;
        const childOnly = createProcessTreeSampler({ pid: childPid });
        assert.ok(childOnly.cpuSeconds() >= countedAtLeastS, `child alone: ${childOnly.cpuSeconds()} s`);
        const childRss = childOnly.rssBytes();
        assert.ok(childRss > 1024 * 1024, `child RSS ${childRss}`);

        const tree = sampler.cpuSeconds();
        assert.ok(tree - ownCpuSeconds() >= countedAtLeastS, `tree ${tree} s, own ${ownCpuSeconds()} s`);
        const treeRss = sampler.rssBytes();
        assert.ok(treeRss >= process.memoryUsage.rss() + childRss / 2, `tree RSS ${treeRss}`);

        await stop(child);
        // Reaped by us: the kernel moved its time into our cutime/cstime.
        const afterExit = sampler.cpuSeconds();
        assert.ok(
          afterExit - ownCpuSeconds() >= countedAtLeastS,
          `after exit ${afterExit} s, own ${ownCpuSeconds()} s`,
        );
        assert.ok(afterExit >= tree);
      } finally {
        await stop(child);
      }
    },
  );

  test("finds grandchildren", { timeout: 60_000 }, async () => {
    const child = await startNode(["-e", PARENT_OF_BURNER, BURN_THEN_IDLE, String(burnS)]);
    try {
      const sampler = createProcessTreeSampler({ pid: child.pid ?? -1 });
      if (process.platform !== "linux") {
        assert.equal(sampler.cpuSeconds(), 0);
        return;
      }
      // The middle process only waits; nearly all of this is the grandchild's.
      assert.ok(sampler.cpuSeconds() >= countedAtLeastS, `tree below the child: ${sampler.cpuSeconds()} s`);
    } finally {
      await stop(child);
    }
  });
});
