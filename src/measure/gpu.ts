/**
 * GPU vendors behind one small interface: a backend probes its tool (nvidia-smi today; amd-smi
 * or another would be one more file) and, when it finds GPUs, makes their reader. The first
 * backend that finds GPUs is used.
 */
import type { GpuBackend, GpuProbe } from "./gpu-backend";
import { nvidiaBackend } from "./gpu-nvidia";

export const GPU_BACKENDS: readonly GpuBackend[] = [nvidiaBackend];

/** Asks every backend at once; the first (in list order) with GPUs wins, else the reasons of all. */
export async function probeGpus(
  env: NodeJS.ProcessEnv,
  backends: readonly GpuBackend[] = GPU_BACKENDS,
): Promise<GpuProbe> {
  const probes = await Promise.all(
    backends.map((b) => b.probe(env).catch((error: unknown): GpuProbe => ({ ok: false, reason: String(error) }))),
  );
  const found = probes.find((p) => p.ok && p.gpus.length > 0);
  if (found) return found;
  const reasons = probes.map((p, i) => `${backends[i]!.vendor}: ${p.ok ? "no GPU" : p.reason}`);
  return { ok: false, reason: reasons.join("; ") };
}
