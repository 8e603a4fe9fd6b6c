/**
 * Finds the thermal design power of a CPU from its model string, with CodeCarbon's matching
 * rules, so the same machine gets the same TDP (and so the same CPU power) in both tools.
 *
 * The rules, in order: the whole string equal to a table name ignoring case; then the string
 * cleaned of Intel's decorations ("(R)", " CPU", the clock) equal to a name ignoring case; then a
 * token match where a name qualifies when its set of words is a subset or a superset of the
 * model's and they share at least one word — accepted only when exactly one name qualifies, since
 * a short string such as "AMD Ryzen 3" fits dozens of rows with very different TDPs.
 *
 * CodeCarbon scores the last step with rapidfuzz's token-set ratio at a cutoff of 100. That score
 * reaches 100 exactly when one token set contains the other and they intersect (disjoint or
 * empty sets never do), which is the rule implemented here directly. Its normaliser lower-cases
 * and turns every character that is not a letter or a digit into a separator; the letters and
 * digits are Unicode's, so accented and non-Latin names tokenise the same way.
 */
import * as fs from "node:fs";
import { dataPath } from "../assets";
import type { PowerSource } from "./types";

export interface TdpMatch {
  name: string;
  /** Watts per package; null for the few table rows whose TDP cell is not a number. */
  tdpW: number | null;
}

/**
 * How a TDP was found: "matched" | "per-core-default" | "generic-default". Taken from the power
 * source record so the two cannot drift apart.
 */
export type TdpOrigin = Extract<PowerSource, { method: "tdp" }>["tdpOrigin"];

export interface CpuTdp {
  /** Full-load power of the whole machine, in W. */
  tdpW: number;
  origin: TdpOrigin;
  /** The table row the model string matched, when one did (even if its TDP could not be used). */
  matchedName: string | null;
}

/** CodeCarbon's assumption for a CPU it cannot find: 4 W per logical CPU. */
export const DEFAULT_POWER_PER_THREAD_W = 4;
/** CodeCarbon's TDP when the CPU model cannot be read at all. */
export const GENERIC_TDP_W = 85;

const TABLE_FILE = "cpu-tdp.json";

/**
 * The parsed table, held weakly: a tracker matches one model string per run and should not keep
 * 4,900 rows in its sampler's heap for hours, while a caller matching many strings in a row
 * (the tests) parses it once.
 */
let table: WeakRef<readonly TableRow[]> | undefined;

/**
 * CodeCarbon's matching (see the module comment). Returns the matched row, or null when no row
 * matches or the token match is ambiguous.
 */
export function matchCpuModel(model: string): TdpMatch | null {
  const rows = loadTable();
  const direct = firstRowNamed(rows, model);
  if (direct !== null) return direct;

  const cleaned = cleanModelString(model);
  const cleanDirect = firstRowNamed(rows, cleaned);
  if (cleanDirect !== null) return cleanDirect;

  return uniqueTokenSetMatch(rows, cleaned);
}

/**
 * The machine's full-load power for the TDP × load model, as CodeCarbon's fallback path sets it:
 * - a matched row with a usable TDP → that TDP × sockets;
 * - a model string that matches nothing (or a row whose TDP is zero or unreadable) →
 *   4 W × logical CPUs, and CodeCarbon multiplies that by the socket count too;
 * - no model string at all → the generic 85 W, not multiplied.
 */
export function resolveCpuTdp(input: { model: string | null; logicalCpuCount: number; socketCount: number }): CpuTdp {
  const sockets = positiveCount(input.socketCount);
  if (input.model === null || input.model === "") {
    return { tdpW: GENERIC_TDP_W, origin: "generic-default", matchedName: null };
  }
  const match = matchCpuModel(input.model);
  if (match !== null && match.tdpW !== null && match.tdpW > 0) {
    return { tdpW: match.tdpW * sockets, origin: "matched", matchedName: match.name };
  }
  const threads = positiveCount(input.logicalCpuCount);
  return {
    tdpW: threads * DEFAULT_POWER_PER_THREAD_W * sockets,
    origin: "per-core-default",
    matchedName: match?.name ?? null,
  };
}

/** Every name in the TDP table, in table order. */
export function cpuTableNames(): string[] {
  return loadTable().map(([name]) => name);
}

// ---------------------------------------------------------------------------------------------
// Cleaning and tokenising

/**
 * Python's `\s` (str.isspace): the ASCII blanks, the information separators U+001C–U+001F,
 * NEL and the Unicode spaces. JavaScript's `\s` differs (it has U+FEFF, lacks U+001C–U+001F and
 * U+0085), so the class is spelled out.
 */
const PYTHON_WHITESPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** " @ 2.60GHz" and the like; `\p{Nd}` because Python's `\d` takes any decimal digit. */
const CLOCK_SUFFIX = new RegExp(` @[${PYTHON_WHITESPACE}]*\\p{Nd}+\\.\\p{Nd}+GHz`, "gu");

/** Strips Intel's decorations the way CodeCarbon does before its second exact comparison. */
function cleanModelString(model: string): string {
  let cleaned = model.replaceAll("(R)", "");
  const cpuAt = cleaned.indexOf(" CPU @ ");
  // CodeCarbon cuts only when the marker is not at the very start.
  if (cpuAt > 0) cleaned = cleaned.slice(0, cpuAt);
  cleaned = cleaned.replaceAll(" CPU", "");
  return cleaned.replace(CLOCK_SUFFIX, "");
}

const WORD = /[\p{L}\p{N}]+/gu;
// eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included, is meant
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const ASCII_SEPARATORS = /[^a-z0-9]+/;

/** The distinct lower-cased runs of letters and digits. */
function tokenSet(text: string): Set<string> {
  // Table names are ASCII: a plain split is several times faster than the Unicode regex, and
  // a model that matches no name exactly tokenises hundreds of names on every tracker start.
  if (ASCII_ONLY.test(text))
    return new Set(
      text
        .toLowerCase()
        .split(ASCII_SEPARATORS)
        .filter((t) => t !== ""),
    );
  const tokens = new Set<string>();
  for (const match of text.matchAll(WORD)) tokens.add(lowerEachCharacter(match[0]));
  return tokens;
}

/**
 * Lower-cases character by character, as rapidfuzz's normaliser does: each character maps to one
 * character, so the dotted capital I (U+0130) becomes a plain "i" rather than "i" plus a dot.
 */
function lowerEachCharacter(word: string): string {
  if (ASCII_ONLY.test(word)) return word.toLowerCase();
  let lowered = "";
  for (const ch of word) lowered += ch === "\u0130" ? "i" : ch.toLowerCase();
  return lowered;
}

/**
 * The first row whose name equals `name` ignoring case (two rows differ only by case; the first
 * wins). A scan rather than an index: a tracker matches one string per run, and building an
 * index of the 4,900 names cost more than forty scans.
 */
function firstRowNamed(rows: readonly TableRow[], name: string): TdpMatch | null {
  const lower = name.toLowerCase();
  for (const row of rows) {
    if (row[0].length === lower.length && row[0].toLowerCase() === lower) return { name: row[0], tdpW: row[1] };
  }
  // Lower-casing can change a string's length (a few non-ASCII letters): compare those fully.
  if (ASCII_ONLY.test(name)) return null;
  for (const row of rows) if (row[0].toLowerCase() === lower) return { name: row[0], tdpW: row[1] };
  return null;
}

/**
 * The one row whose tokens contain, or are contained in, the model's; null if none or several.
 * Only rows whose lower-cased name contains one of the model's tokens can share a token with it,
 * so only those are tokenised.
 */
function uniqueTokenSetMatch(rows: readonly TableRow[], model: string): TdpMatch | null {
  const queryTokens = tokenSet(model);
  if (queryTokens.size === 0) return null;
  const query = [...queryTokens];
  let found: TdpMatch | null = null;
  for (const row of rows) {
    const lower = row[0].toLowerCase();
    if (!query.some((token) => lower.includes(token))) continue;
    const rowTokens = tokenSet(row[0]);
    let common = 0;
    for (const token of rowTokens) if (queryTokens.has(token)) common += 1;
    if (common === 0) continue;
    if (common === rowTokens.size || common === queryTokens.size) {
      if (found !== null) return null;
      found = { name: row[0], tdpW: row[1] };
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The table

/** A table row as the file has it: `[name, watts per package or null]`. */
type TableRow = readonly [name: string, tdpW: number | null];

function loadTable(): readonly TableRow[] {
  const cached = table?.deref();
  if (cached !== undefined) return cached;
  const file = dataPath(TABLE_FILE);
  // Parsed here rather than through the shared JSON cache, which would keep it for good.
  const rows = checkTable(JSON.parse(fs.readFileSync(file, "utf8")), file);
  table = new WeakRef(rows);
  return rows;
}

/**
 * The parsed `models` list itself once every row is checked: no object per row, as a tracker's
 * start-up reads all 4,900 rows to match one string.
 */
function checkTable(parsed: unknown, file: string): readonly TableRow[] {
  const models = typeof parsed === "object" && parsed !== null ? (parsed as { models?: unknown }).models : undefined;
  if (!Array.isArray(models) || models.length === 0) throw new Error(`cpu-tdp: ${file} has no "models" list`);
  for (let i = 0; i < models.length; i++) {
    const entry: unknown = models[i];
    if (!Array.isArray(entry) || entry.length !== 2)
      throw new Error(`cpu-tdp: ${file} models[${i}] is not a [name, tdpW] pair`);
    const name: unknown = entry[0];
    const tdpW: unknown = entry[1];
    if (typeof name !== "string" || name === "") throw new Error(`cpu-tdp: ${file} models[${i}] has no name`);
    if (tdpW !== null && (typeof tdpW !== "number" || !Number.isFinite(tdpW) || tdpW < 0)) {
      throw new Error(`cpu-tdp: ${file} models[${i}] (${name}) has an invalid TDP ${JSON.stringify(tdpW)}`);
    }
  }
  return models as TableRow[];
}

function positiveCount(value: number): number {
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : 1;
}
