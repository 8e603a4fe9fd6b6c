/**
 * Reads a notebook's live feed through the contents API on a timer. The timer is the caller's
 * to set (fast while the sidebar shows a running chart, slow otherwise, off while the browser
 * tab is hidden), so an idle JupyterLab costs nothing.
 */
import type { Contents } from "@jupyterlab/services";
import { parseLiveFeed, type LiveFeed } from "./protocol/live-feed";

export type FeedRead = { kind: "feed"; feed: LiveFeed } | { kind: "missing" } | { kind: "invalid"; reason: string } | { kind: "failed"; reason: string };

export async function readFeed(contents: Contents.IManager, feedPath: string): Promise<FeedRead> {
  let model: Contents.IModel;
  try {
    model = await contents.get(feedPath, { type: "file", format: "text", content: true });
  } catch (error) {
    const status = (error as { response?: { status?: number } }).response?.status;
    if (status === 404) return { kind: "missing" };
    return { kind: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
  if (typeof model.content !== "string") return { kind: "invalid", reason: "the feed is not a text file" };
  const parsed = parseLiveFeed(model.content);
  return parsed.ok ? { kind: "feed", feed: parsed.feed } : { kind: "invalid", reason: parsed.reason };
}

export class Poller {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private intervalMs: number | null = null;
  private running = false;

  constructor(private readonly tick: () => Promise<void>) {}

  /** null stops the timer; a new interval takes effect at once. */
  setInterval(intervalMs: number | null): void {
    if (intervalMs === this.intervalMs) return;
    this.intervalMs = intervalMs;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (intervalMs !== null) this.schedule(0);
  }

  /** Reads now (after a command, or when a notebook becomes current). */
  poke(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.schedule(0);
  }

  dispose(): void {
    this.intervalMs = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.run(), delayMs);
  }

  private async run(): Promise<void> {
    this.timer = null;
    if (this.running) return;
    this.running = true;
    try {
      await this.tick();
    } finally {
      this.running = false;
      if (this.intervalMs !== null && this.timer === null) this.schedule(this.intervalMs);
    }
  }
}
