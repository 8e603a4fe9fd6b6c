/**
 * The online tracker's carbon intensity: where the machine is (configuration, cloud metadata,
 * IP geolocation), then what its electricity emits (Electricity Maps when a token is set, the
 * bundled data otherwise). Everything runs in the background of the sampler thread; `current()`
 * never waits, and every failure degrades to a documented fallback with one log line.
 */
import { timeoutMsFromSeconds } from "../../units";
import type { TrackerSettings } from "../../config/options.generated";
import { log } from "../../log";
import { redactUrl } from "../../net/http";
import { resolveOfflineIntensity } from "../offline";
import { resolveFromSettings, type IntensityProvider, type LocatedResolution } from "../provider";
import { detectCloud, type CloudLocation } from "./cloud";
import { fetchLiveIntensity, zoneKey, type LiveIntensity, type ZoneQuery } from "./electricity-maps";
import { geolocate, type GeoLocation } from "./geolocation";
import { alpha2FromAlpha3 } from "./iso-countries";

export type { GeoLocation } from "./geolocation";
export type { CloudLocation } from "./cloud";

export interface OnlineOptions {
  env?: NodeJS.ProcessEnv;
  /** A location found earlier in this process (the tracker passes it from run to run). */
  knownLocation?: GeoLocation | null;
  now?: () => number;
}

export type OnlineIntensitySettings = Pick<
  TrackerSettings,
  | "forceCarbonIntensityGCo2eKwh"
  | "countryIsoCode"
  | "country2letterIsoCode"
  | "region"
  | "cloudProvider"
  | "cloudRegion"
  | "cloudDetection"
  | "cloudMetadataEndpoint"
  | "geolocationEndpoint"
  | "geolocationBackupEndpoint"
  | "geolocationTimeoutSecs"
  | "electricitymapsApiToken"
  | "electricitymapsEndpoint"
  | "electricitymapsCacheSecs"
  | "apiTimeoutSecs"
  | "intensityData"
>;

/** Per thread: a second run in the same sampler (or the same process) does not ask again. */
let cachedLocation: GeoLocation | undefined;
/** Off the cloud a metadata probe can cost its whole timeout, so each thread probes once. */
let cachedCloud: Promise<CloudLocation | null> | undefined;
const liveCache = new Map<string, LiveIntensity>();

/** For tests: forget what earlier providers found. */
export function resetOnlineCaches(): void {
  cachedLocation = undefined;
  cachedCloud = undefined;
  liveCache.clear();
}

const EM_DATASET = "Electricity Maps API (carbon-intensity/latest)";

export function createOnlineIntensityProvider(
  settings: OnlineIntensitySettings,
  options: OnlineOptions = {},
): IntensityProvider & { location(): GeoLocation | null } {
  const now = options.now ?? Date.now;
  const env = options.env;
  const token = settings.electricitymapsApiToken;
  const ttlMs = settings.electricitymapsCacheSecs * 1000;
  let answer: LocatedResolution | null = null;
  let bundled: LocatedResolution | null = null;
  let location: GeoLocation | null = null;
  let zone: ZoneQuery | null = null;
  let refreshing: Promise<void> | null = null;
  /** When the last Electricity Maps call failed; the next try waits a full expiry. */
  let failedAtMs: number | null = null;
  let closed = false;

  const live = (fetched: LiveIntensity, base: LocatedResolution): LocatedResolution => ({
    ...base,
    intensityGPerKWh: fetched.intensityGPerKWh,
    source: {
      kind: "electricity-maps",
      label: `Electricity Maps live${fetched.zone ? `, zone ${fetched.zone}` : ""}`,
      dataset: EM_DATASET,
      year: new Date(fetched.fetchedAtMs).getUTCFullYear(),
      fallbackReason: null,
      ...(fetched.zone === null ? {} : { zone: fetched.zone }),
    },
  });

  const refreshLive = async (): Promise<void> => {
    if (token === null || zone === null || bundled === null) return;
    const key = zoneKey(zone);
    const cached = liveCache.get(key);
    if (cached !== undefined && now() - cached.fetchedAtMs < ttlMs) {
      answer = live(cached, bundled);
      return;
    }
    try {
      const fetched = await fetchLiveIntensity(
        {
          endpoint: settings.electricitymapsEndpoint,
          token,
          timeoutMs: timeoutMsFromSeconds(settings.apiTimeoutSecs),
          env,
        },
        zone,
        now(),
      );
      liveCache.set(key, fetched);
      answer = live(fetched, bundled);
    } catch (error) {
      // A call cut short by close() (the run is ending) is no news worth a warning.
      if (closed) {
        answer ??= bundled;
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      log.once(
        "warning",
        `electricity-maps:${reason}`,
        `Electricity Maps at ${redactUrl(settings.electricitymapsEndpoint)} failed (${reason}); using ${bundled.source.label} until the next try.`,
      );
      // Retry at the next expiry, not at every measurement.
      failedAtMs = now();
      answer = { ...bundled, source: { ...bundled.source, fallbackReason: `Electricity Maps failed: ${reason}` } };
    }
  };

  /** At most one Electricity Maps call in flight per provider. */
  const refreshOnce = (): Promise<void> => {
    refreshing ??= refreshLive().finally(() => {
      refreshing = null;
    });
    return refreshing;
  };

  /**
   * With a token, the bundled figure is not the answer yet: energy measured while the first
   * Electricity Maps call is in flight stays unpriced and is priced by whatever that call settles
   * on (the live figure, or the bundled one when it fails), so a run is not split between two
   * intensities just because the network was slower than the first measurement.
   */
  const settleFirstAnswer = async (): Promise<void> => {
    if (token === null || zone === null) {
      answer = bundled;
      return;
    }
    await refreshOnce();
    answer ??= bundled;
  };

  const locate = async (): Promise<void> => {
    if (settings.forceCarbonIntensityGCo2eKwh !== null) {
      answer = resolveFromSettings(settings);
      return;
    }
    const cloudConfigured = settings.cloudProvider !== null && settings.cloudRegion !== null;
    if (settings.countryIsoCode !== null || cloudConfigured) {
      // The user said where the machine is: no lookup.
      bundled = resolveFromSettings(settings);
      location = null;
      if (bundled.source.kind !== "cloud-region" && settings.countryIsoCode !== null) {
        const alpha2 = settings.country2letterIsoCode ?? alpha2FromAlpha3(settings.countryIsoCode);
        if (alpha2 !== undefined) zone = { countryAlpha2: alpha2.toUpperCase() };
      }
      await settleFirstAnswer();
      return;
    }
    const reasons: string[] = [];
    if (settings.cloudDetection) {
      cachedCloud ??= detectCloud(settings.cloudMetadataEndpoint, env);
      const cloud = await cachedCloud;
      if (cloud?.provider === "gcp") {
        const resolution = resolveOfflineIntensity({
          cloudProvider: "gcp",
          cloudRegion: cloud.region,
          edition: settings.intensityData,
        });
        if (resolution.source.kind === "cloud-region") {
          answer = { ...resolution, latitude: null, longitude: null };
          return;
        }
        reasons.push(`GCP region ${cloud.region} is not in the bundled cloud data`);
      } else if (cloud !== null) {
        // CodeCarbon's choice, kept: AWS and Azure publish no regional intensity, so their
        // machines are located like private infrastructure. The CSV's cloud_provider and
        // cloud_region stay empty and on_cloud "N", as CodeCarbon writes them; the detected
        // provider and region survive only in the source's fallbackReason (the provenance line).
        reasons.push(`${cloud.provider.toUpperCase()} region ${cloud.region} is treated as private infrastructure`);
      }
    }
    location = options.knownLocation ?? cachedLocation ?? null;
    if (location === null) {
      const result = await geolocate({
        primary: settings.geolocationEndpoint,
        backup: settings.geolocationBackupEndpoint,
        timeoutMs: timeoutMsFromSeconds(settings.geolocationTimeoutSecs),
        env,
      });
      location = result.location;
      if (location !== null && result.failures.length > 0) {
        log.debug(`Located by ${location.source} after: ${result.failures.join("; ")}`);
      }
      if (location === null) {
        // CodeCarbon falls back to Quebec (about 4 gCO2eq/kWh, hydro): a precise-looking figure
        // that understates most machines a hundredfold. The world average is honest about not knowing.
        // Same once-key as the bundled data's "no country is known" line: this one says more.
        log.once(
          "warning",
          "intensity.no-country",
          `Could not find where this machine is (${[...new Set(result.failures)].join("; ")}); using the world average carbon intensity. ` +
            "Set country_iso_code (and region) in .codecarbon.config or CODECARBON_COUNTRY_ISO_CODE to use your grid's figure.",
        );
        const world = resolveOfflineIntensity({ edition: settings.intensityData });
        reasons.push("geolocation failed");
        answer = {
          ...world,
          source: { ...world.source, fallbackReason: reasons.join("; ") },
          latitude: null,
          longitude: null,
        };
        return;
      }
    }
    cachedLocation = location;
    const resolution = resolveOfflineIntensity({
      countryIsoCode: location.countryIsoCode,
      region: location.region,
      edition: settings.intensityData,
    });
    const fallbackReason =
      [...reasons, ...(resolution.source.fallbackReason ? [resolution.source.fallbackReason] : [])].join("; ") || null;
    bundled = {
      ...resolution,
      source: { ...resolution.source, fallbackReason },
      location: { ...resolution.location, countryName: resolution.location.countryName ?? location.countryName },
      latitude: location.latitude,
      longitude: location.longitude,
    };
    if (location.latitude !== null && location.longitude !== null)
      zone = { latitude: location.latitude, longitude: location.longitude };
    else if (location.countryAlpha2 !== null) zone = { countryAlpha2: location.countryAlpha2 };
    await settleFirstAnswer();
  };

  const ready: Promise<LocatedResolution> = locate().then(
    () => answer ?? resolveFromSettings(settings),
    (error: unknown) => {
      log.once(
        "error",
        "online-intensity",
        `Finding the carbon intensity failed (${String(error)}); using the bundled data.`,
      );
      answer = resolveFromSettings(settings);
      return answer;
    },
  );

  return {
    ready,
    current() {
      if (answer !== null && token !== null && zone !== null && refreshing === null && !closed) {
        const cached = liveCache.get(zoneKey(zone));
        // The later of the last answer and the last failure: after a failure the next try waits a
        // full expiry too, instead of one call per measurement until Electricity Maps is back.
        const lastMs = Math.max(cached?.fetchedAtMs ?? -Infinity, failedAtMs ?? -Infinity);
        if (now() - lastMs >= ttlMs) void refreshOnce();
      }
      return answer;
    },
    close() {
      closed = true;
    },
    location: () => location,
  };
}
