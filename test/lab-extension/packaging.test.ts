/**
 * The two ways users install the extension, with the real tools: the npm package's
 * `codecarbon jupyter install` (checked by JupyterLab's own `jupyter labextension list`) and the
 * pip package built by hatch-jupyter-builder. And the one JupyterLab pin the builder follows.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeSandbox, REPO_ROOT } from "../helpers/sandbox";
import { runCli } from "../cli/cli-run";

const PREBUILT = path.join(REPO_ROOT, "lab-extension", "codecarbon_jupyterlab", "labextension");
const VENV_BIN = path.join(REPO_ROOT, ".venv", "bin");

function requirePrebuilt(): void {
  if (!fs.existsSync(path.join(PREBUILT, "package.json")))
    throw new Error(`${PREBUILT} is missing: run \`npm run build:lab\` (npm test does)`);
  if (!fs.existsSync(path.join(VENV_BIN, "jupyter")))
    throw new Error(".venv has no JupyterLab: run `bash scripts/setup.sh`");
}

describe("installing the JupyterLab extension", () => {
  test("codecarbon jupyter install --prefix copies the prebuilt extension where JupyterLab lists it; uninstall removes it", async () => {
    requirePrebuilt();
    const sandbox = makeSandbox();
    try {
      const prefix = path.join(sandbox.cwd, "env");
      // A Python environment at the prefix, for the server extension's modules.
      execFileSync(path.join(VENV_BIN, "python"), ["-m", "venv", "--without-pip", prefix]);
      const installed = await runCli(["jupyter", "install", "--prefix", prefix], sandbox);
      assert.equal(installed.code, 0, installed.stderr);
      const target = path.join(prefix, "share", "jupyter", "labextensions", "codecarbon-jupyterlab");
      assert.match(
        installed.stdout,
        new RegExp(
          `Installed the JupyterLab extension codecarbon-jupyterlab \\d+\\.\\d+\\.\\d+ in ${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`,
        ),
      );
      assert.ok(fs.existsSync(path.join(target, "static", "style.js")));
      assert.equal(JSON.parse(fs.readFileSync(path.join(target, "install.json"), "utf8")).packageName, "codecarbon");
      const listed = spawnSync(path.join(VENV_BIN, "jupyter"), ["labextension", "list"], {
        env: {
          ...sandbox.env,
          JUPYTER_PATH: path.join(prefix, "share", "jupyter"),
          JUPYTER_CONFIG_DIR: path.join(sandbox.cwd, "cfg"),
          JUPYTER_DATA_DIR: path.join(sandbox.cwd, "data"),
        },
        encoding: "utf8",
      });
      // eslint-disable-next-line no-control-regex
      const listing = `${listed.stdout}${listed.stderr}`.replace(/\u001b\[[0-9;]*m/g, "");
      assert.match(listing, /codecarbon-jupyterlab v\d+\.\d+\.\d+ enabled OK \(npm, codecarbon\)/, listing);
      // The server extension: its modules in the prefix's site-packages, enabled by its config file.
      const site = execFileSync(
        path.join(prefix, "bin", "python"),
        ["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        { encoding: "utf8" },
      ).trim();
      assert.ok(fs.existsSync(path.join(site, "codecarbon_jupyterlab", "server.py")));
      const serverConfig = path.join(prefix, "etc", "jupyter", "jupyter_server_config.d", "codecarbon.json");
      const config = JSON.parse(fs.readFileSync(serverConfig, "utf8"));
      assert.deepEqual(config, { ServerApp: { jpserver_extensions: { codecarbon_jupyterlab: true } } });
      // Its traits where the ExtensionApp loads them (Jupyter reads only jpserver_extensions from the .d folder).
      const appConfigFile = path.join(prefix, "etc", "jupyter", "jupyter_codecarbon_jupyterlab_config.json");
      const appConfig = JSON.parse(fs.readFileSync(appConfigFile, "utf8"));
      assert.equal(appConfig.CodeCarbonServerApp.tracker_script, path.join(REPO_ROOT, "dist", "cli", "main.js"));
      const servers = spawnSync(path.join(VENV_BIN, "jupyter"), ["server", "extension", "list"], {
        env: {
          ...sandbox.env,
          PYTHONPATH: site,
          // The listing reads the config folders it knows; show it the prefix's as the user's.
          JUPYTER_CONFIG_DIR: path.join(prefix, "etc", "jupyter"),
        },
        encoding: "utf8",
      });
      // eslint-disable-next-line no-control-regex
      const serverListing = `${servers.stdout}${servers.stderr}`.replace(/\u001b\[[0-9;]*m/g, "");
      assert.match(serverListing, /codecarbon_jupyterlab enabled/, serverListing);
      assert.match(serverListing, /codecarbon_jupyterlab\s+npm\s+OK/, serverListing);

      const removed = await runCli(["jupyter", "uninstall", "--prefix", prefix], sandbox);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(fs.existsSync(target), false);
      assert.equal(fs.existsSync(serverConfig), false, "the server config is removed");
      assert.equal(fs.existsSync(appConfigFile), false, "and the server extension's own config");
      assert.equal(fs.existsSync(path.join(site, "codecarbon_jupyterlab")), false, "and its modules");
      assert.match((await runCli(["jupyter", "uninstall", "--prefix", prefix], sandbox)).stdout, /nothing to remove/);
    } finally {
      sandbox.cleanup();
    }
  });

  test("--sys-prefix outside a Python environment says what to do; two targets are a usage error", async () => {
    const sandbox = makeSandbox();
    try {
      const env = { VIRTUAL_ENV: "", CONDA_PREFIX: "" };
      const refused = await runCli(["jupyter", "install", "--sys-prefix"], sandbox, env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /needs an active Python environment.*--prefix/);
      const both = await runCli(["jupyter", "install", "--user", "--prefix", "x"], sandbox, env);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /choose one of --prefix, --sys-prefix and --user/);
    } finally {
      sandbox.cleanup();
    }
  });

  test("the pip package (hatch-jupyter-builder) ships the prebuilt extension as shared data", () => {
    requirePrebuilt();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "cc-wheel-"));
    try {
      execFileSync(
        path.join(VENV_BIN, "python"),
        [
          "-m",
          "pip",
          "wheel",
          "--quiet",
          "--no-deps",
          "--no-build-isolation",
          "--wheel-dir",
          out,
          path.join(REPO_ROOT, "lab-extension"),
        ],
        {
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, PATH: `${VENV_BIN}${path.delimiter}${process.env["PATH"] ?? ""}` },
        },
      );
      const wheel = fs.readdirSync(out).find((f) => f.endsWith(".whl"));
      assert.ok(wheel, "a wheel was built");
      assert.match(wheel, /^codecarbon_jupyterlab-\d+\.\d+\.\d+-py3-none-any\.whl$/);
      const names = execFileSync(
        path.join(VENV_BIN, "python"),
        [
          "-c",
          "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
          path.join(out, wheel),
        ],
        { encoding: "utf8" },
      ).split("\n");
      const shared = "codecarbon_jupyterlab-0.1.0.data/data/share/jupyter/labextensions/codecarbon-jupyterlab/";
      for (const file of [
        "package.json",
        "install.json",
        "static/style.js",
        "schemas/codecarbon-jupyterlab/plugin.json",
      ]) {
        assert.ok(names.includes(shared + file), `${file} in the wheel`);
      }
      assert.ok(!names.some((n) => n.includes("node_modules")), "no node_modules in the wheel");
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test("the schema JupyterLab serves is codecarbon's one schema, with the toolbar item declared", () => {
    requirePrebuilt();
    const served = JSON.parse(
      fs.readFileSync(path.join(PREBUILT, "schemas", "codecarbon-jupyterlab", "plugin.json"), "utf8"),
    ) as Record<string, unknown>;
    const source = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "schema", "plugin.json"), "utf8")) as Record<
      string,
      unknown
    >;
    assert.deepEqual(served, source);
    assert.deepEqual(source["jupyter.lab.toolbars"], { Notebook: [{ name: "codecarbon", rank: 990 }] });
  });

  test("one JupyterLab pin: the extension's @jupyterlab ranges and builder follow requirements-test.txt", () => {
    const pin = /^jupyterlab==(\d+)\.(\d+)\.(\d+)$/m.exec(
      fs.readFileSync(path.join(REPO_ROOT, "requirements-test.txt"), "utf8"),
    );
    assert.ok(pin, "requirements-test.txt pins jupyterlab");
    const [, major, minor] = pin;
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "lab-extension", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const staging = JSON.parse(
      fs.readFileSync(
        path.join(
          REPO_ROOT,
          ".venv",
          "lib",
          fs.readdirSync(path.join(REPO_ROOT, ".venv", "lib"))[0]!,
          "site-packages",
          "jupyterlab",
          "staging",
          "package.json",
        ),
        "utf8",
      ),
    ) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      resolutions: Record<string, string>;
    };
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      if (!name.startsWith("@jupyterlab/")) continue;
      const core = staging.resolutions[name] ?? staging.dependencies[name] ?? staging.devDependencies[name];
      assert.ok(core, `${name} is one of JupyterLab ${major}.${minor}'s packages`);
      assert.equal(
        range.replace(/^[~^]/, ""),
        core.replace(/^[~^]/, ""),
        `${name}: ours ${range}, JupyterLab's ${core}`,
      );
    }
  });
});
