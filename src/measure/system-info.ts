/**
 * Static facts about the machine. Cheap facts come from Node itself. The socket count, which
 * Node does not expose, comes from the kernel's CPU topology files on Linux, and from
 * `systeminformation` elsewhere: loading and asking that package costs about 70 ms, which would
 * be most of a tracker's start-up, while the topology files answer in well under a millisecond.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface SystemFacts {
  /** The raw CPU brand string, as `/proc/cpuinfo` "model name" gives it; null when unknown. */
  cpuModel: string | null;
  logicalCpuCount: number;
  totalMemoryBytes: number;
  isArm: boolean;
  /** Like Python's `platform.platform()`: `Linux-6.1.0-13-amd64-x86_64`. */
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
    osDescription: `${os.type()}-${os.release()}-${os.machine()}`,
  };
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
