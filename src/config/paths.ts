/** Home-folder handling for config paths and for the file names shown in messages. */
import * as os from "node:os";
import * as path from "node:path";

/** `~` and `~/x` (or `~\x`) become paths under `home`; anything else, `~user/x` included, is returned unchanged. */
export function expandHome(p: string, home: string = os.homedir()): string {
  if (p === "~") return home;
  if (p.startsWith("~/") || p.startsWith("~\\")) return path.join(home, p.slice(2));
  return p;
}

/** `file` with the home folder written `~`, as users write it. */
export function displayPath(file: string, home: string): string {
  const relative = path.relative(home, file);
  if (relative === "") return "~";
  if (relative.startsWith("..") || path.isAbsolute(relative)) return file;
  return `~/${relative.split(path.sep).join("/")}`;
}

/** The config file CodeCarbon reads from the home folder and the working folder. */
export const CONFIG_FILE_NAME = ".codecarbon.config";
