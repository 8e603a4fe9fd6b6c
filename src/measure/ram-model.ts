/**
 * CodeCarbon's RAM power model (its "v3" heuristic): guess how many DIMMs hold the memory, then
 * charge each DIMM a base power with diminishing increments on big machines, since servers with
 * many modules draw less per module than a laptop's pair.
 *
 * Base power per DIMM: 5 W on x86, 1.5 W on ARM (low-power memory). Floor: two x86 DIMMs (10 W)
 * or 3 W on ARM, applied in process mode too, so even a tiny process is charged the floor.
 */

const X86_DIMM_POWER_W = 5;
const ARM_DIMM_POWER_W = 1.5;
const X86_FLOOR_W = X86_DIMM_POWER_W * 2;
const ARM_FLOOR_W = 3;
/** Module sizes tried for large servers, biggest first. */
const SERVER_DIMM_SIZES_GB = [128, 64, 32, 16, 8, 4] as const;
const MIN_SERVER_DIMMS = 8;
const MAX_SERVER_DIMMS = 32;

/** The DIMM count CodeCarbon assumes for `sizeGB` of memory (GB = GiB, as CodeCarbon divides by 1024³). */
export function estimateDimmCount(sizeGB: number): number {
  if (sizeGB <= 2) return 1;
  if (sizeGB <= 16) return 2;
  if (sizeGB <= 64) return 4;
  if (sizeGB <= 128) return 8;
  // Large servers: the biggest common module that still leaves at least eight of them.
  for (const dimmSizeGB of SERVER_DIMM_SIZES_GB) {
    if (dimmSizeGB <= sizeGB / MIN_SERVER_DIMMS) return Math.min(Math.ceil(sizeGB / dimmSizeGB), MAX_SERVER_DIMMS);
  }
  return MIN_SERVER_DIMMS;
}

/** Modelled RAM power in W for `sizeGB` of memory, with the architecture's floor. */
export function ramPowerW(sizeGB: number, isArm: boolean): number {
  const dimms = estimateDimmCount(sizeGB);
  const base = isArm ? ARM_DIMM_POWER_W : X86_DIMM_POWER_W;
  const floor = isArm ? ARM_FLOOR_W : X86_FLOOR_W;
  // Each band of modules costs less per module: 100 % for the first 4, 90 % up to 8, 80 % up to
  // 16, 70 % beyond. The sums are written out in full so the result is the same double as
  // CodeCarbon's.
  let powerW: number;
  if (dimms <= 4) powerW = base * dimms;
  else if (dimms <= 8) powerW = base * 4 + base * 0.9 * (dimms - 4);
  else if (dimms <= 16) powerW = base * 4 + base * 0.9 * 4 + base * 0.8 * (dimms - 8);
  else powerW = base * 4 + base * 0.9 * 4 + base * 0.8 * 8 + base * 0.7 * (dimms - 16);
  return Math.max(floor, powerW);
}

/** Whether the CPU architecture is ARM (`arm`, `arm64`, `aarch64`, ...), as CodeCarbon checks it. */
export function isArmArchitecture(arch: string = process.arch): boolean {
  const lower = arch.toLowerCase();
  return lower.includes("arm") || lower.includes("aarch");
}
