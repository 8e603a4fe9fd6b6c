/**
 * The one place that finds files shipped with the package (`data/`, `schema/`). Paths are
 * resolved from the package root, found by walking up from this file, so the same code works
 * from `dist/`, from the test build and from an installed copy in `node_modules`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        const parsed: unknown = JSON.parse(fs.readFileSync(manifest, "utf8"));
        if (typeof parsed === "object" && parsed !== null && (parsed as { name?: unknown }).name === "codecarbon") {
          root = dir;
          return dir;
        }
      } catch {
        // Not our manifest; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`codecarbon: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

export function dataPath(...parts: string[]): string {
  return path.join(packageRoot(), "data", ...parts);
}

export function schemaPath(...parts: string[]): string {
  return path.join(packageRoot(), "schema", ...parts);
}

const jsonCache = new Map<string, unknown>();

/** Reads and parses a JSON file once per process; callers validate the shape they need. */
export function readJsonOnce(file: string): unknown {
  const cached = jsonCache.get(file);
  if (cached !== undefined) return cached;
  const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  jsonCache.set(file, parsed);
  return parsed;
}

export function packageVersion(): string {
  const parsed = readJsonOnce(path.join(packageRoot(), "package.json"));
  const version = (parsed as { version?: unknown }).version;
  return typeof version === "string" ? version : "0.0.0";
}
