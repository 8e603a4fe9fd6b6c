/**
 * A temporary HOME and working folder for config tests, with helpers to write both config files,
 * and a log capture. Nothing here touches the caller's real home or environment.
 */
import { afterEach, beforeEach } from "node:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { captureLog, type LogCapture } from "../helpers/log-capture";

export { captureLog, type LogCapture };

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

export interface ConfigSandbox {
  home: string;
  cwd: string;
  globalFile: string;
  localFile: string;
  writeGlobal(text: string): void;
  writeLocal(text: string): void;
  cleanup(): void;
}

export function makeConfigSandbox(): ConfigSandbox {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
  const home = path.join(root, "home");
  const cwd = path.join(root, "work");
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  const globalFile = path.join(home, ".codecarbon.config");
  const localFile = path.join(cwd, ".codecarbon.config");
  return {
    home,
    cwd,
    globalFile,
    localFile,
    writeGlobal: (text) => fs.writeFileSync(globalFile, text),
    writeLocal: (text) => fs.writeFileSync(localFile, text),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Lines as a config file: `section("a = 1", "b = 2")` gives `[codecarbon]\na = 1\nb = 2\n`. */
export function section(...lines: string[]): string {
  return ["[codecarbon]", ...lines, ""].join("\n");
}

/** A fresh sandbox and log capture around each test of the enclosing suite (or file). */
export function useConfigSandbox(): { readonly box: ConfigSandbox; readonly logs: LogCapture } {
  const current = {} as { box: ConfigSandbox; logs: LogCapture };
  beforeEach(() => {
    current.box = makeConfigSandbox();
    current.logs = captureLog();
  });
  afterEach(() => {
    current.logs.restore();
    current.box.cleanup();
  });
  return current;
}
