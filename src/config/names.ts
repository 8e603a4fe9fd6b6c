/**
 * Key names. Config keys are snake_case in the schema, the INI files and the environment (as in
 * CodeCarbon) and camelCase in code; this is the one conversion rule. scripts/generate-config-types.js
 * applies the same rule when it writes the option types, and a test checks the two agree.
 */
import { CONFIG_KEYS } from "./options.generated";

/**
 * `force_carbon_intensity_g_co2e_kwh` → `forceCarbonIntensityGCo2eKwh`: each part after the first starts with a
 * capital.
 */
export function toCamelCase(snake: string): string {
  return snake.replace(/_+([^_])/g, (_match, next: string) => next.toUpperCase());
}

const SNAKE_BY_CAMEL: ReadonlyMap<string, string> = new Map(CONFIG_KEYS.map(({ snake, camel }) => [camel, snake]));

/**
 * The inverse of `toCamelCase`. Known keys are looked up, because camelCase loses where a digit
 * started a part (`country_2letter_iso_code` → `country2letterIsoCode`); other names get an
 * underscore before each capital.
 */
export function toSnakeCase(camel: string): string {
  return SNAKE_BY_CAMEL.get(camel) ?? camel.replace(/[A-Z]/g, (capital) => `_${capital.toLowerCase()}`);
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate closest to `name`, if it is plausibly what was meant: within a few edits (typos), or
 * a prefix either way (`output_directory` → `output_dir`).
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const lowered = name.toLowerCase();
  // A third of the name's length: catches typos without suggesting unrelated keys.
  const maxEdits = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    const distance = editDistance(lowered, other);
    const isPrefix =
      Math.min(lowered.length, other.length) >= 4 && (lowered.startsWith(other) || other.startsWith(lowered));
    if ((distance <= maxEdits || isPrefix) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
