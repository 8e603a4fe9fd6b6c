/**
 * Fake powercap trees in a temp folder, in either sysfs layout:
 * - "nested": <root>/intel-rapl/intel-rapl:0/intel-rapl:0:0 (as under /sys/devices/virtual/powercap);
 * - "flat": <root>/intel-rapl:0, <root>/intel-rapl:0:0 … as symlinks to nested folders elsewhere
 *   (as /sys/class/powercap is), with the control-type links beside them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface FakeZone {
  /** The zone folder name: "intel-rapl:0", "intel-rapl:0:2", "intel-rapl-mmio:0". */
  id: string;
  name: string;
  energyUJ: number;
  /** Omitted: a large default; null: no max_energy_range_uj file. */
  maxUJ?: number | null;
}

export interface RaplTree {
  /** The folder to pass as `root`. */
  root: string;
  zoneDir(id: string): string;
  energyFile(id: string): string;
  setEnergy(id: string, energyUJ: number): void;
  /** Makes energy_uj unreadable without file modes (tests run as root): a dangling link or a folder. */
  breakEnergy(id: string, how: "dangling-link" | "directory"): void;
  cleanup(): void;
}

export const DEFAULT_MAX_UJ = 262_143_328_850;

function providerOf(id: string): string {
  return id.slice(0, id.indexOf(":"));
}

/** Nested path of a zone below its control-type folder: intel-rapl:0/intel-rapl:0:2. */
function nestedParts(id: string): string[] {
  const provider = providerOf(id);
  const numbers = id.slice(provider.length + 1).split(":");
  return numbers.map((_, i) => `${provider}:${numbers.slice(0, i + 1).join(":")}`);
}

export function buildRaplTree(zones: FakeZone[], layout: "nested" | "flat" = "nested"): RaplTree {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  const devices = layout === "nested" ? base : path.join(base, "devices", "virtual", "powercap");
  const root = layout === "nested" ? base : path.join(base, "class", "powercap");
  fs.mkdirSync(devices, { recursive: true });
  fs.mkdirSync(root, { recursive: true });

  const realDir = (id: string): string => path.join(devices, providerOf(id), ...nestedParts(id));
  for (const zone of zones) {
    const dir = realDir(zone.id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "name"), `${zone.name}\n`);
    fs.writeFileSync(path.join(dir, "energy_uj"), `${zone.energyUJ}\n`);
    const max = zone.maxUJ === undefined ? DEFAULT_MAX_UJ : zone.maxUJ;
    if (max !== null) fs.writeFileSync(path.join(dir, "max_energy_range_uj"), `${max}\n`);
  }
  if (layout === "flat") {
    const providers = new Set(zones.map((z) => providerOf(z.id)));
    for (const provider of providers) fs.symlinkSync(path.join(devices, provider), path.join(root, provider));
    for (const zone of zones) fs.symlinkSync(realDir(zone.id), path.join(root, zone.id));
    // Real sysfs has this loop; the scanner must not follow it.
    fs.symlinkSync(root, path.join(devices, "intel-rapl", "subsystem"));
  }

  const zoneDir = (id: string): string => (layout === "flat" ? path.join(root, id) : realDir(id));
  const energyFile = (id: string): string => path.join(zoneDir(id), "energy_uj");
  return {
    root,
    zoneDir,
    energyFile,
    setEnergy: (id, energyUJ) => fs.writeFileSync(energyFile(id), `${energyUJ}\n`),
    breakEnergy(id, how) {
      const file = path.join(realDir(id), "energy_uj");
      fs.rmSync(file, { force: true });
      if (how === "directory") fs.mkdirSync(file);
      else fs.symlinkSync(path.join(realDir(id), "no-such-file"), file);
    },
    cleanup: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}

/** A readFile for RaplOptions that throws EACCES for the given files, as a non-root user would see. */
export function denyReads(files: string[]): (file: string) => string {
  const canonical = (file: string): string => {
    try {
      return fs.realpathSync(file);
    } catch {
      return path.resolve(file);
    }
  };
  const denied = new Set(files.map(canonical));
  return (file) => {
    if (denied.has(canonical(file))) {
      const error = new Error(`EACCES: permission denied, open '${file}'`) as NodeJS.ErrnoException;
      error.code = "EACCES";
      throw error;
    }
    return fs.readFileSync(file, "utf8");
  };
}
