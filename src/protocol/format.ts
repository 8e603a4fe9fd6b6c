/**
 * Figures in words, shared by the log lines, the CLI, the notebook summary and the JupyterLab
 * extension, so a number reads the same wherever it is shown. Browser-safe: imports nothing.
 */

/** CodeCarbon's methodology figure for an average car: 0.12 kg CO2eq per km driven. */
export const CAR_KG_PER_KM = 0.12;

/**
 * `value` to `digits` significant digits. By default trailing zeros are dropped (1234.56 →
 * "1235", 0.00123456 → "0.001235"): enough to read, not so many that a line wraps. With
 * `keepZeros` they stay, so figures that update in place keep their width ("77.0 mWh"), in plain
 * decimals of at most six places. Non-finite values read as they are.
 */
export function formatSignificant(value: number, digits = 4, keepZeros = false): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  if (!keepZeros) return Number(value.toPrecision(digits)).toString();
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  return value.toFixed(Math.min(Math.max(0, digits - 1 - magnitude), 6));
}

/** Metres driven by an average car for the same emissions. */
export function carMetres(kg: number): number {
  return (kg / CAR_KG_PER_KM) * 1000;
}

/** `1 h 02 min 05 s`, `3 min 07 s`, `4.2 s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return `${seconds} s`;
  if (seconds < 60) return `${formatSignificant(Number(seconds.toFixed(1)))} s`;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = whole % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return hours > 0 ? `${hours} h ${pad(minutes)} min ${pad(secs)} s` : `${minutes} min ${pad(secs)} s`;
}

/** Three significant digits in the unit that keeps them readable: mWh, Wh or kWh. */
export function formatEnergy(kWh: number): string {
  const wh = kWh * 1000;
  if (Math.abs(wh) < 1) return `${formatSignificant(wh * 1000, 3, true)} mWh`;
  if (Math.abs(wh) < 1000) return `${formatSignificant(wh, 3, true)} Wh`;
  return `${formatSignificant(kWh, 3, true)} kWh`;
}

/** mg, g or kg CO₂eq, three significant digits. */
export function formatMass(kg: number): string {
  const g = kg * 1000;
  if (Math.abs(g) < 1) return `${formatSignificant(g * 1000, 3, true)} mg CO₂eq`;
  if (Math.abs(g) < 1000) return `${formatSignificant(g, 3, true)} g CO₂eq`;
  return `${formatSignificant(kg, 3, true)} kg CO₂eq`;
}

export function formatRate(kgPerH: number): string {
  const gPerH = kgPerH * 1000;
  if (Math.abs(gPerH) < 1) return `${formatSignificant(gPerH * 1000, 3, true)} mg CO₂eq/h`;
  return `${formatSignificant(gPerH, 3, true)} g CO₂eq/h`;
}

export function formatPower(w: number): string {
  return `${formatSignificant(w, 3, true)} W`;
}

export function formatIntensity(gPerKWh: number | null, source: string | null): string {
  if (gPerKWh === null) return "finding the carbon intensity…";
  return `${formatSignificant(gPerKWh, 3, true)} g CO₂eq/kWh${source ? ` (${source})` : ""}`;
}

/** A familiar equivalent: distance driven by an average car for the same emissions. */
export function carEquivalent(kg: number): string {
  const metres = carMetres(kg);
  return metres < 1000
    ? `${formatSignificant(metres, 3, true)} m by car`
    : `${formatSignificant(metres / 1000, 3, true)} km by car`;
}
