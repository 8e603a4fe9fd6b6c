/**
 * CPU energy from Linux RAPL counters exposed by the powercap framework (`intel-rapl` through
 * MSRs, `intel-rapl-mmio` through MMIO; AMD parts use the same `intel-rapl` tree).
 *
 * Classification and selection follow CodeCarbon (§4.5 of the behaviour reference): zones named
 * "package…" are packages, "psys" is the platform, "…dram…" is DRAM, "core"/"uncore" are parts of
 * a package and never counted. psys when preferred and present, else the packages (+ DRAM when
 * asked), else psys.
 *
 * Deliberate fixes of CodeCarbon 3.3.0:
 * - DRAM is summed with the packages when included (#1305). A DRAM zone nested under a package is
 *   included too: the package counter covers cores and uncore, not DRAM, so nothing is counted twice.
 * - A counter that went backwards with no readable max_energy_range_uj counts 0 for that interval
 *   instead of a negative energy (#1309).
 * - Multi-die parts that expose one socket counter once per die ("package-0-die-0",
 *   "package-0-die-1") count it once (#1274). Two zones are taken as mirrors when their names are
 *   equal after removing "-die-N" AND their counters read the same non-zero value in one of a few
 *   back-to-back read rounds at probe time. Name alone is not enough: Intel multi-die Xeons have
 *   genuinely separate per-die counters with the same naming.
 * - A zone seen through both MSR and MMIO ("package-0" under intel-rapl:0 and intel-rapl-mmio:0)
 *   is counted once, through MMIO, as CodeCarbon does.
 * - With no package and no psys zone, RAPL is reported unavailable (so the TDP model takes over)
 *   rather than summing unknown zones.
 */
import * as fs from "node:fs";
import { readUntrustedFileSync } from "../fs/untrusted-file";
import * as path from "node:path";
import type { DeviceReading, EnergyReader, PowerSource } from "./types";
import { MICROJOULES_PER_KWH, wattsFromKwhOver } from "../units";
import { log } from "../log";

export interface RaplOptions {
  /**
   * Directory scanned for `intel-rapl*` zones; default `/sys/class/powercap` (then `/sys/devices/virtual/powercap`).
   */
  root?: string;
  includeDram?: boolean;
  preferPsys?: boolean;
  /**
   * Reads a small sysfs file. Injectable because tests run as root, where file modes do not stop
   * reads; a test passes a reader that throws EACCES to simulate a locked-down counter.
   */
  readFile?: (file: string) => string;
}

export interface RaplDomain {
  /** The zone directory, holding `energy_uj`. */
  path: string;
  /** The zone's name, qualified by its package for sub-zones ("package-0", "package-1/dram", "psys"). */
  name: string;
  kind: "package" | "psys" | "dram";
  maxEnergyUJ: number | null;
  provider: "msr" | "mmio";
}

export type RaplProbe = { ok: true; domains: RaplDomain[] } | { ok: false; reason: string };

const DEFAULT_ROOTS = ["/sys/class/powercap", "/sys/devices/virtual/powercap"];
const CONTROL_TYPE_PATTERN = /^intel-rapl(-mmio)?$/;
const ZONE_PATTERN = /^intel-rapl(-mmio)?:\d+(?::\d+)*$/;
const DIE_SUFFIX = /-die-\d+$/;
/** Deep enough for root/intel-rapl/intel-rapl:0/intel-rapl:0:0 with one spare level. */
const MAX_SCAN_DEPTH = 5;
const MIRROR_READ_ROUNDS = 3;
const CHMOD_HINT = "run sudo chmod -R a+r /sys/class/powercap/*";

/**
 * rapl_dir may point anywhere: a FIFO planted where a counter is expected would block the
 * sampler forever on a plain read. sysfs links are followed; its attributes are regular files.
 */
function defaultReadFile(file: string): string {
  return readUntrustedFileSync(file, { followSymlinks: true, maxBytes: 64 * 1024 });
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isPermissionError(error: unknown): boolean {
  const code = errorCode(error);
  return code === "EACCES" || code === "EPERM";
}

/** Reads a non-negative integer counter file; throws on anything else. */
function readCounter(file: string, readFile: (file: string) => string): number {
  const text = readFile(file).trim();
  if (!/^\d+$/.test(text)) throw new Error(`${file} does not hold a counter ("${text.slice(0, 40)}")`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${file} holds a counter beyond 2^53`);
  return value;
}

interface Zone {
  dir: string;
  /** The zone's directory name, unique per provider: "intel-rapl:0:2". */
  id: string;
  provider: "msr" | "mmio";
  /** The `name` file, or "" when it cannot be read. */
  label: string;
  /** Number of ':'-separated levels after the provider: 1 for a top-level zone. */
  depth: number;
}

/** Finds zone directories in both the flat (/sys/class/powercap) and the nested layouts. */
function scanZones(roots: string[], readFile: (file: string) => string): Zone[] {
  const byId = new Map<string, Zone>();
  const visit = (dir: string, entryName: string, level: number): void => {
    if (ZONE_PATTERN.test(entryName)) {
      // The flat links and the nested folders show the same zones; the first sighting is enough.
      if (byId.has(entryName)) return;
      let label = "";
      try {
        label = readFile(path.join(dir, "name")).trim();
      } catch {
        // An unnamed zone can still be a main domain by its id; classification handles "".
      }
      byId.set(entryName, {
        dir,
        id: entryName,
        provider: entryName.startsWith("intel-rapl-mmio") ? "mmio" : "msr",
        label,
        depth: entryName.split(":").length - 1,
      });
    }
    if (level >= MAX_SCAN_DEPTH) return;
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries.sort()) {
      // Only powercap names are followed, which keeps clear of the `subsystem` and `device` links that loop.
      if (ZONE_PATTERN.test(entry) || CONTROL_TYPE_PATTERN.test(entry)) visit(path.join(dir, entry), entry, level + 1);
    }
  };
  for (const root of roots) visit(root, path.basename(root), 0);
  return [...byId.values()];
}

type ZoneKind = "package" | "psys" | "dram" | "subdomain" | "other";

function classify(label: string): ZoneKind {
  const lower = label.toLowerCase();
  if (lower.includes("package")) return "package";
  if (lower === "psys") return "psys";
  if (lower.includes("dram")) return "dram";
  if (lower === "core" || lower === "uncore") return "subdomain";
  return "other";
}

interface ReadableZone {
  zone: Zone;
  kind: "package" | "psys" | "dram";
  qualifiedName: string;
}

function parentZoneId(id: string): string | null {
  const cut = id.lastIndexOf(":");
  const parent = id.slice(0, cut);
  return parent.includes(":") ? parent : null;
}

function providerRank(provider: "msr" | "mmio"): number {
  return provider === "mmio" ? 0 : 1;
}

/**
 * Keeps one zone per qualified name across providers (MMIO first), then folds zones of one kind
 * whose names agree once "-die-N" is removed and whose counters mirror each other.
 */
function removeDuplicates(zones: ReadableZone[], readFile: (file: string) => string): ReadableZone[] {
  const providerByName = new Map<string, "msr" | "mmio">();
  const unique: ReadableZone[] = [];
  for (const candidate of [...zones].sort((a, b) => providerRank(a.zone.provider) - providerRank(b.zone.provider))) {
    const seenProvider = providerByName.get(candidate.qualifiedName);
    if (seenProvider !== undefined && seenProvider !== candidate.zone.provider) {
      log.debug(
        `RAPL: ${candidate.zone.id} (${candidate.qualifiedName}) is also exposed through ${seenProvider}; using that one.`,
      );
      continue;
    }
    providerByName.set(candidate.qualifiedName, candidate.zone.provider);
    unique.push(candidate);
  }

  const groups = new Map<string, ReadableZone[]>();
  for (const zone of unique) {
    const key = `${zone.kind}|${zone.qualifiedName.replace(DIE_SUFFIX, "")}`;
    const group = groups.get(key) ?? [];
    group.push(zone);
    groups.set(key, group);
  }
  const kept: ReadableZone[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) {
      kept.push(...group);
      continue;
    }
    const mirrors = findMirrors(group, readFile);
    for (const [index, zone] of group.entries()) {
      if (!mirrors.has(index)) kept.push(zone);
      else {
        log.once(
          "info",
          `rapl-mirror:${zone.zone.dir}`,
          `RAPL: ${zone.qualifiedName} (${zone.zone.id}) reads the same counter as another zone of its package; counting it once.`,
        );
      }
    }
  }
  return kept.sort((a, b) => a.qualifiedName.localeCompare(b.qualifiedName) || a.zone.id.localeCompare(b.zone.id));
}

/** Indices in `group` that mirror an earlier member: equal non-zero counters in one read round. */
function findMirrors(group: ReadableZone[], readFile: (file: string) => string): Set<number> {
  const mirrors = new Set<number>();
  for (let round = 0; round < MIRROR_READ_ROUNDS; round++) {
    const values = group.map((z) => {
      try {
        return readCounter(path.join(z.zone.dir, "energy_uj"), readFile);
      } catch {
        return null;
      }
    });
    for (let i = 1; i < values.length; i++) {
      const value = values[i];
      if (value === null || value === undefined || value === 0 || mirrors.has(i)) continue;
      for (let j = 0; j < i; j++) {
        if (!mirrors.has(j) && values[j] === value) {
          mirrors.add(i);
          break;
        }
      }
    }
  }
  return mirrors;
}

/** Scans the powercap tree and chooses the zones whose counters make up the CPU energy. */
export function probeRapl(options: RaplOptions = {}): RaplProbe {
  const readFile = options.readFile ?? defaultReadFile;
  // A root that is itself a control type (".../powercap/intel-rapl") also brings its siblings, such
  // as intel-rapl-mmio, as CodeCarbon scans a custom directory and its parent.
  const roots =
    options.root === undefined
      ? DEFAULT_ROOTS
      : CONTROL_TYPE_PATTERN.test(path.basename(options.root))
        ? [options.root, path.dirname(options.root)]
        : [options.root];
  const existingRoots = roots.filter((r) => fs.existsSync(r));
  if (existingRoots.length === 0) return { ok: false, reason: `no powercap tree at ${roots.join(" or ")}` };

  const zones = scanZones(existingRoots, readFile);
  if (zones.length === 0) return { ok: false, reason: `no intel-rapl zone under ${existingRoots.join(" or ")}` };

  const labelsById = new Map(zones.map((z) => [z.id, z.label]));
  const readable: ReadableZone[] = [];
  const unreadable: Array<{ file: string; kind: ZoneKind; isMain: boolean; denied: boolean; error: unknown }> = [];
  for (const zone of zones) {
    const kind = classify(zone.label);
    if (kind === "subdomain") continue;
    const energyFile = path.join(zone.dir, "energy_uj");
    try {
      readCounter(energyFile, readFile);
    } catch (error) {
      // A main domain is a package or psys, or a top-level zone ending in ":0" whose name is unknown.
      const isMain =
        kind === "package" || kind === "psys" || (kind === "other" && zone.depth === 1 && zone.id.endsWith(":0"));
      unreadable.push({ file: energyFile, kind, isMain, denied: isPermissionError(error), error });
      continue;
    }
    if (kind === "other") {
      log.debug(`RAPL: ignoring zone ${zone.id} named "${zone.label}".`);
      continue;
    }
    const parent = parentZoneId(zone.id);
    const parentLabel = parent !== null ? labelsById.get(parent) : undefined;
    const qualifiedName = parent === null ? zone.label : `${parentLabel || parent}/${zone.label}`;
    readable.push({ zone, kind, qualifiedName });
  }

  const packages = readable.filter((z) => z.kind === "package");
  const psys = readable.filter((z) => z.kind === "psys");
  const dram = readable.filter((z) => z.kind === "dram");
  let selected: ReadableZone[];
  if (options.preferPsys === true && psys.length > 0) selected = psys;
  else if (packages.length > 0) selected = options.includeDram === true ? [...packages, ...dram] : packages;
  else if (psys.length > 0) {
    log.once(
      "warning",
      "rapl-psys-fallback",
      "RAPL: no readable package zone; using the psys (platform) zone, which covers more than the CPU.",
    );
    selected = psys;
  } else {
    const deniedMain = unreadable.filter((u) => u.denied && u.isMain).map((u) => u.file);
    if (deniedMain.length > 0)
      return { ok: false, reason: `permission denied: ${deniedMain.join(", ")}, ${CHMOD_HINT}` };
    return { ok: false, reason: `no readable package or psys zone under ${existingRoots.join(" or ")}` };
  }

  // Only zones that would have been measured deserve a warning; an unreadable psys on a machine
  // measured through its packages changes nothing.
  const wanted = new Set<ZoneKind>(["package", "other", ...selected.map((z) => z.kind)]);
  if (options.includeDram === true) wanted.add("dram");
  for (const u of unreadable) {
    if (!wanted.has(u.kind) || (u.kind === "other" && !u.isMain)) continue;
    if (u.denied)
      log.once(
        "warning",
        `rapl-denied:${u.file}`,
        `RAPL: permission denied on ${u.file}; measuring without it (${CHMOD_HINT}).`,
      );
    else
      log.once(
        "warning",
        `rapl-unreadable:${u.file}`,
        `RAPL: cannot read ${u.file} (${String(u.error)}); measuring without it.`,
      );
  }

  const domains = removeDuplicates(selected, readFile).map((z): RaplDomain => ({
    path: z.zone.dir,
    name: z.qualifiedName,
    kind: z.kind,
    maxEnergyUJ: readMaxEnergy(z.zone.dir, readFile),
    provider: z.zone.provider,
  }));
  log.debug(`RAPL: measuring ${domains.map((d) => `${d.name} (${d.provider})`).join(", ")}.`);
  return { ok: true, domains };
}

function readMaxEnergy(dir: string, readFile: (file: string) => string): number | null {
  try {
    const max = readCounter(path.join(dir, "max_energy_range_uj"), readFile);
    return max > 0 ? max : null;
  } catch {
    return null;
  }
}

/** Reads the chosen zones' counters; each read returns the energy since the previous one. */
export function createRaplReader(domains: RaplDomain[], options: RaplOptions = {}): EnergyReader {
  const readFile = options.readFile ?? defaultReadFile;
  const selected = [...domains];
  const source: PowerSource = {
    device: "cpu",
    method: "rapl",
    domains: selected.map((d) => d.name),
    includesDram: selected.some((d) => d.kind === "dram"),
  };
  const lastUJ: Array<number | null> = selected.map(() => null);

  const readDomain = (domain: RaplDomain): number | null => {
    const file = path.join(domain.path, "energy_uj");
    try {
      return readCounter(file, readFile);
    } catch (error) {
      log.once(
        "warning",
        `rapl-read-failed:${file}`,
        `RAPL: cannot read ${file} (${String(error)}); that zone counts 0 until it reads again.`,
      );
      return null;
    }
  };

  const deltaUJ = (domain: RaplDomain, previous: number, current: number): number => {
    if (current >= previous) return current - previous;
    if (domain.maxEnergyUJ !== null && previous <= domain.maxEnergyUJ) return current + domain.maxEnergyUJ - previous;
    log.once(
      "warning",
      `rapl-backwards:${domain.path}`,
      `RAPL: the ${domain.name} counter went backwards and its max_energy_range_uj is unknown or inconsistent; counting 0 for that interval.`,
    );
    return 0;
  };

  return {
    device: "cpu",
    source,
    async start(): Promise<void> {
      selected.forEach((domain, i) => {
        lastUJ[i] = readDomain(domain);
      });
    },
    async read(intervalS: number): Promise<DeviceReading> {
      let totalUJ = 0;
      selected.forEach((domain, i) => {
        const current = readDomain(domain);
        if (current === null) return; // keep the old baseline so the energy is caught up on the next good read
        const previous = lastUJ[i];
        if (previous !== null && previous !== undefined) totalUJ += deltaUJ(domain, previous, current);
        lastUJ[i] = current;
      });
      const energyKWh = totalUJ / MICROJOULES_PER_KWH;
      return { energyKWh, powerW: wattsFromKwhOver(energyKWh, intervalS) };
    },
  };
}
