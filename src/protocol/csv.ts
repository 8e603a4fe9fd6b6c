/**
 * CSV cells and records, written so that CodeCarbon's pandas-based readers and spreadsheets read
 * them back unchanged, and read back by a small RFC 4180 parser.
 *
 * Numbers are written as plain decimals: pandas parses `0.0000001` and `1e-07` to the same float,
 * but a plain decimal also survives tools that treat exponents as text. JavaScript's shortest
 * round-trip digits are kept, so every written number parses back to the exact same double.
 */

/** The values a cell can come from; `null`/`undefined` (CodeCarbon's `None`) give an empty cell. */
export type CsvCellValue = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;

export function formatCsvValue(value: CsvCellValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatPlainNumber(value);
  if (typeof value !== "string") return ""; // data read from disk may not honour the type
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A float column's cell: as formatCsvValue, but a whole number keeps a decimal point (`1.0`,
 * `0.0`) as Python writes a float, so pandas gives the column the float dtype CodeCarbon's own
 * files have rather than int64. Which columns are floats is the caller's knowledge.
 */
export function formatCsvFloat(value: number | null | undefined): string {
  const text = formatCsvValue(value);
  return text === "" || /[.e]/.test(text) ? text : `${text}.0`;
}

/** One record, cells joined by commas, without a line terminator. */
export function formatCsvRecord(values: readonly CsvCellValue[]): string {
  return values.map(formatCsvValue).join(",");
}

/**
 * A finite number as a plain decimal with the shortest digits that round-trip; NaN and the
 * infinities have no meaningful cell and become empty (pandas reads an empty cell as NaN too).
 */
function formatPlainNumber(value: number): string {
  if (!Number.isFinite(value)) return "";
  if (value === 0) return "0"; // also turns -0 into 0
  const shortest = String(value);
  const exponentAt = shortest.indexOf("e");
  if (exponentAt === -1) return shortest;

  const negative = shortest.startsWith("-");
  const mantissa = shortest.slice(negative ? 1 : 0, exponentAt);
  const exponent = Number(shortest.slice(exponentAt + 1));
  const pointAt = mantissa.indexOf(".");
  const digits = mantissa.replace(".", "");
  // Where the decimal point lands once the exponent is applied, counted in digits from the left.
  const newPointAt = (pointAt === -1 ? mantissa.length : pointAt) + exponent;
  let plain: string;
  if (newPointAt <= 0) plain = `0.${"0".repeat(-newPointAt)}${digits}`;
  else if (newPointAt >= digits.length) plain = digits + "0".repeat(newPointAt - digits.length);
  else plain = `${digits.slice(0, newPointAt)}.${digits.slice(newPointAt)}`;
  return negative ? `-${plain}` : plain;
}

/**
 * Parses RFC 4180 text into records of raw cell strings. Tolerates a UTF-8 byte-order mark,
 * CRLF, LF or lone CR line ends, and a missing final line end. Blank lines are skipped, as pandas
 * does. A quote left open at the end of the text closes there rather than throwing, so a file
 * edited by hand is still readable; with `strict` (upstream data files) it throws instead.
 */
export function parseCsv(text: string, options: { strict?: boolean } = {}): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  // True once the current record has content: a lone empty line is not a record.
  let recordStarted = false;
  let inQuotes = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const endRecord = () => {
    if (recordStarted) {
      record.push(cell);
      records.push(record);
    }
    record = [];
    cell = "";
    recordStarted = false;
  };

  while (i < text.length) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
      } else {
        cell += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"') {
      inQuotes = true;
      recordStarted = true;
    } else if (ch === ",") {
      record.push(cell);
      cell = "";
      recordStarted = true;
    } else if (ch === "\r" || ch === "\n") {
      endRecord();
      if (ch === "\r" && text[i + 1] === "\n") i += 1;
    } else {
      cell += ch;
      recordStarted = true;
    }
    i += 1;
  }
  if (inQuotes && options.strict === true) throw new Error("the text ends inside a quoted field");
  endRecord();
  return records;
}

/** The line terminator a file already uses (so an appended row matches), LF when it has none. */
export function detectLineEnd(text: string): "\r\n" | "\n" {
  const lf = text.indexOf("\n");
  return lf > 0 && text[lf - 1] === "\r" ? "\r\n" : "\n";
}
