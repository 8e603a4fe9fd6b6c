/**
 * Importing the package must cost a process nothing after the import itself: no timer, no
 * worker thread, no file watcher, no child process, no socket. Users import it in every notebook
 * kernel and every script, most of which never start a tracker. Checked in fresh processes, by
 * recording every call that could start one while the package loads (`require` and `import`),
 * and by comparing the event loop's live resources before and after. Not a timing test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { REPO_ROOT } from "../helpers/sandbox";

/** Runs in the child: wraps every way to start something, loads the package, reports. */
const PROBE = `
const started = [];
const immediate = setImmediate;
const record = (what) => started.push(what);
const wrap = (object, name, label) => {
  const original = object[name];
  object[name] = function (...args) {
    record(label);
    return original.apply(this, args);
  };
};
for (const name of ["setTimeout", "setInterval", "setImmediate"]) wrap(globalThis, name, name);
const timers = require("node:timers");
for (const name of ["setTimeout", "setInterval", "setImmediate"]) wrap(timers, name, "timers." + name);
const fs = require("node:fs");
for (const name of ["watch", "watchFile"]) wrap(fs, name, "fs." + name);
wrap(fs.promises, "watch", "fs.promises.watch");
const childProcess = require("node:child_process");
for (const name of ["spawn", "exec", "execFile", "fork", "spawnSync", "execSync", "execFileSync"])
  wrap(childProcess, name, "child_process." + name);
const workerThreads = require("node:worker_threads");
const OriginalWorker = workerThreads.Worker;
workerThreads.Worker = class extends OriginalWorker {
  constructor(...args) {
    record("Worker");
    super(...args);
  }
};
const net = require("node:net");
wrap(net, "createServer", "net.createServer");
wrap(net, "connect", "net.connect");
wrap(net, "createConnection", "net.createConnection");
const resources = () => process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap").sort();
let before;
let threadsBefore;
// One asynchronous file operation first, so libuv's thread pool (which the ES module loader
// starts) is already there when the threads are counted.
const begin = (load) =>
  fs.stat("/", () =>
    immediate(() => {
      before = resources();
      threadsBefore = fs.readdirSync("/proc/self/task").length;
      load();
    }),
  );
const done = (pkg, polls = 0) => {
  // The ES module loader closes the files it read asynchronously: let those requests finish.
  const pending = resources().filter((r) => r === "CloseReq" || r === "FSReqCallback");
  if (pending.length > 0 && polls < 10000) return void immediate(() => done(pkg, polls + 1));
  const after = resources();
  const threadsAfter = fs.readdirSync("/proc/self/task").length;
  const report = { exports: Object.keys(pkg).length, started, before, after, threadsBefore, threadsAfter };
  process.stdout.write(JSON.stringify(report));
};
`;

function probe(load: string): {
  exports: number;
  started: string[];
  before: string[];
  after: string[];
  threadsBefore: number;
  threadsAfter: number;
} {
  const entry = path.join(REPO_ROOT, "dist", "index.js");
  const out = execFileSync(
    process.execPath,
    ["-e", `${PROBE}\nbegin(() => {\n${load.replaceAll("ENTRY", JSON.stringify(entry))}\n});`],
    {
      encoding: "utf8",
      env: { ...process.env, CODECARBON_LOG_LEVEL: "error" },
    },
  );
  return JSON.parse(out) as ReturnType<typeof probe>;
}

for (const [how, load] of [
  ["require", "done(require(ENTRY));"],
  ["import", 'import(require("node:url").pathToFileURL(ENTRY.replace(/index\\.js$/, "index.mjs")).href).then(done);'],
] as const) {
  test(`${how}("codecarbon") starts no timer, worker, watcher, child process or socket`, () => {
    const report = probe(load);
    assert.ok(report.exports > 5, "the package loaded");
    assert.deepEqual(report.started, [], "calls made while the package loaded");
    assert.deepEqual(report.after, report.before, "the event loop's live resources");
    assert.equal(report.threadsAfter, report.threadsBefore, "the process's threads");
  });
}

test("constructing a tracker starts nothing either; start() starts its sampler", () => {
  const report = probe(`
    const pkg = require(ENTRY);
    const tracker = new pkg.OfflineEmissionsTracker({ countryIsoCode: "CAN", saveToFile: false });
    const afterConstruct = started.slice();
    tracker.start();
    const afterStart = started.slice();
    tracker.stop().then(() => {
      started.length = 0;
      started.push(...afterConstruct, "|", ...afterStart);
      done(pkg);
    });
  `);
  const [construct, start] = [report.started.slice(0, report.started.indexOf("|")), report.started];
  assert.deepEqual(construct, [], "calls made by the constructor");
  assert.ok(start.includes("Worker"), `start() starts the sampler worker (${start.join(", ")})`);
});
