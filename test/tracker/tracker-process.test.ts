/**
 * Real trackers in real child processes: sampling while the main thread spins, gap-free energy
 * integration, and recovery of a run whose process was killed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { makeSandbox, readCsvRows, runChild, startChild, waitFor } from "../helpers/sandbox";
import { JOULES_PER_KWH } from "../../src/protocol/units";

const checkpointFiles = (outputDir: string) => {
  const dir = path.join(outputDir, ".codecarbon", "runs");
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => path.join(dir, f))
    : [];
};

const readCheckpointDuration = (file: string): number | undefined => {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { row?: { duration?: number } };
    return parsed.row?.duration;
  } catch {
    return undefined;
  }
};

test("a cell that blocks the event loop is still sampled on time, and RAM energy is power × duration", async () => {
  const box = makeSandbox();
  try {
    const { child, done } = startChild(
      `
      const { OfflineEmissionsTracker } = require(CODECARBON);
      const tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.2, forceRamPower: 10, forceCpuPower: 50 });
      tracker.start();
      setTimeout(async () => {
        process.stdout.write("spinning\\n");
        const until = Date.now() + 2500;
        while (Date.now() < until) {} // a cell that never yields
        process.stdout.write("spun\\n");
        await tracker.stop();
        process.stdout.write(JSON.stringify(tracker.finalEmissionsData) + "\\n");
      }, 300);
      `,
      box,
    );
    let spinning = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("spinning")) spinning = true;
    });
    await waitFor(() => (spinning ? true : undefined), "the child to start spinning");
    // While the child's main thread spins, its checkpoint must keep advancing.
    const seen = new Set<number>();
    const spinEnds = Date.now() + 2000;
    while (Date.now() < spinEnds) {
      for (const file of checkpointFiles(box.cwd)) {
        const d = readCheckpointDuration(file);
        if (d !== undefined) seen.add(d);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      seen.size >= 5,
      `expected ≥5 distinct checkpoints during a 2 s spin at 0.2 s, saw ${seen.size}: ${[...seen].join(", ")}`,
    );

    const row = JSON.parse(result.stdout.trim().split("\n").pop()!) as Record<string, number>;
    const expectedKWh = (10 * row["duration"]!) / JOULES_PER_KWH;
    assert.ok(
      Math.abs(row["ram_energy"]! - expectedKWh) / expectedKWh < 0.001,
      `ram_energy ${row["ram_energy"]} vs ${expectedKWh}`,
    );
    assert.ok(row["duration"]! >= 2.5, `duration ${row["duration"]}`);
    assert.ok(Math.abs(row["ram_power"]! - 10) < 0.01);

    const rows = readCsvRows(path.join(box.cwd, "emissions.csv"));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!["run_id"], String(row["run_id"]));
    assert.equal(checkpointFiles(box.cwd).length, 0, "a stopped run leaves no checkpoint");
  } finally {
    box.cleanup();
  }
});

test("a run whose process is killed is recovered into the CSV at the next start, once", async () => {
  const box = makeSandbox();
  try {
    const { child, done } = startChild(
      `
      const { OfflineEmissionsTracker } = require(CODECARBON);
      new OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 0.2, projectName: "killed" }).start();
      setInterval(() => {}, 1000);
      `,
      box,
    );
    const checkpoint = await waitFor(() => {
      const file = checkpointFiles(box.cwd)[0];
      return file !== undefined && (readCheckpointDuration(file) ?? 0) > 0.5 ? file : undefined;
    }, "a checkpoint of more than 0.5 s");
    const saved = JSON.parse(fs.readFileSync(checkpoint, "utf8")) as { row: { run_id: string; duration: number } };
    child.kill("SIGKILL");
    await done;
    assert.equal(fs.existsSync(path.join(box.cwd, "emissions.csv")), false, "nothing written before recovery");

    // Two later runs start in the same folder; the dead run must appear exactly once.
    await Promise.all(
      [1, 2].map(() =>
        runChild(
          `
          const { OfflineEmissionsTracker } = require(CODECARBON);
          (async () => {
            const t = new OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 5, projectName: "next" }).start();
            await t.stop();
          })();
          `,
          box,
        ),
      ),
    );
    const rows = readCsvRows(path.join(box.cwd, "emissions.csv"));
    const recovered = rows.filter((r) => r["run_id"] === saved.row.run_id);
    assert.equal(recovered.length, 1, JSON.stringify(rows.map((r) => [r["project_name"], r["run_id"]])));
    assert.equal(recovered[0]!["project_name"], "killed");
    assert.ok(Number(recovered[0]!["duration"]) >= saved.row.duration);
    assert.equal(rows.filter((r) => r["project_name"] === "next").length, 2);
  } finally {
    box.cleanup();
  }
});
