/**
 * The code the extension runs in the kernel, and how it reads the answer. The request travels as
 * a JSON string literal (never spliced into code as text) and the kernel prints one line
 * `CODECARBON_REPLY {...}` that is parsed and checked here.
 */
import type { KernelReply, KernelRequest } from "codecarbon";

export const REPLY_PREFIX = "CODECARBON_REPLY ";
/** Typed by the library's request: a version bump there stops this from compiling until it is followed here. */
export const KERNEL_API_VERSION: KernelRequest["version"] = 1;

/** What the extension sends: the library's request (the extension never asks for the offline tracker). */
export type KernelCommand = Omit<KernelRequest, "offline">;

/**
 * Valid TypeScript and JavaScript for tslab/jslab. The alias has no leading underscores: tslab
 * loses identifiers that start with two (TypeScript escapes them as three).
 */
export function kernelCode(command: KernelCommand): string {
  const literal = JSON.stringify(JSON.stringify(command));
  return `import { runKernelCommand as codecarbonRunKernelCommand } from "codecarbon";\nawait codecarbonRunKernelCommand(${literal});`;
}

/** The library's reply, as read back from the kernel's output. */
export type ParsedReply = KernelReply;

/** Finds and checks the reply line in the kernel's stdout; null when there is none. */
export function parseKernelReply(stdout: string): ParsedReply | null {
  const line = stdout.split("\n").find((l) => l.startsWith(REPLY_PREFIX));
  if (line === undefined) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(REPLY_PREFIX.length));
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const o = raw as Record<string, unknown>;
  const state = o["state"];
  if (typeof o["ok"] !== "boolean" || (state !== "idle" && state !== "running" && state !== "stopped")) return null;
  const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
  const error = str(o["error"]);
  return {
    version: KERNEL_API_VERSION,
    ok: o["ok"],
    state,
    runId: str(o["runId"]),
    kernelId: str(o["kernelId"]),
    feed: str(o["feed"]),
    emissionsKg: typeof o["emissionsKg"] === "number" && Number.isFinite(o["emissionsKg"]) ? o["emissionsKg"] : null,
    ...(error === null ? {} : { error }),
  };
}

/**
 * Turns a kernel error into a sentence that says what to do. tslab reports type errors on
 * stderr ("1:45 - Cannot find module 'codecarbon' ..."), runtime errors as error messages.
 */
export function explainKernelError(text: string): string {
  if (/Cannot find module ['"]codecarbon['"]/.test(text)) {
    return "the kernel cannot load codecarbon: run `npm install codecarbon` in the notebook's folder (or a parent folder)";
  }
  const trimmed = text.trim();
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}
