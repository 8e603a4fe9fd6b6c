/**
 * The no-loss queue between the tracker and the network: every point bound for the Code Carbon
 * API or emissions_endpoint is appended here (and fsync'd) before any attempt to send it, and
 * removed only after the server accepted it. A run that ends while the API is down leaves its
 * points here; the next run in the same output folder sends them first, in order.
 *
 * Layout, in `<output_dir>/.codecarbon/`: `spool.jsonl` (pending items, oldest first),
 * `api-runs.json` (our run id → the API's run id, so a later process can finish a run's
 * uploads), `spool-rejected.jsonl` (items a server refused for good, with the reason: kept,
 * never dropped silently). Mutations happen under a lock file, so processes sharing the folder
 * do not lose each other's items.
 *
 * The folder is shared, so the spool is untrusted input: an item names where it was bound (its
 * endpoint or URL, without any user:password) and which credentials it was meant for (a short
 * fingerprint, never the key), and the uploader sends only items bound for the endpoint it is
 * configured with, under that configuration's own key. Nothing here holds a secret, and the files
 * are private to their user (0600) all the same.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { createHash, randomUUID } from "node:crypto";
import { makeDirectory, writeFileAtomic } from "../fs/atomic-write";
import { withFileLock } from "../fs/file-lock";
import { readUntrustedFile } from "../fs/untrusted-file";
import type { EmissionCreate, RunCreate } from "./types";

/**
 * `endpoint` / `url`: where the item is bound, without credentials (`destinationOf`); `auth`:
 * `credentialsFingerprint` of the configuration that spooled it.
 */
export type SpoolItem =
  | { id: string; kind: "run"; runKey: string; endpoint: string; auth?: string; body: RunCreate }
  | {
      id: string;
      kind: "emission";
      runKey: string;
      endpoint: string;
      auth?: string;
      body: Omit<EmissionCreate, "run_id">;
    }
  | { id: string; kind: "http"; url: string; auth?: string; body: Record<string, unknown> };

/** A URL as it may be written down: any user:password removed (and the text trimmed of a trailing slash). */
export function destinationOf(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/+$/, "");
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//").replace(/\/+$/, "");
  }
}

/**
 * Which credentials an item was spooled under, without revealing them: a truncated SHA-256 of
 * the destination (credentials included) and the API key. Items of another configuration are
 * never sent with this one's key.
 */
export function credentialsFingerprint(url: string, apiKey: string | null): string {
  return createHash("sha256")
    .update(`${url}\n${apiKey ?? ""}`)
    .digest("hex")
    .slice(0, 16);
}

/** Spool files may name private endpoints: readable by their user only. */
const PRIVATE_MODE = 0o600;
/** A spool past this is not ours (or has been failing for months): it is refused, not parsed. */
const MAX_SPOOL_BYTES = 256 * 1024 * 1024;

export type NewSpoolItem = SpoolItem extends infer T ? (T extends SpoolItem ? Omit<T, "id"> : never) : never;

function isSpoolItem(value: unknown): value is SpoolItem {
  if (typeof value !== "object" || value === null) return false;
  const o = value as Record<string, unknown>;
  if (typeof o["id"] !== "string" || typeof o["body"] !== "object" || o["body"] === null) return false;
  if (o["auth"] !== undefined && typeof o["auth"] !== "string") return false;
  if (o["kind"] === "http") return typeof o["url"] === "string";
  return (
    (o["kind"] === "run" || o["kind"] === "emission") &&
    typeof o["runKey"] === "string" &&
    typeof o["endpoint"] === "string"
  );
}

export class Spool {
  readonly file: string;
  readonly rejectedFile: string;
  private readonly runIdsFile: string;

  constructor(outputDir: string) {
    const dir = path.join(outputDir, ".codecarbon");
    this.file = path.join(dir, "spool.jsonl");
    this.rejectedFile = path.join(dir, "spool-rejected.jsonl");
    this.runIdsFile = path.join(dir, "api-runs.json");
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.file, fn);
  }

  /** Appends durably (written and fsync'd before this resolves). */
  async append(items: readonly NewSpoolItem[]): Promise<SpoolItem[]> {
    const stored = items.map((item) => ({ ...item, id: randomUUID() }) as SpoolItem);
    await makeDirectory(path.dirname(this.file));
    await this.locked(async () => {
      const handle = await fsp.open(this.file, "a", PRIVATE_MODE);
      try {
        await handle.writeFile(stored.map((item) => JSON.stringify(item) + "\n").join(""));
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    return stored;
  }

  /** Pending items, oldest first. A line that cannot be read is moved to the rejected file. */
  async read(): Promise<SpoolItem[]> {
    return this.locked(async () => {
      let text: string;
      try {
        text = await readUntrustedFile(this.file, { maxBytes: MAX_SPOOL_BYTES });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw error;
      }
      const items: SpoolItem[] = [];
      const unreadable: string[] = [];
      for (const line of text.split("\n")) {
        if (line.trim() === "") continue;
        try {
          const parsed: unknown = JSON.parse(line);
          if (isSpoolItem(parsed)) items.push(parsed);
          else unreadable.push(line);
        } catch {
          // A torn last line (a crash mid-append before fsync) or a hand edit.
          unreadable.push(line);
        }
      }
      if (unreadable.length > 0) {
        await fsp.appendFile(
          this.rejectedFile,
          unreadable.map((line) => JSON.stringify({ reason: "unreadable spool line", line }) + "\n").join(""),
          { mode: PRIVATE_MODE },
        );
        await writeFileAtomic(this.file, items.map((item) => JSON.stringify(item) + "\n").join(""), {
          mode: PRIVATE_MODE,
        });
      }
      return items;
    });
  }

  /** Removes items that were delivered (or rejected) by id, keeping any appended meanwhile. */
  async remove(ids: ReadonlySet<string>): Promise<void> {
    if (ids.size === 0) return;
    await this.locked(async () => {
      let text: string;
      try {
        text = await readUntrustedFile(this.file, { maxBytes: MAX_SPOOL_BYTES });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      const kept = text.split("\n").filter((line) => {
        if (line.trim() === "") return false;
        try {
          const parsed = JSON.parse(line) as { id?: unknown };
          return !(typeof parsed.id === "string" && ids.has(parsed.id));
        } catch {
          return true;
        }
      });
      await writeFileAtomic(this.file, kept.map((line) => line + "\n").join(""), { mode: PRIVATE_MODE });
    });
  }

  async reject(item: SpoolItem, reason: string): Promise<void> {
    await this.locked(async () => {
      await fsp.appendFile(
        this.rejectedFile,
        JSON.stringify({ reason, rejectedAt: new Date().toISOString(), item }) + "\n",
        { mode: PRIVATE_MODE },
      );
    });
    await this.remove(new Set([item.id]));
  }

  async apiRunId(runKey: string): Promise<string | undefined> {
    return (await this.readRunIds())[runKey];
  }

  async saveApiRunId(runKey: string, apiRunId: string): Promise<void> {
    await this.locked(async () => {
      const ids = await this.readRunIds();
      ids[runKey] = apiRunId;
      await writeFileAtomic(this.runIdsFile, JSON.stringify(ids, null, 1) + "\n", { mode: PRIVATE_MODE });
    });
  }

  private async readRunIds(): Promise<Record<string, string>> {
    try {
      const parsed: unknown = JSON.parse(await readUntrustedFile(this.runIdsFile, { maxBytes: 16 * 1024 * 1024 }));
      if (typeof parsed !== "object" || parsed === null) return {};
      return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
    } catch {
      return {};
    }
  }

  /** Whether anything is pending (cheap: no parse). */
  hasPending(): boolean {
    try {
      const stat = fs.lstatSync(this.file);
      return stat.isFile() && stat.size > 0;
    } catch {
      return false;
    }
  }
}
