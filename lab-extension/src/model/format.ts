/** Figures in words for the sidebar and status bar: units that keep three significant digits. */

/** CodeCarbon's methodology figure for an average car, also used by the kernel's summary. */
export const CAR_KG_PER_KM = 0.12;

function significant(value: number, digits = 3): string {
  if (value === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toFixed(Math.min(decimals, 6));
}

export function formatEnergy(kWh: number): string {
  const wh = kWh * 1000;
  if (Math.abs(wh) < 1) return `${significant(wh * 1000)} mWh`;
  if (Math.abs(wh) < 1000) return `${significant(wh)} Wh`;
  return `${significant(kWh)} kWh`;
}

export function formatMass(kg: number): string {
  const g = kg * 1000;
  if (Math.abs(g) < 1) return `${significant(g * 1000)} mg CO₂eq`;
  if (Math.abs(g) < 1000) return `${significant(g)} g CO₂eq`;
  return `${significant(kg)} kg CO₂eq`;
}

export function formatRate(kgPerH: number): string {
  const gPerH = kgPerH * 1000;
  if (Math.abs(gPerH) < 1) return `${significant(gPerH * 1000)} mg CO₂eq/h`;
  return `${significant(gPerH)} g CO₂eq/h`;
}

export function formatPower(w: number): string {
  return `${significant(w)} W`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, "0")} s`;
  return `${rest} s`;
}

export function formatIntensity(gPerKWh: number | null, source: string | null): string {
  if (gPerKWh === null) return "finding the carbon intensity…";
  return `${significant(gPerKWh)} g CO₂eq/kWh${source ? ` (${source})` : ""}`;
}

/** A familiar equivalent: distance driven by an average car for the same emissions. */
export function carEquivalent(kg: number): string {
  const metres = (kg / CAR_KG_PER_KM) * 1000;
  return metres < 1000 ? `${significant(metres)} m by car` : `${significant(metres / 1000)} km by car`;
}
