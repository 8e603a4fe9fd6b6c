/**
 * Installing from a checkout, as the README says to until the packages are published: `npm pack`
 * (its prepack step builds what is missing) and `npm install <tarball>` in another project, whose
 * `codecarbon jupyter install` then finds the prebuilt extension in the package; and
 * `pip install ./lab-extension`. Offline: npm installs the dependencies from its cache (npm ci
 * filled it; the project gets a lockfile cut from this checkout's, since the cache holds the
 * tarballs but not the registry's package lists) and pip uses the build tools already in .venv.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const VENV_BIN = path.join(REPO_ROOT, ".venv", "bin");

/**
 * A lockfile for a project that depends only on the tarball: the tarball's dependencies, and
 * theirs, as this checkout's package-lock.json resolved them (same paths, so the same nesting).
 */
function lockFor(
  tarballName: string,
  manifest: { version: string; bin: string; dependencies?: Record<string, string> },
): object {
  const repoLock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")).packages as Record<
    string,
    { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
  >;
  const packages: Record<string, unknown> = {
    "": { name: "uses-codecarbon", version: "1.0.0", dependencies: { codecarbon: `file:${tarballName}` } },
    "node_modules/codecarbon": {
      version: manifest.version,
      resolved: `file:${tarballName}`,
      bin: { codecarbon: manifest.bin },
      dependencies: manifest.dependencies,
    },
  };
  const wanted: Array<[string, string]> = Object.keys(manifest.dependencies ?? {}).map((name) => [
    "node_modules/codecarbon",
    name,
  ]);
  while (wanted.length) {
    const [from, name] = wanted.pop()!;
    // Node's resolution: from's own node_modules, then each enclosing one.
    let at: string | undefined;
    for (
      let base = from === "node_modules/codecarbon" ? "" : from;
      ;
      base = base.includes("/node_modules/") ? base.slice(0, base.lastIndexOf("/node_modules/")) : ""
    ) {
      const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
      if (repoLock[candidate]) {
        at = candidate;
        break;
      }
      if (!base) break;
    }
    assert.ok(at, `${name} (needed by ${from}) is in package-lock.json`);
    if (packages[at]) continue;
    packages[at] = repoLock[at];
    for (const dep of Object.keys({ ...repoLock[at]!.dependencies, ...repoLock[at]!.optionalDependencies }))
      wanted.push([at, dep]);
  }
  return { name: "uses-codecarbon", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

test(
  "npm pack, then npm install of the tarball elsewhere: the package loads and `codecarbon jupyter install` installs the extension",
  { timeout: 300_000 },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-from-checkout-"));
    try {
      const packed = JSON.parse(
        execFileSync("npm", ["pack", "--json", "--pack-destination", dir], {
          cwd: REPO_ROOT,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        }),
      );
      const tarball = path.join(dir, packed[0].filename);
      const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
      assert.ok(files.includes("dist/cli/main.js"), "the build ships");
      assert.ok(
        files.includes("lab-extension/codecarbon_jupyterlab/labextension/package.json"),
        "the prebuilt extension ships",
      );

      const project = path.join(dir, "project");
      fs.mkdirSync(project);
      fs.renameSync(tarball, path.join(project, packed[0].filename));
      const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
      fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({
          name: "uses-codecarbon",
          version: "1.0.0",
          private: true,
          dependencies: { codecarbon: `file:${packed[0].filename}` },
        }),
      );
      fs.writeFileSync(path.join(project, "package-lock.json"), JSON.stringify(lockFor(packed[0].filename, manifest)));
      execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: project,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const names = execFileSync(
        process.execPath,
        ["-e", "console.log(typeof require('codecarbon').EmissionsTracker)"],
        { cwd: project, encoding: "utf8" },
      );
      assert.equal(names.trim(), "function");

      const prefix = path.join(dir, "env");
      // A Python environment at the prefix: the install also copies the server extension's modules into it.
      execFileSync(path.join(VENV_BIN, "python"), ["-m", "venv", "--without-pip", prefix]);
      const installed = execFileSync(
        path.join(project, "node_modules", ".bin", "codecarbon"),
        ["jupyter", "install", "--prefix", prefix],
        { cwd: project, encoding: "utf8" },
      );
      assert.match(installed, /Installed the JupyterLab extension codecarbon-jupyterlab/);
      assert.ok(
        fs.existsSync(
          path.join(prefix, "share", "jupyter", "labextensions", "codecarbon-jupyterlab", "static", "style.js"),
        ),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "pip install ./lab-extension installs the prebuilt extension where JupyterLab finds it",
  { timeout: 300_000 },
  () => {
    if (!fs.existsSync(path.join(VENV_BIN, "python"))) throw new Error(".venv is missing: run `bash scripts/setup.sh`");
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "cc-pip-prefix-"));
    try {
      execFileSync(
        path.join(VENV_BIN, "python"),
        [
          "-m",
          "pip",
          "install",
          "--quiet",
          "--disable-pip-version-check",
          "--no-index",
          "--no-deps",
          "--no-build-isolation",
          "--prefix",
          prefix,
          "./lab-extension",
        ],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, PATH: `${VENV_BIN}${path.delimiter}${process.env["PATH"] ?? ""}` },
        },
      );
      const target = path.join(prefix, "share", "jupyter", "labextensions", "codecarbon-jupyterlab");
      for (const file of ["package.json", "install.json", "static/style.js"])
        assert.ok(fs.existsSync(path.join(target, file)), `${file} installed`);
      assert.equal(JSON.parse(fs.readFileSync(path.join(target, "install.json"), "utf8")).packageManager, "python");
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  },
);
