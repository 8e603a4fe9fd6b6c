/**
 * Live carbon intensity from Electricity Maps (v3 `carbon-intensity/latest`), cached per zone.
 * CodeCarbon asks at every measurement (#1354); the figure changes hourly, so one call per
 * `electricitymaps_cache_secs` gives the same answer for a fraction of the calls and quota.
 */
import { httpRequest } from "../../net/http";

export type ZoneQuery = { latitude: number; longitude: number } | { countryAlpha2: string };

export interface LiveIntensity {
  intensityGPerKWh: number;
  /** The zone Electricity Maps answered for, e.g. "FR" or "US-MIDA-PJM". */
  zone: string | null;
  fetchedAtMs: number;
}

export interface ElectricityMapsSettings {
  endpoint: string;
  token: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv | undefined;
}

export function zoneKey(query: ZoneQuery): string {
  return "countryAlpha2" in query
    ? `country:${query.countryAlpha2}`
    : `point:${query.latitude.toFixed(2)},${query.longitude.toFixed(2)}`;
}

export async function fetchLiveIntensity(
  settings: ElectricityMapsSettings,
  query: ZoneQuery,
  nowMs: number,
): Promise<LiveIntensity> {
  const url = new URL(settings.endpoint.replace(/\/+$/, "") + "/carbon-intensity/latest");
  if ("countryAlpha2" in query) url.searchParams.set("countryCode", query.countryAlpha2);
  else {
    url.searchParams.set("lat", String(query.latitude));
    url.searchParams.set("lon", String(query.longitude));
  }
  const response = await httpRequest(
    { method: "GET", url: url.toString(), headers: { "auth-token": settings.token }, timeoutMs: settings.timeoutMs },
    settings.env === undefined ? {} : { env: settings.env },
  );
  let body: unknown;
  try {
    body = response.json();
  } catch {
    body = undefined;
  }
  const o = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  if (response.status !== 200) {
    const detail =
      typeof o["error"] === "string"
        ? o["error"]
        : typeof o["message"] === "string"
          ? o["message"]
          : response.text.slice(0, 200);
    throw new Error(`Electricity Maps answered HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
  }
  const intensity = o["carbonIntensity"];
  if (typeof intensity !== "number" || !Number.isFinite(intensity) || intensity < 0) {
    throw new Error("Electricity Maps answered without a usable carbonIntensity");
  }
  return { intensityGPerKWh: intensity, zone: typeof o["zone"] === "string" ? o["zone"] : null, fetchedAtMs: nowMs };
}
