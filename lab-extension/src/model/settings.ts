/**
 * Settings from JupyterLab's settings editor. Only the values the user really changed travel to
 * a tracker started from the toolbar, so keys left alone still come from ~/.codecarbon.config,
 * ./.codecarbon.config and CODECARBON_* variables in the kernel, and the notebook's own defaults
 * (its name as project_name, one measurement a second) survive.
 *
 * JupyterLab's form saves every key once any one is edited (defaults included), so "set by the
 * user" is read as "different from the schema's default": a value equal to the default is not
 * sent. The one thing lost is setting a key to its own default on purpose (project_name
 * "codecarbon", say), which then reads as not set. Keys marked `"x-scope": "lab"` are the
 * extension's display settings and never travel.
 */

/** The part of a schema property these functions read. */
export interface SettingProperty {
  default?: unknown;
  "x-scope"?: unknown;
}

/** Whether two JSON values are equal (settings are JSON: scalars, lists, null). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null && !Array.isArray(a)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    return ka.length === kb.length && ka.every((k) => sameJson(ra[k], rb[k]));
  }
  return false;
}

export function isLabSetting(property: SettingProperty | undefined): boolean {
  return property?.["x-scope"] === "lab";
}

/** The tracker settings to send: the user's values for the schema's tracker keys that differ from their default. */
export function trackerSettingsFrom(
  user: Readonly<Record<string, unknown>>,
  properties: Readonly<Record<string, SettingProperty>>,
): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(user)) {
    const property = properties[key];
    if (property === undefined || isLabSetting(property)) continue;
    if (value === null || value === undefined || value === "") continue;
    if ("default" in property && sameJson(value, property.default)) continue;
    settings[key] = value;
  }
  return settings;
}

/** The extension's own display settings (`"x-scope": "lab"` keys). */
export interface LabSettings {
  /** A footer with energy, CO₂eq and duration under each executed code cell of a tracked notebook. */
  cellFooter: boolean;
}

export const DEFAULT_LAB_SETTINGS: LabSettings = { cellFooter: true };

export function labSettingsFrom(composite: Readonly<Record<string, unknown>>): LabSettings {
  const cellFooter = composite["cell_footer"];
  return { cellFooter: typeof cellFooter === "boolean" ? cellFooter : DEFAULT_LAB_SETTINGS.cellFooter };
}
