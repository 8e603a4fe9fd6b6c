/**
 * The emissions record: one row of `emissions.csv`, with CodeCarbon's 38 columns in its order.
 * Field names are the CSV column names on purpose, so a row, `finalEmissionsData` and CodeCarbon's
 * own readers all speak the same vocabulary.
 */

/**
 * Every column in CodeCarbon's order, with how CodeCarbon writes it: text, a count (a Python
 * int), or a Python float (a whole value written `1.0`, so pandas reads the column as float64, as
 * it reads CodeCarbon's files). One table, so a new column cannot be listed without its kind.
 */
const COLUMN_KINDS = {
  timestamp: "text",
  project_name: "text",
  run_id: "text",
  experiment_id: "text",
  duration: "float",
  emissions: "float",
  emissions_rate: "float",
  cpu_power: "float",
  gpu_power: "float",
  ram_power: "float",
  cpu_energy: "float",
  gpu_energy: "float",
  ram_energy: "float",
  energy_consumed: "float",
  water_consumed: "float",
  country_name: "text",
  country_iso_code: "text",
  region: "text",
  cloud_provider: "text",
  cloud_region: "text",
  os: "text",
  python_version: "text",
  codecarbon_version: "text",
  cpu_count: "count",
  cpu_model: "text",
  gpu_count: "count",
  gpu_model: "text",
  longitude: "float",
  latitude: "float",
  ram_total_size: "float",
  tracking_mode: "text",
  cpu_utilization_percent: "float",
  gpu_utilization_percent: "float",
  ram_utilization_percent: "float",
  ram_used_gb: "float",
  on_cloud: "text",
  pue: "float",
  wue: "float",
} as const satisfies Record<string, "text" | "count" | "float">;

export type CsvColumn = keyof typeof COLUMN_KINDS;

export const CSV_COLUMNS = Object.keys(COLUMN_KINDS) as readonly CsvColumn[];

/** The columns CodeCarbon writes as Python floats: every number but the two counts. */
export const FLOAT_COLUMNS: ReadonlySet<CsvColumn> = new Set(CSV_COLUMNS.filter((c) => COLUMN_KINDS[c] === "float"));

/** Units: seconds, kg CO2eq, kg/s, W (mean over the run), kWh (PUE applied), litres, GiB, %. */
export interface EmissionsData {
  /** Local time of the row, `YYYY-MM-DDTHH:MM:SS`, no zone (as CodeCarbon). */
  timestamp: string;
  project_name: string;
  run_id: string;
  experiment_id: string;
  duration: number;
  emissions: number;
  emissions_rate: number;
  cpu_power: number;
  gpu_power: number;
  ram_power: number;
  cpu_energy: number;
  gpu_energy: number;
  ram_energy: number;
  energy_consumed: number;
  water_consumed: number;
  country_name: string | null;
  country_iso_code: string | null;
  region: string | null;
  cloud_provider: string;
  cloud_region: string;
  os: string;
  /** Holds the Node.js version (`process.versions.node`): the column keeps CodeCarbon's name. */
  python_version: string;
  codecarbon_version: string;
  cpu_count: number;
  cpu_model: string;
  gpu_count: number;
  gpu_model: string;
  longitude: number | null;
  latitude: number | null;
  ram_total_size: number;
  tracking_mode: "machine" | "process";
  cpu_utilization_percent: number;
  gpu_utilization_percent: number;
  ram_utilization_percent: number;
  ram_used_gb: number;
  on_cloud: "Y" | "N";
  pue: number;
  wue: number;
}

/** A task's share of a run (`startTask` … `stopTask`): the run's fields less the run-level ones. */
export interface TaskEmissionsData extends Omit<EmissionsData, "experiment_id" | "pue" | "wue"> {
  task_name: string;
}
