/**
 * codecarbon for Node: estimate the energy and CO2 of running code and write CodeCarbon's
 * `emissions.csv`.
 */
export { EmissionsTracker, OfflineEmissionsTracker, type TrackingTarget } from "./tracker/emissions-tracker";
export { trackEmissions, type TrackEmissionsOptions } from "./tracker/track-emissions";
export type { TrackerOptions, TrackerSettings } from "./config/options.generated";
export type { ResolvedConfig, ConfigOrigin, ConfigLayer } from "./config";
export type { EmissionsData, TaskEmissionsData } from "./output/emissions-data";
export { CSV_COLUMNS } from "./output/emissions-data";
export type { DetectedHardware, PowerSource } from "./measure/types";
export { CodeCarbonError, ConfigError, isCodeCarbonError, type CodeCarbonErrorCode } from "./errors";
export { listCountryCodes } from "./intensity/offline";
export type { MeasurementSample } from "./output/sink";
export type { LiveFeed, LiveFeedPoint } from "./protocol/live-feed";
export { codecarbonKernel, runKernelCommand, showEmissions } from "./jupyter";
export { KERNEL_API_VERSION, type KernelRequest, type KernelReply } from "./protocol/kernel-command";
export type { RunProvenance } from "./output/provenance";
