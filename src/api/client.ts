/**
 * A small client for the Code Carbon API (BETA): the routes the tracker and `codecarbon init`
 * use, with the statuses the server promises (201 for creations, 200 for reads). Any other
 * status is an HttpStatusError carrying the server's `detail`; no answer at all is an HttpError.
 */
import { httpRequest, HttpStatusError, redactUrl, type HttpMethod } from "../net/http";
import {
  parseCreatedId,
  parseExperiment,
  parseExperiments,
  parseProject,
  type EmissionCreate,
  type Experiment,
  type ExperimentCreate,
  type Project,
  type RunCreate,
} from "./types";

export interface ApiClientOptions {
  endpoint: string;
  /** A project token (`cpt_…`); sent as `x-api-token`. */
  apiKey: string | null;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** CodeCarbon's default api_key is this placeholder; sending it only earns a 403 with a confusing message. */
const PLACEHOLDER_KEY = "api_key";

export class CodeCarbonApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  private async call(method: HttpMethod, route: string, expected: number, json?: unknown): Promise<unknown> {
    const url = this.options.endpoint.replace(/\/+$/, "") + route;
    const headers: Record<string, string> = {};
    const key = this.options.apiKey;
    if (key !== null && key !== "" && key !== PLACEHOLDER_KEY) headers["x-api-token"] = key;
    const response = await httpRequest(
      { method, url, headers, timeoutMs: this.options.timeoutMs, ...(json === undefined ? {} : { json }) },
      this.options.env === undefined ? {} : { env: this.options.env },
    );
    if (response.status !== expected) {
      let detail = response.text.trim().slice(0, 300);
      try {
        const body = response.json() as { detail?: unknown };
        if (body && typeof body === "object" && body.detail !== undefined)
          detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail).slice(0, 300);
      } catch {
        // Not JSON: the raw text says it.
      }
      throw new HttpStatusError(
        response.status,
        response.text,
        `${method} ${redactUrl(url)} answered HTTP ${response.status}${detail ? `: ${detail}` : ""}`,
      );
    }
    return response.text === "" ? null : response.json();
  }

  async createRun(body: RunCreate): Promise<string> {
    return parseCreatedId(await this.call("POST", "/runs", 201, body), "the run creation");
  }

  async addEmission(body: EmissionCreate): Promise<void> {
    await this.call("POST", "/emissions", 201, body);
  }

  async addExperiment(body: ExperimentCreate): Promise<Experiment> {
    return parseExperiment(await this.call("POST", "/experiments", 201, body));
  }

  async getProject(id: string): Promise<Project> {
    return parseProject(await this.call("GET", `/projects/${encodeURIComponent(id)}`, 200));
  }

  async listExperiments(projectId: string): Promise<Experiment[]> {
    return parseExperiments(await this.call("GET", `/projects/${encodeURIComponent(projectId)}/experiments`, 200));
  }

  async checkAuth(): Promise<unknown> {
    return this.call("GET", "/auth/check", 200);
  }
}
