/**
 * The run's carbon-intensity provider: the bundled data offline; online, geolocation and live
 * figures, loaded only then (they bring the HTTP client along).
 */
import type { TrackerSettings } from "../config/options.generated";
import type { GeoLocation } from "./online";
import { offlineIntensityProvider, type IntensityProvider } from "./provider";

/** A provider that may also say where it found the machine (online runs). */
export type LocatingProvider = IntensityProvider & { location?(): GeoLocation | null };

export function createIntensityProvider(
  mode: "online" | "offline",
  settings: TrackerSettings,
  knownLocation: GeoLocation | null,
): LocatingProvider {
  if (mode === "offline") return offlineIntensityProvider(settings);
  const { createOnlineIntensityProvider } = require("./online") as typeof import("./online");
  return createOnlineIntensityProvider(settings, { knownLocation });
}
