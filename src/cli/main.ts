#!/usr/bin/env node
/**
 * The `codecarbon` command: init, monitor, config, detect, jupyter.
 *
 * Exit statuses: 0 success; 1 a configuration, API or runtime error (printed as
 * `codecarbon: <message>`); 2 a usage error (unknown option, bad option value); for
 * `monitor -- <command>`, the command's own status (127 not found, 126 not executable,
 * 128 + n when killed by signal n, so 130 after Ctrl-C).
 * Data goes to stdout, diagnostics to stderr.
 */
import * as path from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { packageVersion } from "../assets";
import { resolveConfig } from "../config";
import { isCodeCarbonError } from "../errors";
import { getLogLevel, parseLevel, setLogLevel, type LogLevel } from "../log";
import { CliError, errorText } from "./cli-error";
import type { MonitorOptions } from "./monitor";

const EXIT_USAGE = 2;

function parsePositiveNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError("expected a number of seconds above 0, e.g. 10 or 0.5.");
  return value;
}

function parsePort(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < 0 || value > 65535)
    throw new InvalidArgumentError("expected a TCP port from 0 to 65535, e.g. 9464.");
  return value;
}

function parsePid(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0)
    throw new InvalidArgumentError("expected a process id (a whole number above 0), e.g. 4242.");
  return value;
}

function parseApiCallInterval(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < -1 || value === 0) {
    throw new InvalidArgumentError(
      "expected a whole number of measurements (1 or more), or -1 to report only at the end.",
    );
  }
  return value;
}

function parseLogLevelOption(text: string): LogLevel {
  const level = parseLevel(text);
  if (level === undefined) throw new InvalidArgumentError("expected debug, info, warning, error or critical.");
  return level;
}

// Each command loads its modules when it runs: `--version` and `--help` stay instant, and a
// command never pays for another's dependencies (the tracker, the HTTP client).
function loadInit(): typeof import("./init") {
  return require("./init") as typeof import("./init");
}
function loadMonitor(): typeof import("./monitor") {
  return require("./monitor") as typeof import("./monitor");
}
function loadDetect(): typeof import("./detect") {
  return require("./detect") as typeof import("./detect");
}
function loadJupyterCommand(): typeof import("./jupyter-command") {
  return require("./jupyter-command") as typeof import("./jupyter-command");
}
function loadConfigCommand(): typeof import("./config-command") {
  return require("./config-command") as typeof import("./config-command");
}

interface MonitorCliOptions {
  measurePowerSecs: number;
  apiCallInterval: number;
  api?: boolean;
  offline?: boolean;
  countryIsoCode?: string;
  region?: string;
  outputDir?: string;
  logLevel?: LogLevel;
  verbose?: boolean;
  prometheusPort?: number;
  prometheusHost?: string;
  pushgateway?: string;
  otel?: boolean;
  pid?: number;
}

function buildProgram(setStatus: (status: number) => void): Command {
  const program = new Command();
  program
    .name("codecarbon")
    .description("Estimate the energy use and CO2 emissions of code and machines (CodeCarbon for Node).")
    .version(`codecarbon ${packageVersion()}`, "-v, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`codecarbon: ${text.replace(/^error: /, "")}`) });

  program
    .command("init")
    .description("create an experiment on the Code Carbon API and save its experiment_id to ./.codecarbon.config")
    .option("--name <name>", "experiment name", "Code Carbon user test")
    .option("--description <text>", "experiment description", "Code Carbon user test")
    .option(
      "--project-id <uuid>",
      "project to create it in (default: project_id from the config, else CodeCarbon's public project)",
    )
    .action(async (options: { name: string; description: string; projectId?: string }) => {
      setStatus(
        await loadInit().runInit({
          name: options.name,
          description: options.description,
          ...(options.projectId !== undefined ? { projectId: options.projectId } : {}),
        }),
      );
    });

  program
    .command("monitor")
    .description("measure this machine until Ctrl-C, or measure one command from start to exit")
    .usage("[options] [-- <command> [args...]]")
    .argument("[command...]", "command to run and measure, with its arguments (write it after --)")
    .option("--measure-power-secs <seconds>", "seconds between two measurements", parsePositiveNumber, 10)
    .option("--api-call-interval <count>", "measurements between two reports to the API", parseApiCallInterval, 30)
    .option("--api", "also send the measurements to the Code Carbon API (default; needs an experiment_id)")
    .option("--no-api", "do not use the Code Carbon API")
    .option("--offline", "do not go on the network; needs --country-iso-code")
    .option("--country-iso-code <code>", "3-letter ISO code of the country where this machine runs, e.g. FRA")
    .option("--region <region>", "region inside the country, e.g. quebec")
    .option("--output-dir <dir>", "folder of emissions.csv (default: output_dir from the config, else .)")
    .option("--log-level <level>", "debug, info, warning, error or critical", parseLogLevelOption)
    .option(
      "--prometheus-port <port>",
      "serve the metrics at http://<host>:<port>/metrics for Prometheus (9464 is usual; 0 picks a free port)",
      parsePort,
    )
    .option(
      "--prometheus-host <address>",
      "address of the /metrics endpoint (default 127.0.0.1; 0.0.0.0 for a remote Prometheus)",
    )
    .option(
      "--pushgateway <url>",
      "also push to this Prometheus Pushgateway (host:port or URL), as CodeCarbon's prometheus output",
    )
    .option("--otel", "also export OpenTelemetry metrics over OTLP/HTTP (configured by OTEL_EXPORTER_OTLP_* variables)")
    .option("--verbose", "when stderr is not a terminal, print one line per measurement")
    .option("--pid <pid>", "measure this process and its children (process mode) until it exits", parsePid)
    .passThroughOptions()
    .action(async (command: string[], options: MonitorCliOptions, self: Command) => {
      const monitorOptions: MonitorOptions = {
        measurePowerSecs: options.measurePowerSecs,
        apiCallInterval: options.apiCallInterval,
        api: options.api !== false,
        apiGivenExplicitly: self.getOptionValueSource("api") === "cli",
        offline: options.offline === true,
        verbose: options.verbose === true,
        ...(options.countryIsoCode !== undefined ? { countryIsoCode: options.countryIsoCode } : {}),
        ...(options.region !== undefined ? { region: options.region } : {}),
        ...(options.outputDir !== undefined ? { outputDir: options.outputDir } : {}),
        ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
        ...(options.prometheusPort !== undefined ? { prometheusPort: options.prometheusPort } : {}),
        ...(options.prometheusHost !== undefined ? { prometheusHost: options.prometheusHost } : {}),
        ...(options.pushgateway !== undefined ? { pushgateway: options.pushgateway } : {}),
        ...(options.otel === true ? { otel: true } : {}),
      };
      if (options.logLevel !== undefined) setLogLevel(options.logLevel);
      const { monitorCommand, monitorMachine, monitorProcess } = loadMonitor();
      if (options.pid !== undefined && command.length > 0) {
        throw new CliError("monitor takes either --pid or a command after --, not both", 2);
      }
      if (options.pid !== undefined) setStatus(await monitorProcess(options.pid, monitorOptions));
      else
        setStatus(
          command.length === 0 ? await monitorMachine(monitorOptions) : await monitorCommand(command, monitorOptions),
        );
    });

  program
    .command("kernel-tracker")
    .description(
      "track a Jupyter kernel from beside it (what the Jupyter server extension runs): kernel commands " +
        "as JSON lines on stdin, replies on stdout; stops on a stop request, SIGTERM, the end of stdin or the kernel's exit",
    )
    .requiredOption("--pid <pid>", "the kernel's process id", parsePid)
    .requiredOption("--kernel-id <id>", "the kernel's id, as the Jupyter server knows it")
    .action(async (options: { pid: number; kernelId: string }) => {
      const { serveBesideKernel } = require("../jupyter/beside-kernel") as typeof import("../jupyter/beside-kernel");
      setStatus(await serveBesideKernel({ pid: options.pid, kernelId: options.kernelId }));
    });

  program
    .command("config")
    .description("print the configuration a tracker started here would use (secrets masked)")
    .option(
      "--show-origin",
      "say where each value comes from: default, a config file and line, or an environment variable",
    )
    .option("--json", "print JSON")
    .action((options: { showOrigin?: boolean; json?: boolean }) => {
      const resolved = resolveConfig();
      process.stdout.write(
        loadConfigCommand().renderConfig(resolved, {
          showOrigin: options.showOrigin === true,
          json: options.json === true,
        }),
      );
      setStatus(0);
    });

  program
    .command("recover")
    .description(
      "write the rows of runs that died or could not be written (kept in <output_dir>/.codecarbon/runs) to the CSV",
    )
    .option("--output-dir <dir>", "the output folder (default: output_dir from the configuration)")
    .action(async (options: { outputDir?: string }) => {
      const resolved = resolveConfig(options.outputDir === undefined ? {} : { outputDir: options.outputDir });
      const { outputDir, outputFile, onCsvWrite, csvEscapeFormulas } = resolved.settings;
      // Loaded on demand, as the other commands' modules are.
      const { recoverOrphanedRuns } = require("../output/checkpoint") as typeof import("../output/checkpoint");
      const recovered = await recoverOrphanedRuns(outputDir, {
        outputFile,
        onCsvWrite,
        escapeFormulas: csvEscapeFormulas,
      });
      for (const run of recovered) process.stdout.write(`Recovered run ${run.runId} into ${run.file}\n`);
      if (recovered.length === 0) process.stdout.write(`No run to recover in ${path.resolve(outputDir)}\n`);
      setStatus(0);
    });

  program
    .command("detect")
    .description("print the hardware found and the power source used for each device, and why")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const resolved = resolveConfig();
      // The library's info lines (e.g. "RAPL is not available") would repeat the report; warnings stay.
      const configured = parseLevel(resolved.settings.logLevel) ?? "info";
      setLogLevel(configured === "info" ? "warning" : configured);
      const { detectHardware, renderDetectReport } = loadDetect();
      const report = await detectHardware(resolved.settings);
      process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderDetectReport(report));
      setStatus(0);
    });

  const jupyter = program
    .command("jupyter")
    .description("install or remove the JupyterLab extension (toolbar toggle, live sidebar) and its server extension");
  const target = (command: Command): Command =>
    command
      .option("--user", "the user's Jupyter data folder (default; JUPYTER_DATA_DIR when set)")
      .option("--sys-prefix", "the active Python environment (VIRTUAL_ENV or CONDA_PREFIX), where JupyterLab runs from")
      .option("--prefix <dir>", "an environment folder: installs into <dir>/share/jupyter/labextensions");
  target(
    jupyter
      .command("install")
      .description(
        "copy the prebuilt JupyterLab 4 extension where JupyterLab finds it, and install and enable the Jupyter " +
          "server extension that tracks any kernel from beside it",
      ),
  )
    .option("--symlink", "link the JupyterLab extension instead of copying it (for development)")
    .option("--no-server-extension", "install the JupyterLab extension only (tslab kernels only)")
    .action(
      (options: {
        user?: boolean;
        sysPrefix?: boolean;
        prefix?: string;
        symlink?: boolean;
        serverExtension: boolean;
      }) => {
        const command = loadJupyterCommand();
        const result = command.installExtension(options);
        process.stdout.write(
          `Installed the JupyterLab extension codecarbon-jupyterlab ${result.version} in ${result.installedAt}\n`,
        );
        if (options.serverExtension) {
          try {
            const server = command.installServerExtension(options);
            process.stdout.write(
              `${server.packageAt === null ? "The server extension codecarbon_jupyterlab was installed by pip there; kept it" : `Installed the server extension codecarbon_jupyterlab in ${server.packageAt}`}\n` +
                `Enabled it in ${server.configAt}; its settings are in ${server.appConfigAt}\n`,
            );
          } catch (error) {
            if (!(error instanceof CliError)) throw error;
            // The lab extension works on its own (tslab kernels that load codecarbon): say what is
            // missing for every other kernel and how to add it, without failing the install.
            process.stderr.write(
              `codecarbon: the server extension (tracking every kernel) was not installed: ${error.message}. ` +
                "Pass --prefix <the Python environment JupyterLab runs from>, or pip install codecarbon-jupyterlab there; " +
                "--no-server-extension skips this step.\n",
            );
          }
        }
        process.stdout.write(
          `Restart Jupyter to load them; \`jupyter labextension list\` and \`jupyter server extension list\` should list them.\n`,
        );
        setStatus(0);
      },
    );
  target(jupyter.command("uninstall").description("remove what `codecarbon jupyter install` installed")).action(
    (options: { user?: boolean; sysPrefix?: boolean; prefix?: string }) => {
      const command = loadJupyterCommand();
      const removed = command.uninstallExtension(options);
      const server = command.uninstallServerExtension(options);
      const all = [...(removed === null ? [] : [removed]), ...server];
      process.stdout.write(
        all.length === 0
          ? "The JupyterLab extension was not installed there; nothing to remove.\n"
          : all.map((p) => `Removed ${p}\n`).join(""),
      );
      setStatus(0);
    },
  );

  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  let status = 0;
  const program = buildProgram((next) => (status = next));
  try {
    await program.parseAsync([...argv]);
    return status;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof CliError) {
      process.stderr.write(`codecarbon: ${error.message}\n`);
      return error.exitCode;
    }
    if (isCodeCarbonError(error)) {
      process.stderr.write(`codecarbon: ${error.message}\n`);
      return 1;
    }
    const stack = getLogLevel() === "debug" && error instanceof Error ? error.stack : undefined;
    process.stderr.write(`codecarbon: ${stack ?? errorText(error)}\n`);
    return 1;
  }
}

/** Exits once stdout and stderr have taken everything written (pipes may be asynchronous). */
function exitAfterFlush(status: number): void {
  let pending = 2;
  const done = (): void => {
    pending -= 1;
    if (pending === 0) process.exit(status);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

main(process.argv).then(exitAfterFlush, (error: unknown) => {
  process.stderr.write(`codecarbon: ${errorText(error)}\n`);
  exitAfterFlush(1);
});
