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

// The notebook entry points load the configuration and the tracker on first call, so that
// importing the package stays cheap in every process that never calls them.
const jupyter = () => require("./jupyter") as typeof import("./jupyter");
export const codecarbonKernel: typeof import("./jupyter").codecarbonKernel = (input, target) =>
  jupyter().codecarbonKernel(input, target);
export const runKernelCommand: typeof import("./jupyter").runKernelCommand = (json) => jupyter().runKernelCommand(json);
export const showEmissions: typeof import("./jupyter").showEmissions = (value) => jupyter().showEmissions(value);
export { KERNEL_API_VERSION, type KernelRequest, type KernelReply } from "./protocol/kernel-command";
export type { RunProvenance } from "./output/provenance";
