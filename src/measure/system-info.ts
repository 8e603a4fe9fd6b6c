/**
 * Static facts about the machine. Cheap facts come from Node itself; the socket count, which
 * Node does not expose, comes from `systeminformation` and is only asked for when a TDP model
 * needs it (loading that package costs tens of milliseconds).
 */
import * as os from "node:os";

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

/** Number of CPU packages (sockets); 1 when it cannot be told. */
export function readSocketCount(): Promise<number> {
  socketCount ??= (async () => {
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
