// One JupyterLab in a fresh temporary home, for the UI tests and the lab benchmark: its own
// settings, workspaces, data and runtime folders (state from an earlier run must not leak into
// this one), the extension installed by the CLI into a private prefix (or not at all): the lab
// extension and the server extension, whose Python modules go into a venv at the prefix. The
// notebook folder has `codecarbon` and `@types/node` as after `npm install codecarbon @types/node`
// (or only `@types/node`: tslab kernels are then tracked beside the kernel). stop() ends it with SIGTERM, so it shuts its kernels down.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const REPO = path.resolve(__dirname, "..");
const JUPYTER = path.join(REPO, ".venv", "bin", "jupyter");
const OFFLINE_PROXY = "http://127.0.0.1:47";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
}

/**
 * @param {{ withExtension?: boolean, config?: string, codecarbonInFolder?: boolean }} [options]
 * @returns {Promise<{ url: string, token: string, root: string, work: string, settingsDir: string, stop():
 * Promise<void> }>}
 */
async function startLab(options = {}) {
  const withExtension = options.withExtension !== false;
  const codecarbonInFolder = options.codecarbonInFolder !== false;
  const required = [
    [JUPYTER, "run `bash scripts/setup.sh` (it installs JupyterLab into .venv)"],
    [path.join(REPO, "dist", "cli", "main.js"), "run `npm run build`"],
    [
      path.join(REPO, "lab-extension", "codecarbon_jupyterlab", "labextension", "package.json"),
      "run `npm run build:lab`",
    ],
  ];
  for (const [file, fix] of required) if (!fs.existsSync(file)) throw new Error(`${file} is missing: ${fix}`);

  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-lab-"));
  const work = path.join(root, "work");
  const prefix = path.join(root, "prefix");
  fs.mkdirSync(path.join(work, "node_modules", "@types"), { recursive: true });
  fs.mkdirSync(path.join(root, "home"));
  fs.mkdirSync(path.join(prefix, "share", "jupyter"), { recursive: true });
  if (codecarbonInFolder) fs.symlinkSync(REPO, path.join(work, "node_modules", "codecarbon"), "dir");
  fs.symlinkSync(
    path.join(REPO, "node_modules", "@types", "node"),
    path.join(work, "node_modules", "@types", "node"),
    "dir",
  );
  // By default one measurement a second, so the chart moves within a test, and a configured
  // country, so no lookup leaves the machine.
  fs.writeFileSync(
    path.join(work, ".codecarbon.config"),
    options.config ?? "[codecarbon]\nmeasure_power_secs = 1\ncountry_iso_code = FRA\n",
  );
  let serverExtension = {};
  if (withExtension) {
    // A Python environment at the prefix (no pip: nothing is downloaded) for the server
    // extension's modules, then the npm route to both extensions, as the README gives it.
    execFileSync(path.join(REPO, ".venv", "bin", "python"), ["-m", "venv", "--without-pip", prefix]);
    execFileSync(
      process.execPath,
      [path.join(REPO, "dist", "cli", "main.js"), "jupyter", "install", "--prefix", prefix],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const site = execFileSync(
      path.join(prefix, "bin", "python"),
      ["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
      { encoding: "utf8" },
    ).trim();
    // JupyterLab runs from the project's .venv: it finds the modules and the config at the prefix.
    serverExtension = {
      PYTHONPATH: site,
      JUPYTER_CONFIG_PATH: path.join(prefix, "etc", "jupyter"),
    };
  }
  const settingsDir = path.join(root, "lab-settings");
  // No news prompt or update check: a notification over the toolbar makes clicks flaky.
  writeJson(path.join(settingsDir, "@jupyterlab", "apputils-extension", "notification.jupyterlab-settings"), {
    fetchNews: "false",
    checkForUpdates: false,
  });

  const env = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith("CODECARBON_") && !key.startsWith("JPY_")) env[key] = value;
  Object.assign(env, {
    HOME: path.join(root, "home"),
    JUPYTER_PATH: path.join(prefix, "share", "jupyter"),
    JUPYTER_DATA_DIR: path.join(root, "data"),
    JUPYTER_RUNTIME_DIR: path.join(root, "runtime"),
    JUPYTER_CONFIG_DIR: path.join(root, "config"),
    JUPYTERLAB_SETTINGS_DIR: settingsDir,
    JUPYTERLAB_WORKSPACES_DIR: path.join(root, "workspaces"),
    JUPYTER_PLATFORM_DIRS: "1",
    // Nothing leaves the machine: any non-loopback call goes to a port where nothing listens.
    HTTP_PROXY: OFFLINE_PROXY,
    HTTPS_PROXY: OFFLINE_PROXY,
    http_proxy: OFFLINE_PROXY,
    https_proxy: OFFLINE_PROXY,
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
    ...serverExtension,
  });

  const port = await freePort();
  const token = `lab-${Math.random().toString(16).slice(2)}`;
  const logFile = path.join(root, "jupyterlab.log");
  const log = fs.openSync(logFile, "w");
  const server = spawn(
    JUPYTER,
    [
      "lab",
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${port}`,
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${work}`,
      "--ServerApp.open_browser=False",
      "--LabApp.expose_app_in_browser=True",
      "--allow-root",
    ],
    { env, stdio: ["ignore", log, log], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    const exited = new Promise((resolve) => server.once("exit", () => resolve(true)));
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGTERM");
    else return cleanup();
    const clean = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(false), 20_000))]);
    if (!clean) {
      // The server did not shut down: take its kernels with it rather than leave orphans.
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    cleanup();
  };
  const cleanup = () => {
    fs.closeSync(log);
    if (process.env.CC_UI_KEEP === "1") console.log(`JupyterLab files kept in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) {
      const text = fs.readFileSync(logFile, "utf8");
      await stop();
      throw new Error(`JupyterLab exited (${server.exitCode}):\n${text}`);
    }
    try {
      const response = await fetch(`${url}/api/status`, { headers: { authorization: `token ${token}` } });
      if (response.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      const text = fs.readFileSync(logFile, "utf8");
      await stop();
      throw new Error(`JupyterLab did not start within 60 s:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, token, root, work, settingsDir, stop };
}

module.exports = { startLab };
