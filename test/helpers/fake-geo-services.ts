/**
 * Loopback fakes of the services the online tracker asks where it is and what its grid emits:
 * geojs.io, ipinfo.io, a cloud instance metadata service and Electricity Maps. Each answers on
 * the real path with the real JSON shape, checks what the real one checks (the providers'
 * metadata headers, Electricity Maps' auth-token), and answers 404 anywhere else. Tests change
 * the answer between calls through the returned object and read the requests back.
 */
import { startLoopbackServer, type LoopbackServer, type ReceivedRequest, type Reply } from "./loopback-server";

export const GEOJS_PATH = "/v1/ip/geo.json";
export const IPINFO_PATH = "/json";
export const ELECTRICITY_MAPS_BASE_PATH = "/v3";

const notFound: Reply = { status: 404, json: { error: "not found" } };

function pathOf(request: ReceivedRequest): string {
  return new URL(request.path, "http://fake").pathname;
}

export interface FakeService extends LoopbackServer {
  /** The URL the tracker's endpoint setting takes. */
  endpoint: string;
  /** Replaces the normal answer until set back to null (e.g. a 500, a hang, a wrong shape). */
  override: Reply | null;
  /** Requests that reached the service's real path. */
  calls(): ReceivedRequest[];
}

async function startFake(
  servicePath: string,
  endpointPath: string,
  answer: (request: ReceivedRequest) => Reply,
): Promise<FakeService> {
  const fake = (await startLoopbackServer(() => notFound)) as FakeService;
  fake.override = null;
  fake.endpoint = fake.url + endpointPath;
  fake.calls = () => fake.requests.filter((r) => pathOf(r).startsWith(servicePath));
  fake.handler = (request) => {
    if (!pathOf(request).startsWith(servicePath)) return notFound;
    return fake.override ?? answer(request);
  };
  return fake;
}

/** geojs.io's geo.json: coordinates are strings, the region may be empty. */
export interface GeojsBody {
  country_code3: string;
  country_code: string;
  country: string;
  region: string;
  latitude: string;
  longitude: string;
}

export const GEOJS_ONTARIO: GeojsBody = {
  country_code3: "CAN",
  country_code: "CA",
  country: "Canada",
  region: "Ontario",
  latitude: "43.7",
  longitude: "-79.4",
};

export interface FakeGeojs extends FakeService {
  body: GeojsBody;
}

export async function startFakeGeojs(body: GeojsBody = GEOJS_ONTARIO): Promise<FakeGeojs> {
  const fake = (await startFake(GEOJS_PATH, GEOJS_PATH, () => ({
    status: 200,
    json: { ip: "192.0.2.10", organization_name: "Example Net", timezone: "UTC", accuracy: 100, ...fake.body },
  }))) as FakeGeojs;
  fake.body = body;
  return fake;
}

/** ipinfo.io's /json: alpha-2 country, region, "lat,lon". */
export interface IpinfoBody {
  country: string;
  region: string;
  loc?: string;
}

export const IPINFO_ILLINOIS: IpinfoBody = { country: "US", region: "Illinois", loc: "41.88,-87.63" };

export interface FakeIpinfo extends FakeService {
  body: IpinfoBody;
}

export async function startFakeIpinfo(body: IpinfoBody = IPINFO_ILLINOIS): Promise<FakeIpinfo> {
  const fake = (await startFake(IPINFO_PATH, IPINFO_PATH, () => ({
    status: 200,
    json: { ip: "192.0.2.10", city: "Somewhere", postal: "00000", timezone: "UTC", ...fake.body },
  }))) as FakeIpinfo;
  fake.body = body;
  return fake;
}

/** Which cloud the fake metadata service pretends to be; null answers 404 everywhere (off the cloud). */
export type FakeCloud =
  | { provider: "aws"; region: string }
  | { provider: "azure"; location: string }
  | { provider: "gcp"; zone: string }
  | null;

export interface FakeCloudMetadata extends LoopbackServer {
  cloud: FakeCloud;
}

/**
 * The instance metadata service at its three providers' paths. Like the real ones, Azure refuses
 * a request without `Metadata: true` (400) and Google one without `Metadata-Flavor: Google` (403).
 */
export async function startFakeCloudMetadata(cloud: FakeCloud = null): Promise<FakeCloudMetadata> {
  const fake = (await startLoopbackServer(() => notFound)) as FakeCloudMetadata;
  fake.cloud = cloud;
  fake.handler = (request) => {
    const current = fake.cloud;
    const url = new URL(request.path, "http://fake");
    if (current?.provider === "aws" && url.pathname === "/latest/dynamic/instance-identity/document") {
      return {
        status: 200,
        json: {
          accountId: "000000000000",
          instanceType: "t3.micro",
          region: current.region,
          availabilityZone: `${current.region}a`,
        },
      };
    }
    if (current?.provider === "azure" && url.pathname === "/metadata/instance") {
      if (request.headers["metadata"] !== "true")
        return { status: 400, json: { error: "Bad request. Required metadata header not specified" } };
      if (url.searchParams.get("api-version") === null)
        return { status: 400, json: { error: "Bad request. api-version was not specified" } };
      return { status: 200, json: { compute: { location: current.location, vmSize: "Standard_B1s" }, network: {} } };
    }
    if (current?.provider === "gcp" && url.pathname === "/computeMetadata/v1/instance/") {
      if (request.headers["metadata-flavor"] !== "Google")
        return { status: 403, text: "Missing Metadata-Flavor:Google header." };
      return {
        status: 200,
        json: { zone: current.zone, machineType: "projects/1/machineTypes/e2-small", attributes: { secret: "x" } },
      };
    }
    return notFound;
  };
  return fake;
}

export interface FakeElectricityMaps extends FakeService {
  /** The token the fake accepts. */
  token: string;
  /** The carbonIntensity it answers (g/kWh) and the zone it names, per request. */
  answer: (request: ReceivedRequest) => { zone: string; carbonIntensity: number };
}

/**
 * Electricity Maps v3 `carbon-intensity/latest`: 401 `{"error": ...}` for a missing or wrong
 * auth-token, 400 without `lat`+`lon` or `countryCode`, otherwise the latest figure.
 */
export async function startFakeElectricityMaps(
  token: string,
  carbonIntensity = 58.765447504659946,
): Promise<FakeElectricityMaps> {
  const path = `${ELECTRICITY_MAPS_BASE_PATH}/carbon-intensity/latest`;
  const fake = (await startFake(path, ELECTRICITY_MAPS_BASE_PATH, (request) => {
    if (request.headers["auth-token"] !== fake.token)
      return { status: 401, json: { error: "Invalid auth-token: the token was refused" } };
    const query = new URL(request.path, "http://fake").searchParams;
    const byPoint = query.get("lat") !== null && query.get("lon") !== null;
    if (!byPoint && query.get("countryCode") === null)
      return { status: 400, json: { error: "Either lat and lon, or zone, or countryCode is required" } };
    const { zone, carbonIntensity: intensity } = fake.answer(request);
    return {
      status: 200,
      json: {
        zone,
        carbonIntensity: intensity,
        datetime: "2026-11-28T19:00:00.000Z",
        updatedAt: "2026-11-28T19:04:12.000Z",
        createdAt: "2026-11-25T19:03:00.000Z",
        emissionFactorType: "lifecycle",
        isEstimated: true,
        estimationMethod: "TIME_SLICER_AVERAGE",
      },
    };
  })) as FakeElectricityMaps;
  fake.token = token;
  fake.answer = (request) => {
    const code = new URL(request.path, "http://fake").searchParams.get("countryCode");
    return { zone: code ?? "CA-ON", carbonIntensity };
  };
  return fake;
}
