/**
 * Reads schema/plugin.json, the single source of every config key, into the specs the loader
 * coerces and validates with. The schema is checked once per process: a keyword the loader does
 * not enforce is refused, so a constraint can never be added to the schema and silently ignored.
 */
import { readJsonOnce, schemaPath } from "../assets";
import { toCamelCase } from "./names";
import { CONFIG_KEYS, LAB_ONLY_KEYS, type TrackerSettings } from "./options.generated";

export type ScalarType = "string" | "number" | "integer" | "boolean";

export interface Constraints {
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  /** From `"not": { "const": x }`. */
  forbidden?: number | string | boolean;
  pattern?: RegExp;
  /** What the pattern asks for, in words, for the error message (`x-pattern-meaning`). */
  patternMeaning?: string;
}

export interface ItemSpec extends Constraints {
  types: readonly ScalarType[];
  enum?: readonly string[];
}

export interface KeySpec extends Constraints {
  /** snake_case: schema, files, environment. */
  key: string;
  /** camelCase: code options and `TrackerSettings`. */
  option: keyof TrackerSettings;
  type: ScalarType | "array";
  nullable: boolean;
  enum?: readonly string[];
  items?: ItemSpec;
  default: unknown;
  examples: readonly unknown[];
  unit?: string;
  secret: boolean;
  deprecated?: string;
  /** save_to_* keys: the output method the flag stands for. */
  outputMethod?: string;
  /** A deprecated key whose value fills `aliasOf` when that key is unset. */
  aliasOf?: string;
  /** A path whose leading `~` is expanded. */
  isPath: boolean;
  /** A named parser for extra spellings (`log-level`: CodeCarbon's `warn`, `fatal`, numbers). */
  parser?: "log-level";
}

const PROPERTY_KEYWORDS = new Set([
  "type",
  "title",
  "description",
  "default",
  "enum",
  "items",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "not",
  "pattern",
  "x-pattern-meaning",
  "examples",
  "x-unit",
  "x-secret",
  "x-deprecated",
  "x-output-method",
  "x-alias-of",
  "x-path",
  "x-parse",
  "x-scope",
]);
const ITEM_KEYWORDS = new Set(["type", "enum", "minimum", "exclusiveMinimum", "maximum", "not", "pattern"]);
const SCALAR_TYPES: readonly string[] = ["string", "number", "integer", "boolean"];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(where: string, problem: string): never {
  throw new Error(`codecarbon: schema/plugin.json ${where}: ${problem}`);
}

function checkKeywords(node: JsonObject, allowed: ReadonlySet<string>, where: string): void {
  for (const keyword of Object.keys(node)) {
    // The lab extension may annotate properties for the settings editor.
    if (keyword.startsWith("jupyter.lab")) continue;
    if (!allowed.has(keyword)) fail(where, `keyword "${keyword}" is not enforced by the config loader`);
  }
}

function typeNames(node: JsonObject, where: string): string[] {
  const raw = node["type"];
  const names = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n): n is string => typeof n === "string")) {
    fail(where, "type must be a type name or a list of them");
  }
  return names;
}

function optionalString(node: JsonObject, keyword: string, where: string): string | undefined {
  const value = node[keyword];
  if (value === undefined) return undefined;
  if (typeof value !== "string") fail(where, `${keyword} must be a string`);
  return value;
}

function stringList(value: unknown, where: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string"))
    fail(where, "enum must list strings");
  return value;
}

function readConstraints(node: JsonObject, where: string): Constraints {
  const constraints: Constraints = {};
  for (const keyword of ["minimum", "exclusiveMinimum", "maximum"] as const) {
    const value = node[keyword];
    if (value === undefined) continue;
    if (typeof value !== "number") fail(where, `${keyword} must be a number`);
    constraints[keyword] = value;
  }
  const not = node["not"];
  if (not !== undefined) {
    const forbidden = isObject(not) && Object.keys(not).length === 1 ? not["const"] : undefined;
    if (typeof forbidden !== "number" && typeof forbidden !== "string" && typeof forbidden !== "boolean") {
      fail(where, 'only "not": { "const": <scalar> } is supported');
    }
    constraints.forbidden = forbidden;
  }
  const pattern = optionalString(node, "pattern", where);
  if (pattern !== undefined) constraints.pattern = new RegExp(pattern, "u");
  const meaning = optionalString(node, "x-pattern-meaning", where);
  if (meaning !== undefined) constraints.patternMeaning = meaning;
  return constraints;
}

function readItems(node: unknown, where: string): ItemSpec {
  if (!isObject(node)) fail(where, "an array needs items");
  checkKeywords(node, ITEM_KEYWORDS, where);
  const types = typeNames(node, where);
  if (!types.every((t): t is ScalarType => SCALAR_TYPES.includes(t))) fail(where, "items must be scalars");
  const items: ItemSpec = { types, ...readConstraints(node, where) };
  if (node["enum"] !== undefined) items.enum = stringList(node["enum"], where);
  return items;
}

function readSpec(key: string, node: unknown, option: keyof TrackerSettings): KeySpec {
  const where = `property "${key}"`;
  if (!isObject(node)) fail(where, "must be an object");
  checkKeywords(node, PROPERTY_KEYWORDS, where);
  const names = typeNames(node, where);
  const nullable = names.includes("null");
  const main = names.filter((n) => n !== "null");
  const type = main[0];
  if (main.length !== 1 || type === undefined || !(SCALAR_TYPES.includes(type) || type === "array")) {
    fail(where, "type must be one scalar type or array, optionally with null");
  }
  if (!("default" in node)) fail(where, "has no default");
  const examples = node["examples"] ?? [];
  if (!Array.isArray(examples)) fail(where, "examples must be a list");
  const spec: KeySpec = {
    key,
    option,
    type: type as KeySpec["type"],
    nullable,
    default: node["default"],
    examples,
    secret: node["x-secret"] === true,
    isPath: node["x-path"] === true,
    ...readConstraints(node, where),
  };
  if (node["enum"] !== undefined) spec.enum = stringList(node["enum"], where);
  if (type === "array") spec.items = readItems(node["items"], where);
  const unit = optionalString(node, "x-unit", where);
  if (unit !== undefined) spec.unit = unit;
  const deprecated = optionalString(node, "x-deprecated", where);
  if (deprecated !== undefined) spec.deprecated = deprecated;
  const outputMethod = optionalString(node, "x-output-method", where);
  if (outputMethod !== undefined) spec.outputMethod = outputMethod;
  const aliasOf = optionalString(node, "x-alias-of", where);
  if (aliasOf !== undefined) spec.aliasOf = aliasOf;
  const parser = optionalString(node, "x-parse", where);
  if (parser !== undefined) {
    if (parser !== "log-level") fail(where, `unknown x-parse "${parser}"`);
    spec.parser = parser;
  }
  return spec;
}

/**
 * `"x-scope": "lab"`: a key of the JupyterLab extension's display (the settings editor shows it),
 * no tracker setting. The loader has no spec for it; a file or variable that sets it is warned about.
 */
function isLabOnly(key: string, node: unknown): boolean {
  if (!isObject(node) || node["x-scope"] === undefined) return false;
  if (node["x-scope"] !== "lab") fail(`property "${key}"`, `unknown x-scope ${JSON.stringify(node["x-scope"])}`);
  return true;
}

/** Builds the specs from a parsed schema document; throws on any shape the loader cannot honour. */
export function readSpecs(schema: unknown): readonly KeySpec[] {
  if (!isObject(schema) || !isObject(schema["properties"])) fail("root", "has no properties");
  const properties = schema["properties"];
  const optionBySnake = new Map<string, keyof TrackerSettings>(CONFIG_KEYS.map(({ snake, camel }) => [snake, camel]));
  const labKeys = Object.keys(properties).filter((key) => isLabOnly(key, properties[key]));
  const keys = Object.keys(properties).filter((key) => !labKeys.includes(key));
  // The generated types and the schema travel together; disagreeing means a stale build.
  const generated = CONFIG_KEYS.map(({ snake }) => snake);
  if (keys.join(",") !== generated.join(",") || labKeys.join(",") !== LAB_ONLY_KEYS.join(",")) {
    fail("root", "keys differ from src/config/options.generated.ts: run node scripts/generate-config-types.js");
  }
  const specs = keys.map((key) =>
    readSpec(key, properties[key], optionBySnake.get(key) ?? fail(`property "${key}"`, "not generated")),
  );
  for (const spec of specs) {
    if (spec.aliasOf !== undefined && !keys.includes(spec.aliasOf))
      fail(`property "${spec.key}"`, `x-alias-of names unknown key ${spec.aliasOf}`);
  }
  return specs;
}

let cached:
  | {
      readonly list: readonly KeySpec[];
      readonly byKey: ReadonlyMap<string, KeySpec>;
      readonly byOption: ReadonlyMap<string, KeySpec>;
    }
  | undefined;

function load(): NonNullable<typeof cached> {
  if (cached === undefined) {
    const list = readSpecs(readJsonOnce(schemaPath("plugin.json")));
    cached = {
      list,
      byKey: new Map(list.map((spec) => [spec.key, spec])),
      byOption: new Map(list.map((spec) => [spec.option, spec])),
    };
  }
  return cached;
}

/** Every key's spec, in schema order. */
export function configSpecs(): readonly KeySpec[] {
  return load().list;
}

export function specByKey(key: string): KeySpec | undefined {
  return load().byKey.get(key);
}

export function specByOption(option: string): KeySpec | undefined {
  return load().byOption.get(option);
}

/** A JupyterLab display key (`"x-scope": "lab"`), by its snake_case or camelCase name. */
export function isLabOnlyKey(name: string): boolean {
  return LAB_ONLY_KEYS.some((key) => key === name || toCamelCase(key) === name);
}
