/** Lines for `codecarbon config --show-origin`, in the manner of `git config --show-origin`. */
import { shownSetting, textForm } from "./format";
import type { ConfigOrigin, ResolvedConfig } from "./load-config";
import { displayPath } from "./paths";
import { configSpecs } from "./schema";

function originLabel(origin: ConfigOrigin, home: string): string {
  let label: string;
  switch (origin.layer) {
    case "global-file":
    case "local-file":
      label = `file:${displayPath(origin.file ?? "", home)}:${origin.line ?? 0}`;
      break;
    case "env":
      label = `env:${origin.variable ?? ""}`;
      break;
    case "code":
      label = "code";
      break;
    case "default":
      label = "default";
      break;
  }
  return origin.derivedFrom === undefined ? label : `${label} (from ${origin.derivedFrom})`;
}

/**
 * One line per key, in schema order: `<origin>\t<key>=<value>`, where origin is `default`,
 * `file:~/.codecarbon.config:4`, `env:CODECARBON_PUE` or `code`. Values are written as a config
 * file takes them (lists comma-separated, null empty); secrets are masked.
 */
export function describeConfig(resolved: ResolvedConfig): string[] {
  return configSpecs().map((spec) => {
    const value: unknown = resolved.settings[spec.option];
    const shown = textForm(shownSetting(spec, value));
    return `${originLabel(resolved.origins[spec.option], resolved.home)}\t${spec.key}=${shown}`;
  });
}
