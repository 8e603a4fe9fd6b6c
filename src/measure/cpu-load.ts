/**
 * CodeCarbon's CPU load models, and the machine-wide load sampler that feeds the first one.
 *
 * - Machine: P = TDP × (0.1 + 0.9 × load³), load the machine's busy fraction. The cube and the
 *   10 % floor describe a package that idles low and draws its TDP only near full load.
 * - Process: P = TDP × load / logical CPUs, load in CPU-seconds per wall second (×100), so a
 *   process keeping two of eight cores busy is charged a quarter of the TDP. No floor: an idle
 *   process costs nothing.
 *
 * The sampler reads the aggregate `cpu` line of `/proc/stat` the way psutil's `cpu_percent()`
 * does (CodeCarbon's source of the figure), and falls back to `os.cpus()` where there is no
 * `/proc` (macOS, Windows).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** CodeCarbon's machine model, in W; `loadPercent` is the machine's busy time in %. */
export function machineLoadPowerW(tdpW: number, loadPercent: number): number {
  return tdpW * (0.1 + 0.9 * (loadPercent / 100) ** 3);
}

/**
 * CodeCarbon's process model, in W. `processLoadPercent` is CPU-seconds per wall second × 100
 * (200 = two cores busy), summed over the process tree.
 */
export function processLoadPowerW(tdpW: number, processLoadPercent: number, logicalCpuCount: number): number {
  const cpus = Number.isFinite(logicalCpuCount) && logicalCpuCount >= 1 ? logicalCpuCount : 1;
  return (tdpW * (processLoadPercent / cpus)) / 100;
}

export interface MachineLoadSampler {
  /**
   * The machine's busy time in % since the previous call, rounded to 0.1 as psutil rounds it;
   * null on the first call, when the counters cannot be read, or when the source changes.
   */
  sample(): number | null;
}

export interface MachineLoadSamplerOptions {
  /** Where `/proc` is; a fixture folder in tests. */
  procRoot?: string;
  /** The per-CPU times source used when `<procRoot>/stat` is unreadable; `os.cpus` by default. */
  cpuTimes?: () => os.CpuInfo[];
}

/** Cumulative counters at one instant, in the source's own unit (clock ticks or ms). */
interface CounterSnapshot {
  source: "proc-stat" | "os-cpus";
  fields: number[];
  /** Indices of the fields that count as idle (idle, iowait). */
  idleFields: readonly number[];
  /** Indices of the fields already included in others (guest time is inside user time). */
  nestedFields: readonly number[];
  /** The smallest total delta worth a figure: about 10 ms on every CPU. */
  minimumWindow: number;
}

// Field positions on the `cpu` line: user nice system idle iowait irq softirq steal guest guest_nice.
const PROC_IDLE_FIELDS = [3, 4] as const;
const PROC_GUEST_FIELDS = [8, 9] as const;
// os.cpus() times, summed over CPUs in this order.
const OS_TIME_KEYS = ["user", "nice", "sys", "idle", "irq"] as const;
const OS_IDLE_FIELDS = [3] as const;
/** os.cpus() counts in ms; one scheduler tick is about 10 ms. */
const OS_TICK_MS = 10;

/**
 * A busy-% sampler with one "since the previous call" state, like psutil's: every caller shares
 * the window, so the CPU model and the utilisation figure should use the same sampler.
 *
 * A call that comes less than about one scheduler tick after the previous one (the tracker reads
 * the load right after the CPU reader did) returns the previous figure and keeps the window open:
 * a few jiffies cannot tell busy from idle.
 */
export function createMachineLoadSampler(options: MachineLoadSamplerOptions = {}): MachineLoadSampler {
  const procStat = new ProcStatReader(path.join(options.procRoot ?? "/proc", "stat"));
  const cpuTimes = options.cpuTimes ?? os.cpus;
  let baseline: CounterSnapshot | null = null;
  let lastPercent: number | null = null;

  return {
    sample(): number | null {
      const now = procStat.read() ?? readOsCpus(cpuTimes);
      if (now === null) return null;
      const previous = baseline;
      if (previous === null || previous.source !== now.source || previous.fields.length !== now.fields.length) {
        baseline = now;
        lastPercent = null;
        return null;
      }
      // Counters that went backwards count as unchanged (psutil and top do the same).
      const deltas = now.fields.map((value, i) => Math.max(0, value - (previous.fields[i] ?? value)));
      const total = sum(deltas) - sum(now.nestedFields.map((i) => deltas[i] ?? 0));
      if (total < now.minimumWindow) return lastPercent;
      const busy = total - sum(now.idleFields.map((i) => deltas[i] ?? 0));
      baseline = now;
      lastPercent = Math.min(100, Math.max(0, Math.round((busy / total) * 100 * 10) / 10));
      return lastPercent;
    },
  };
}

/**
 * Reads the aggregate `cpu` line of /proc/stat. The file is kept open and re-read from offset 0
 * into one reused buffer: the sampler runs every second for hours, and opening the file and
 * splitting its whole text (one line per CPU and a long interrupt line) each time costs ten
 * times more than this. The per-CPU line count is taken once, from a full read.
 */
class ProcStatReader {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(512);
  private cpuLines: number | undefined;

  private readonly procfs: boolean;

  constructor(private readonly file: string) {
    this.procfs = path.resolve(file).startsWith("/proc/");
  }

  read(): CounterSnapshot | null {
    try {
      if (this.cpuLines === undefined) {
        const text = fs.readFileSync(this.file, "latin1");
        this.cpuLines = text.split("\n").filter((line) => /^cpu\d+\s/.test(line)).length;
      }
      // A file replaced or removed since it was opened is opened again (fixture trees change;
      // /proc's files never do, so the sampler skips that stat there).
      if (this.fd !== undefined && !this.procfs && fs.fstatSync(this.fd).nlink === 0) this.close();
      this.fd ??= fs.openSync(this.file, "r");
      const length = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      const text = this.buffer.toString("latin1", 0, length);
      const end = text.indexOf("\n");
      return parseAggregateLine(end === -1 ? text : text.slice(0, end), this.cpuLines);
    } catch {
      this.close();
      return null;
    }
  }

  private close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function parseAggregateLine(line: string, cpuLines: number): CounterSnapshot | null {
  if (!line.startsWith("cpu ")) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // Four fields (user nice system idle) are the oldest kernels' minimum.
  if (fields.length < 4 || fields.some((value) => !Number.isFinite(value) || value < 0)) return null;
  const { idleFields, nestedFields } = procFieldsFor(fields.length);
  return { source: "proc-stat", fields, idleFields, nestedFields, minimumWindow: Math.max(1, cpuLines) };
}

/** The idle and nested field positions for a line width, worked out once per width. */
const procFieldsByWidth = new Map<number, { idleFields: readonly number[]; nestedFields: readonly number[] }>();
function procFieldsFor(width: number): { idleFields: readonly number[]; nestedFields: readonly number[] } {
  let found = procFieldsByWidth.get(width);
  if (found === undefined) {
    found = {
      idleFields: PROC_IDLE_FIELDS.filter((i) => i < width),
      nestedFields: PROC_GUEST_FIELDS.filter((i) => i < width),
    };
    procFieldsByWidth.set(width, found);
  }
  return found;
}

function readOsCpus(cpuTimes: () => os.CpuInfo[]): CounterSnapshot | null {
  let cpus: os.CpuInfo[];
  try {
    cpus = cpuTimes();
  } catch {
    return null;
  }
  if (cpus.length === 0) return null;
  const fields = OS_TIME_KEYS.map((key) => sum(cpus.map((cpu) => cpu.times[key])));
  if (fields.some((value) => !Number.isFinite(value))) return null;
  return {
    source: "os-cpus",
    fields,
    idleFields: OS_IDLE_FIELDS,
    nestedFields: [],
    minimumWindow: OS_TICK_MS * cpus.length,
  };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
