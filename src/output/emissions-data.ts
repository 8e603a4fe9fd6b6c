/**
 * The emissions record: one row of `emissions.csv`, with CodeCarbon's 38 columns in its order.
 * Field names are the CSV column names on purpose, so a row, `finalEmissionsData` and CodeCarbon's
 * own readers all speak the same vocabulary.
 */

export const CSV_COLUMNS = [
  "timestamp",
  "project_name",
  "run_id",
  "experiment_id",
  "duration",
  "emissions",
  "emissions_rate",
  "cpu_power",
  "gpu_power",
  "ram_power",
  "cpu_energy",
  "gpu_energy",
  "ram_energy",
  "energy_consumed",
  "water_consumed",
  "country_name",
  "country_iso_code",
  "region",
  "cloud_provider",
  "cloud_region",
  "os",
  "python_version",
  "codecarbon_version",
  "cpu_count",
  "cpu_model",
  "gpu_count",
  "gpu_model",
  "longitude",
  "latitude",
  "ram_total_size",
  "tracking_mode",
  "cpu_utilization_percent",
  "gpu_utilization_percent",
  "ram_utilization_percent",
  "ram_used_gb",
  "on_cloud",
  "pue",
  "wue",
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];

/**
 * The columns CodeCarbon writes as Python floats (every number but the two counts), so a whole
 * value is written `1.0` and pandas reads the column as float64, as it reads CodeCarbon's files.
 */
export const FLOAT_COLUMNS: ReadonlySet<CsvColumn> = new Set<CsvColumn>([
  "duration",
  "emissions",
  "emissions_rate",
  "cpu_power",
  "gpu_power",
  "ram_power",
  "cpu_energy",
  "gpu_energy",
  "ram_energy",
  "energy_consumed",
  "water_consumed",
  "longitude",
  "latitude",
  "ram_total_size",
  "cpu_utilization_percent",
  "gpu_utilization_percent",
  "ram_utilization_percent",
  "ram_used_gb",
  "pue",
  "wue",
]);

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
