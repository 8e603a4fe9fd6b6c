/**
 * Where a run's carbon intensity comes from over time. The offline provider answers at once from
 * the bundled data; the online one (./online) geolocates, may ask the cloud metadata service, and
 * refreshes a live intensity from Electricity Maps, all in the background: `current()` never
 * waits on the network, and energy measured before the first answer is priced when it arrives.
 */
import type { TrackerSettings } from "../config/options.generated";
import { resolveOfflineIntensity, type IntensityResolution } from "./offline";

/** An intensity answer together with the coordinates it was located at, when known. */
export interface LocatedResolution extends IntensityResolution {
  latitude: number | null;
  longitude: number | null;
}

export interface IntensityProvider {
  /** Settles with the first answer; never rejects (failures degrade to a fallback answer). */
  readonly ready: Promise<LocatedResolution>;
  /** The answer in force now, or null while the first one is still being looked up. Cheap and synchronous. */
  current(): LocatedResolution | null;
  /** Stops background refreshes. */
  close(): void;
  /** True when the provider has no background work (no socket or timer): the bundled data. */
  readonly quiet?: boolean;
}

/** The settings an offline lookup reads. */
export type OfflineIntensitySettings = Pick<
  TrackerSettings,
  "forceCarbonIntensityGCo2eKwh" | "countryIsoCode" | "region" | "cloudProvider" | "cloudRegion" | "intensityData"
>;

export function resolveFromSettings(s: OfflineIntensitySettings): LocatedResolution {
  const resolution = resolveOfflineIntensity({
    forcedGPerKWh: s.forceCarbonIntensityGCo2eKwh,
    countryIsoCode: s.countryIsoCode,
    region: s.region,
    cloudProvider: s.cloudProvider,
    cloudRegion: s.cloudRegion,
    edition: s.intensityData,
  });
  return { ...resolution, latitude: null, longitude: null };
}

/** The bundled data only: the answer is known at once and never changes during the run. */
export function offlineIntensityProvider(s: OfflineIntensitySettings): IntensityProvider {
  const answer = resolveFromSettings(s);
  return { ready: Promise.resolve(answer), current: () => answer, close: () => undefined, quiet: true };
}
