/**
 * One voice for errors the user did not cause and cannot see otherwise: a console warning with
 * the extension's prefix (so it can be found among JupyterLab's), next to what the UI shows.
 */
import { describeError } from "./model/feed-read";

export const LOG_PREFIX = "codecarbon:";

/** Logs `what` with the error and returns the sentence the UI shows. */
export function reportError(what: string, error: unknown): string {
  const sentence = `${what}: ${describeError(error)}`;
  console.warn(`${LOG_PREFIX} ${what}`, error);
  return sentence;
}
