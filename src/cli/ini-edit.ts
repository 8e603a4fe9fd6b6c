/**
 * Sets one key of a `.codecarbon.config` file while keeping every other byte: comments, blank
 * lines, other sections, the order and spelling of the other keys, the line endings. The `ini`
 * package would drop comments on a round trip, so the text is edited line by line instead.
 *
 * Lines are recognised the way src/config/ini-source.ts reads them (and configparser): a section
 * header starts at column 0, comments start with `#` or `;`, keys are `key = value` and compared
 * without case.
 */
import { unsafe } from "ini";

const SECTION_LINE = /^\[([^\]]*)\]\s*$/;
const KEY_LINE = /^([^=]+)=(.*)$/;
/** The separator and the spaces around it, so a replaced value keeps the file's own style. */
const SEPARATOR = /^([^=]*=[ \t]*)/;

function isComment(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith("#") || trimmed.startsWith(";");
}

function sectionName(line: string): string | undefined {
  const match = SECTION_LINE.exec(line);
  return match ? unsafe(match[1] ?? "") : undefined;
}

function keyName(line: string): string | undefined {
  if (isComment(line)) return undefined;
  const key = KEY_LINE.exec(line)?.[1]?.trim();
  return key === undefined || key === "" ? undefined : key.toLowerCase();
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

  let inSection = false;
  let headerIndex = -1;
  let lastKeyIndex = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const name = sectionName(line);
    if (name !== undefined) {
      if (inSection) break;
      inSection = name === section;
      if (inSection) headerIndex = i;
      continue;
    }
    if (!inSection) continue;
    const lineKey = keyName(line);
    if (lineKey === undefined) continue;
    if (lineKey === wanted) {
      const separator = SEPARATOR.exec(line)?.[1] ?? `${key} = `;
      lines[i] = `${separator}${value}`;
      return lines.join(newline) + (endsWithNewline ? newline : "");
    }
    lastKeyIndex = i;
  }

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
