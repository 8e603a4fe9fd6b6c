/**
 * Which kernels can run the tracker: Node kernels built on tslab (tslab for TypeScript, jslab
 * for JavaScript), where `import ... from "codecarbon"` runs in the kernel's Node process.
 */
export interface KernelSpecLike {
  name: string;
  language?: string | undefined;
  argv?: readonly string[] | undefined;
  displayName?: string | undefined;
}

export type KernelSupport = { supported: true } | { supported: false; reason: string };

const TSLAB = /\b[tj]slab\b/i;

export function kernelSupport(spec: KernelSpecLike): KernelSupport {
  if (TSLAB.test(spec.name) || (spec.argv ?? []).some((arg) => TSLAB.test(arg))) return { supported: true };
  const shown = spec.displayName ?? spec.name;
  return {
    supported: false,
    reason: `the tracker runs in Node kernels (tslab or jslab); "${shown}" is ${spec.language ? `a ${spec.language} kernel` : "another kind of kernel"}`,
  };
}
