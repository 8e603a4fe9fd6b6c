/**
 * Physical constants and conversions, in one place so every room converts the same way.
 * The joules-per-kWh factor itself is in protocol/units.ts (the browser uses it too).
 */
import { JOULES_PER_KWH } from "./protocol/units";

export const MICROJOULES_PER_KWH = JOULES_PER_KWH * 1_000_000;
export const MILLIJOULES_PER_KWH = JOULES_PER_KWH * 1000;
export const SECONDS_PER_HOUR = 3600;
export const BYTES_PER_GIB = 1024 ** 3;

/** Pounds per megawatt-hour to kilograms per kilowatt-hour (US eGRID figures). */
export const LBS_PER_MWH_TO_KG_PER_KWH = 0.00045359237;

/** The world average carbon intensity CodeCarbon falls back to, in gCO2eq/kWh. */
export const WORLD_AVERAGE_G_PER_KWH = 475;

export function kwhFromWattSeconds(powerW: number, seconds: number): number {
  return (powerW * seconds) / JOULES_PER_KWH;
}

export function wattsFromKwhOver(energyKWh: number, seconds: number): number {
  return seconds > 0 ? (energyKWh * JOULES_PER_KWH) / seconds : 0;
}

/**
 * A timeout in seconds as whole milliseconds (at least 1): timers and `AbortSignal.timeout`
 * refuse fractions, and `2.01 * 1000` is 2009.9999999999998.
 */
export function timeoutMsFromSeconds(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}
