/**
 * `codecarbon config`: the configuration a tracker started here would use, with secrets masked,
 * and with `--show-origin` where each value comes from, in the manner of `git config --show-origin`.
 */
import { describeConfig, type ConfigOrigin, type ResolvedConfig } from "../config";
import { shownSetting, textForm } from "../config/format";
import { configSpecs } from "../config/schema";

export interface ConfigCommandOptions {
  showOrigin: boolean;
  json: boolean;
}

function shownValue(value: unknown, secret: boolean): unknown {
  return shownSetting({ secret }, value);
}

/** The text `codecarbon config` prints on stdout, ending with a newline. */
export function renderConfig(resolved: ResolvedConfig, options: ConfigCommandOptions): string {
  if (options.json) {
    const entries: Record<string, unknown> = {};
    for (const spec of configSpecs()) {
      const value = shownValue(resolved.settings[spec.option], spec.secret);
      const origin: ConfigOrigin = resolved.origins[spec.option];
      entries[spec.key] = options.showOrigin ? { value, origin } : value;
    }
    return `${JSON.stringify(entries, null, 2)}\n`;
  }
  if (options.showOrigin)
    return describeConfig(resolved)
      .map((line) => `${line}\n`)
      .join("");
  return configSpecs()
    .map((spec) => `${spec.key}=${textForm(shownValue(resolved.settings[spec.option], spec.secret))}\n`)
    .join("");
}
