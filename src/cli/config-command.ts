/**
 * `codecarbon config`: the configuration a tracker started here would use, with secrets masked,
 * and with `--show-origin` where each value comes from, in the manner of `git config --show-origin`.
 */
import { describeConfig, type ConfigOrigin, type ResolvedConfig } from "../config";
import { shownSetting, textForm } from "../config/format";
import { configSpecs } from "../config/schema";
import { gpuIdsFromEnvironment } from "../measure/gpu-ids";

export interface ConfigCommandOptions {
  showOrigin: boolean;
  json: boolean;
  /** Where CUDA_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * With gpu_ids unset, a tracker measures the GPUs CUDA_VISIBLE_DEVICES (else ROCR_VISIBLE_DEVICES)
 * names, as CodeCarbon does: the command shows those, with the variable as their origin.
 */
function withGpusFromEnvironment(resolved: ResolvedConfig, env: NodeJS.ProcessEnv): ResolvedConfig {
  if (resolved.settings.gpuIds !== null || resolved.origins.gpuIds.layer !== "default") return resolved;
  const ids = gpuIdsFromEnvironment(env);
  if (ids === null) return resolved;
  const variable = env["CUDA_VISIBLE_DEVICES"] !== undefined ? "CUDA_VISIBLE_DEVICES" : "ROCR_VISIBLE_DEVICES";
  return {
    ...resolved,
    settings: { ...resolved.settings, gpuIds: ids },
    origins: { ...resolved.origins, gpuIds: { layer: "env", variable } },
  };
}

function shownValue(value: unknown, secret: boolean): unknown {
  return shownSetting({ secret }, value);
}

/** The text `codecarbon config` prints on stdout, ending with a newline. */
export function renderConfig(configured: ResolvedConfig, options: ConfigCommandOptions): string {
  const resolved = withGpusFromEnvironment(configured, options.env ?? process.env);
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
