/**
 * A small leveled logger shared by every room. Output goes to stderr in CodeCarbon's shape,
 * `[codecarbon INFO @ 14:03:07] message`, so notebook cells stay readable.
 *
 * `once(key, …)` exists because a tracker that degrades (no RAPL, no GPU, network down) must say
 * so one time, not at every measurement.
 */

export const LOG_LEVELS = ["debug", "info", "warning", "error", "critical"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export type LogSink = (level: LogLevel, message: string) => void;

function defaultSink(level: LogLevel, message: string): void {
  const time = new Date().toTimeString().slice(0, 8);
  process.stderr.write(`[codecarbon ${level.toUpperCase()} @ ${time}] ${message}\n`);
}

let sink: LogSink = defaultSink;
let threshold: number = RANK[parseLevel(process.env["CODECARBON_LOG_LEVEL"]) ?? "info"];
const seen = new Set<string>();

/** Accepts CodeCarbon's spellings (`warn`, `fatal`, numeric levels) and returns ours. */
export function parseLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === "warn") return "warning";
  if (v === "fatal") return "critical";
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  const n = Number(v);
  if (Number.isInteger(n)) {
    if (n <= 10) return "debug";
    if (n <= 20) return "info";
    if (n <= 30) return "warning";
    if (n <= 40) return "error";
    return "critical";
  }
  return undefined;
}

export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

export function getLogLevel(): LogLevel {
  return LOG_LEVELS.find((l) => RANK[l] === threshold) ?? "info";
}

/** Replaces where log lines go (tests capture them; the sampler worker forwards them). */
export function setLogSink(next: LogSink | undefined): void {
  sink = next ?? defaultSink;
}

function emit(level: LogLevel, message: string): void {
  if (RANK[level] < threshold) return;
  try {
    sink(level, message);
  } catch {
    // A broken sink must never break the user's computation.
  }
}

export const log = {
  debug: (message: string) => emit("debug", message),
  info: (message: string) => emit("info", message),
  warning: (message: string) => emit("warning", message),
  error: (message: string) => emit("error", message),
  /** Logs a message the first time `key` is seen in this process, and never again. */
  once(level: LogLevel, key: string, message: string): void {
    if (seen.has(key)) return;
    seen.add(key);
    emit(level, message);
  },
};

/** For tests: forget which once-only messages were already logged. */
export function resetLogOnce(): void {
  seen.clear();
}
