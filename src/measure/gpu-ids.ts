/**
 * Which GPUs a run measures: the `gpu_ids` setting (or CUDA_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES)
 * normalised to a list of ids, then resolved against the devices nvidia-smi lists.
 *
 * Normalisation follows CodeCarbon's rules so configuration behaves the same: strings keep only
 * letters, digits, '-' and ',', are split on ',' and empty parts dropped. Numeric strings stay
 * strings ("0" stays "0"), as in CodeCarbon; resolution treats any all-digit id as a device
 * index, so "0" and 0 select the same GPU.
 *
 * Resolution departs from CodeCarbon on purpose: a UUID id loses a literal leading "MIG-" or
 * "GPU-" (on both the id and the device UUID) before the prefix match. CodeCarbon strips the
 * *characters* M, I, G and '-', which turns a real "GPU-4e81…" into "PU-4e81…" so it never matches.
 */
import { log } from "../log";

export type GpuId = number | string;

export interface GpuDevice {
  index: number;
  uuid: string;
}

export interface GpuSelection {
  /** Device indices to measure, sorted and de-duplicated. */
  indices: number[];
  /** One line per id that selected nothing (out of range, unknown or ambiguous UUID). */
  warnings: string[];
}

const DISALLOWED_CHARACTERS = /[^A-Za-z0-9,-]/g;
const INDEX_PATTERN = /^-?\d+$/;
const UUID_DECORATION = /^(?:MIG-|GPU-)/i;

function splitIdString(value: string): string[] {
  return value
    .replace(DISALLOWED_CHARACTERS, "")
    .split(",")
    .filter((part) => part.length > 0);
}

/**
 * Normalises a configured `gpu_ids` value. `null`/`undefined` stay `null` (nothing configured);
 * a string or a list gives a list, possibly empty (an explicit "no GPU"). A single integer is
 * accepted as a one-element list. Anything else is ignored with a warning.
 */
export function normalizeGpuIds(value: unknown): GpuId[] | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return splitIdString(value);
  if (typeof value === "number") {
    if (Number.isInteger(value)) return [value];
    log.warning(`gpu_ids: ignoring ${String(value)}, which is not an integer GPU index.`);
    return null;
  }
  if (Array.isArray(value)) {
    const ids: GpuId[] = [];
    for (const item of value as unknown[]) {
      if (typeof item === "number" && Number.isInteger(item)) ids.push(item);
      else if (typeof item === "string") ids.push(...splitIdString(item));
      else log.warning(`gpu_ids: ignoring ${describeValue(item)}; expected a GPU index or a UUID string.`);
    }
    return ids;
  }
  log.warning(`gpu_ids: ignoring a value of type ${describeValue(value)}; expected a string or a list.`);
  return null;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return Array.isArray(value) ? "list" : "object";
  return typeof value === "string" ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

/**
 * The ids the environment names when no `gpu_ids` is configured: CUDA_VISIBLE_DEVICES, else
 * ROCR_VISIBLE_DEVICES. A variable that is set but empty hides every GPU (as it does for CUDA),
 * so it gives an empty list rather than `null`.
 */
export function gpuIdsFromEnvironment(env: NodeJS.ProcessEnv = process.env): GpuId[] | null {
  const cuda = env["CUDA_VISIBLE_DEVICES"];
  if (cuda !== undefined) return splitIdString(cuda);
  const rocr = env["ROCR_VISIBLE_DEVICES"];
  if (rocr !== undefined) return splitIdString(rocr);
  return null;
}

function bareUuid(value: string): string {
  return value.trim().replace(UUID_DECORATION, "").toLowerCase();
}

/** Resolves ids to device indices: indices by value, other strings as a UUID prefix. */
export function selectGpus(ids: readonly GpuId[], devices: readonly GpuDevice[]): GpuSelection {
  const chosen = new Set<number>();
  const warnings: string[] = [];
  const knownIndices = new Set(devices.map((d) => d.index));

  for (const id of ids) {
    const asIndex = typeof id === "number" ? id : INDEX_PATTERN.test(id) ? Number(id) : null;
    if (asIndex !== null) {
      if (knownIndices.has(asIndex)) chosen.add(asIndex);
      else warnings.push(`GPU ID ${String(id)} out of range: ${devices.length} GPU(s) found; ignoring it.`);
      continue;
    }
    const wanted = bareUuid(id as string);
    if (wanted.length === 0) {
      warnings.push(`GPU ID "${id}" names no device; ignoring it.`);
      continue;
    }
    const exact = devices.filter((d) => bareUuid(d.uuid) === wanted);
    const byPrefix = exact.length > 0 ? exact : devices.filter((d) => bareUuid(d.uuid).startsWith(wanted));
    const only = byPrefix[0];
    if (byPrefix.length === 1 && only !== undefined) chosen.add(only.index);
    else if (byPrefix.length === 0) warnings.push(`GPU ID "${id}" matches no GPU UUID; ignoring it.`);
    else warnings.push(`GPU ID "${id}" matches ${byPrefix.length} GPU UUIDs; give more of the UUID. Ignoring it.`);
  }

  return { indices: [...chosen].sort((a, b) => a - b), warnings };
}
