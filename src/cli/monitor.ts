/**
 * `codecarbon monitor`: tracks this machine until Ctrl-C, or tracks one command (and the processes
 * it starts) from launch to exit and ends with that command's exit status.
 *
 * The CLI is its own process, so unlike the library it may install signal handlers: SIGINT and
 * SIGTERM stop the tracker cleanly (a row is written), and in command mode they are forwarded to
 * the command, whose exit then ends the run.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveConfig, type ResolvedConfig } from "../config";
import type { TrackerOptions } from "../config/options.generated";
import type { LogLevel } from "../log";
import { EmissionsTracker, OfflineEmissionsTracker } from "../tracker/emissions-tracker";
import { CliError } from "./cli-error";
import { showLiveStatus, summaryLines } from "./status";
import { csvFile } from "../output/registry";
import { isPidAlive } from "../fs/process-identity";

export interface MonitorOptions {
  measurePowerSecs: number;
  apiCallInterval: number;
  /** Send the measurements to the Code Carbon API as well (online mode only). */
  api: boolean;
  /** Whether `--api` was written on the command line rather than taken by default. */
  apiGivenExplicitly: boolean;
  offline: boolean;
  countryIsoCode?: string;
  region?: string;
  outputDir?: string;
  logLevel?: LogLevel;
  /** Serve /metrics for Prometheus on this port (0: a free one). */
  prometheusPort?: number;
  prometheusHost?: string;
  /** Push to this Pushgateway as well (CodeCarbon's prometheus output). */
  pushgateway?: string;
  /** Export OpenTelemetry metrics over OTLP/HTTP as well. */
  otel?: boolean;
  /** When stderr is not a terminal, print one line per measurement. */
  verbose: boolean;
}

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
/** Exit status of a command that cannot be found, as shells report it. */
export const EXIT_COMMAND_NOT_FOUND = 127;
/** Exit status of a command that was found but cannot be run (permissions, not an executable). */
export const EXIT_COMMAND_NOT_EXECUTABLE = 126;

function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 0);
}

function trackerOptions(options: MonitorOptions, wrapsCommand: boolean): TrackerOptions {
  const useApi = options.api && !options.offline;
  return {
    measurePowerSecs: options.measurePowerSecs,
    apiCallInterval: options.apiCallInterval,
    outputMethods: [
      "csv",
      ...(useApi ? (["api"] as const) : []),
      ...(options.pushgateway !== undefined ? (["prometheus"] as const) : []),
      ...(options.otel === true ? (["otel"] as const) : []),
    ],
    ...(options.pushgateway !== undefined ? { prometheusUrl: options.pushgateway } : {}),
    ...(options.prometheusPort !== undefined ? { prometheusPort: options.prometheusPort } : {}),
    ...(options.prometheusHost !== undefined ? { prometheusHost: options.prometheusHost } : {}),
    // The command is a descendant of this process, so process mode measures it (and its children).
    ...(wrapsCommand ? { trackingMode: "process" as const } : {}),
    ...(options.countryIsoCode !== undefined ? { countryIsoCode: options.countryIsoCode } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.outputDir !== undefined ? { outputDir: options.outputDir } : {}),
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
  };
}

/** Refuses, before anything starts, the combinations CodeCarbon's monitor refuses. */
function checkMode(options: MonitorOptions, resolved: ResolvedConfig): void {
  const settings = resolved.settings;
  if (options.offline) {
    if (settings.countryIsoCode === null && settings.cloudProvider === null) {
      throw new CliError(
        "Country ISO code is required for offline mode: pass --country-iso-code with the 3-letter code of the country " +
          "where this machine runs (e.g. --country-iso-code FRA), or set country_iso_code in .codecarbon.config or CODECARBON_COUNTRY_ISO_CODE.",
      );
    }
    return;
  }
  if (options.api && resolved.origins.experimentId.layer === "default") {
    throw new CliError(
      "No experiment id: run `codecarbon init` first or pass --no-api " +
        "(or set experiment_id in .codecarbon.config or CODECARBON_EXPERIMENT_ID).",
    );
  }
}

function createTracker(options: MonitorOptions, wrapsCommand: boolean, pid?: number): EmissionsTracker {
  const codeOptions = trackerOptions(options, wrapsCommand || pid !== undefined);
  checkMode(options, resolveConfig(codeOptions));
  const target = pid === undefined ? {} : { pid };
  return options.offline ? new OfflineEmissionsTracker(codeOptions, target) : new EmissionsTracker(codeOptions, target);
}

/** How often a monitored process is checked for having exited. */
const PROCESS_CHECK_MS = 1000;

/** Tracks process `pid` and its descendants until it exits, or SIGINT/SIGTERM; resolves to 0. */
export async function monitorProcess(pid: number, options: MonitorOptions): Promise<number> {
  if (!isPidAlive(pid)) throw new CliError(`no process with pid ${pid}: give the pid of a running process`);
  const tracker = createTracker(options, false, pid);
  warnAboutApiOffline(options);
  const ended = new Promise<string>((resolve) => {
    for (const signal of FORWARDED_SIGNALS) process.once(signal, () => resolve(`${signal} received`));
    const check = setInterval(() => {
      if (isPidAlive(pid)) return;
      clearInterval(check);
      resolve(`process ${pid} exited`);
    }, PROCESS_CHECK_MS);
  });
  tracker.start();
  const stopDisplay = showLiveStatus(tracker, process.stderr, { verbose: options.verbose });
  process.stderr.write(`codecarbon: monitoring process ${pid} and its children; press Ctrl-C to stop.\n`);
  const why = await ended;
  for (const other of FORWARDED_SIGNALS) {
    process.removeAllListeners(other);
    process.once(other, () => process.exit(signalExitCode(other)));
  }
  stopDisplay();
  process.stderr.write(`codecarbon: ${why}, stopping.\n`);
  await tracker.stop();
  printLines(summaryLines({ subject: `process ${pid}`, row: tracker.finalEmissionsData, savedTo: savedTo(tracker) }));
  return 0;
}

/** The CSV the run's row went to; null when there is none or the write failed (its error is already logged). */
function savedTo(tracker: EmissionsTracker): string | null {
  const settings = tracker.config.settings;
  const csv = csvFile(settings);
  if (csv === null) return null;
  const file = path.resolve(csv);
  try {
    return fs.readFileSync(file, "utf8").includes(tracker.runId ?? "\0") ? file : null;
  } catch {
    return null;
  }
}

function printLines(lines: readonly string[]): void {
  process.stderr.write(lines.map((line) => `${line}\n`).join(""));
}

function warnAboutApiOffline(options: MonitorOptions): void {
  if (options.offline && options.apiGivenExplicitly && options.api) {
    process.stderr.write("codecarbon: --api is ignored with --offline: an offline run does not go on the network.\n");
  }
}

/** Tracks the machine until SIGINT or SIGTERM; resolves to the exit status (0). */
export async function monitorMachine(options: MonitorOptions): Promise<number> {
  const tracker = createTracker(options, false);
  warnAboutApiOffline(options);
  // Handlers first: a signal that arrives while the tracker starts must still stop it cleanly.
  const received = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of FORWARDED_SIGNALS) process.once(signal, () => resolve(signal));
  });
  // Signal listeners do not keep Node alive; this timer does, until a signal comes.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  tracker.start();
  const stopDisplay = showLiveStatus(tracker, process.stderr, { verbose: options.verbose });
  process.stderr.write("codecarbon: monitoring this machine; press Ctrl-C to stop.\n");

  const signal = await received;
  // A second signal while the run is being saved means "now": leave without waiting.
  for (const other of FORWARDED_SIGNALS) {
    process.removeAllListeners(other);
    process.once(other, () => process.exit(signalExitCode(other)));
  }
  clearInterval(keepAlive);
  stopDisplay();
  process.stderr.write(`codecarbon: ${signal} received, stopping.\n`);
  await tracker.stop();
  printLines(
    summaryLines({ subject: "monitored this machine", row: tracker.finalEmissionsData, savedTo: savedTo(tracker) }),
  );
  return 0;
}

type CommandEnd =
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "error"; error: NodeJS.ErrnoException };

/** Runs `command` under a process-mode tracker; resolves to the command's exit status. */
export async function monitorCommand(command: readonly string[], options: MonitorOptions): Promise<number> {
  const [file, ...args] = command;
  if (file === undefined || file === "")
    throw new CliError("monitor needs a command after --, e.g. codecarbon monitor -- python train.py", 2);
  const tracker = createTracker(options, true);
  warnAboutApiOffline(options);

  const child = spawn(file, args, { stdio: "inherit" });
  let signalsSeen = 0;
  const forward = (signal: NodeJS.Signals): void => {
    signalsSeen += 1;
    // Ctrl-C reaches the command through the terminal too; forwarding covers `kill <pid>` and
    // non-terminal parents. A second one means the command did not stop: kill it.
    if (child.exitCode === null && child.signalCode === null) child.kill(signalsSeen > 1 ? "SIGKILL" : signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  let stopDisplay: () => void = () => undefined;
  // The run starts once the command does, so a command that cannot start leaves no row behind.
  child.once("spawn", () => {
    tracker.start();
    stopDisplay = showLiveStatus(tracker, process.stderr, { verbose: options.verbose });
  });
  const end = await new Promise<CommandEnd>((resolve) => {
    child.once("error", (error: NodeJS.ErrnoException) => resolve({ kind: "error", error }));
    child.once("exit", (code, signal) => resolve({ kind: "exit", code, signal }));
  });
  for (const signal of FORWARDED_SIGNALS) process.removeListener(signal, forward);
  stopDisplay();

  if (end.kind === "error" && child.pid === undefined) {
    if (end.error.code === "ENOENT") {
      process.stderr.write(`codecarbon: command not found: ${file}\n`);
      return EXIT_COMMAND_NOT_FOUND;
    }
    process.stderr.write(`codecarbon: cannot run ${file}: ${end.error.message}\n`);
    return end.error.code === "EACCES" ? EXIT_COMMAND_NOT_EXECUTABLE : 1;
  }

  let status: number;
  let outcome: string;
  if (end.kind === "exit" && end.signal !== null) {
    status = signalExitCode(end.signal);
    outcome = `killed by ${end.signal}`;
  } else if (end.kind === "exit") {
    status = end.code ?? 1;
    outcome = `exit status ${status}`;
  } else {
    status = 1;
    outcome = `failed: ${end.error.message}`;
  }
  await tracker.stop();
  printLines(
    summaryLines({
      subject: commandLine(command),
      outcome,
      row: tracker.finalEmissionsData,
      savedTo: savedTo(tracker),
    }),
  );
  return status;
}

/** The command as a user would type it, shortened when long. */
function commandLine(command: readonly string[]): string {
  const text = command.map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part))).join(" ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
