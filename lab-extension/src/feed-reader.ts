/** Reads a notebook's live feed through the contents API (the poll in notebook-carbon.ts calls it). */
import type { Contents } from "@jupyterlab/services";
import { describeError, type FeedRead } from "./model/feed-read";
import { parseLiveFeed } from "./protocol/live-feed";

/** Never rejects: every way a read can go wrong is a FeedRead the caller shows. */
export async function readFeed(contents: Contents.IManager, feedPath: string): Promise<FeedRead> {
  let model: Contents.IModel;
  try {
    model = await contents.get(feedPath, { type: "file", format: "text", content: true });
  } catch (error) {
    const status = (error as { response?: { status?: number } }).response?.status;
    if (status === 404) return { kind: "missing" };
    return { kind: "failed", reason: describeError(error) };
  }
  if (typeof model.content !== "string") return { kind: "invalid", reason: "the feed is not a text file" };
  try {
    const parsed = parseLiveFeed(model.content);
    return parsed.ok ? { kind: "feed", feed: parsed.feed } : { kind: "invalid", reason: parsed.reason };
  } catch (error) {
    return { kind: "invalid", reason: describeError(error) };
  }
}
