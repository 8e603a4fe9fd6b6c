/**
 * Captures the library's log lines in tests: every level, with the once-only memory cleared on
 * both ends so each test sees its own warnings.
 */
import { afterEach, beforeEach } from "node:test";
import { getLogLevel, resetLogOnce, setLogLevel, setLogSink, type LogLevel } from "../../src/log";

export interface LogCapture {
  lines: Array<{ level: LogLevel; message: string }>;
  restore(): void;
}

export function captureLog(): LogCapture {
  const lines: LogCapture["lines"] = [];
  const previousLevel = getLogLevel();
  resetLogOnce();
  setLogLevel("debug");
  setLogSink((level, message) => lines.push({ level, message }));
  return {
    lines,
    restore: () => {
      setLogSink(undefined);
      setLogLevel(previousLevel);
      resetLogOnce();
    },
  };
}

/** A fresh capture around each test of the enclosing suite (or file); read `.lines` in tests. */
export function useLogCapture(): { readonly lines: LogCapture["lines"] } {
  const current = { lines: [] as LogCapture["lines"] };
  let capture: LogCapture | undefined;
  beforeEach(() => {
    capture = captureLog();
    current.lines = capture.lines;
  });
  afterEach(() => capture?.restore());
  return current;
}
