/**
 * The package as users load it: `require` (tslab compiles cells to CommonJS), `import` from an
 * ES module, types found through the top-level `types` field under Node10 resolution, and the
 * files `npm pack` ships.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../helpers/sandbox";

let consumer: string;

before(() => {
  assert.ok(fs.existsSync(path.join(REPO_ROOT, "dist", "index.js")), "run `npm run build` first (npm test does)");
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), "cc-consumer-"));
  fs.mkdirSync(path.join(consumer, "node_modules"));
  fs.symlinkSync(REPO_ROOT, path.join(consumer, "node_modules", "codecarbon"), "dir");
});

after(() => fs.rmSync(consumer, { recursive: true, force: true }));

const node = (args: string[]) =>
  execFileSync(process.execPath, args, {
    cwd: consumer,
    encoding: "utf8",
    env: { ...process.env, CODECARBON_LOG_LEVEL: "error" },
  });

test("require() from CommonJS gives the public API", () => {
  const out = node([
    "-e",
    'const c = require("codecarbon"); console.log([typeof c.EmissionsTracker, typeof c.OfflineEmissionsTracker, typeof c.trackEmissions].join())',
  ]);
  assert.equal(out.trim(), "function,function,function");
});

test("import from an ES module gives the same classes as require()", () => {
  fs.writeFileSync(
    path.join(consumer, "esm.mjs"),
    [
      'import { EmissionsTracker, OfflineEmissionsTracker, trackEmissions } from "codecarbon";',
      'import cc from "codecarbon";',
      'import { createRequire } from "node:module";',
      'const required = createRequire(import.meta.url)("codecarbon");',
      "console.log([typeof trackEmissions, EmissionsTracker === required.EmissionsTracker, OfflineEmissionsTracker === cc.OfflineEmissionsTracker].join());",
    ].join("\n"),
  );
  assert.equal(node(["esm.mjs"]).trim(), "function,true,true");
});

test("a CommonJS consumer type-checks with Node10 module resolution (how tslab checks cells)", () => {
  fs.writeFileSync(
    path.join(consumer, "consumer.ts"),
    [
      'import { EmissionsTracker, OfflineEmissionsTracker, trackEmissions, type EmissionsData } from "codecarbon";',
      'const tracker = new OfflineEmissionsTracker({ countryIsoCode: "CAN", measurePowerSecs: 1 });',
      "async function main(): Promise<number | undefined> {",
      "  tracker.start();",
      "  const data: EmissionsData | undefined = tracker.finalEmissionsData;",
      "  void data;",
      '  const wrapped = trackEmissions((x: number) => x * 2, { offline: true, countryIsoCode: "CAN" });',
      "  const doubled: number = wrapped(2);",
      "  void doubled;",
      "  void new EmissionsTracker();",
      "  return tracker.stop();",
      "}",
      "void main;",
    ].join("\n"),
  );
  const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  execFileSync(
    process.execPath,
    [
      tsc,
      "--noEmit",
      "--strict",
      "--module",
      "commonjs",
      "--moduleResolution",
      "node10",
      "--target",
      "es2022",
      "--lib",
      "es2022,esnext.disposable",
      "--types",
      "node",
      "--typeRoots",
      path.join(REPO_ROOT, "node_modules", "@types"),
      "consumer.ts",
    ],
    { cwd: consumer, encoding: "utf8" },
  );
});

test("npm pack ships the build, data/, schema/ and the prebuilt JupyterLab extension, and no tests", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  for (const required of [
    "package.json",
    "README.md",
    "dist/index.js",
    "dist/index.mjs",
    "dist/index.d.ts",
    "dist/bundle/index.js",
    "dist/bundle/cli.js",
    "dist/bundle/sampler-worker.js",
    "schema/plugin.json",
  ]) {
    assert.ok(files.includes(required), `${required} missing from the package`);
  }
  const shippedData = files.filter((f) => f.startsWith("data/"));
  const dataOnDisk = fs.readdirSync(path.join(REPO_ROOT, "data")).map((f) => `data/${f}`);
  assert.deepEqual(shippedData.sort(), dataOnDisk.sort());
  assert.ok(shippedData.length >= 3, shippedData.join());
  assert.ok(
    !files.some(
      (f) => f.includes(".test.") || f.startsWith("test/") || f.startsWith(".test-build") || f.startsWith("ui-tests/"),
    ),
    "tests must not ship",
  );
  // `codecarbon jupyter install` copies this folder: the built extension, not its sources.
  const prebuilt = "lab-extension/codecarbon_jupyterlab/labextension/";
  assert.ok(files.includes(`${prebuilt}package.json`), "the prebuilt extension ships");
  assert.ok(
    files.some((f) => f.startsWith(`${prebuilt}static/remoteEntry.`)),
    "with its remote entry",
  );
  // `codecarbon jupyter install` copies the server extension's Python modules too.
  assert.ok(files.includes("lab-extension/codecarbon_jupyterlab/server.py"), "the server extension ships");
  assert.ok(
    !files.some(
      (f) =>
        f.startsWith("lab-extension/") &&
        !f.startsWith(prebuilt) &&
        !/^lab-extension\/codecarbon_jupyterlab\/\w+\.py$/.test(f),
    ),
    "and nothing else of lab-extension/ (no bundled tracker: the npm route runs dist/)",
  );
});
