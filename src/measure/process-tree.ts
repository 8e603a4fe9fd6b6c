/**
 * CPU time and resident memory of a process and all its descendants, for the process tracking
 * mode (and `monitor -- cmd`, whose work happens in children).
 *
 * Descendants are found through `/proc/<pid>/task/<tid>/children`, walked recursively, so the
 * cost follows the size of the tree rather than the number of processes on the machine.
 * Without `/proc` (macOS, Windows) only our own process can be measured, through Node's own
 * counters.
 *
 * CPU time includes the time of children that have already exited and been waited for (the
 * kernel adds it to the parent's cutime/cstime). CodeCarbon counts live processes only, which
 * drops the work of short-lived children such as the compilers a `make` starts; counting reaped
 * children keeps the total continuous when a child exits.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { log } from "../log";

export interface ProcessTreeSampler {
  /** User + system CPU seconds of the process and its descendants, reaped children included. */
  cpuSeconds(): number;
  /** Resident memory of the process and its live descendants, in bytes. */
  rssBytes(): number;
}

export interface ProcessTreeSamplerOptions {
  /** The root of the tree; this process by default. */
  pid?: number;
  /** Where `/proc` is; a fixture folder in tests. */
  procRoot?: string;
  /** Memory page size; found from this process's own figures when the real /proc is read, else 4096. */
  pageSizeBytes?: number;
}

/** /proc reports CPU times in USER_HZ, which Linux fixes at 100 for every architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
const DEFAULT_PAGE_SIZE_BYTES = 4096;
const KNOWN_PAGE_SIZES_BYTES = [4096, 16384, 65536] as const;
const REAL_PROC_ROOT = "/proc";

// Positions in the fields that follow the command name in /proc/<pid>/stat (field 3 is index 0).
const UTIME_INDEX = 11;
const STIME_INDEX = 12;
const CUTIME_INDEX = 13;
const CSTIME_INDEX = 14;

export function createProcessTreeSampler(options: ProcessTreeSamplerOptions = {}): ProcessTreeSampler {
  const pid = options.pid ?? process.pid;
  const procRoot = options.procRoot ?? REAL_PROC_ROOT;
  // For our own process Node's counters are finer than /proc's 10 ms ticks and need no /proc.
  const isSelf = pid === process.pid;
  let pageSizeBytes = options.pageSizeBytes;

  const pageSize = (): number => {
    pageSizeBytes ??= procRoot === REAL_PROC_ROOT ? detectPageSize(procRoot) : DEFAULT_PAGE_SIZE_BYTES;
    return pageSizeBytes;
  };

  return {
    cpuSeconds(): number {
      // Ticks are summed as integers and divided once, so the total carries no rounding drift.
      let ownSeconds = 0;
      let ticks = 0;
      if (isSelf) {
        const own = process.cpuUsage();
        ownSeconds = (own.user + own.system) / 1e6;
        const reaped = readStatTimes(procRoot, pid);
        if (reaped !== null) ticks += reaped.cutime + reaped.cstime;
      } else {
        ticks += processTicks(procRoot, pid);
      }
      for (const child of descendants(procRoot, pid)) ticks += processTicks(procRoot, child);
      return ownSeconds + ticks / CLOCK_TICKS_PER_SECOND;
    },
    rssBytes(): number {
      let bytes = isSelf ? process.memoryUsage.rss() : (readStatmPages(procRoot, pid) ?? 0) * pageSize();
      for (const child of descendants(procRoot, pid)) bytes += (readStatmPages(procRoot, child) ?? 0) * pageSize();
      return bytes;
    },
  };
}

interface StatTimes {
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Own and reaped-children CPU time of one process, in clock ticks; 0 once it has gone. */
function processTicks(procRoot: string, pid: number): number {
  const times = readStatTimes(procRoot, pid);
  if (times === null) return 0;
  return times.utime + times.stime + times.cutime + times.cstime;
}

function readStatTimes(procRoot: string, pid: number): StatTimes | null {
  const text = readSmallFile(path.join(procRoot, String(pid), "stat"));
  if (text === null) return null;
  // The command name sits in parentheses and may itself hold spaces and parentheses.
  const nameEnd = text.lastIndexOf(")");
  if (nameEnd < 0) return null;
  const fields = text
    .slice(nameEnd + 1)
    .trim()
    .split(/\s+/);
  const at = (i: number): number | null => {
    const value = Number(fields[i]);
    return fields[i] !== undefined && Number.isFinite(value) && value >= 0 ? value : null;
  };
  const utime = at(UTIME_INDEX);
  const stime = at(STIME_INDEX);
  const cutime = at(CUTIME_INDEX);
  const cstime = at(CSTIME_INDEX);
  if (utime === null || stime === null || cutime === null || cstime === null) return null;
  return { utime, stime, cutime, cstime };
}

/** Resident pages (the second field of /proc/<pid>/statm); null when unreadable. */
function readStatmPages(procRoot: string, pid: number): number | null {
  const text = readSmallFile(path.join(procRoot, String(pid), "statm"));
  if (text === null) return null;
  const pages = Number(text.trim().split(/\s+/)[1]);
  return Number.isFinite(pages) && pages >= 0 ? pages : null;
}

/** Every live descendant of `root`, found through each thread's `children` list. */
function descendants(procRoot: string, root: number): number[] {
  const found: number[] = [];
  const seen = new Set<number>([root]);
  const pending = [root];
  for (let parent = pending.pop(); parent !== undefined; parent = pending.pop()) {
    for (const child of childrenOf(procRoot, parent)) {
      if (seen.has(child)) continue;
      seen.add(child);
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

function childrenOf(procRoot: string, pid: number): number[] {
  const taskDir = path.join(procRoot, String(pid), "task");
  let threads: string[];
  try {
    threads = fs.readdirSync(taskDir);
  } catch {
    return []; // no /proc, or the process has gone
  }
  const children: number[] = [];
  for (const tid of threads) {
    const file = path.join(taskDir, tid, "children");
    const text = readSmallFile(file);
    if (text === null) {
      if (!fs.existsSync(file)) {
        log.once(
          "debug",
          "proc-children-missing",
          `${file} does not exist (kernel without CONFIG_PROC_CHILDREN?); child processes are not measured.`,
        );
      }
      continue;
    }
    for (const word of text.split(/\s+/)) {
      const child = Number(word);
      if (word !== "" && Number.isInteger(child) && child > 0) children.push(child);
    }
  }
  return children;
}

/**
 * The page size, from our own resident memory as Node reports it in bytes against the page count
 * /proc/self/statm gives; 4096 unless the ratio is clearly 16 KiB or 64 KiB (some ARM kernels).
 */
function detectPageSize(procRoot: string): number {
  const pages = readStatmPages(procRoot, process.pid);
  if (pages === null || pages === 0) return DEFAULT_PAGE_SIZE_BYTES;
  const ratio = process.memoryUsage.rss() / pages;
  let best: number = DEFAULT_PAGE_SIZE_BYTES;
  for (const size of KNOWN_PAGE_SIZES_BYTES) {
    if (Math.abs(Math.log(ratio / size)) < Math.abs(Math.log(ratio / best))) best = size;
  }
  return best;
}

function readSmallFile(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
}
