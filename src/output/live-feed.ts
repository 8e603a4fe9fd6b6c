/**
 * The live feed: a small file, rewritten atomically at every measurement by the sampler thread,
 * that the JupyterLab extension reads through the Jupyter server's contents API.
 *
 * CONTRACT STUB: the notebook work fills this in.
 */
import type { TrackerSettings } from "../config/options.generated";
import type { OutputSink } from "./sink";

/** Where a run's live feed goes. Plain data: it crosses into the sampler worker. */
export interface LiveFeedTarget {
  file: string;
}

/** Called on the user's thread at start(): cheap and synchronous; null when no feed is wanted. */
export function findLiveFeedTarget(_settings: TrackerSettings, _runId: string): LiveFeedTarget | null {
  return null;
}

/** Called in the sampler worker. */
export function createLiveFeedSink(target: LiveFeedTarget): OutputSink {
  return { name: `live-feed ${target.file}`, out: async () => undefined };
}
