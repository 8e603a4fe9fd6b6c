/**
 * Reads INI text the way Python's `configparser.ConfigParser()` does with its defaults, which is
 * how Python CodeCarbon reads `.codecarbon.config`, so one file means the same to both tools:
 *
 * - `key = value` and `key: value` (the first `=` or `:` splits); keys stripped and lower-cased,
 *   values stripped;
 * - `#` and `;` start a comment only at the start of a line (after spaces): there are no inline
 *   comments, so `api_key = cpt_ab#cd;ef` is the whole `cpt_ab#cd;ef`;
 * - a line indented deeper than its key's line continues the value (joined with newlines, empty
 *   lines inside kept, trailing ones dropped);
 * - a section header is `[name]` after any indentation, up to the line's last `]`; `[DEFAULT]`
 *   holds keys every section inherits;
 * - refused: a key before any section, a line that is neither header, key nor comment, the same
 *   section or key twice in one file (configparser's strict mode).
 *
 * Interpolation (`%`) happens in configparser when a value is read, not here; ini-source.ts warns
 * about it. Python's algorithm is RawConfigParser._read in Lib/configparser.py.
 */

export const DEFAULT_SECTION = "DEFAULT";

export interface IniOption {
  /** The section as written (section names are case-sensitive). */
  section: string;
  /** Stripped and lower-cased (configparser's optionxform). */
  key: string;
  /** The value as configparser returns it before interpolation. */
  value: string;
  /** 1-based line of the key; `lastLine` is the last line of a continued value. */
  line: number;
  lastLine: number;
}

export type IniProblem =
  | { kind: "before-section"; line: number; key: string }
  | { kind: "not-an-option"; line: number; text: string }
  | { kind: "duplicate-section"; line: number; section: string; firstLine: number }
  | { kind: "duplicate-option"; line: number; section: string; key: string; firstLine: number };

export interface IniSectionHeader {
  name: string;
  line: number;
}

export interface ParsedIni {
  options: IniOption[];
  sections: IniSectionHeader[];
  /** In file order. configparser stops at the first problem of the fatal kinds; all are errors to it. */
  problems: IniProblem[];
}

/** `[name]` as configparser's SECTCRE matches a stripped line: up to the last `]`, at least one character. */
function sectionHeader(stripped: string): string | undefined {
  if (!stripped.startsWith("[")) return undefined;
  const close = stripped.lastIndexOf("]");
  return close >= 2 ? stripped.slice(1, close) : undefined;
}

/** configparser's OPTCRE with `=` and `:`: the first delimiter splits. */
function optionLine(stripped: string): { key: string; value: string } | undefined {
  const at = stripped.search(/[=:]/);
  if (at === -1) return undefined;
  return { key: stripped.slice(0, at).trim(), value: stripped.slice(at + 1).trim() };
}

const isCommentLine = (line: string) => {
  const stripped = line.trim();
  return stripped.startsWith("#") || stripped.startsWith(";");
};

/** Parses INI text; line ends may be LF, CRLF or CR. */
export function parseIni(text: string): ParsedIni {
  const options: IniOption[] = [];
  const sections: IniSectionHeader[] = [];
  const problems: IniProblem[] = [];
  const sectionLines = new Map<string, number>();
  const optionLines = new Map<string, number>();
  let section: string | undefined;
  let current: { option: IniOption; parts: string[] } | undefined;
  let indentLevel = 0;

  const finish = () => {
    if (current === undefined) return;
    current.option.value = current.parts.join("\n").trimEnd();
    current = undefined;
  };

  text.split(/\r\n|\r|\n/).forEach((line, index) => {
    const lineNumber = index + 1;
    if (isCommentLine(line)) return;
    const stripped = line.trim();
    if (stripped === "") {
      // Kept inside a value that may continue; dropped again if it ends the value.
      current?.parts.push("");
      return;
    }
    const indent = line.length - line.trimStart().length;
    if (current !== undefined && indent > indentLevel) {
      current.parts.push(stripped);
      current.option.lastLine = lineNumber;
      return;
    }
    finish();
    indentLevel = indent;
    const header = sectionHeader(stripped);
    if (header !== undefined) {
      section = header;
      const first = sectionLines.get(header);
      if (first !== undefined && header !== DEFAULT_SECTION)
        problems.push({ kind: "duplicate-section", line: lineNumber, section: header, firstLine: first });
      else sectionLines.set(header, lineNumber);
      sections.push({ name: header, line: lineNumber });
      return;
    }
    const parsed = optionLine(stripped);
    if (section === undefined) {
      problems.push({ kind: "before-section", line: lineNumber, key: parsed?.key.toLowerCase() ?? stripped });
      return;
    }
    if (parsed === undefined || parsed.key === "") {
      problems.push({ kind: "not-an-option", line: lineNumber, text: stripped });
      return;
    }
    const key = parsed.key.toLowerCase();
    const id = `${section}\u0000${key}`;
    const first = optionLines.get(id);
    if (first !== undefined) {
      problems.push({ kind: "duplicate-option", line: lineNumber, section, key, firstLine: first });
      return;
    }
    optionLines.set(id, lineNumber);
    const option: IniOption = { section, key, value: parsed.value, line: lineNumber, lastLine: lineNumber };
    options.push(option);
    current = { option, parts: [parsed.value] };
  });
  finish();
  return { options, sections, problems };
}
