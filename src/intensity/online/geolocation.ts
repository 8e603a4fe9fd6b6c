/**
 * IP geolocation, CodeCarbon's two services in its order: geojs.io first, ipinfo.io second.
 * Each is tried twice (CodeCarbon tries once with 0.5 s, which fails often enough on busy
 * networks that parallel trackers end up in its default country; #854). Bodies are checked
 * field by field: a service that answers with the wrong shape counts as a failure.
 */
import { httpRequest } from "../../net/http";
import { countryFromAlpha2 } from "./iso-countries";

export interface GeoLocation {
  /** ISO 3166-1 alpha-3, upper case. */
  countryIsoCode: string | null;
  countryAlpha2: string | null;
  countryName: string | null;
  /** Lower case, as CodeCarbon stores it (e.g. "quebec", "illinois"). */
  region: string | null;
  latitude: number | null;
  longitude: number | null;
  source: "geojs" | "ipinfo" | "configured" | "default";
}

export interface GeolocationEndpoints {
  primary: string;
  backup: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface GeolocationResult {
  location: GeoLocation | null;
  /** Why each attempt failed, in order; empty when the first one answered. */
  failures: string[];
}

const ATTEMPTS_PER_SERVICE = 2;

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

function coordinate(value: unknown): number | null {
  const number =
    typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isFinite(number) ? number : null;
}

function asObject(body: unknown, service: string): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new Error(`${service} answered something other than a JSON object`);
  return body as Record<string, unknown>;
}

/** geojs.io: country_code3, country_code, country, region, latitude and longitude as strings. */
export function parseGeojs(body: unknown): GeoLocation {
  const o = asObject(body, "geojs");
  const alpha3 = text(o["country_code3"]);
  const region = text(o["region"]);
  if (alpha3 === null || !/^[A-Za-z]{3}$/.test(alpha3)) throw new Error("geojs gave no 3-letter country code");
  // CodeCarbon treats an empty region as a failure and asks the backup service.
  if (region === null) throw new Error("geojs gave no region");
  return {
    countryIsoCode: alpha3.toUpperCase(),
    countryAlpha2: text(o["country_code"])?.toUpperCase() ?? null,
    countryName: text(o["country"]),
    region: region.toLowerCase(),
    latitude: coordinate(o["latitude"]),
    longitude: coordinate(o["longitude"]),
    source: "geojs",
  };
}

/** ipinfo.io: country (alpha-2), region, loc "lat,lon". */
export function parseIpinfo(body: unknown): GeoLocation {
  const o = asObject(body, "ipinfo");
  const alpha2 = text(o["country"]);
  if (alpha2 === null || !/^[A-Za-z]{2}$/.test(alpha2)) throw new Error("ipinfo gave no 2-letter country code");
  const country = countryFromAlpha2(alpha2);
  if (country === undefined) throw new Error(`ipinfo gave an unknown country code "${alpha2}"`);
  const [lat, lon] = (text(o["loc"]) ?? "").split(",");
  return {
    countryIsoCode: country.alpha3,
    countryAlpha2: alpha2.toUpperCase(),
    countryName: country.name,
    region: text(o["region"])?.toLowerCase() ?? null,
    latitude: coordinate(lat),
    longitude: coordinate(lon),
    source: "ipinfo",
  };
}

async function ask(url: string, timeoutMs: number, env: NodeJS.ProcessEnv | undefined): Promise<unknown> {
  const response = await httpRequest({ method: "GET", url, timeoutMs }, env === undefined ? {} : { env });
  if (response.status !== 200) throw new Error(`answered HTTP ${response.status}`);
  return response.json();
}

export async function geolocate(endpoints: GeolocationEndpoints): Promise<GeolocationResult> {
  const failures: string[] = [];
  const services: [string, string, (body: unknown) => GeoLocation][] = [
    ["geojs", endpoints.primary, parseGeojs],
    ["ipinfo", endpoints.backup, parseIpinfo],
  ];
  for (const [name, url, parse] of services) {
    for (let attempt = 1; attempt <= ATTEMPTS_PER_SERVICE; attempt++) {
      try {
        return { location: parse(await ask(url, endpoints.timeoutMs, endpoints.env)), failures };
      } catch (error) {
        failures.push(`${name} (${error instanceof Error ? error.message : String(error)})`);
      }
    }
  }
  return { location: null, failures };
}
