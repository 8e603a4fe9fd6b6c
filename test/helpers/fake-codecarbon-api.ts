/**
 * A loopback stand-in for the Code Carbon API (BETA): the routes the tracker and the CLI use,
 * with the real server's statuses, token check and body validation (EmissionCreate: whole
 * seconds > 0, non-negative sums, utilisation within 0–100, answered 400 with `detail`).
 * `mode` switches it into the outages the tests need.
 */
import { startLoopbackServer, type LoopbackServer, type ReceivedRequest, type Reply } from "./loopback-server";

export type ApiMode = "ok" | "error-500" | "unavailable-503" | "hang" | "bad-request-400";

export interface FakeCodeCarbonApi {
  url: string;
  /** Requests the server accepted (answered 2xx), in order. */
  accepted: ReceivedRequest[];
  /** Every request received, accepted or not. */
  all: ReceivedRequest[];
  mode: ApiMode;
  /** The token that has write access; null accepts any request without checking. */
  token: string | null;
  runs: Map<string, Record<string, unknown>>;
  emissions: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

let counter = 0;
const newId = () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;

function validateEmission(body: Record<string, unknown>): string | null {
  if (!Number.isInteger(body["duration"]) || (body["duration"] as number) <= 0)
    return "duration must be an integer > 0";
  for (const key of [
    "emissions_sum",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "wue",
  ]) {
    if (typeof body[key] !== "number" || (body[key] as number) < 0) return `${key} must be a number >= 0`;
  }
  for (const key of ["cpu_utilization_percent", "gpu_utilization_percent", "ram_utilization_percent"]) {
    const v = body[key];
    if (v !== undefined && v !== null && (typeof v !== "number" || v < 0 || v > 100))
      return `${key} must be within 0-100`;
  }
  if (typeof body["run_id"] !== "string") return "run_id is required";
  return null;
}

export async function startFakeCodeCarbonApi(options: { token?: string | null } = {}): Promise<FakeCodeCarbonApi> {
  const api: FakeCodeCarbonApi = {
    url: "",
    accepted: [],
    all: [],
    mode: "ok",
    token: options.token === undefined ? "cpt_test-token-0123456789" : options.token,
    runs: new Map(),
    emissions: [],
    close: async () => undefined,
  };
  const handle = (request: ReceivedRequest): Reply => {
    api.all.push(request);
    switch (api.mode) {
      case "error-500":
        return { status: 500, text: "Internal Server Error" };
      case "unavailable-503":
        return { status: 503, json: { detail: "Service Unavailable" } };
      case "hang":
        return { status: 200, hang: true };
      case "bad-request-400":
        return { status: 400, json: { detail: "bad request", validation_error_message: "forced by the test" } };
      case "ok":
        break;
    }
    const path = request.path.split("?")[0]!;
    let body: Record<string, unknown>;
    try {
      body = request.body === "" ? {} : (JSON.parse(request.body) as Record<string, unknown>);
    } catch {
      return { status: 422, json: { detail: "body is not JSON" } };
    }
    const write = request.method === "POST";
    if (write && api.token !== null && request.headers["x-api-token"] !== api.token) {
      return {
        status: 403,
        json: { detail: request.headers["x-api-token"] === undefined ? "Missing project token" : "Not allowed" },
      };
    }
    const accept = (reply: Reply): Reply => {
      api.accepted.push(request);
      return reply;
    };
    if (request.method === "POST" && path === "/runs") {
      if (typeof body["experiment_id"] !== "string" || typeof body["timestamp"] !== "string")
        return { status: 400, json: { detail: "experiment_id and timestamp are required" } };
      const id = newId();
      api.runs.set(id, body);
      return accept({ status: 201, json: { ...body, id } });
    }
    if (request.method === "POST" && path === "/emissions") {
      const problem = validateEmission(body);
      if (problem !== null) return { status: 400, json: { detail: problem, validation_error_message: problem } };
      if (!api.runs.has(body["run_id"] as string)) return { status: 404, json: { detail: "run not found" } };
      api.emissions.push(body);
      return accept({ status: 201, json: newId() });
    }
    if (request.method === "POST" && path === "/experiments") {
      return accept({ status: 201, json: { ...body, id: newId() } });
    }
    if (request.method === "GET" && path === "/auth/check") return accept({ status: 200, json: { user: "test" } });
    const project = /^\/projects\/([^/]+)(\/experiments)?$/.exec(path);
    if (request.method === "GET" && project) {
      return accept(
        project[2]
          ? { status: 200, json: [] }
          : { status: 200, json: { id: project[1], name: "project", description: null, organization_id: null } },
      );
    }
    return { status: 404, json: { detail: "Not Found" } };
  };
  const server: LoopbackServer = await startLoopbackServer(handle);
  api.url = server.url;
  api.close = () => server.close();
  return api;
}
