/**
 * `codecarbon detect`: the hardware a tracker started here would see, and for each device which
 * power source it would use and why (the same choice planHardware makes for a run, with the
 * configuration applied: rapl_dir, gpu_ids, force_cpu_power, force_mode_cpu_load …).
 */
import type { IntensityResolution } from "../intensity/offline";
import { resolveFromSettings } from "../intensity/provider";
import type { TrackerSettings } from "../config/options.generated";
import { probeNvidia } from "../measure/gpu-nvidia";
import { planHardware } from "../measure/hardware";
import { probeRapl } from "../measure/rapl";
import { readSocketCount, readSystemFacts } from "../measure/system-info";
import type { DetectedHardware, DeviceKind, PowerSource } from "../measure/types";
import { formatSignificant as formatNumber } from "../protocol/format";

export interface DevicePower {
  device: DeviceKind;
  /** The source a run would use; null for a device that is not measured (no GPU). */
  source: PowerSource | null;
  /** One line for people: the method and its figures. */
  description: string;
  /** Why this source rather than a better one (e.g. why not RAPL). */
  notes: string[];
}

export interface DetectReport {
  hardware: DetectedHardware;
  power: DevicePower[];
  /** The bundled figure a tracker would start from (online trackers may then locate themselves). */
  intensity: {
    gPerKWh: number;
    label: string;
    dataset: string;
    edition: string | null;
    year: number | null;
    zone: string | null;
    fallbackReason: string | null;
  };
}

function describeCpu(source: PowerSource, settings: TrackerSettings): string {
  switch (source.method) {
    case "rapl": {
      const kinds = source.domains.some((d) => d.includes("psys"))
        ? "RAPL platform (psys) domain"
        : "RAPL package domains";
      return `${kinds} ${source.domains.join(", ")}${source.includesDram ? " + DRAM" : ""} (${settings.raplDir})`;
    }
    case "tdp": {
      const model = `× ${source.loadModel === "process" ? "this process tree's" : "machine"} CPU load`;
      switch (source.tdpOrigin) {
        case "forced":
          return `force_cpu_power: ${formatNumber(source.tdpW)} W used as the TDP, ${model}`;
        case "matched":
          return `TDP table: matched "${source.matchedName ?? "?"}" ${formatNumber(source.tdpW)} W, ${model}`;
        case "per-core-default":
          return `TDP table: no match, 4 W per thread = ${formatNumber(source.tdpW)} W, ${model}`;
        case "generic-default":
          return `TDP table: CPU model unknown, generic ${formatNumber(source.tdpW)} W, ${model}`;
      }
    }
    // Falls through only for the sources of other devices, which never describe the CPU.
    default:
      return describeOther(source);
  }
}

function describeOther(source: PowerSource): string {
  switch (source.method) {
    case "forced":
      return `force_${source.device}_power: constant ${formatNumber(source.powerW)} W`;
    case "dimm-model":
      return `DIMM model: ${source.dimmCount} DIMM${source.dimmCount === 1 ? "" : "s"} for ${formatNumber(source.sizeGiB)} GiB${source.arm ? " (ARM)" : ""}${source.mode === "process" ? ", scaled by this process tree's memory" : ""}`;
    case "nvidia-smi-energy-counter":
      return `nvidia-smi energy counter, GPU ${source.gpuIndices.join(", ")}`;
    case "nvidia-smi-power-draw":
      return `nvidia-smi power draw × time, GPU ${source.gpuIndices.join(", ")}`;
    case "rapl":
    case "tdp":
      return source.method;
  }
}

/** Why the CPU is not measured by RAPL, in the user's terms. */
function whyNotRapl(settings: TrackerSettings): string {
  if (settings.forceCpuPower !== null) return "RAPL not used: force_cpu_power is set";
  if (process.platform !== "linux") return `RAPL not used: it is read on Linux only (this is ${process.platform})`;
  const probe = probeRapl({
    root: settings.raplDir,
    includeDram: settings.raplIncludeDram,
    preferPsys: settings.raplPreferPsys,
  });
  if (!probe.ok) return `no RAPL: ${probe.reason}`;
  return settings.forceModeCpuLoad ? "RAPL is available but force_mode_cpu_load is set" : "RAPL not used";
}

export async function detectHardware(
  settings: TrackerSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DetectReport> {
  const plan = await planHardware(settings, readSystemFacts(), env);
  // planHardware only counts sockets when a TDP needs them; the report shows the real count.
  const hardware: DetectedHardware = { ...plan.hardware, cpu_physical_count: await readSocketCount() };
  const power: DevicePower[] = [];

  for (const source of plan.sources.filter((s) => s.device === "cpu")) {
    power.push({
      device: "cpu",
      source,
      description: describeCpu(source, settings),
      notes: source.method === "rapl" ? [] : [whyNotRapl(settings)],
    });
  }
  for (const source of plan.sources.filter((s) => s.device === "ram")) {
    power.push({ device: "ram", source, description: describeOther(source), notes: [] });
  }
  const gpuSources = plan.sources.filter((s) => s.device === "gpu");
  for (const source of gpuSources) {
    const notes =
      hardware.gpu_ids === null ? [] : [`gpu_ids selects GPU ${hardware.gpu_ids.join(", ")} of ${hardware.gpu_count}`];
    power.push({ device: "gpu", source, description: describeOther(source), notes });
  }
  if (gpuSources.length === 0) {
    let reason: string;
    if (hardware.gpu_count > 0) {
      reason = `gpu_ids selects none of the ${hardware.gpu_count} GPUs`;
    } else {
      const probe = await probeNvidia({ env });
      reason = probe.ok ? "nvidia-smi lists no GPU" : probe.reason;
    }
    power.push({ device: "gpu", source: null, description: "not measured", notes: [`no GPU: ${reason}`] });
  }
  return { hardware, power, intensity: intensityForReport(resolveFromSettings(settings)) };
}

/**
 * The report's intensity: the label names the source and year (for a US state, which of zone, newer eGRID or eGRID
 * 2016).
 */
export function intensityForReport(r: IntensityResolution): DetectReport["intensity"] {
  return {
    gPerKWh: r.intensityGPerKWh,
    label: r.source.label,
    dataset: r.source.dataset,
    edition: r.source.edition ?? null,
    year: r.source.year,
    zone: r.source.zone ?? null,
    fallbackReason: r.source.fallbackReason,
  };
}

/** The report as `codecarbon detect` prints it. */
export function renderDetectReport(report: DetectReport): string {
  const h = report.hardware;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const gpuLine =
    h.gpu_count === 0
      ? "none"
      : `${h.gpu_model}${h.gpu_ids === null ? "" : ` (only tracking GPU ids ${h.gpu_ids.join(", ")})`}`;
  const i = report.intensity;
  const lines = [
    "Detected hardware",
    `  CPU:  ${h.cpu_model} (${plural(h.cpu_count, "thread")}, ${plural(h.cpu_physical_count, "socket")})`,
    `  RAM:  ${formatNumber(h.ram_total_size)} GiB`,
    `  GPU:  ${gpuLine}`,
    "Power sources",
  ];
  for (const entry of report.power) {
    lines.push(`  ${entry.device.toUpperCase()}:  ${entry.description}`);
    for (const note of entry.notes) lines.push(`        ${note}`);
  }
  lines.push("Carbon intensity");
  lines.push(`  ${formatNumber(i.gPerKWh)} gCO2eq/kWh: ${i.label}`);
  lines.push(
    `        ${i.dataset}${i.edition === null ? "" : `, edition ${i.edition}`}${i.zone === null ? "" : `, zone ${i.zone}`}`,
  );
  if (i.fallbackReason !== null) lines.push(`        ${i.fallbackReason}`);
  lines.push("        (from the configuration and the bundled data; an online tracker may locate itself at start)");
  return lines.map((line) => `${line}\n`).join("");
}
