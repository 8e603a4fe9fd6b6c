/** Configuration: one schema (schema/plugin.json), five layers, and where each value came from. */
export {
  resolveConfig,
  type ConfigLayer,
  type ConfigOrigin,
  type ResolvedConfig,
  type ResolveContext,
} from "./load-config";
export { describeConfig } from "./describe";
export { maskSecret } from "./format";
export { toCamelCase, toSnakeCase } from "./names";
export { expandHome } from "./paths";
export { CONFIG_KEYS, type TrackerOptions, type TrackerSettings } from "./options.generated";
