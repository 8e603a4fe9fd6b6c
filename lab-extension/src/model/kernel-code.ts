/**
 * The code the extension runs in the kernel, and how it reads the answer. The request travels as
 * a JSON string literal (never spliced into code as text); the kernel prints one reply line
 * (protocol/kernel-command.ts).
 */
import type { KernelRequest } from "../protocol/kernel-command";

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
