/**
 * The working folder (and with it a relative output_dir) deleted under a running tracker, as
 * when a test harness or a notebook user removes the folder: Node's recursive mkdir of a
 * relative path then never returns, which used to spin the sampling thread at 100 % CPU and
 * hang stop(). The run now logs why it cannot write and stops.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeSandbox, runChild } from "../helpers/sandbox";

test(
  "deleting the output folder mid-run: warnings that say so, and stop() still returns",
  { timeout: 60_000 },
  async () => {
    const sandbox = makeSandbox();
    try {
      const result = await runChild(
        `const { OfflineEmissionsTracker } = require(CODECARBON);
       const fs = require("node:fs");
       (async () => {
         const tracker = new OfflineEmissionsTracker({ countryIsoCode: "FRA", measurePowerSecs: 0.2 }).start();
         await new Promise((r) => setTimeout(r, 500));
         fs.rmSync(process.cwd(), { recursive: true, force: true });
         await new Promise((r) => setTimeout(r, 1000));
         const kg = await tracker.stop();
         console.log("STOPPED " + (typeof kg));
       })();`,
        sandbox,
      );
      assert.match(result.stdout, /STOPPED number/);
      assert.match(result.stderr, /Could not write the run checkpoint in \.: .*ENOENT/);
      assert.match(result.stderr, /Output "csv" failed: .*ENOENT/);
    } finally {
      sandbox.cleanup();
    }
  },
);
