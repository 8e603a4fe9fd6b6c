/**
 * Settings from JupyterLab's settings editor, passed to a tracker started from the toolbar.
 * Only the values the user set travel (not the schema's defaults), so keys left alone still come
 * from ~/.codecarbon.config, ./.codecarbon.config and CODECARBON_* variables in the kernel.
 */
export function trackerSettingsFrom(
  user: Readonly<Record<string, unknown>>,
  knownKeys: ReadonlySet<string>,
): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(user)) {
    if (!knownKeys.has(key) || value === null || value === undefined || value === "") continue;
    settings[key] = value;
  }
  return settings;
}
