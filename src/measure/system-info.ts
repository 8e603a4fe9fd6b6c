/**
 * Static facts about the machine. Cheap facts come from Node itself. The socket count, which
 * Node does not expose, comes from the kernel's CPU topology files on Linux, and from
 * `systeminformation` elsewhere: loading and asking that package costs about 70 ms, which would
 * be most of a tracker's start-up, while the topology files answer in well under a millisecond.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { glibcVersionFromLibrary } from "./glibc-version";

export interface SystemFacts {
  /** The raw CPU brand string, as `/proc/cpuinfo` "model name" gives it; null when unknown. */
  cpuModel: string | null;
  logicalCpuCount: number;
  totalMemoryBytes: number;
  isArm: boolean;
  /** Python's `platform.platform()` on the same machine: `Linux-6.1.0-13-amd64-x86_64-with-glibc2.36`. */
  osDescription: string;
}

export function readSystemFacts(): SystemFacts {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim();
  return {
    cpuModel: model !== undefined && model !== "" && model !== "unknown" ? model : null,
    logicalCpuCount: Math.max(1, cpus.length || os.availableParallelism()),
    totalMemoryBytes: os.totalmem(),
    isArm: /arm|aarch/i.test(os.arch()),
    osDescription: pythonPlatform(),
  };
}

let platformText: string | undefined;

/**
 * What Python's `platform.platform()` writes, so the CSV's `os` column reads as CodeCarbon's does.
 * On Linux it is system-release-machine-with-libc (`libc_ver()`: `glibc2.36`, nothing on musl).
 * Elsewhere it is system-release-machine, without the macOS and Windows version details Python adds.
 */
export function pythonPlatform(): string {
  if (platformText !== undefined) return platformText;
  const parts = [os.type(), os.release(), os.machine()];
  if (process.platform === "linux") {
    // The glibc the process runs on, from the library's own banner, else from Node's diagnostic
    // report (slower); musl has none, as libc_ver() finds none there.
    const glibc = glibcVersionFromLibrary() ?? glibcVersionFromReport();
    parts.push("with", glibc === undefined ? "" : `glibc${glibc}`);
  }
  platformText = cleanPlatform(parts);
  return platformText;
}

function glibcVersionFromReport(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

/** Python's platform._platform(): joined by "-", odd characters made "_", "unknown" dropped. */
function cleanPlatform(parts: readonly string[]): string {
  let text = parts
    .filter((part) => part.length > 0)
    .map((part) => part.trim())
    .join("-")
    .replace(/[ /\\:;"()]/g, "_")
    .replaceAll("unknown", "");
  while (text.includes("--")) text = text.replaceAll("--", "-");
  return text.replace(/-+$/, "");
}

let socketCount: Promise<number> | undefined;

/** Distinct `physical_package_id`s under the sysfs CPU folder; null when not available. */
export function countPackagesFromSysfs(cpuRoot = "/sys/devices/system/cpu"): number | null {
  try {
    const packages = new Set<string>();
    for (const entry of fs.readdirSync(cpuRoot)) {
      if (!/^cpu\d+$/.test(entry)) continue;
      try {
        packages.add(fs.readFileSync(path.join(cpuRoot, entry, "topology", "physical_package_id"), "utf8").trim());
      } catch {
        // An offline CPU has no topology folder.
      }
    }
    return packages.size > 0 ? packages.size : null;
  } catch {
    return null;
  }
}

/** Number of CPU packages (sockets); 1 when it cannot be told. */
export function readSocketCount(): Promise<number> {
  socketCount ??= (async () => {
    const fromSysfs = process.platform === "linux" ? countPackagesFromSysfs() : null;
    if (fromSysfs !== null) return fromSysfs;
    try {
      const si = await import("systeminformation");
      const cpu = await si.cpu();
      return Number.isInteger(cpu.processors) && cpu.processors > 0 ? cpu.processors : 1;
    } catch {
      return 1;
    }
  })();
  return socketCount;
}
