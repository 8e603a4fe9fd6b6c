/**
 * Where a notebook's tracker runs, decided once per kernel from the kernel's spec and the server
 * extension's capabilities (`GET codecarbon/capabilities?path=<notebook>`):
 * - **in the kernel**: a tslab or jslab kernel from whose folder `codecarbon` resolves, so cells
 *   can use the same tracker (`import ... from "codecarbon"` runs in the kernel's Node process);
 * - **beside the kernel**: any other kernel, or a tslab/jslab kernel without the package (an
 *   `import` that fails would break that kernel), tracked by a child process of the server;
 * - neither: the toggle is disabled and says why (the server's own reason when it has one).
 */
export interface KernelSpecLike {
  name: string;
  language?: string | undefined;
  argv?: readonly string[] | undefined;
  displayName?: string | undefined;
}

export type TrackerMode = "in-kernel" | "beside";

export type KernelSupport = { supported: true; mode: TrackerMode } | { supported: false; reason: string };

/** The server extension's `capabilities` answer (version 1). */
export interface Capabilities {
  beside: { available: true; tracker: string } | { available: false; error: string };
  /** null when the request named no notebook. */
  inKernel: { codecarbonResolves: boolean; package: string | null } | null;
}

/** What asking for the capabilities gave: the answer, or why there is none (`missing`: no server extension). */
export type CapabilitiesRead =
  { ok: true; capabilities: Capabilities } | { ok: false; missing: boolean; problem: string };

const TSLAB = /\b[tj]slab\b/i;

/** A Node kernel built on tslab (tslab for TypeScript, jslab for JavaScript). */
export function isNodeKernel(spec: KernelSpecLike): boolean {
  return TSLAB.test(spec.name) || (spec.argv ?? []).some((arg) => TSLAB.test(arg));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks the capabilities JSON; throws with a sentence that says what is wrong. */
export function parseCapabilities(raw: unknown): Capabilities {
  if (!isObject(raw)) throw new Error("the capabilities answer is not an object");
  if (raw["version"] !== 1)
    throw new Error(`capabilities version ${JSON.stringify(raw["version"])} is not 1: update the extension`);
  const beside = raw["beside"];
  if (!isObject(beside) || typeof beside["available"] !== "boolean")
    throw new Error("the capabilities answer has no beside.available");
  const besideValue: Capabilities["beside"] = beside["available"]
    ? { available: true, tracker: typeof beside["tracker"] === "string" ? beside["tracker"] : "" }
    : {
        available: false,
        error: typeof beside["error"] === "string" && beside["error"] !== "" ? beside["error"] : "no tracker found",
      };
  const inKernel = raw["inKernel"];
  if (inKernel !== undefined && inKernel !== null && !isObject(inKernel))
    throw new Error("the capabilities answer's inKernel is not an object");
  let inKernelValue: Capabilities["inKernel"] = null;
  if (isObject(inKernel)) {
    if (typeof inKernel["codecarbonResolves"] !== "boolean")
      throw new Error("the capabilities answer has no inKernel.codecarbonResolves");
    const pkg = inKernel["package"];
    inKernelValue = {
      codecarbonResolves: inKernel["codecarbonResolves"],
      package: typeof pkg === "string" ? pkg : null,
    };
  }
  return { beside: besideValue, inKernel: inKernelValue };
}

function shown(spec: KernelSpecLike): string {
  return spec.displayName ?? spec.name;
}

/** Where the tracker of a notebook whose kernel is `spec` runs, given what the server said. */
export function kernelSupport(spec: KernelSpecLike, read: CapabilitiesRead): KernelSupport {
  const node = isNodeKernel(spec);
  if (!read.ok) {
    // A server without the extension cannot check the folder: a tslab kernel keeps the in-kernel
    // tracker it always had; any other kernel has nothing to run it.
    if (node) return { supported: true, mode: "in-kernel" };
    return {
      supported: false,
      reason: read.missing
        ? `"${shown(spec)}" is tracked beside the kernel by codecarbon's server extension, which this Jupyter server has not loaded (see jupyter server extension list)`
        : `codecarbon's server extension did not answer (${read.problem})`,
    };
  }
  const { capabilities } = read;
  if (node && capabilities.inKernel?.codecarbonResolves === true) return { supported: true, mode: "in-kernel" };
  if (capabilities.beside.available) return { supported: true, mode: "beside" };
  return { supported: false, reason: capabilities.beside.error };
}

/** Where, in words for captions: "in the kernel" or "beside the kernel". */
export function modeWords(mode: TrackerMode): string {
  return mode === "in-kernel" ? "in the kernel" : "beside the kernel";
}
