/**
 * A run's summary for notebooks: HTML through tslab's display API when the code runs in a tslab
 * kernel, text everywhere else. Every value shown comes from our own numbers or is escaped:
 * project names and labels are user data.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { EmissionsData } from "../output/emissions-data";
import { CAR_KG_PER_KM, carMetres, formatSignificant } from "../protocol/format";

export interface SummaryFigures {
  energyKWh: number;
  emissionsKg: number;
  durationS: number;
  powerW: { cpu: number; gpu: number; ram: number };
  projectName: string;
  runId: string;
}

export function figuresFromRow(row: EmissionsData): SummaryFigures {
  return {
    energyKWh: row.energy_consumed,
    emissionsKg: row.emissions,
    durationS: row.duration,
    powerW: { cpu: row.cpu_power, gpu: row.gpu_power, ram: row.ram_power },
    projectName: row.project_name,
    runId: row.run_id,
  };
}

export interface SummaryInput {
  figures: SummaryFigures;
  /** e.g. "CPU from RAPL (package-0)". */
  sources: string[];
  intensityGPerKWh: number | null;
  intensitySource: string | null;
  state: "running" | "stopped";
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? formatSignificant(value, digits) : "–");

function facts(input: SummaryInput): [string, string][] {
  const r = input.figures;
  const rows: [string, string][] = [
    ["Energy", `${fixed(r.energyKWh * 1000, 4)} Wh`],
    ["Emissions", `${fixed(r.emissionsKg * 1000, 4)} g CO2eq`],
    ["Duration", `${fixed(r.durationS, 4)} s`],
    ["Power", `CPU ${fixed(r.powerW.cpu, 3)} W · GPU ${fixed(r.powerW.gpu, 3)} W · RAM ${fixed(r.powerW.ram, 3)} W`],
    [
      "Carbon intensity",
      input.intensityGPerKWh === null
        ? "not known yet"
        : `${fixed(input.intensityGPerKWh, 4)} g CO2eq/kWh${input.intensitySource ? ` (${input.intensitySource})` : ""}`,
    ],
    ["Equivalent", `${fixed(carMetres(r.emissionsKg), 3)} m driven by an average car (${CAR_KG_PER_KM} kg/km)`],
  ];
  if (input.sources.length > 0) rows.push(["Measured with", input.sources.join("; ")]);
  rows.push(["Project / run", `${r.projectName} / ${r.runId}`]);
  return rows;
}

export function summaryText(input: SummaryInput): string {
  const lines = facts(input).map(([k, v]) => `  ${k.padEnd(17)} ${v}`);
  return [`codecarbon (${input.state})`, ...lines].join("\n");
}

export function summaryHtml(input: SummaryInput): string {
  const cells = facts(input)
    .map(
      ([k, v]) =>
        `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(k)}</th><td style="text-align:left">${escapeHtml(v)}</td></tr>`,
    )
    .join("");
  return `<div class="codecarbon-summary"><strong>codecarbon</strong> <em>${escapeHtml(input.state)}</em><table>${cells}</table></div>`;
}

interface TslabDisplay {
  html(html: string): void;
  text(text: string): void;
}

/**
 * The display API of the tslab that runs this kernel (tslab is an optional peer: its own copy
 * is the one wired to the kernel's output). Null outside tslab.
 */
export function tslabDisplay(): TslabDisplay | null {
  const main = require.main?.filename;
  if (main === undefined) return null;
  let dir = path.dirname(fs.realpathSync(main));
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name !== "tslab") continue;
      const api = require(path.join(dir, "dist", "public.js")) as { display?: TslabDisplay };
      return api.display ?? null;
    } catch {
      // Not tslab's folder: keep walking up.
    }
  }
  return null;
}
