/** How config values are shown to people: masked when secret, written the way a config file takes them. */

/**
 * `cpt_abcdefgh12345678` → `cpt_…5678`. A short word prefix (`cpt_`) and the last four characters
 * are shown only when at least eight characters stay hidden; shorter secrets show nothing.
 */
export function maskSecret(value: string): string {
  if (value.length < 12) return "…";
  const prefix = /^[A-Za-z]{1,5}_/.exec(value)?.[0] ?? "";
  const shownPrefix = value.length - prefix.length - 4 >= 8 ? prefix : "";
  return `${shownPrefix}…${value.slice(-4)}`;
}

/** The value as a config file or environment variable would write it: lists comma-separated, null empty. */
export function textForm(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.length === 0 ? "[]" : value.map((item) => textForm(item)).join(", ");
  return String(value);
}

/** The value as code would write it. */
export function codeForm(value: unknown): string {
  if (typeof value === "function") return "[function]";
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "symbol") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A URL's password (and a lone user name, often a token) masked wherever a URL is printed:
 * `https://user:secret@host` becomes `https://user:***@host`. Other text is returned as is.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(
    /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*)(:[^/@\s]*)?@/gi,
    (_match, scheme: string, user: string, pass?: string) =>
      pass === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}

/** A setting as it may be printed: secrets masked, credentials inside URLs masked. */
export function shownSetting(spec: { secret: boolean }, value: unknown): unknown {
  if (typeof value !== "string") return value;
  return spec.secret ? maskSecret(value) : maskUrlCredentials(value);
}
