/**
 * A run's notebook parts, the live feed and the per-cell rows: the sampler loads this module only
 * in a notebook, so a script's sampler never loads the notebook's code.
 */
import type { OutputEntry } from "../output/registry";
import type { TaskBook } from "./tasks";
import { CellAttribution } from "../notebook/cells";
import { liveFeedOutput, type LiveFeedTarget } from "../notebook/live-feed-sink";

/** The per-cell attribution (its rows are the run's task rows for each cell's share) and the live feed. */
export function notebookParts(feed: LiveFeedTarget, tasks: TaskBook): { cells: CellAttribution; output: OutputEntry } {
  const cells = new CellAttribution(feed, (name, share) => tasks.rowForShare(name, share));
  return { cells, output: liveFeedOutput(feed) };
}
