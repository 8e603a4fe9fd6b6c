/**
 * What one read of a notebook's live feed does to what the extension shows, as a pure function:
 * the poll, the toggle's state machine and the sidebar all follow from it. A read that fails for
 * any reason other than "no feed yet" is a problem the user sees (and the poll backs off on),
 * never a silent no-op.
 */
import type { LiveFeed } from "../protocol/live-feed";
import { isFeedStale } from "./tracking-state";

/** The result of reading the feed file through the contents API. */
export type FeedRead =
  | { kind: "feed"; feed: LiveFeed }
  /** No feed file (404): the kernel has not tracked yet. Not a problem. */
  | { kind: "missing" }
  /** The file is there but is not a feed this extension can read. */
  | { kind: "invalid"; reason: string }
  /** The server or the network failed. */
  | { kind: "failed"; reason: string };

export interface FeedView {
  /** The last good feed: kept through failed reads, so a passing hiccup does not blank the chart. */
  feed: LiveFeed | null;
  /** Why the latest read failed, in words for the user; null once a read succeeds or finds no feed. */
  problem: string | null;
  /** The feed's updatedAt when it was last seen to change, and when (ms): a feed frozen for long is stale. */
  seenUpdatedAt: string | null;
  seenAtMs: number;
}

export const NO_FEED: FeedView = { feed: null, problem: null, seenUpdatedAt: null, seenAtMs: 0 };

export interface FeedReadOutcome {
  view: FeedView;
  /** What the tracking state machine hears; null when the read says nothing about the tracker. */
  event: { feed: LiveFeed | null; stale: boolean } | null;
  /** The read failed: the poll rejects this tick, so it backs off and its phase says "rejected". */
  failed: boolean;
  /** A problem the user has not been told about yet (a new one, or a different reason). */
  newProblem: string | null;
}

export function applyFeedRead(view: FeedView, read: FeedRead, nowMs: number): FeedReadOutcome {
  switch (read.kind) {
    case "feed": {
      const changed = read.feed.updatedAt !== view.seenUpdatedAt;
      const seenAtMs = changed ? nowMs : view.seenAtMs;
      const next: FeedView = { feed: read.feed, problem: null, seenUpdatedAt: read.feed.updatedAt, seenAtMs };
      return {
        view: next,
        event: { feed: read.feed, stale: isFeedStale(read.feed, nowMs - seenAtMs) },
        failed: false,
        newProblem: null,
      };
    }
    case "missing":
      // seenUpdatedAt is kept: the same feed coming back is not news for the staleness clock.
      return {
        view: { ...view, feed: null, problem: null },
        event: { feed: null, stale: false },
        failed: false,
        newProblem: null,
      };
    case "invalid":
    case "failed": {
      const problem = read.reason;
      return {
        view: { ...view, problem },
        event: null,
        failed: true,
        newProblem: problem === view.problem ? null : problem,
      };
    }
  }
}

/** Words for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
