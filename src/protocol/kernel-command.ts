/**
 * The kernel command: how the JupyterLab extension starts, stops and queries the tracker that
 * serves a notebook. The request travels as JSON; the tracker answers with one line
 * `CODECARBON_REPLY {...}` on its stdout, which the extension finds, parses and checks here.
 * Both sides use these types and parsers, so a version bump on one side stops the other from
 * compiling until it follows. Browser-safe: imports nothing.
 */

export const KERNEL_API_VERSION = 1;
export const REPLY_PREFIX = "CODECARBON_REPLY ";

export type KernelAction = "start" | "stop" | "status";

export interface KernelRequest {
  version: typeof KERNEL_API_VERSION;
  action: KernelAction;
  /** Settings for `start`, snake_case or camelCase keys (the schema's), above config files and env vars. */
  settings?: Record<string, unknown>;
  /** Use the offline tracker (needs country_iso_code). */
  offline?: boolean;
}

export type KernelRunState = "idle" | "running" | "stopped";

export interface KernelReply {
  version: typeof KERNEL_API_VERSION;
  ok: boolean;
  /** idle: no tracker has run in this kernel; running; stopped: the last run has ended. */
  state: KernelRunState;
  runId: string | null;
  kernelId: string | null;
  /** The live feed, relative to the kernel's working folder (the notebook's). */
  feed: string | null;
  /** Total of the last stopped run. */
  emissionsKg: number | null;
  error?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The tracker's side: checks a request; throws with a sentence that says what is wrong. */
export function parseKernelRequest(input: unknown): KernelRequest {
  if (!isObject(input)) throw new Error("the request must be an object");
  if (input["version"] !== KERNEL_API_VERSION) {
    throw new Error(
      `unsupported request version ${JSON.stringify(input["version"])}; this package speaks version ${KERNEL_API_VERSION}`,
    );
  }
  const action = input["action"];
  if (action !== "start" && action !== "stop" && action !== "status")
    throw new Error(`unknown action ${JSON.stringify(action)}`);
  const settings = input["settings"];
  if (settings !== undefined && !isObject(settings)) throw new Error("settings must be an object");
  return {
    version: KERNEL_API_VERSION,
    action,
    ...(settings === undefined ? {} : { settings }),
    ...(input["offline"] === true ? { offline: true } : {}),
  };
}

/** The tracker's side: the one line it prints. */
export function formatKernelReply(reply: KernelReply): string {
  return `${REPLY_PREFIX}${JSON.stringify(reply)}`;
}

/** The extension's side: finds and checks the reply line in the tracker's stdout; null when there is none. */
export function parseKernelReply(stdout: string): KernelReply | null {
  const line = stdout.split("\n").find((l) => l.startsWith(REPLY_PREFIX));
  if (line === undefined) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(REPLY_PREFIX.length));
  } catch {
    return null;
  }
  return parseKernelReplyValue(raw);
}

/**
 * The extension's side: checks a reply already parsed from JSON (the server extension answers it as an HTTP body);
 * null when it is not a reply.
 */
export function parseKernelReplyValue(raw: unknown): KernelReply | null {
  if (!isObject(raw)) return null;
  const state = raw["state"];
  if (typeof raw["ok"] !== "boolean" || (state !== "idle" && state !== "running" && state !== "stopped")) return null;
  const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
  const error = str(raw["error"]);
  const emissions = raw["emissionsKg"];
  return {
    version: KERNEL_API_VERSION,
    ok: raw["ok"],
    state,
    runId: str(raw["runId"]),
    kernelId: str(raw["kernelId"]),
    feed: str(raw["feed"]),
    emissionsKg: typeof emissions === "number" && Number.isFinite(emissions) ? emissions : null,
    ...(error === null ? {} : { error }),
  };
}
