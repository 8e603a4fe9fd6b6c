/**
 * Which cloud the machine runs in, from the instance metadata service, probed as CodeCarbon
 * does (AWS, Azure, GCP; the first that answers wins). The three probes run at once, so a
 * machine off the cloud waits one timeout, not three.
 */
import { httpRequest, type HttpRequest } from "../../net/http";

export interface CloudLocation {
  provider: "aws" | "azure" | "gcp";
  region: string;
}

const PROBE_TIMEOUT_MS = 1000;

interface Probe {
  provider: CloudLocation["provider"];
  path: string;
  headers: Record<string, string>;
  region(body: Record<string, unknown>): string | null;
}

const PROBES: Probe[] = [
  {
    provider: "aws",
    path: "/latest/dynamic/instance-identity/document",
    headers: {},
    region: (body) => (typeof body["region"] === "string" ? body["region"] : null),
  },
  {
    provider: "azure",
    path: "/metadata/instance?api-version=2019-08-15",
    headers: { Metadata: "true" },
    region: (body) => {
      const compute = body["compute"];
      if (typeof compute !== "object" || compute === null) return null;
      const location = (compute as Record<string, unknown>)["location"];
      return typeof location === "string" ? location : null;
    },
  },
  {
    provider: "gcp",
    path: "/computeMetadata/v1/instance/?recursive=true&alt=json",
    headers: { "Metadata-Flavor": "Google" },
    // "projects/123/zones/us-central1-a" → "us-central1".
    region: (body) =>
      typeof body["zone"] === "string"
        ? (/[a-z]+-[a-z]+[0-9]+/.exec(body["zone"].split("/").pop() ?? "")?.[0] ?? null)
        : null,
  },
];

async function probe(base: string, p: Probe, env: NodeJS.ProcessEnv | undefined): Promise<CloudLocation | null> {
  const request: HttpRequest = {
    method: "GET",
    url: base.replace(/\/+$/, "") + p.path,
    headers: p.headers,
    timeoutMs: PROBE_TIMEOUT_MS,
  };
  try {
    const response = await httpRequest(request, env === undefined ? {} : { env });
    if (response.status < 200 || response.status >= 300) return null;
    const body = response.json();
    if (typeof body !== "object" || body === null) return null;
    const region = p.region(body as Record<string, unknown>);
    return region === null ? null : { provider: p.provider, region };
  } catch {
    return null;
  }
}

export async function detectCloud(metadataEndpoint: string, env?: NodeJS.ProcessEnv): Promise<CloudLocation | null> {
  const answers = await Promise.all(PROBES.map((p) => probe(metadataEndpoint, p, env)));
  return answers.find((a) => a !== null) ?? null;
}
