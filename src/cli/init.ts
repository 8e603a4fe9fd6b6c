/**
 * `codecarbon init`: creates an experiment through the Code Carbon API and saves its id as
 * `experiment_id` in `./.codecarbon.config`, so `codecarbon monitor` and the trackers started in
 * this folder report to it. The rest of the file is kept byte for byte.
 *
 * CodeCarbon 2.x had this command (3.x replaced it by an interactive `config` and `login`);
 * it is the one the usage guide still documents.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CodeCarbonApiClient } from "../api/client";
import type { ExperimentCreate } from "../api/types";
import { resolveConfig } from "../config";
import { CONFIG_SECTION } from "../config/ini-source";
import { CONFIG_FILE_NAME } from "../config/paths";
import { HttpError, HttpStatusError, redactUrl } from "../net/http";
import { writeFileAtomic } from "../fs/atomic-write";
import { CliError, errorText } from "./cli-error";
import { setIniValue } from "./ini-edit";

/** CodeCarbon's public project, where `codecarbon init` puts experiments when no project is configured. */
export const DEFAULT_PROJECT_ID = "e60afa92-17b7-4720-91a0-1ae91e409ba1";

export interface InitOptions {
  name: string;
  description: string;
  projectId?: string;
  /** Folder whose `.codecarbon.config` receives the id; default the working directory. */
  cwd?: string;
}

const TOKEN_HELP =
  "The Code Carbon API needs a project token for this: set api_key in .codecarbon.config (or CODECARBON_API_KEY). " +
  "Get one from the project's settings on the CodeCarbon dashboard (https://dashboard.codecarbon.io), " +
  "or with Python CodeCarbon: `codecarbon login`, then `codecarbon get-token <project_id>`.";

/**
 * The Code Carbon server creates experiments for a signed-in user only (OIDC, the dashboard's
 * login) and ignores the project token there, so a 401 is never fixed by api_key: say what the
 * server needs and the two ways on.
 */
function signInNeeded(endpoint: string, projectId: string, detail: string, hasKey: boolean): string {
  return (
    `the Code Carbon API at ${redactUrl(endpoint)} creates experiments only for a signed-in user ` +
    `(HTTP 401${detail === "" ? "" : `: ${detail}`}); a project token cannot do it there` +
    `${hasKey ? " (your api_key is still what runs and emissions need)" : ""}. Either create the experiment ` +
    `in project ${projectId} on the dashboard (https://dashboard.codecarbon.io) and set experiment_id = <its id> ` +
    `under [${CONFIG_SECTION}] in .codecarbon.config (or CODECARBON_EXPERIMENT_ID), or run codecarbon init ` +
    "against a server that lets token holders create experiments (api_endpoint)."
  );
}

function detailOf(error: HttpStatusError): string {
  try {
    const body = JSON.parse(error.body) as { detail?: unknown };
    if (typeof body.detail === "string") return body.detail;
  } catch {
    // Not JSON: the raw text, shortened.
  }
  return error.body.trim().slice(0, 200);
}

function apiFailure(error: unknown, endpoint: string, projectId: string, hasKey: boolean): Error {
  if (error instanceof HttpStatusError) {
    if (error.status === 401) return new CliError(signInNeeded(endpoint, projectId, detailOf(error), hasKey));
    if (error.status === 403) {
      const detail = detailOf(error);
      return new CliError(
        `the Code Carbon API at ${redactUrl(endpoint)} refused to create an experiment in project ${projectId} ` +
          `(HTTP 403${detail === "" ? "" : `: ${detail}`}). ${TOKEN_HELP}`,
      );
    }
    const body = error.body.trim().slice(0, 300);
    return new CliError(
      `the Code Carbon API at ${redactUrl(endpoint)} could not create the experiment (HTTP ${error.status}${body === "" ? "" : `: ${body}`}).`,
    );
  }
  if (error instanceof HttpError) {
    return new CliError(
      `could not reach the Code Carbon API at ${redactUrl(endpoint)} (${error.message}). Check the network, a proxy (HTTPS_PROXY), or api_endpoint.`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${file}: ${errorText(error)}`);
  }
}

/** Resolves to the exit status. */
export async function runInit(options: InitOptions): Promise<number> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const resolved = resolveConfig({}, { cwd });
  const settings = resolved.settings;
  const projectId = options.projectId ?? settings.projectId ?? DEFAULT_PROJECT_ID;
  const client = new CodeCarbonApiClient({
    endpoint: settings.apiEndpoint,
    apiKey: settings.apiKey,
    timeoutMs: settings.apiTimeoutSecs * 1000,
  });

  const body: ExperimentCreate = {
    timestamp: new Date().toISOString(),
    name: options.name,
    description: options.description,
    on_cloud: settings.cloudProvider !== null,
    project_id: projectId,
    ...(settings.countryIsoCode !== null ? { country_iso_code: settings.countryIsoCode } : {}),
    ...(settings.region !== null ? { region: settings.region } : {}),
    ...(settings.cloudProvider !== null ? { cloud_provider: settings.cloudProvider } : {}),
    ...(settings.cloudRegion !== null ? { cloud_region: settings.cloudRegion } : {}),
  };
  let experimentId: string;
  try {
    experimentId = (await client.addExperiment(body)).id;
  } catch (error) {
    throw apiFailure(error, settings.apiEndpoint, projectId, settings.apiKey !== null);
  }

  const file = path.join(cwd, CONFIG_FILE_NAME);
  const before = readIfPresent(file);
  try {
    await writeFileAtomic(file, setIniValue(before, CONFIG_SECTION, "experiment_id", experimentId));
  } catch (error) {
    throw new CliError(
      `experiment ${experimentId} was created but ${file} could not be written (${errorText(error)}); ` +
        `add the line experiment_id = ${experimentId} under [${CONFIG_SECTION}] yourself.`,
    );
  }
  process.stdout.write(`Created experiment "${options.name}" (${experimentId}) in project ${projectId}.\n`);
  process.stdout.write(`${before === undefined ? "Wrote" : "Updated"} ${file}: experiment_id = ${experimentId}\n`);
  if (settings.apiKey === null)
    process.stderr.write(`codecarbon: note: sending measurements may also need a token. ${TOKEN_HELP}\n`);
  process.stdout.write(
    "Next: codecarbon monitor (or a tracker with output_methods = csv, api) reports to this experiment.\n",
  );
  return 0;
}
