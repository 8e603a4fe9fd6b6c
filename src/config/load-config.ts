/**
 * Resolves the tracker's settings from CodeCarbon's layers, lowest to highest: schema default <
 * `<home>/.codecarbon.config` < `<cwd>/.codecarbon.config` < `CODECARBON_*` environment variables <
 * options passed in code. Every value remembers where it came from, for `describeConfig` and
 * `codecarbon config --show-origin`.
 *
 * Unlike CodeCarbon, which logs a bad value and carries on with None, any invalid value throws a
 * ConfigError naming its file and line, variable or option: a tracker silently running with a
 * setting other than the one written would measure the wrong thing. The files are read again at
 * every call, because a notebook may edit them between two trackers.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../errors";
import { log } from "../log";
import { checkCodeValue, coerceText, exampleValue, type Coerced, type Problem } from "./coerce";
import { readEnvironment } from "./env-source";
import { codeForm, maskSecret, maskUrlCredentials, textForm } from "./format";
import { closestName, toCamelCase } from "./names";
import type { TrackerOptions, TrackerSettings } from "./options.generated";
import { CONFIG_FILE_NAME, displayPath, expandHome } from "./paths";
import { configSpecs, isLabOnlyKey, specByKey, specByOption, type KeySpec } from "./schema";

/** False only when nothing is at `file` (an error other than "no such file" is for the reader to report). */
function mayExist(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}

export type ConfigLayer = "default" | "global-file" | "local-file" | "env" | "code";

export interface ConfigOrigin {
  layer: ConfigLayer;
  /** Absolute path of the config file (file layers). */
  file?: string;
  /** 1-based line in `file`. */
  line?: number;
  /** Environment variable name (env layer). */
  variable?: string;
  /** Set when the value was derived from deprecated keys (e.g. `save_to_logger` for `output_methods`). */
  derivedFrom?: string;
}

export interface ResolvedConfig {
  readonly settings: TrackerSettings;
  readonly origins: Readonly<Record<keyof TrackerSettings, ConfigOrigin>>;
  /** Unknown keys, deprecated keys and the like; each is also logged once per process. */
  readonly warnings: readonly string[];
  /** The home folder used for `~/.codecarbon.config`, so messages can write it `~`. */
  readonly home: string;
}

export interface ResolveContext {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
}

const LAYER_RANK: Readonly<Record<ConfigLayer, number>> = {
  default: 0,
  "global-file": 1,
  "local-file": 2,
  env: 3,
  code: 4,
};
// Named through the generated type, so renaming the schema key breaks the build here.
const OUTPUT_METHODS_OPTION: keyof TrackerSettings = "outputMethods";

/**
 * Where a value was written, in the words of a message: `~/.codecarbon.config line 3`, `CODECARBON_PUE`, `option pue`.
 */
function placeOf(origin: ConfigOrigin, spec: KeySpec, home: string): string {
  switch (origin.layer) {
    case "global-file":
    case "local-file":
      return `${displayPath(origin.file ?? "", home)} line ${origin.line ?? 0}`;
    case "env":
      return origin.variable ?? "the environment";
    case "code":
      return `option ${spec.option}`;
    case "default":
      return "the default";
  }
}

function explain(subject: string, problem: Problem, example: string | undefined): string {
  if (problem.expected !== undefined) {
    return `${subject} ${problem.what} (expected ${problem.expected}${example === undefined ? "" : `, e.g. ${example}`})`;
  }
  return problem.showExample && example !== undefined
    ? `${subject} ${problem.what} (e.g. ${example})`
    : `${subject} ${problem.what}`;
}

/** Values shown in messages are clipped: a config line may be a megabyte of junk. */
const SHOWN_VALUE_CHARS = 120;

function shownText(spec: KeySpec, raw: string): string {
  const value = spec.secret ? maskSecret(raw) : maskUrlCredentials(raw);
  return JSON.stringify(value.length > SHOWN_VALUE_CHARS ? `${value.slice(0, SHOWN_VALUE_CHARS)}…` : value);
}

const MAX_PROBLEMS_SHOWN = 20;
const MAX_PROBLEM_CHARS = 400;

/**
 * The problems as one message fit for a terminal: URL passwords masked, control characters
 * (escape sequences from a binary file) written as `\u001b`, each line clipped, and at most
 * MAX_PROBLEMS_SHOWN of them.
 */
function problemsText(problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((problem) => {
    const safe = maskUrlCredentials(problem).replace(
      // eslint-disable-next-line no-control-regex -- control characters are what is being escaped
      /[\u0000-\u001f\u007f-\u009f]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    return safe.length > MAX_PROBLEM_CHARS ? `${safe.slice(0, MAX_PROBLEM_CHARS)}…` : safe;
  });
  const more = problems.length - shown.length;
  return shown.join("\n") + (more > 0 ? `\n… and ${more} more problem(s)` : "");
}

function shownCode(spec: KeySpec, value: unknown): string {
  if (!spec.secret) {
    const shown = maskUrlCredentials(codeForm(value));
    return shown.length > SHOWN_VALUE_CHARS ? `${shown.slice(0, SHOWN_VALUE_CHARS)}…` : shown;
  }
  return typeof value === "string" ? JSON.stringify(maskSecret(value)) : "(hidden)";
}

function unknownKeyWarning(place: string, name: string, known: readonly string[]): string {
  if (isLabOnlyKey(name))
    return `${place}: ${name} is a JupyterLab display setting (Settings Editor → CodeCarbon), not a tracker setting: the tracker ignores it`;
  const suggestion = closestName(name, known);
  const hint =
    suggestion === undefined
      ? "see the configuration table in the README for the known keys"
      : `did you mean \`${suggestion}\`?`;
  return `${place}: unknown key ${name} is ignored (${hint})`;
}

export function resolveConfig(options: TrackerOptions = {}, context: ResolveContext = {}): ResolvedConfig {
  const env = context.env ?? process.env;
  const cwd = path.resolve(context.cwd ?? process.cwd());
  const home = path.resolve(context.home ?? os.homedir());
  const specs = configSpecs();
  const snakeKeys = specs.map((spec) => spec.key);
  const values = new Map<string, unknown>();
  const origins = new Map<string, ConfigOrigin>();
  for (const spec of specs) {
    values.set(spec.key, structuredClone(spec.default));
    origins.set(spec.key, { layer: "default" });
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  let onlyCodeProblems = true;

  const take = (spec: KeySpec, result: Coerced, origin: ConfigOrigin, describe: (problem: Problem) => string): void => {
    if (result.ok) {
      values.set(spec.key, result.value);
      origins.set(spec.key, origin);
    } else {
      problems.push(describe(result.problem));
      if (origin.layer !== "code") onlyCodeProblems = false;
    }
  };

  const globalFile = path.join(home, CONFIG_FILE_NAME);
  const localFile = path.join(cwd, CONFIG_FILE_NAME);
  const fileLayers: Array<{ layer: ConfigLayer; file: string }> = [{ layer: "global-file", file: globalFile }];
  // Working in the home folder: one file, counted once, as the global one.
  if (localFile !== globalFile) fileLayers.push({ layer: "local-file", file: localFile });
  for (const { layer, file } of fileLayers) {
    // Most machines have no config file: its reader and parser load only when one is there.
    if (!mayExist(file)) continue;
    const contents = (require("./ini-source") as typeof import("./ini-source")).readConfigFile(file);
    if (contents === undefined) continue;
    const { pythonReadsOtherwise } = require("./python-reading") as typeof import("./python-reading");
    const shownFile = displayPath(file, home);
    log.debug(`Reading configuration from ${shownFile}.`);
    for (const problem of contents.problems) problems.push(`${shownFile} ${problem}`);
    for (const note of contents.notes) warnings.push(`${shownFile} ${note}`);
    if (contents.problems.length > 0) onlyCodeProblems = false;
    for (const entry of contents.entries) {
      const spec = specByKey(entry.key);
      if (spec === undefined) {
        warnings.push(unknownKeyWarning(`${shownFile} line ${entry.line}`, entry.key, snakeKeys));
        continue;
      }
      const coerced = coerceText(spec, entry.value);
      const otherwise = coerced.ok ? pythonReadsOtherwise(spec, entry.value) : undefined;
      if (otherwise !== undefined)
        warnings.push(`${shownFile} line ${entry.line}: ${spec.key} = ${shownText(spec, entry.value)}: ${otherwise}`);
      take(spec, coerced, { layer, file, line: entry.line }, (problem) => {
        const example = exampleValue(spec);
        return explain(
          `${shownFile} line ${entry.line}: ${spec.key} = ${shownText(spec, entry.value)}`,
          problem,
          example === undefined ? undefined : `${spec.key} = ${textForm(example)}`,
        );
      });
    }
  }

  const environment = readEnvironment(env);
  warnings.push(...environment.warnings);
  for (const entry of environment.entries) {
    const spec = specByKey(entry.key);
    if (spec === undefined) {
      warnings.push(unknownKeyWarning(entry.variable, entry.key, snakeKeys));
      continue;
    }
    take(spec, coerceText(spec, entry.value), { layer: "env", variable: entry.variable }, (problem) => {
      const example = exampleValue(spec);
      return explain(
        `${entry.variable}=${shownText(spec, entry.value)}`,
        problem,
        example === undefined ? undefined : `${entry.variable}=${textForm(example)}`,
      );
    });
  }

  const optionNames = specs.map((spec) => spec.option);
  // `?? {}`: JavaScript callers may pass null.
  for (const [option, value] of Object.entries((options ?? {}) as Record<string, unknown>)) {
    if (value === undefined) continue;
    const spec = specByOption(option);
    if (spec === undefined) {
      // A snake_case name from Python habits: point at the camelCase spelling directly.
      const camel = toCamelCase(option);
      const place = `option ${option}`;
      warnings.push(
        specByOption(camel) === undefined
          ? unknownKeyWarning(place, option, optionNames)
          : `${place}: unknown key ${option} is ignored (did you mean \`${camel}\`?)`,
      );
      continue;
    }
    take(spec, checkCodeValue(spec, value), { layer: "code" }, (problem) => {
      const example = exampleValue(spec);
      return explain(
        `${spec.option}: ${shownCode(spec, value)}`,
        problem,
        example === undefined ? undefined : `${spec.option}: ${codeForm(example)}`,
      );
    });
  }

  const isSet = (spec: KeySpec): boolean => origins.get(spec.key)?.layer !== "default";
  const originOf = (spec: KeySpec): ConfigOrigin => origins.get(spec.key) ?? { layer: "default" };

  // Deprecated aliases (co2_signal_api_token): used only when the key they stand for is unset.
  for (const spec of specs) {
    if (spec.aliasOf === undefined || !isSet(spec)) continue;
    const target = specByKey(spec.aliasOf);
    if (target === undefined) continue;
    const place = placeOf(originOf(spec), spec, home);
    if (isSet(target)) {
      warnings.push(
        `${place}: ${spec.deprecated ?? `${spec.key} is deprecated.`} It is ignored because ${target.key} is set.`,
      );
    } else {
      warnings.push(`${place}: ${spec.deprecated ?? `${spec.key} is deprecated.`}`);
      values.set(target.key, values.get(spec.key));
      origins.set(target.key, { ...originOf(spec), derivedFrom: spec.key });
    }
  }

  // Deprecated save_to_* flags fill output_methods when it is not set anywhere (CodeCarbon's rule).
  const outputSpec = specByOption(OUTPUT_METHODS_OPTION);
  const flagSpecs = specs.filter((spec) => spec.outputMethod !== undefined && isSet(spec));
  if (outputSpec !== undefined && flagSpecs.length > 0) {
    const outputSet = isSet(outputSpec);
    for (const spec of flagSpecs) {
      const ignored = outputSet ? ` It is ignored because ${outputSpec.key} is set.` : "";
      warnings.push(
        `${placeOf(originOf(spec), spec, home)}: ${spec.deprecated ?? `${spec.key} is deprecated.`}${ignored}`,
      );
    }
    if (!outputSet) {
      const available = outputSpec.items?.enum ?? [];
      const methods: string[] = [];
      for (const spec of specs) {
        if (spec.outputMethod === undefined || values.get(spec.key) !== true) continue;
        if (available.includes(spec.outputMethod)) methods.push(spec.outputMethod);
        else
          warnings.push(
            `${spec.key} asks for the ${spec.outputMethod} output, which this version does not have; it is ignored`,
          );
      }
      const strongest = flagSpecs.reduce((best, spec) =>
        LAYER_RANK[originOf(spec).layer] >= LAYER_RANK[originOf(best).layer] ? spec : best,
      );
      values.set(outputSpec.key, methods);
      origins.set(outputSpec.key, {
        ...originOf(strongest),
        derivedFrom: flagSpecs.map((spec) => spec.key).join(", "),
      });
    }
  }

  // Other deprecated keys, set anywhere, at least say so.
  for (const spec of specs) {
    if (spec.deprecated === undefined || spec.aliasOf !== undefined || spec.outputMethod !== undefined || !isSet(spec))
      continue;
    warnings.push(`${placeOf(originOf(spec), spec, home)}: ${spec.deprecated}`);
  }

  for (const spec of specs) {
    const value = values.get(spec.key);
    if (spec.isPath && typeof value === "string") values.set(spec.key, expandHome(value, home));
  }

  for (const warning of warnings.map((w) => problemsText([w]))) log.once("warning", `config: ${warning}`, warning);
  if (problems.length > 0) {
    throw new ConfigError(
      onlyCodeProblems ? "ERR_CODECARBON_OPTION_INVALID" : "ERR_CODECARBON_CONFIG_INVALID",
      problemsText(problems),
    );
  }

  const settings: Record<string, unknown> = {};
  const originsByOption: Record<string, ConfigOrigin> = {};
  for (const spec of specs) {
    settings[spec.option] = values.get(spec.key);
    originsByOption[spec.option] = Object.freeze(originOf(spec));
  }
  return Object.freeze({
    // Every key was set from a validated default, file, variable or option above.
    settings: settings as unknown as TrackerSettings,
    origins: Object.freeze(originsByOption) as Readonly<Record<keyof TrackerSettings, ConfigOrigin>>,
    warnings: Object.freeze([...warnings]),
    home,
  });
}
