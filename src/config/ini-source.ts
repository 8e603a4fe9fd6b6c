/**
 * Reads one `.codecarbon.config` file: the `[codecarbon]` section of an INI file, the format Python
 * CodeCarbon reads with configparser.
 *
 * Values come from the `ini` package. `ini` alone is not enough, though: it reports no line
 * numbers, accepts keys outside any section silently and keeps lines it cannot read as `key = true`.
 * So the lines are also scanned here, to find each key's line, refuse what configparser would refuse
 * (no section header, a line without `=`, the same key twice) and say where in the file it is.
 */
import { readUntrustedFileSync, UntrustedFileError } from "../fs/untrusted-file";
import { decode, unsafe } from "ini";

export const CONFIG_FILE_NAME = ".codecarbon.config";
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
}

const SECTION_LINE = /^\[([^\]]*)\]\s*$/;
const KEY_LINE = /^([^=]+)=(.*)$/;

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
    return { entries: [], problems: [`cannot be read (${reason})`] };
  }
  if (text.includes("\0")) return { entries: [], problems: ["is not a text file"] };
  return parseConfigText(text.replace(/^\uFEFF/, ""));
}

/** Parses the text of a config file (exported for the tests' edge cases). */
export function parseConfigText(text: string): FileContents {
  const problems: string[] = [];
  const scanned: Array<{ key: string; iniKey: string; rawValue: string; line: number }> = [];
  const firstLineOfKey = new Map<string, number>();
  const otherSections: Array<{ name: string; line: number }> = [];
  let section: string | undefined;
  let sawCodecarbon = false;

  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) return;
    const sectionMatch = SECTION_LINE.exec(line);
    if (sectionMatch) {
      section = unsafe(sectionMatch[1] ?? "");
      if (section === CONFIG_SECTION) sawCodecarbon = true;
      else otherSections.push({ name: section, line: lineNumber });
      return;
    }
    if (SECTION_LINE.test(trimmed)) {
      problems.push(`line ${lineNumber}: remove the spaces before ${trimmed}; a section header starts the line`);
      return;
    }
    const keyMatch = KEY_LINE.exec(line);
    const rawKey = keyMatch?.[1]?.trim() ?? "";
    if (!keyMatch || rawKey === "") {
      const hint = trimmed.includes(":") ? " (this reader takes key = value, not key: value)" : "";
      problems.push(`line ${lineNumber}: ${JSON.stringify(trimmed)} is not a key = value line${hint}`);
      return;
    }
    const key = rawKey.toLowerCase();
    if (section === undefined) {
      problems.push(`line ${lineNumber}: ${key} comes before any section; put a [${CONFIG_SECTION}] line above it`);
      section = "";
      return;
    }
    if (section !== CONFIG_SECTION) return;
    const earlier = firstLineOfKey.get(key);
    if (earlier !== undefined) {
      // configparser refuses duplicates too, so such a file would break Python CodeCarbon.
      problems.push(`line ${lineNumber}: ${key} is already set on line ${earlier}; keep one of them`);
      return;
    }
    firstLineOfKey.set(key, lineNumber);
    scanned.push({ key, iniKey: unsafe(keyMatch[1] ?? ""), rawValue: keyMatch[2] ?? "", line: lineNumber });
  });

  const firstOther = otherSections[0];
  if (!sawCodecarbon && firstOther !== undefined && problems.length === 0) {
    const caseHint = firstOther.name.toLowerCase() === CONFIG_SECTION ? "; section names are case-sensitive" : "";
    problems.push(
      `line ${firstOther.line}: there is no [${CONFIG_SECTION}] section (found [${firstOther.name}]${caseHint})`,
    );
  }
  if (problems.length > 0) return { entries: [], problems };

  const decoded: Record<string, unknown> = decode(text);
  const values = decoded[CONFIG_SECTION];
  const sectionValues = typeof values === "object" && values !== null ? (values as Record<string, unknown>) : {};
  const entries: FileEntry[] = [];
  for (const { key, iniKey, rawValue, line } of scanned) {
    const value = sectionValues[iniKey];
    let text: string;
    if (typeof value === "string") text = value;
    // `ini` turns the words true, false and null into values; the coercion step wants the text back.
    else if (typeof value === "boolean" || value === null) text = String(value);
    // Keys `ini` files elsewhere (`name[]` arrays, `__proto__`): decode the line's own value the same way.
    else text = unsafe(rawValue);
    entries.push({ key, value: text, line });
  }
  return { entries, problems };
}
