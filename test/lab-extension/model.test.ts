/**
 * The lab extension's model, without a browser: the feed the kernel writes parsed the way the
 * extension reads it, the toggle's state machine, the kernel protocol, export, settings.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLiveFeedSink } from "../../src/notebook/live-feed-sink";
import type { EmissionsData } from "../../src/output/emissions-data";

/** The live feed reads only the sample of a measurement. */
const NO_ROW = undefined as unknown as EmissionsData;
import { CSV_COLUMNS } from "../../src/output/emissions-data";
import { codecarbonKernel } from "../../src/jupyter";
import { REPLY_PREFIX } from "../../src/protocol/kernel-command";
import { emissionsRateKgPerH, feedPathFor, latestPowerW, parseLiveFeed } from "../../src/protocol/live-feed";
import {
  INITIAL_STATE,
  isFeedStale,
  nextTrackingState,
  toggleView,
  type TrackingEvent,
  type TrackingState,
} from "../../lab-extension/src/model/tracking-state";
import {
  isNodeKernel,
  kernelSupport,
  parseCapabilities,
  type Capabilities,
  type CapabilitiesRead,
} from "../../lab-extension/src/model/kernel-support";
import {
  explainKernelError,
  kernelCode,
  parseServerReply,
  serverRefusal,
} from "../../lab-extension/src/model/kernel-code";
import { parseKernelReply } from "../../src/protocol/kernel-command";
import { parseCsv } from "../../src/protocol/csv";
import { exportNotebookRows, formatCsv, nothingToExportAdvice } from "../../lab-extension/src/model/csv-export";
import {
  DEFAULT_LAB_SETTINGS,
  labSettingsFrom,
  sameJson,
  trackerSettingsFrom,
} from "../../lab-extension/src/model/settings";
import { applyFeedRead, describeError, NO_FEED, type FeedRead } from "../../lab-extension/src/model/feed-read";
import {
  BACKGROUND_INTERVAL_MS,
  feedPollIntervalMs,
  TOGGLE_INTERVAL_MS,
} from "../../lab-extension/src/model/poll-cadence";
import { carEquivalent, formatDuration, formatEnergy, formatMass, formatRate } from "../../src/protocol/format";

function writeRealFeed(dir: string): string {
  const file = path.join(dir, "codecarbon-live", "k1.json");
  const sink = createLiveFeedSink({
    file,
    kernelId: "k1",
    runId: "run-1",
    projectName: "analysis",
    measurePowerSecs: 1,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    csv: "emissions.csv",
  });
  sink.describe(["CPU from RAPL (package-0)", "RAM from a 4-DIMM model"], {
    gPerKWh: 44.2,
    source: "country FRA (Ember 2024)",
  });
  for (let i = 1; i <= 4; i++) {
    sink.measured!({
      sample: {
        timestamp: new Date().toISOString(),
        elapsedS: i,
        intervalS: 1,
        powerW: { cpu: 10 + i, gpu: 0, ram: 3 },
        energyKWh: { cpu: i * 0.001, gpu: 0, ram: 0, total: i * 0.001 },
        emissionsKg: i * 0.0000442,
        intensityGPerKWh: 44.2,
      },
      row: NO_ROW,
    });
  }
  return fs.readFileSync(file, "utf8");
}

describe("the lab extension's model", () => {
  const caps = (beside: Capabilities["beside"], resolves: boolean): CapabilitiesRead => ({
    ok: true,
    capabilities: { beside, inKernel: { codecarbonResolves: resolves, package: null } },
  });
  const runningReply = { ok: true, state: "running", runId: "r1" } as const;

  test("reads the feed the kernel's sink writes, field by field", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-labmodel-"));
    try {
      const parsed = parseLiveFeed(writeRealFeed(dir));
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
      const { feed } = parsed;
      assert.equal(feed.points.length, 4);
      assert.equal(feed.csv, "emissions.csv");
      assert.deepEqual(latestPowerW(feed), { cpu: 14, gpu: 0, ram: 3, total: 17 });
      assert.ok(Math.abs(emissionsRateKgPerH(feed)! - (0.0001768 / 4) * 3600) < 1e-12);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("refuses feeds that are half-written, of another version, or malformed, saying why", () => {
    assert.match((parseLiveFeed('{"version":1,"kern') as { reason: string }).reason, /not JSON/);
    assert.match((parseLiveFeed('{"version":1}') as { reason: string }).reason, /version 1 is not 2/);
    assert.match((parseLiveFeed('{"version":2}') as { reason: string }).reason, /lacks its ids/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-labmodel-"));
    try {
      const feed = JSON.parse(writeRealFeed(dir)) as Record<string, unknown>;
      (feed["points"] as Record<string, unknown>[])[1]!["cpuW"] = "<b>12</b>";
      assert.match((parseLiveFeed(JSON.stringify(feed)) as { reason: string }).reason, /point is malformed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("finds the feed beside the notebook, at the server root or in a folder", () => {
    assert.equal(feedPathFor("analysis.ipynb", "abc"), "codecarbon-live/abc.json");
    assert.equal(feedPathFor("projects/q3/analysis.ipynb", "abc"), "projects/q3/codecarbon-live/abc.json");
  });

  describe("the toggle's state machine", () => {
    const run = (events: TrackingEvent[], from: TrackingState = INITIAL_STATE) =>
      events.reduce(nextTrackingState, from);
    const feed = (state: "running" | "stopped", runId = "r1") => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-labmodel-"));
      try {
        const parsed = parseLiveFeed(writeRealFeed(dir));
        assert.ok(parsed.ok);
        return { ...parsed.feed, state, runId };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const tslab = { type: "kernel", kernel: { supported: true, mode: "in-kernel" } } as const;

    test("idle → starting → tracking → stopping → idle, from the kernel's replies", () => {
      let state = run([tslab]);
      assert.equal(state.phase, "idle");
      state = run([{ type: "start-requested" }], state);
      assert.equal(state.phase, "starting");
      assert.equal(toggleView(state).enabled, false, "no double start while the kernel is busy");
      state = run([{ type: "reply", answer: { ok: true, state: "running", runId: "r1" } }], state);
      assert.deepEqual([state.phase, state.runId], ["tracking", "r1"]);
      state = run(
        [{ type: "stop-requested" }, { type: "reply", answer: { ok: true, state: "stopped", runId: "r1" } }],
        state,
      );
      assert.equal(state.phase, "idle");
    });

    test("a start stays on until its own feed is read: no flicker to Track while the feed is missing or old", () => {
      let state = run([tslab, { type: "feed", feed: feed("stopped", "r0"), stale: false }]);
      assert.equal(state.phase, "idle");
      state = run([{ type: "start-requested" }], state);
      assert.equal(state.phase, "starting");
      state = run([{ type: "feed", feed: null, stale: false }], state);
      assert.equal(state.phase, "starting", "a read while the kernel has not answered changes nothing");
      state = run([{ type: "reply", answer: { ok: true, state: "running", runId: "r1" } }], state);
      assert.deepEqual([state.phase, state.awaitingFeedOf], ["tracking", "r1"]);
      // The first reads find no feed yet, or the previous run's stopped feed: still tracking, still not startable.
      state = run(
        [
          { type: "feed", feed: null, stale: false },
          { type: "feed", feed: feed("stopped", "r0"), stale: false },
        ],
        state,
      );
      assert.equal(state.phase, "tracking");
      assert.equal(run([{ type: "start-requested" }], state).phase, "tracking", "no second start");
      state = run([{ type: "feed", feed: feed("running", "r1"), stale: false }], state);
      assert.deepEqual([state.phase, state.awaitingFeedOf], ["tracking", null]);
      // Once its feed was seen, the feed speaks again: a missing feed ends the run.
      assert.equal(run([{ type: "feed", feed: null, stale: false }], state).phase, "idle");
      assert.equal(run([{ type: "kernel-restarted" }], state).awaitingFeedOf, null);
    });

    test("follows a tracker started and stopped by cells, through the feed", () => {
      let state = run([tslab, { type: "feed", feed: feed("running"), stale: false }]);
      assert.equal(state.phase, "tracking");
      state = run([{ type: "feed", feed: feed("stopped"), stale: false }], state);
      assert.equal(state.phase, "idle");
    });

    test("the feed does not override a command in flight", () => {
      const state = run([tslab, { type: "start-requested" }, { type: "feed", feed: feed("stopped"), stale: false }]);
      assert.equal(state.phase, "starting");
    });

    test("a refused command shows an error with the kernel's words, and can be retried", () => {
      const state = run([
        tslab,
        { type: "start-requested" },
        {
          type: "reply",
          answer: { ok: false, state: "idle", runId: null, error: "country_iso_code: unknown country XYZ" },
        },
      ]);
      assert.equal(state.phase, "error");
      assert.match(toggleView(state).caption, /unknown country XYZ/);
      assert.equal(toggleView(state).enabled, true);
      assert.equal(run([{ type: "start-requested" }], state).phase, "starting");
    });

    test("after a kernel restart, the dead run's feed (still saying running) is not tracking", () => {
      let state = run([
        tslab,
        { type: "feed", feed: feed("running", "r1"), stale: false },
        { type: "kernel-restarted" },
      ]);
      assert.equal(state.phase, "idle");
      state = run([{ type: "feed", feed: feed("running", "r1"), stale: false }], state);
      assert.equal(state.phase, "idle");
      state = run([{ type: "feed", feed: feed("running", "r2"), stale: false }], state);
      assert.equal(state.phase, "tracking", "a new run is");
    });

    test("a feed that stopped changing for several intervals is stale", () => {
      const running = feed("running");
      assert.equal(isFeedStale(running, 2_000), false);
      assert.equal(isFeedStale(running, 60_000), true);
      assert.equal(isFeedStale(feed("stopped"), 60_000), false);
      assert.equal(run([tslab, { type: "feed", feed: running, stale: true }]).phase, "idle");
    });

    test("a server that cannot track disables the toggle with its reason; no kernel disables it too", () => {
      const python = kernelSupport(
        { name: "python3", language: "python", displayName: "Python 3 (ipykernel)" },
        caps({ available: false, error: "no Node.js >= 20 found" }, false),
      );
      assert.deepEqual(python, { supported: false, reason: "no Node.js >= 20 found" });
      const state = run([{ type: "kernel", kernel: python }, { type: "start-requested" }]);
      assert.equal(state.phase, "unsupported");
      const view = toggleView(state);
      assert.equal(view.enabled, false);
      assert.match(view.caption, /no Node\.js >= 20 found/);
      assert.equal(toggleView(run([{ type: "kernel", kernel: null }])).enabled, false);
    });

    test("the caption says where the tracker runs, and only the kernel's commands wait for a cell", () => {
      const beside = { type: "kernel", kernel: { supported: true, mode: "beside" } } as const;
      assert.match(toggleView(run([beside])).caption, /beside the kernel/);
      assert.match(toggleView(run([tslab])).caption, /in the kernel/);
      const starting = run([beside, { type: "start-requested" }]);
      assert.doesNotMatch(toggleView(starting).caption, /waits/);
      assert.match(toggleView(run([tslab, { type: "start-requested" }])).caption, /in the kernel.*waits/);
      // A new decision for the same kernel (a re-read capability) keeps a run that is on.
      const tracking = run([beside, { type: "start-requested" }, { type: "reply", answer: runningReply }]);
      assert.equal(run([tslab], tracking).phase, "tracking");
      assert.equal(run([tslab], tracking).mode, "in-kernel");
    });
  });

  describe("where the tracker runs", () => {
    const python = { name: "python3", language: "python", displayName: "Python 3 (ipykernel)" };
    const tslabSpec = { name: "tslab", language: "typescript", displayName: "TypeScript" };
    const available = { available: true, tracker: "npm" } as const;

    test("tslab or jslab with codecarbon resolving from the notebook's folder: in the kernel", () => {
      assert.deepEqual(kernelSupport(tslabSpec, caps(available, true)), { supported: true, mode: "in-kernel" });
      assert.deepEqual(kernelSupport({ name: "jslab" }, caps(available, true)), { supported: true, mode: "in-kernel" });
      const byArgv = { name: "node-ts", argv: ["/usr/bin/node", "/opt/tslab/bin/tslab", "kernel"] };
      assert.equal(isNodeKernel(byArgv), true);
      assert.equal(isNodeKernel(python), false);
      assert.deepEqual(kernelSupport(byArgv, caps(available, true)), { supported: true, mode: "in-kernel" });
    });

    test("tslab without codecarbon beside it, and every other kernel: beside the kernel", () => {
      assert.deepEqual(kernelSupport(tslabSpec, caps(available, false)), { supported: true, mode: "beside" });
      assert.deepEqual(kernelSupport(python, caps(available, true)), { supported: true, mode: "beside" });
      assert.deepEqual(kernelSupport({ name: "ir", language: "R" }, caps(available, false)), {
        supported: true,
        mode: "beside",
      });
    });

    test("no tracker beside and no package: disabled with the server's reason", () => {
      const none = caps({ available: false, error: "Node.js 18 is too old" }, false);
      assert.deepEqual(kernelSupport(tslabSpec, none), { supported: false, reason: "Node.js 18 is too old" });
    });

    test("without the server extension tslab keeps the in-kernel tracker, other kernels say what is missing", () => {
      const missing = { ok: false, missing: true, problem: "404" } as const;
      assert.deepEqual(kernelSupport(tslabSpec, missing), { supported: true, mode: "in-kernel" });
      const python3 = kernelSupport(python, missing);
      assert.equal(python3.supported, false);
      assert.match((python3 as { reason: string }).reason, /server extension.*jupyter server extension list/);
      const failed = kernelSupport(python, { ok: false, missing: false, problem: "HTTP 500" });
      assert.match((failed as { reason: string }).reason, /did not answer \(HTTP 500\)/);
    });

    test("the capabilities JSON is checked at the edge", () => {
      const real = {
        version: 1,
        beside: { available: true, tracker: "npm" },
        inKernel: { codecarbonResolves: true, package: "node_modules/codecarbon/package.json" },
      };
      assert.deepEqual(parseCapabilities(real), {
        beside: { available: true, tracker: "npm" },
        inKernel: { codecarbonResolves: true, package: "node_modules/codecarbon/package.json" },
      });
      assert.deepEqual(parseCapabilities({ version: 1, beside: { available: false, error: "no node" } }), {
        beside: { available: false, error: "no node" },
        inKernel: null,
      });
      assert.throws(() => parseCapabilities({ ...real, version: 2 }), /version 2 is not 1/);
      assert.throws(() => parseCapabilities({ version: 1 }), /beside\.available/);
      assert.throws(() => parseCapabilities({ ...real, inKernel: { package: null } }), /codecarbonResolves/);
      assert.throws(() => parseCapabilities("nope"), /not an object/);
    });
  });

  describe("the kernel protocol", () => {
    test("the request travels as a string literal, whatever the settings contain", () => {
      const settings = { project_name: 'a"); process.exit(1); ("' };
      const code = kernelCode({ version: 1, action: "start", settings });
      const literal = /codecarbonRunKernelCommand\((".*")\);$/m.exec(code)?.[1];
      assert.ok(literal);
      assert.deepEqual(JSON.parse(JSON.parse(literal) as string), { version: 1, action: "start", settings });
    });

    test("reads the kernel's real reply line among other output", async () => {
      const reply = await codecarbonKernel({ version: 1, action: "status" });
      const stdout = `some log line\n${REPLY_PREFIX}${JSON.stringify(reply)}\n`;
      const parsed = parseKernelReply(stdout);
      assert.deepEqual(parsed && { ok: parsed.ok, state: parsed.state }, { ok: true, state: reply.state });
      assert.equal(parseKernelReply("no reply here"), null);
      assert.equal(parseKernelReply(`${REPLY_PREFIX}{"ok":"yes"}`), null);
    });

    test("the server extension's reply is checked with the same protocol, and its refusals read as sentences", async () => {
      const reply = await codecarbonKernel({ version: 1, action: "status" });
      assert.equal(parseServerReply({ ...reply, mode: "beside" }).state, reply.state);
      assert.throws(() => parseServerReply(reply), /not a tracker reply/);
      assert.throws(() => parseServerReply({ ok: "yes", mode: "beside" }), /not a tracker reply/);
      assert.equal(
        serverRefusal(409, { message: "kernel k has no notebook session: open it from a notebook" }),
        "kernel k has no notebook session: open it from a notebook",
      );
      assert.match(serverRefusal(404, "<html>"), /no codecarbon server extension/);
      assert.equal(serverRefusal(502, null), "the server answered HTTP 502");
    });

    test("a kernel that cannot load codecarbon gets advice, not a stack", () => {
      assert.match(
        explainKernelError("1:45 - Cannot find module 'codecarbon' or its corresponding type declarations."),
        /npm install codecarbon/,
      );
      assert.ok(explainKernelError("x".repeat(1000)).length <= 301);
    });
  });

  test("export keeps CodeCarbon's header and only this notebook's rows, quoting intact", () => {
    const row = (project: string, extra = "") =>
      CSV_COLUMNS.map((c) => (c === "project_name" ? project : c === "codecarbon_version" ? extra : "1"));
    const csv = formatCsv([[...CSV_COLUMNS], row("analysis", 'v"1,2'), row("other"), row("analysis")]);
    const result = exportNotebookRows(csv, "analysis");
    assert.ok(result.ok);
    assert.equal(result.rows, 2);
    const [header, ...rows] = parseCsv(result.csv);
    assert.deepEqual(header, [...CSV_COLUMNS]);
    assert.equal(rows[0]![CSV_COLUMNS.indexOf("codecarbon_version")], 'v"1,2');
    assert.match((exportNotebookRows(csv, "nobody") as { reason: string }).reason, /no rows for project "nobody"/);
    assert.match((exportNotebookRows("a,b\n1,2\n", "x") as { reason: string }).reason, /not an emissions CSV/);
  });

  describe("reading the live feed", () => {
    const realFeed = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-labmodel-"));
      try {
        const parsed = parseLiveFeed(writeRealFeed(dir));
        assert.ok(parsed.ok);
        return parsed.feed;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };

    test("a good read shows the feed and tells the state machine; a missing feed is not a problem", () => {
      const feed = realFeed();
      const read = applyFeedRead(NO_FEED, { kind: "feed", feed }, 1_000);
      assert.equal(read.view.feed, feed);
      assert.equal(read.failed, false);
      assert.deepEqual(read.event, { feed, stale: false });
      const missing = applyFeedRead(read.view, { kind: "missing" }, 2_000);
      assert.deepEqual(
        [missing.view.feed, missing.view.problem, missing.failed, missing.newProblem],
        [null, null, false, null],
      );
      assert.deepEqual(missing.event, { feed: null, stale: false });
    });

    test("a failed or unreadable read is a problem shown once, keeps the last feed, and fails the poll's tick", () => {
      const feed = realFeed();
      const good = applyFeedRead(NO_FEED, { kind: "feed", feed }, 1_000).view;
      const reads: FeedRead[] = [
        { kind: "failed", reason: "Internal Server Error" },
        { kind: "failed", reason: "Internal Server Error" },
        { kind: "invalid", reason: "the feed is version 2, not 1" },
      ];
      const outcomes = [];
      let view = good;
      for (const read of reads) {
        const outcome = applyFeedRead(view, read, 2_000);
        outcomes.push(outcome);
        view = outcome.view;
      }
      assert.deepEqual(
        outcomes.map((o) => [o.failed, o.event, o.view.feed === feed, o.view.problem, o.newProblem]),
        [
          [true, null, true, "Internal Server Error", "Internal Server Error"],
          [true, null, true, "Internal Server Error", null],
          [true, null, true, "the feed is version 2, not 1", "the feed is version 2, not 1"],
        ],
      );
      const recovered = applyFeedRead(view, { kind: "feed", feed }, 3_000);
      assert.deepEqual([recovered.view.problem, recovered.failed], [null, false]);
    });

    test("a running feed that stopped changing turns stale, even across a missing read", () => {
      const feed = { ...realFeed(), state: "running" as const };
      let view = applyFeedRead(NO_FEED, { kind: "feed", feed }, 0).view;
      view = applyFeedRead(view, { kind: "missing" }, 30_000).view;
      const later = applyFeedRead(view, { kind: "feed", feed }, 60_000);
      assert.equal(later.event?.stale, true);
      const fresh = applyFeedRead(later.view, { kind: "feed", feed: { ...feed, updatedAt: "later" } }, 61_000);
      assert.equal(fresh.event?.stale, false);
    });

    test("thrown values of any kind become words", () => {
      assert.equal(describeError(new Error("boom")), "boom");
      assert.equal(describeError(new TypeError("")), "TypeError");
      assert.equal(describeError("plain"), "plain");
    });

    test("the feed is read at the measurement cadence only while the current notebook's chart is on screen", () => {
      const at = (
        isCurrent: boolean,
        sidebarVisible: boolean,
        tracking: boolean,
        measurePowerSecs: number | null = null,
      ) => feedPollIntervalMs({ isCurrent, sidebarVisible, tracking, measurePowerSecs });
      assert.equal(at(true, true, true, 2), 2000);
      assert.equal(at(true, true, true, null), 1000, "1 s before the first feed");
      assert.equal(at(true, true, true, 0.2), 1000, "never faster than 1 s");
      assert.equal(at(true, true, true, 15), 5000, "never slower than 5 s while a chart is shown");
      assert.equal(at(true, false, true, 2), TOGGLE_INTERVAL_MS, "sidebar hidden: the toggle's cadence");
      assert.equal(at(true, true, false), TOGGLE_INTERVAL_MS, "not tracking: watch for a tracker started in a cell");
      assert.equal(at(false, true, true), BACKGROUND_INTERVAL_MS);
      assert.equal(at(false, true, false), null, "an untracked background notebook is not read");
    });
  });

  test("only the settings the user changed travel to the kernel: not defaults, not display keys, only schema keys", () => {
    const properties = {
      project_name: { default: "codecarbon" },
      measure_power_secs: { default: 15 },
      country_iso_code: { default: null },
      gpu_ids: { default: null },
      tracking_mode: { default: "machine" },
      cell_footer: { default: true, "x-scope": "lab" },
    };
    assert.deepEqual(
      trackerSettingsFrom(
        { project_name: "x", measure_power_secs: 2, country_iso_code: "", unknown_key: 1, log_level: null },
        properties,
      ),
      { project_name: "x", measure_power_secs: 2 },
    );
    // JupyterLab's form saves every key once one is edited: the defaults among them are not sent, so the kernel's
    // notebook defaults (its name as project, one measurement a second) survive an edit of another key.
    assert.deepEqual(
      trackerSettingsFrom(
        {
          project_name: "codecarbon",
          measure_power_secs: 5,
          tracking_mode: "machine",
          gpu_ids: null,
          cell_footer: false,
        },
        properties,
      ),
      { measure_power_secs: 5 },
    );
    assert.deepEqual(trackerSettingsFrom({ gpu_ids: [0, 1] }, { gpu_ids: { default: [0, 1] } }), {});
    assert.deepEqual(trackerSettingsFrom({ gpu_ids: [1] }, { gpu_ids: { default: [0, 1] } }), { gpu_ids: [1] });
    assert.equal(sameJson({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
    assert.equal(sameJson({ a: 1 }, { a: 1, b: 2 }), false);
  });

  test("the display settings come from the composite (defaults included), with their defaults when unset", () => {
    assert.deepEqual(labSettingsFrom({ cell_footer: false, project_name: "x" }), { cellFooter: false });
    assert.deepEqual(labSettingsFrom({}), DEFAULT_LAB_SETTINGS);
    assert.deepEqual(labSettingsFrom({ cell_footer: "no" }), { cellFooter: true });
  });

  test("the schema's cell_footer is a display key (x-scope lab) defaulting to on", () => {
    const schema = JSON.parse(
      fs.readFileSync(path.join(__dirname, "..", "..", "..", "schema", "plugin.json"), "utf8"),
    ) as {
      properties: Record<string, { default?: unknown; "x-scope"?: string }>;
    };
    assert.deepEqual(schema.properties["cell_footer"]?.["x-scope"], "lab");
    assert.equal(schema.properties["cell_footer"]?.default, true);
    assert.deepEqual(trackerSettingsFrom({ cell_footer: false }, schema.properties), {});
  });

  test("with nothing to export, the advice fits the notebook: no 'stop a run' where no run can start", () => {
    assert.match(
      nothingToExportAdvice({ phase: "unsupported", reason: "not tslab" }),
      /cannot run the tracker \(not tslab\)/,
    );
    assert.doesNotMatch(nothingToExportAdvice({ phase: "unsupported", reason: null }), /stop/i);
    assert.match(nothingToExportAdvice({ phase: "no-kernel", reason: null }), /no kernel/);
    assert.match(nothingToExportAdvice({ phase: "tracking", reason: null }), /click Stop/);
    assert.match(nothingToExportAdvice({ phase: "idle", reason: null }), /track a run/);
  });

  test("figures read in familiar units", () => {
    assert.equal(formatEnergy(0.000077), "77.0 mWh");
    assert.equal(formatEnergy(0.0123), "12.3 Wh");
    assert.equal(formatMass(0.0000034), "3.40 mg CO₂eq");
    assert.equal(formatMass(1.5), "1.50 kg CO₂eq");
    assert.equal(formatRate(0.0123), "12.3 g CO₂eq/h");
    assert.equal(formatDuration(3725), "1 h 02 min 05 s");
    assert.equal(formatDuration(65), "1 min 05 s");
    assert.equal(carEquivalent(0.012), "100 m by car");
  });
});
