/**
 * Reads a notebook's live feed through the contents API (the poll in notebook-carbon.ts calls it).
 *
 * A notebook that is not tracked has no feed, and asking the server for a missing file answers
 * 404, which the browser logs as a console error at every poll. So the feed is looked up in its
 * folder's listing first: the notebook's folder until `codecarbon-live` appears there, then that
 * folder's own listing; the file is read only when it is listed, and only when it changed.
 */
import type { Contents } from "@jupyterlab/services";
import { describeError, type FeedRead } from "./model/feed-read";
import { joinPath, LIVE_FEED_FOLDER, parseLiveFeed, type LiveFeed } from "./protocol/live-feed";

function status(error: unknown): number | undefined {
  return (error as { response?: { status?: number } }).response?.status;
}

async function listing(contents: Contents.IManager, folder: string): Promise<Contents.IModel[] | null> {
  try {
    const model = await contents.get(folder, { type: "directory", content: true });
    return Array.isArray(model.content) ? (model.content as Contents.IModel[]) : [];
  } catch (error) {
    if (status(error) === 404) return null;
    throw error;
  }
}

/** One notebook folder's feeds: remembers whether `codecarbon-live` exists and the feed last read. */
export class FeedLocator {
  private liveFolderSeen = false;
  private last: { path: string; modified: string; feed: LiveFeed } | null = null;

  constructor(
    private readonly contents: Contents.IManager,
    readonly folder: string,
  ) {}

  /** Whether `codecarbon-live` was there at the latest look (the cells file can be written into it). */
  get liveFolderExists(): boolean {
    return this.liveFolderSeen;
  }

  /** Never rejects: every way a read can go wrong is a FeedRead the caller shows. */
  async read(fileName: string): Promise<FeedRead> {
    const liveFolder = joinPath(this.folder, LIVE_FEED_FOLDER);
    let entry: Contents.IModel | undefined;
    try {
      if (!this.liveFolderSeen) {
        const parent = await listing(this.contents, this.folder);
        if (parent === null) return { kind: "failed", reason: `the notebook's folder ${this.folder || "/"} is gone` };
        this.liveFolderSeen = parent.some((m) => m.name === LIVE_FEED_FOLDER && m.type === "directory");
        if (!this.liveFolderSeen) return { kind: "missing" };
      }
      const files = await listing(this.contents, liveFolder);
      if (files === null) {
        this.liveFolderSeen = false;
        return { kind: "missing" };
      }
      entry = files.find((m) => m.name === fileName && m.type !== "directory");
    } catch (error) {
      return { kind: "failed", reason: describeError(error) };
    }
    if (entry === undefined) return { kind: "missing" };
    const path = joinPath(liveFolder, fileName);
    if (this.last !== null && this.last.path === path && this.last.modified === entry.last_modified)
      return { kind: "feed", feed: this.last.feed };
    let model: Contents.IModel;
    try {
      model = await this.contents.get(path, { type: "file", format: "text", content: true });
    } catch (error) {
      // Deleted between the listing and the read.
      if (status(error) === 404) return { kind: "missing" };
      return { kind: "failed", reason: describeError(error) };
    }
    if (typeof model.content !== "string") return { kind: "invalid", reason: "the feed is not a text file" };
    try {
      const parsed = parseLiveFeed(model.content);
      if (!parsed.ok) return { kind: "invalid", reason: parsed.reason };
      this.last = { path, modified: model.last_modified, feed: parsed.feed };
      return { kind: "feed", feed: parsed.feed };
    } catch (error) {
      return { kind: "invalid", reason: describeError(error) };
    }
  }
}
