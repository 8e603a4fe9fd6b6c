/**
 * The running totals of one run: energy per device (PUE applied), water, and emissions priced
 * interval by interval with the carbon intensity known at that moment (CodeCarbon's incremental
 * rule: 1 kWh at 100, then 200, then 300 g/kWh gives 0.1, 0.3, 0.6 kg, not 0.9).
 *
 * Intervals are chained from the run's start instant, so their durations add up to the run's
 * duration exactly: nothing is lost between measurements.
 */
import type { DeviceKind } from "../measure/types";

export interface DeviceEnergy {
  device: DeviceKind;
  /** Energy of the interval in kWh, before PUE. */
  energyKWh: number;
}

export interface RunTotals {
  durationS: number;
  /** kWh with PUE applied, per device type. */
  cpuEnergyKWh: number;
  gpuEnergyKWh: number;
  ramEnergyKWh: number;
  /** kWh before PUE, per device type: the basis of mean power (PUE does not change power). */
  cpuRawKWh: number;
  gpuRawKWh: number;
  ramRawKWh: number;
  waterL: number;
  emissionsKg: number;
  /** Energy measured while no carbon intensity was known yet; priced as soon as one is. */
  unpricedKWh: number;
  measurementCount: number;
}

export function emptyTotals(): RunTotals {
  return {
    durationS: 0,
    cpuEnergyKWh: 0,
    gpuEnergyKWh: 0,
    ramEnergyKWh: 0,
    cpuRawKWh: 0,
    gpuRawKWh: 0,
    ramRawKWh: 0,
    waterL: 0,
    emissionsKg: 0,
    unpricedKWh: 0,
    measurementCount: 0,
  };
}

export class RunAccumulator {
  private readonly totals: RunTotals = emptyTotals();

  constructor(
    private readonly pue: number,
    private readonly wueLPerKWh: number,
  ) {}

  /**
   * Adds one measured interval. `intensityGPerKWh` is the intensity in force now, or null when
   * it is not known yet (an online lookup still running).
   */
  add(intervalS: number, readings: readonly DeviceEnergy[], intensityGPerKWh: number | null): void {
    const t = this.totals;
    let intervalKWh = 0;
    for (const { device, energyKWh } of readings) {
      const raw = Number.isFinite(energyKWh) && energyKWh > 0 ? energyKWh : 0;
      const withPue = raw * this.pue;
      intervalKWh += withPue;
      if (device === "cpu") {
        t.cpuRawKWh += raw;
        t.cpuEnergyKWh += withPue;
      } else if (device === "gpu") {
        t.gpuRawKWh += raw;
        t.gpuEnergyKWh += withPue;
      } else {
        t.ramRawKWh += raw;
        t.ramEnergyKWh += withPue;
      }
    }
    t.waterL += intervalKWh * this.wueLPerKWh;
    t.durationS += Math.max(0, intervalS);
    t.measurementCount += 1;
    t.unpricedKWh += intervalKWh;
    if (intensityGPerKWh !== null) this.price(intensityGPerKWh);
  }

  /** Prices the energy not priced yet with `intensityGPerKWh`. */
  price(intensityGPerKWh: number): void {
    this.totals.emissionsKg += (this.totals.unpricedKWh * intensityGPerKWh) / 1000;
    this.totals.unpricedKWh = 0;
  }

  snapshot(): RunTotals {
    return { ...this.totals };
  }
}

/** The difference between two snapshots of the same run (a task, or the part since a flush). */
export function subtractTotals(later: RunTotals, earlier: RunTotals): RunTotals {
  const out = emptyTotals();
  for (const key of Object.keys(out) as Array<keyof RunTotals>) out[key] = later[key] - earlier[key];
  return out;
}
