/**
 * The code the extension runs in the kernel, and how it reads the answer. The request travels as
 * a JSON string literal (never spliced into code as text); the kernel prints one reply line
 * (protocol/kernel-command.ts).
 */
import { parseKernelReplyValue, type KernelReply, type KernelRequest } from "../protocol/kernel-command";

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

/**
 * The server extension's answer to `POST codecarbon/kernels/<id>` (the kernel command's reply plus
 * `"mode": "beside"`), checked at the edge; throws with a sentence when it is not one.
 */
export function parseServerReply(raw: unknown): KernelReply {
  const reply = parseKernelReplyValue(raw);
  const mode = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>)["mode"] : undefined;
  if (reply === null || mode !== "beside")
    throw new Error("the server's codecarbon answer is not a tracker reply (is the server extension recent enough?)");
  return reply;
}

/** A refused request to the server extension, in words: the server's own message when its body has one. */
export function serverRefusal(status: number, body: unknown): string {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const message = [record["message"], record["reason"]].find((m): m is string => typeof m === "string" && m !== "");
  if (status === 404 && message === undefined)
    return "the Jupyter server has no codecarbon server extension (see jupyter server extension list)";
  return message ?? `the server answered HTTP ${status}`;
}
