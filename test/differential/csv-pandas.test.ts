/**
 * A real tracker's emissions.csv as pandas reads it (from `.venv`, as CodeCarbon's own readers
 * do): every float column has the float64 dtype CodeCarbon's files give (whole values written
 * `1.0`, `0.0`), the counts stay int64, a forced power is written as given, and `os` is what
 * Python's platform.platform() says on this machine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { FLOAT_COLUMNS } from "../../src/output/emissions-data";
import { makeSandbox, readCsvRows, runChild } from "../helpers/sandbox";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");

const READER = `
import json, platform, sys
import pandas
frame = pandas.read_csv(sys.argv[1])
print(json.dumps({"dtypes": {c: str(t) for c, t in frame.dtypes.items()}, "platform": platform.platform()}))
`;

test("pandas reads a tracker's CSV with CodeCarbon's dtypes; forced power and os as Python writes them", async () => {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: scripts/setup.sh installs CodeCarbon into .venv`);
  const sandbox = makeSandbox();
  try {
    await runChild(
      `const { OfflineEmissionsTracker } = require(CODECARBON);
      (async () => {
        const tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.5, forceRamPower: 7 }).start();
        await new Promise((r) => setTimeout(r, 1300));
        await tracker.stop();
      })();`,
      sandbox,
    );
    const file = path.join(sandbox.cwd, "emissions.csv");
    const [row] = readCsvRows(file);
    assert.ok(row);
    assert.equal(row["ram_power"], "7.0", "force_ram_power = 7 is written as given");
    assert.equal(row["pue"], "1.0");
    assert.equal(row["wue"], "0.0");
    const result = spawnSync(PYTHON, ["-c", READER, file], { encoding: "utf8", timeout: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const read = JSON.parse(result.stdout) as { dtypes: Record<string, string>; platform: string };
    for (const column of ["pue", "wue", "gpu_power", "gpu_energy", "water_consumed", "ram_power", "duration"])
      assert.equal(read.dtypes[column], "float64", `${column}: ${read.dtypes[column]}`);
    for (const column of FLOAT_COLUMNS) {
      // Columns that are empty (no location offline) read as float64 too, being all NaN.
      assert.equal(read.dtypes[column], "float64", `${column}: ${read.dtypes[column]}`);
    }
    assert.equal(read.dtypes["cpu_count"], "int64");
    assert.equal(read.dtypes["gpu_count"], "int64");
    assert.equal(row["os"], read.platform, "os is Python's platform.platform()");
  } finally {
    sandbox.cleanup();
  }
});
