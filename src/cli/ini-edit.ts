/**
 * Sets one key of a `.codecarbon.config` file while keeping every other byte: comments, blank
 * lines, other sections, the order and spelling of the other keys, the line endings. A parse
 * and re-serialise round trip would drop comments, so the text is edited line by line instead.
 *
 * Lines are recognised by the reader's own parser (config/configparser.ts, configparser's rules):
 * `key = value` or `key: value`, keys compared without case, a continued value replaced whole.
 */
import { parseIni } from "../config/configparser";

/** The key, its delimiter (`=` or `:`) and the spaces around it, so a replaced value keeps the file's style. */
const SEPARATOR = /^([^=:]*[=:][ \t]*)/;

function isComment(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith("#") || trimmed.startsWith(";");
}

/**
 * Returns `text` with `key = value` set inside `[section]`: the first line of that key is rewritten
 * in place (its separator and spacing kept), else a line is added after the section's last key
 * (or after its header and the comment lines right below it), else the section is appended.
 * `text` undefined means there is no file yet.
 */
export function setIniValue(text: string | undefined, section: string, key: string, value: string): string {
  if (/[\r\n]/.test(value) || /[\r\n=]/.test(key))
    throw new Error(`cannot write ${JSON.stringify(key)} = ${JSON.stringify(value)} on one line`);
  if (text === undefined || text.trim() === "") return `[${section}]\n${key} = ${value}\n`;
  // A byte-order mark stays where it is; the lines are read without it, as the config reader does.
  if (text.startsWith("\uFEFF")) return `\uFEFF${setIniValue(text.slice(1), section, key, value)}`;

  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r\n|\n/);
  // split leaves "" after a final newline; it is put back by join.
  const endsWithNewline = lines[lines.length - 1] === "";
  if (endsWithNewline) lines.pop();
  const wanted = key.toLowerCase();
  const newLine = `${key} = ${value}`;

  // Lines as configparser reads them: `key: value` lines, continuation lines, indented headers.
  const parsed = parseIni(lines.join("\n"));
  const header = parsed.sections.find((s) => s.name === section);
  const headerIndex = header === undefined ? -1 : header.line - 1;
  const options = parsed.options.filter((o) => o.section === section && o.line > headerIndex);
  const existing = options.find((o) => o.key === wanted);
  if (existing !== undefined) {
    const line = lines[existing.line - 1] ?? "";
    const separator = SEPARATOR.exec(line.trimStart())?.[1] ?? `${key} = `;
    // A continued value's lines go with it: the new value is one line.
    lines.splice(
      existing.line - 1,
      existing.lastLine - existing.line + 1,
      `${line.slice(0, line.length - line.trimStart().length)}${separator}${value}`,
    );
    return lines.join(newline) + (endsWithNewline ? newline : "");
  }
  const nextHeader = parsed.sections.find((s) => s.line - 1 > headerIndex);
  const lastKeyIndex = Math.max(
    -1,
    ...options.filter((o) => nextHeader === undefined || o.line < nextHeader.line).map((o) => o.lastLine - 1),
  );

  if (headerIndex >= 0) {
    let after = lastKeyIndex;
    if (after < 0) {
      // No key yet: go below the comments that open the section (they usually describe it).
      after = headerIndex;
      while (after + 1 < lines.length && isComment(lines[after + 1] ?? "")) after += 1;
    }
    lines.splice(after + 1, 0, newLine);
    return lines.join(newline) + (endsWithNewline ? newline : "");
  }
  const separatorLines = endsWithNewline ? "" : newline;
  return `${text}${separatorLines}[${section}]${newline}${newLine}${newline}`;
}
