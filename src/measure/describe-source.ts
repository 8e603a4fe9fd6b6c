/**
 * A power source in words, as the log lines, the notebook summary, the live feed and the
 * provenance record show it.
 */
import type { PowerSource } from "./types";
import { formatSignificant } from "../protocol/format";

export function describeSource(source: PowerSource): string {
  switch (source.method) {
    case "rapl":
      return `CPU from RAPL (${source.domains.join(", ")})`;
    case "tdp":
      return (
        `CPU from TDP ${formatSignificant(source.tdpW)} W × ${source.loadModel} load` +
        (source.matchedName ? ` (${source.matchedName})` : ` (${source.tdpOrigin})`)
      );
    case "forced":
      return `${source.device.toUpperCase()} forced at ${formatSignificant(source.powerW)} W`;
    case "dimm-model":
      return `RAM from a ${source.dimmCount}-DIMM model (${formatSignificant(source.sizeGiB)} GiB${source.mode === "process" ? ", process RSS" : ""})`;
    case "nvidia-smi-energy-counter":
      return `GPU ${source.gpuIndices.join(",")} from the NVIDIA energy counter`;
    case "nvidia-smi-power-draw":
      return `GPU ${source.gpuIndices.join(",")} from NVIDIA power draw`;
  }
}
