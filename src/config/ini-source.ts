/**
 * Reads one `.codecarbon.config` file: the `[codecarbon]` section of an INI file, read as Python
 * CodeCarbon reads it with configparser (configparser.ts), with each key's line so messages can
 * say where a value is. What configparser refuses is refused here too, with the line to fix.
 *
 * Where Python CodeCarbon would read the same file otherwise, this tool keeps its own reading and
 * says so once, naming the file and line (`notes`): quotes around a value (removed here, kept
 * there), `%` (configparser's interpolation), a `#` or `;` after a value (part of the value for
 * both: configparser has no inline comments), keys under [DEFAULT], a byte-order mark. The checks
 * that depend on a key's type (booleans, enum case, `~` in paths) are in python-reading.ts.
 */
import { readUntrustedFileSync, UntrustedFileError } from "../fs/untrusted-file";
import { DEFAULT_SECTION, parseIni, type IniProblem } from "./configparser";

export const CONFIG_SECTION = "codecarbon";

export interface FileEntry {
  /** Lower-cased, as configparser does. */
  key: string;
  value: string;
  /** 1-based. */
  line: number;
}

export interface FileContents {
  entries: FileEntry[];
  /** Messages without the file name; the caller prefixes it. */
  problems: string[];
  /** Where Python CodeCarbon reads the file otherwise: "line N: …", without the file name. */
  notes: string[];
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A config file is a few dozen lines. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads `file`; undefined when it does not exist. A file that exists but cannot be read is a problem. */
export function readConfigFile(file: string): FileContents | undefined {
  let text: string;
  try {
    // Never a FIFO (a plain read would wait forever) nor a huge file; a symlink is followed.
    text = readUntrustedFileSync(file, { maxBytes: MAX_CONFIG_BYTES, followSymlinks: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    const reason = error instanceof UntrustedFileError ? error.reason : (error as Error).message;
    return { entries: [], problems: [`cannot be read (${reason})`], notes: [] };
  }
  if (text.includes("\0")) return { entries: [], problems: ["is not a text file"], notes: [] };
  return parseConfigText(text);
}

function describeProblem(problem: IniProblem): string {
  switch (problem.kind) {
    case "before-section":
      return `line ${problem.line}: ${problem.key} comes before any section; put a [${CONFIG_SECTION}] line above it`;
    case "not-an-option":
      return `line ${problem.line}: ${JSON.stringify(problem.text)} is not a key = value line`;
    case "duplicate-section":
      return `line ${problem.line}: [${problem.section}] already starts on line ${problem.firstLine}; merge the two sections`;
    case "duplicate-option":
      // configparser refuses duplicates too, so such a file would break Python CodeCarbon.
      return `line ${problem.line}: ${problem.key} is already set on line ${problem.firstLine}; keep one of them`;
  }
}

/** This tool's reading of a value: surrounding quotes are removed (configparser keeps them). */
function unquote(value: string): string {
  const match = /^(["'])(.*)\1$/s.exec(value);
  if (match === null) return value;
  if (match[1] === "'") return match[2] ?? "";
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === "string" ? parsed : (match[2] ?? "");
  } catch {
    return match[2] ?? "";
  }
}

const PYTHON = "Python CodeCarbon (configparser)";

/** The differences in reading that do not depend on the key's type. */
function valueNotes(key: string, raw: string, line: number): string[] {
  const notes: string[] = [];
  const at = `line ${line}: ${key}`;
  if (unquote(raw) !== raw)
    notes.push(`${at}: ${PYTHON} keeps the quotes around the value; this tool removes them. Write it without quotes`);
  if (raw.includes("%")) {
    notes.push(
      `${at}: ${PYTHON} reads % as interpolation (%% is one %, %(name)s another key's value, a lone % is an error ` +
        "that stops it); this tool reads the value as written. Write %% for a %, or avoid %",
    );
  }
  if (raw.startsWith("\n")) {
    notes.push(
      `${at}: the value starts on the next line, so ${PYTHON} reads it with a leading line break; this tool ` +
        "trims it. Put the value on the key's line",
    );
  }
  if (/\s[#;]/.test(raw)) {
    notes.push(
      `${at}: the # or ; after the value is part of the value, for configparser and for this tool ` +
        "(there are no inline comments); put the comment on a line of its own",
    );
  }
  return notes;
}

/** Parses the text of a config file (exported for the tests' edge cases). */
export function parseConfigText(input: string): FileContents {
  const notes: string[] = [];
  let text = input;
  if (text.startsWith("\uFEFF")) {
    text = text.slice(1);
    notes.push(
      `line 1: the file starts with a byte-order mark, which this tool skips but ${PYTHON} does not: it stops ` +
        "with MissingSectionHeaderError. Save the file as UTF-8 without BOM",
    );
  }
  const parsed = parseIni(text);
  const problems = parsed.problems.map(describeProblem);
  const own = parsed.sections.find((s) => s.name === CONFIG_SECTION);
  const firstOther = parsed.sections.find((s) => s.name !== DEFAULT_SECTION);
  if (own === undefined && firstOther !== undefined && problems.length === 0) {
    const caseHint = firstOther.name.toLowerCase() === CONFIG_SECTION ? "; section names are case-sensitive" : "";
    problems.push(
      `line ${firstOther.line}: there is no [${CONFIG_SECTION}] section (found [${firstOther.name}]${caseHint})`,
    );
  }
  if (problems.length > 0) return { entries: [], problems, notes };

  const entries: FileEntry[] = [];
  const inSection = parsed.options.filter((o) => o.section === CONFIG_SECTION);
  const taken = new Set(inSection.map((o) => o.key));
  for (const option of parsed.options) {
    if (option.section === DEFAULT_SECTION && !taken.has(option.key)) {
      // configparser gives [DEFAULT]'s keys to every section, [codecarbon] included.
      notes.push(
        `line ${option.line}: ${option.key} is under [${DEFAULT_SECTION}], which configparser applies to ` +
          `[${CONFIG_SECTION}] (this tool reads it there too, but only within this file); move it under [${CONFIG_SECTION}]`,
      );
    } else if (option.section !== CONFIG_SECTION) continue;
    notes.push(...valueNotes(option.key, option.value, option.line));
    entries.push({ key: option.key, value: unquote(option.value), line: option.line });
  }
  entries.sort((a, b) => a.line - b.line);
  return { entries, problems, notes };
}
