/**
 * The adversarial suite's count of what it tried and what went wrong. Each file keeps one tally,
 * asserts every failure count is zero, and prints one line with its totals, so a run's output
 * says how much was tried as well as that nothing broke.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export class Tally {
  inputs = 0;
  crashes = 0;
  hangs = 0;
  rowsLost = 0;
  rowsDuplicated = 0;
  filesTouchedOutside = 0;
  secretsSentOrWritten = 0;
  readonly problems: string[] = [];

  constructor(readonly name: string) {}

  /** Records a failure of `kind`, with what happened (kept for the assertion's message). */
  fail(kind: Exclude<keyof Tally, "inputs" | "problems" | "name" | "fail" | "line" | "failures">, what: string): void {
    this[kind] += 1;
    if (this.problems.length < 20) this.problems.push(`${kind}: ${what}`);
  }

  failures(): number {
    return (
      this.crashes +
      this.hangs +
      this.rowsLost +
      this.rowsDuplicated +
      this.filesTouchedOutside +
      this.secretsSentOrWritten
    );
  }

  line(): string {
    return (
      `adversarial ${this.name}: inputs ${this.inputs}, crashes ${this.crashes}, hangs ${this.hangs}, ` +
      `rows lost ${this.rowsLost}, rows duplicated ${this.rowsDuplicated}, files touched outside ${this.filesTouchedOutside}, ` +
      `secrets sent or written ${this.secretsSentOrWritten}`
    );
  }
}

export const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** A random string of up to `max` characters, rich in what breaks parsers: quotes, separators, controls, dots. */
export function hostileString(random: () => number, max = 40): string {
  const alphabet = [
    '"',
    "'",
    ",",
    "=",
    "[",
    "]",
    "\\",
    "/",
    ".",
    "..",
    "\u001b",
    "\u009b",
    "\t",
    " ",
    "\r",
    "a",
    "Z",
    "0",
    "9",
    "-",
    "+",
    "e",
    "é",
    "😀",
    "@",
    ":",
    "%",
    "$",
  ];
  const length = Math.floor(random() * max);
  let text = "";
  for (let i = 0; i < length; i++) text += pick(random, alphabet);
  return text;
}

/** Every file under `dir` with its size and mtime: compared before and after to find files touched. */
export function snapshot(dir: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      const stat = fs.lstatSync(full);
      result.set(full, `${stat.mode}:${stat.size}:${stat.mtimeMs}`);
      if (entry.isDirectory()) walk(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return result;
}

/** The paths that differ between two snapshots (added, removed or changed). */
export function touched(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [file, state] of after) if (before.get(file) !== state) changed.push(file);
  for (const file of before.keys()) if (!after.has(file)) changed.push(file);
  return changed;
}
