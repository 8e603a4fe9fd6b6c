/**
 * Turns config values into typed settings, following the schema: text from files and environment
 * variables is coerced, values passed in code are checked as given. Both end with the schema's
 * constraints. Failures come back as a `Problem` that the caller words for its source (file line,
 * variable, option), so every message can say where the bad value is.
 */
import { parseLevel } from "../log";
import type { Constraints, KeySpec, ScalarType } from "./schema";

export interface Problem {
  /** Completes "<source> = <value> …", e.g. "is not a number". */
  what: string;
  /** What would have been accepted, e.g. "a number of seconds". */
  expected?: string;
  /** Whether an example value helps (not for range errors, which name the limit). */
  showExample: boolean;
}

export type Coerced = { ok: true; value: unknown } | { ok: false; problem: Problem };

const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;
const TRUE_TEXT = new Set(["true", "yes", "on", "1"]);
const FALSE_TEXT = new Set(["false", "no", "off", "0"]);
const NULL_TEXT = new Set(["", "null", "none"]);
const UNIT_NOUNS: Readonly<Record<string, string>> = {
  s: "seconds",
  W: "watts",
  "L/kWh": "litres per kWh",
  "gCO2eq/kWh": "grams of CO2eq per kWh",
};

function ok(value: unknown): Coerced {
  return { ok: true, value };
}

function problem(what: string, expected?: string): Coerced {
  return {
    ok: false,
    problem: expected === undefined ? { what, showExample: true } : { what, expected, showExample: true },
  };
}

function invalid(rule: string): Coerced {
  return { ok: false, problem: { what: `is not valid (must ${rule})`, showExample: false } };
}

function expectedNumber(unit: string | undefined): string {
  if (unit === undefined) return "a number";
  const noun = UNIT_NOUNS[unit];
  return noun === undefined ? `a number (${unit})` : `a number of ${noun}`;
}

const BOOLEAN_EXPECTED = "true or false; yes/no, on/off and 1/0 work too";

function checkConstraints(value: number | string | boolean, constraints: Constraints): Coerced {
  if (typeof value === "number") {
    // Text such as 1e309 reads as Infinity, and 2^53 + 1 as a neighbour: neither is the value written.
    if (!Number.isFinite(value)) return invalid("be a finite number");
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return invalid("be a smaller number");
    if (constraints.maximum !== undefined && !(value <= constraints.maximum))
      return invalid(`be at most ${constraints.maximum}`);
    if (constraints.exclusiveMinimum !== undefined && !(value > constraints.exclusiveMinimum)) {
      return invalid(`be greater than ${constraints.exclusiveMinimum}`);
    }
    if (constraints.minimum !== undefined && !(value >= constraints.minimum))
      return invalid(`be at least ${constraints.minimum}`);
  }
  if (constraints.forbidden !== undefined && value === constraints.forbidden)
    return invalid(`not be ${String(constraints.forbidden)}`);
  if (typeof value === "string" && constraints.pattern !== undefined && !constraints.pattern.test(value)) {
    return invalid(constraints.patternMeaning ?? `match ${constraints.pattern.source}`);
  }
  return ok(value);
}

function matchEnum(text: string, allowed: readonly string[]): string | undefined {
  const lowered = text.trim().toLowerCase();
  return allowed.find((candidate) => candidate.toLowerCase() === lowered);
}

function notOneOf(allowed: readonly string[]): string {
  return `is not one of ${allowed.join(", ")}`;
}

/** `0, 1`, `[0, 1]` and `(0, 1)` all give the items `0` and `1`; quotes around an item are dropped. */
export function splitListText(text: string): string[] {
  let inner = text.trim();
  if ((inner.startsWith("[") && inner.endsWith("]")) || (inner.startsWith("(") && inner.endsWith(")")))
    inner = inner.slice(1, -1);
  return inner
    .split(",")
    .map((item) =>
      item
        .trim()
        .replace(/^(["'])(.*)\1$/, "$2")
        .trim(),
    )
    .filter((item) => item !== "");
}

function scalarFromText(
  text: string,
  types: readonly ScalarType[],
  enumValues: readonly string[] | undefined,
  unit?: string,
): Coerced {
  if (enumValues !== undefined) {
    const match = matchEnum(text, enumValues);
    return match === undefined ? problem(notOneOf(enumValues)) : ok(match);
  }
  if (types.includes("integer") && INTEGER_TEXT.test(text)) return ok(Number(text));
  if (types.includes("number") && NUMBER_TEXT.test(text)) return ok(Number(text));
  if (types.includes("boolean")) {
    const lowered = text.toLowerCase();
    if (TRUE_TEXT.has(lowered)) return ok(true);
    if (FALSE_TEXT.has(lowered)) return ok(false);
  }
  if (types.includes("string")) return ok(text);
  if (types.includes("integer")) return problem(text === "" ? "is empty" : "is not an integer", "a whole number");
  if (types.includes("number")) return problem(text === "" ? "is empty" : "is not a number", expectedNumber(unit));
  return problem(text === "" ? "is empty" : "is not a boolean", BOOLEAN_EXPECTED);
}

function mapItems<T>(items: readonly T[], one: (item: T) => Coerced): Coerced {
  const values: unknown[] = [];
  for (const item of items) {
    const result = one(item);
    if (!result.ok) {
      const shown = JSON.stringify(item) ?? String(item);
      return { ok: false, problem: { ...result.problem, what: `has ${shown}, which ${result.problem.what}` } };
    }
    values.push(result.value);
  }
  return ok(values);
}

/** Coerces the text of a file entry or environment variable. */
export function coerceText(spec: KeySpec, raw: string): Coerced {
  const text = raw.trim();
  if (spec.nullable && NULL_TEXT.has(text.toLowerCase())) return ok(null);
  if (spec.type === "array") {
    const items = spec.items ?? { types: ["string"] };
    return mapItems(splitListText(text), (item) => {
      const result = scalarFromText(item, items.types, items.enum);
      return result.ok && isScalar(result.value) ? checkConstraints(result.value, items) : result;
    });
  }
  if (spec.parser === "log-level") {
    const level = parseLevel(text);
    return level === undefined ? problem(notOneOf(spec.enum ?? [])) : ok(level);
  }
  const result = scalarFromText(text, [spec.type], spec.enum, spec.unit);
  return result.ok && isScalar(result.value) ? checkConstraints(result.value, spec) : result;
}

function isScalar(value: unknown): value is number | string | boolean {
  return typeof value === "number" || typeof value === "string" || typeof value === "boolean";
}

function scalarFromCode(
  value: unknown,
  types: readonly ScalarType[],
  enumValues: readonly string[] | undefined,
  unit?: string,
): Coerced {
  if (typeof value === "string" && types.includes("string")) {
    if (enumValues === undefined) return ok(value);
    const match = matchEnum(value, enumValues);
    return match === undefined ? problem(notOneOf(enumValues)) : ok(match);
  }
  if (typeof value === "number" && Number.isFinite(value)) {
    if (types.includes("number")) return ok(value);
    if (types.includes("integer") && Number.isInteger(value)) return ok(value);
  }
  if (typeof value === "boolean" && types.includes("boolean")) return ok(value);
  if (enumValues !== undefined) return problem(notOneOf(enumValues));
  if (types.includes("integer")) return problem("is not an integer", "a whole number");
  if (types.includes("number")) return problem("is not a number", expectedNumber(unit));
  if (types.includes("boolean")) return problem("is not a boolean", "true or false");
  return problem("is not a string", "a string");
}

/** Checks a value passed in code (camelCase option); values are used as given, never parsed from text. */
export function checkCodeValue(spec: KeySpec, value: unknown): Coerced {
  if (value === null && spec.nullable) return ok(null);
  if (spec.type === "array") {
    if (!Array.isArray(value)) return problem("is not a list", "an array");
    const items = spec.items ?? { types: ["string"] };
    return mapItems<unknown>(value, (item) => {
      const result = scalarFromCode(item, items.types, items.enum);
      return result.ok && isScalar(result.value) ? checkConstraints(result.value, items) : result;
    });
  }
  if (spec.parser === "log-level" && (typeof value === "string" || typeof value === "number")) {
    const level = parseLevel(String(value));
    return level === undefined ? problem(notOneOf(spec.enum ?? [])) : ok(level);
  }
  const result = scalarFromCode(value, [spec.type], spec.enum, spec.unit);
  return result.ok && isScalar(result.value) ? checkConstraints(result.value, spec) : result;
}

/** A value that shows users what to write: the schema's first example, else a non-empty default. */
export function exampleValue(spec: KeySpec): unknown {
  const example = spec.examples[0];
  if (example !== undefined) return example;
  if (spec.default === null || spec.default === "") return undefined;
  return spec.default;
}
