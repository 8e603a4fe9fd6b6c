/**
 * The Code Carbon API (BETA) bodies we send and the answers we read, typed once. Answers are
 * checked field by field at the edge: a server that answers with another shape is an error
 * with a clear message, never an `undefined` deep inside the uploader.
 */

/** POST /runs. */
export interface RunCreate {
  timestamp: string;
  experiment_id: string;
  os: string;
  python_version: string;
  codecarbon_version: string;
  cpu_count: number;
  cpu_model: string;
  gpu_count: number;
  gpu_model: string;
  longitude: number;
  latitude: number;
  region: string | null;
  provider: string | null;
  ram_total_size: number;
  tracking_mode: string;
}

/** POST /emissions. */
export interface EmissionCreate {
  timestamp: string;
  run_id: string;
  /** Whole seconds: the server refuses anything else. */
  duration: number;
  emissions_sum: number;
  emissions_rate: number;
  cpu_power: number;
  gpu_power: number;
  ram_power: number;
  cpu_energy: number;
  gpu_energy: number;
  ram_energy: number;
  energy_consumed: number;
  cpu_utilization_percent: number;
  gpu_utilization_percent: number;
  ram_utilization_percent: number;
  wue: number;
}

/** POST /experiments. */
export interface ExperimentCreate {
  timestamp: string;
  name: string;
  description: string;
  on_cloud: boolean;
  project_id: string;
  country_name?: string;
  country_iso_code?: string;
  region?: string;
  cloud_provider?: string;
  cloud_region?: string;
}

export interface Experiment {
  id: string;
  name: string;
  project_id: string | null;
}

export interface Project {
  id: string;
  name: string;
  description: string | null;
  organization_id: string | null;
}

export class ApiBodyError extends Error {
  override name = "ApiBodyError";
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ApiBodyError(`the API answered ${what} with something other than a JSON object`);
  return body as Record<string, unknown>;
}

function requiredText(o: Record<string, unknown>, key: string, what: string): string {
  const value = o[key];
  if (typeof value !== "string" || value === "") throw new ApiBodyError(`the API answered ${what} without a "${key}"`);
  return value;
}

function optionalText(o: Record<string, unknown>, key: string): string | null {
  const value = o[key];
  return typeof value === "string" ? value : null;
}

/** The `id` of a created object (POST /runs, POST /experiments). */
export function parseCreatedId(body: unknown, what: string): string {
  return requiredText(object(body, what), "id", what);
}

export function parseExperiment(body: unknown): Experiment {
  const o = object(body, "the experiment");
  return {
    id: requiredText(o, "id", "the experiment"),
    name: optionalText(o, "name") ?? "",
    project_id: optionalText(o, "project_id"),
  };
}

export function parseExperiments(body: unknown): Experiment[] {
  if (!Array.isArray(body))
    throw new ApiBodyError("the API answered the experiment list with something other than a JSON array");
  return body.map(parseExperiment);
}

export function parseProject(body: unknown): Project {
  const o = object(body, "the project");
  return {
    id: requiredText(o, "id", "the project"),
    name: optionalText(o, "name") ?? "",
    description: optionalText(o, "description"),
    organization_id: optionalText(o, "organization_id"),
  };
}
