/**
 * Whether this process is a Jupyter kernel, and which one. A kernel is started with its
 * connection file on the command line (`tslab kernel --config-path …/kernel-<id>.json`, and
 * likewise for other kernels); the id in that name is the one the Jupyter server and the
 * JupyterLab extension know the kernel by, so it names the kernel's live feed.
 *
 * A tracker that runs beside a kernel (`codecarbon monitor --pid <kernel pid> --kernel-id <id>`,
 * started by the Jupyter server extension) is not that kernel, but serves it: it says so with
 * `serveKernel`, and from then on this process acts for that kernel.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface KernelContext {
  kernelId: string;
  /** The kernel's connection file; null for a tracker beside the kernel. */
  connectionFile: string | null;
  /** True in the kernel's own process (cells print there), false beside it. */
  inKernel: boolean;
}

const SERVER_CONNECTION_FILE = /^kernel-([A-Za-z0-9-]+)\.json$/;

/** A Jupyter connection file names the kernel's ports and signing key. */
function isConnectionFile(file: string): boolean {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    return typeof parsed["shell_port"] === "number" && typeof parsed["iopub_port"] === "number";
  } catch {
    return false;
  }
}

let detected: KernelContext | null | undefined;

/** From now on this process tracks for kernel `kernelId`, from beside it (see the module comment). */
export function serveKernel(kernelId: string): KernelContext {
  detected = { kernelId, connectionFile: null, inKernel: false };
  return detected;
}

export function detectKernel(argv: readonly string[] = process.argv): KernelContext | null {
  if (argv === process.argv && detected !== undefined) return detected;
  let found: KernelContext | null = null;
  for (const arg of argv.slice(1)) {
    const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : arg;
    if (!value.endsWith(".json")) continue;
    const name = path.basename(value);
    // A Jupyter server names the file after the kernel id, which the extension knows too;
    // other launchers (nbclient, jupyter console) use a temporary name.
    const serverId = SERVER_CONNECTION_FILE.exec(name)?.[1];
    if (serverId !== undefined) {
      found = { kernelId: serverId, connectionFile: value, inKernel: true };
      break;
    }
    if (isConnectionFile(value)) {
      found = { kernelId: name.slice(0, -".json".length), connectionFile: value, inKernel: true };
      break;
    }
  }
  if (argv === process.argv) detected = found;
  return found;
}
