/**
 * Errors thrown to the user's code. Only programmer errors (bad options, invalid configuration)
 * are thrown; measurement and output failures are logged and tracking degrades instead.
 *
 * Each error carries a stable `code` and a brand, so `isCodeCarbonError` works even when two
 * copies of the package are loaded (a notebook and a library may each bring one).
 */

const BRAND = Symbol.for("codecarbon.error");

export type CodeCarbonErrorCode =
  | "ERR_CODECARBON_OPTION_INVALID"
  | "ERR_CODECARBON_CONFIG_INVALID"
  | "ERR_CODECARBON_COUNTRY_MISSING"
  | "ERR_CODECARBON_COUNTRY_UNKNOWN"
  | "ERR_CODECARBON_OUTPUT_DIR"
  | "ERR_CODECARBON_NETWORK"
  | "ERR_CODECARBON_HTTP_BODY"
  | "ERR_CODECARBON_HTTP_STATUS";

export class CodeCarbonError extends Error {
  override name = "CodeCarbonError";
  readonly code: CodeCarbonErrorCode;
  readonly [BRAND] = true;

  constructor(code: CodeCarbonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Invalid configuration: a bad option in code, a bad value in a config file or env var. */
export class ConfigError extends CodeCarbonError {
  override name = "ConfigError";
}

export function isCodeCarbonError(value: unknown): value is CodeCarbonError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}
