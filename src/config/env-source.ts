/**
 * The environment layer: every variable whose name starts with `CODECARBON_`, in any case. The key
 * is the rest of the name, lower-cased (`CODECARBON_GPU_IDS` → `gpu_ids`), as in CodeCarbon.
 */
export const ENV_PREFIX = "CODECARBON_";

export interface EnvEntry {
  key: string;
  value: string;
  variable: string;
}

export interface EnvContents {
  entries: EnvEntry[];
  warnings: string[];
}

/** The variable name users are told to set for `key`. */
export function envVariableName(key: string): string {
  return `${ENV_PREFIX}${key.toUpperCase()}`;
}

export function readEnvironment(env: NodeJS.ProcessEnv): EnvContents {
  const byKey = new Map<string, EnvEntry[]>();
  // Sorted so that the outcome never depends on the order the platform lists variables in.
  for (const variable of Object.keys(env).sort()) {
    const value = env[variable];
    if (value === undefined || !variable.toUpperCase().startsWith(ENV_PREFIX)) continue;
    const key = variable.slice(ENV_PREFIX.length).toLowerCase();
    const list = byKey.get(key) ?? [];
    list.push({ key, value, variable });
    byKey.set(key, list);
  }
  const entries: EnvEntry[] = [];
  const warnings: string[] = [];
  for (const [key, list] of byKey) {
    const chosen = list.find((entry) => entry.variable === envVariableName(key)) ?? list[0];
    if (chosen === undefined) continue;
    entries.push(chosen);
    if (list.length > 1) {
      const others = list.filter((entry) => entry !== chosen).map((entry) => entry.variable);
      warnings.push(`${others.join(", ")} ignored: ${chosen.variable} sets ${key} too, and wins`);
    }
  }
  return { entries, warnings };
}
