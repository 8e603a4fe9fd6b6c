/**
 * The energy unit factor, here so the browser-side code can use it too (the rest of the unit
 * conversions are in src/units.ts). Exact: 1 kWh = 3.6 MJ. CodeCarbon multiplies joules by the
 * rounded 2.77778e-7; the difference is below 1e-6 relative and we prefer the exact figure.
 */
export const JOULES_PER_KWH = 3_600_000;
