/**
 * `codecarbon jupyter install|uninstall`: the npm route to the JupyterLab extension. The npm
 * package ships the same prebuilt extension as the `codecarbon-jupyterlab` pip package; this
 * copies it into a Jupyter data folder's `labextensions/`, where JupyterLab 4 finds prebuilt
 * extensions without a rebuild.
 */
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
