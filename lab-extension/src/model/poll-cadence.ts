/**
 * How often a notebook's live feed is read. Reads cost a request to the server each, so only
 * what the user looks at is read fast: the current notebook's chart at the measurement cadence,
 * the current toggle every few seconds (to notice trackers started by cells), other tracked
 * notebooks rarely (to notice their runs end), and nothing else. A hidden browser tab reads
 * nothing: the poll's standby handles that, not this function.
 */

/** The fastest and slowest cadence of a visible chart, whatever the run's measure_power_secs. */
export const CHART_MIN_INTERVAL_MS = 1000;
export const CHART_MAX_INTERVAL_MS = 5000;
/** The current notebook without a visible chart: the toggle follows cells within this delay. */
export const TOGGLE_INTERVAL_MS = 3000;
/** A tracked notebook in the background. */
export const BACKGROUND_INTERVAL_MS = 10_000;
/** Failed reads back off up to this interval. */
export const FEED_BACKOFF_MAX_MS = 30_000;

export interface PollContext {
  /** The notebook is the one the sidebar and the status bar follow. */
  isCurrent: boolean;
  sidebarVisible: boolean;
  tracking: boolean;
  /** The run's measurement interval from its feed, when a feed has been read. */
  measurePowerSecs: number | null;
}

/** Milliseconds between reads, or null for no timer (the feed is then read only on demand). */
export function feedPollIntervalMs(context: PollContext): number | null {
  if (!context.isCurrent) return context.tracking ? BACKGROUND_INTERVAL_MS : null;
  if (context.sidebarVisible && context.tracking) {
    const cadenceMs = (context.measurePowerSecs ?? 1) * 1000;
    return Math.min(Math.max(cadenceMs, CHART_MIN_INTERVAL_MS), CHART_MAX_INTERVAL_MS);
  }
  return TOGGLE_INTERVAL_MS;
}
