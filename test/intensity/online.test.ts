import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveConfig } from "../../src/config";
import type { TrackerOptions } from "../../src/config/options.generated";
import { createOnlineIntensityProvider, resetOnlineCaches } from "../../src/intensity/online";
import { CLOSED_PORT_URL, startLoopbackServer, type LoopbackServer, type Reply } from "../helpers/loopback-server";
import { useLogCapture } from "../helpers/log-capture";
import { waitFor } from "../helpers/sandbox";

const NO_PROXY_ENV: NodeJS.ProcessEnv = {};

const geojsCanada: Reply = {
  status: 200,
  json: {
    country_code3: "CAN",
    country_code: "CA",
    country: "Canada",
    region: "Ontario",
    latitude: "43.7",
    longitude: "-79.4",
    ip: "192.0.2.1",
  },
};
const ipinfoIllinois: Reply = {
  status: 200,
  json: { ip: "192.0.2.1", country: "US", region: "Illinois", loc: "41.88,-87.63", city: "Chicago" },
};

describe("online carbon intensity", () => {
  const logs = useLogCapture();
  let dir: string;
  let geojs: LoopbackServer;
  let ipinfo: LoopbackServer;
  let metadata: LoopbackServer;
  let electricityMaps: LoopbackServer;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-online-"));
    geojs = await startLoopbackServer(() => geojsCanada);
    ipinfo = await startLoopbackServer(() => ipinfoIllinois);
    metadata = await startLoopbackServer(() => ({ status: 404, text: "not found" }));
    electricityMaps = await startLoopbackServer(() => ({ status: 500, text: "unset" }));
  });
  after(async () => {
    await Promise.all([geojs.close(), ipinfo.close(), metadata.close(), electricityMaps.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    resetOnlineCaches();
    for (const server of [geojs, ipinfo, metadata, electricityMaps]) server.requests.length = 0;
    geojs.handler = () => geojsCanada;
    ipinfo.handler = () => ipinfoIllinois;
    metadata.handler = () => ({ status: 404, text: "not found" });
  });
  afterEach(() => resetOnlineCaches());

  function settings(options: TrackerOptions = {}) {
    return resolveConfig(
      {
        geolocationEndpoint: `${geojs.url}/v1/ip/geo.json`,
        geolocationBackupEndpoint: `${ipinfo.url}/json`,
        cloudMetadataEndpoint: metadata.url,
        electricitymapsEndpoint: `${electricityMaps.url}/v3`,
        geolocationTimeoutSecs: 0.3,
        apiTimeoutSecs: 0.5,
        ...options,
      },
      { env: {}, cwd: dir, home: dir },
    ).settings;
  }

  test("geojs gives the country, the region and the coordinates", async () => {
    const answer = await createOnlineIntensityProvider(settings(), { env: NO_PROXY_ENV }).ready;
    assert.equal(answer.location.countryIsoCode, "CAN");
    assert.equal(answer.location.region, "ontario");
    assert.equal(answer.source.kind, "zone", "the latest edition has Ontario's zone");
    assert.equal(answer.source.zone, "CA-ON");
    assert.deepEqual([answer.latitude, answer.longitude], [43.7, -79.4]);
    assert.equal(geojs.requests.length, 1);
    assert.equal(ipinfo.requests.length, 0);
  });

  test("an empty geojs region sends the tracker to ipinfo, whose alpha-2 country is converted", async () => {
    geojs.handler = () => ({
      status: 200,
      json: { country_code3: "USA", country_code: "US", region: "", latitude: "1", longitude: "2" },
    });
    const answer = await createOnlineIntensityProvider(settings()).ready;
    assert.equal(answer.location.countryIsoCode, "USA");
    assert.equal(answer.location.region, "illinois");
    assert.deepEqual(
      [answer.source.kind, answer.source.label],
      ["us-state", "US state illinois (eGRID 2023)"],
      "a located US state gets its state-level figure",
    );
    assert.match(answer.source.fallbackReason ?? "", /no single Electricity Maps zone serves illinois/);
    assert.deepEqual([answer.latitude, answer.longitude], [41.88, -87.63]);
    assert.equal(geojs.requests.length, 2, "each service is tried twice");
  });

  test("a service that hangs is given up after the timeout and retried once", async () => {
    geojs.handler = () => ({ status: 200, hang: true });
    const answer = await createOnlineIntensityProvider(settings()).ready;
    assert.equal(geojs.requests.length, 2);
    assert.equal(answer.location.countryIsoCode, "USA");
  });

  test("when every lookup fails: the world average, and one warning that says what to set", async () => {
    const s = settings({ geolocationEndpoint: CLOSED_PORT_URL, geolocationBackupEndpoint: `${ipinfo.url}/json` });
    ipinfo.handler = () => ({ status: 200, json: { error: "rate limited" } });
    const first = await createOnlineIntensityProvider(s).ready;
    assert.equal(first.source.kind, "world-average");
    assert.equal(first.intensityGPerKWh, 472.94, "Ember's world average in the latest edition");
    assert.match(first.source.fallbackReason ?? "", /geolocation failed/);
    assert.equal(first.location.countryIsoCode, null);
    resetOnlineCaches();
    await createOnlineIntensityProvider(s).ready;
    const warnings = logs.lines.filter((l) => l.level === "warning");
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!.message, /world average/);
    assert.match(warnings[0]!.message, /country_iso_code/);
  });

  test("with intensity_data = codecarbon a located region uses CodeCarbon's figures", async () => {
    geojs.handler = () => ({
      status: 200,
      json: { country_code3: "USA", country_code: "US", region: "", latitude: "1", longitude: "2" },
    });
    const answer = await createOnlineIntensityProvider(settings({ intensityData: "codecarbon" })).ready;
    assert.equal(answer.source.kind, "us-state");
    assert.equal(answer.source.edition, "codecarbon");
    assert.match(answer.source.label, /illinois/);
  });

  test("a configured country, or a forced intensity, makes no call at all", async () => {
    const country = await createOnlineIntensityProvider(settings({ countryIsoCode: "FRA" })).ready;
    assert.equal(country.location.countryIsoCode, "FRA");
    const forced = await createOnlineIntensityProvider(settings({ forceCarbonIntensityGCo2eKwh: 50 })).ready;
    assert.equal(forced.intensityGPerKWh, 50);
    assert.equal(
      geojs.requests.length + ipinfo.requests.length + metadata.requests.length + electricityMaps.requests.length,
      0,
    );
  });

  test("the location is looked up once per process", async () => {
    await createOnlineIntensityProvider(settings()).ready;
    await createOnlineIntensityProvider(settings()).ready;
    assert.equal(geojs.requests.length, 1);
  });

  test("a Google Cloud instance uses its region's figure; the probes send the providers' headers", async () => {
    metadata.handler = (r) =>
      r.path.startsWith("/computeMetadata/v1/instance/") && r.headers["metadata-flavor"] === "Google"
        ? { status: 200, json: { zone: "projects/123/zones/us-central1-a", id: 1 } }
        : { status: 404, text: "no" };
    const answer = await createOnlineIntensityProvider(settings()).ready;
    assert.equal(answer.source.kind, "cloud-region");
    assert.equal(answer.location.cloudRegion, "us-central1");
    assert.equal(answer.location.onCloud, true);
    assert.equal(geojs.requests.length, 0);
    const azure = metadata.requests.find((r) => r.path.startsWith("/metadata/instance"));
    assert.equal(azure?.headers["metadata"], "true");
  });

  test("AWS is treated as private infrastructure and geolocated, as CodeCarbon does", async () => {
    metadata.handler = (r) =>
      r.path === "/latest/dynamic/instance-identity/document"
        ? { status: 200, json: { region: "eu-west-3" } }
        : { status: 404, text: "no" };
    const answer = await createOnlineIntensityProvider(settings()).ready;
    assert.equal(answer.location.onCloud, false);
    assert.equal(answer.location.countryIsoCode, "CAN");
    assert.match(answer.source.fallbackReason ?? "", /AWS region eu-west-3 is treated as private infrastructure/);
  });

  test("cloud_detection = false skips the metadata service", async () => {
    await createOnlineIntensityProvider(settings({ cloudDetection: false })).ready;
    assert.equal(metadata.requests.length, 0);
  });

  describe("Electricity Maps", () => {
    let clockMs = 1_000_000;
    const now = () => clockMs;
    const token = "em-secret-token-123456";

    test("live intensity by coordinates, cached per zone for electricitymaps_cache_secs", async () => {
      electricityMaps.handler = (r) =>
        r.headers["auth-token"] === token
          ? {
              status: 200,
              json: { zone: "CA-ON", carbonIntensity: 58.765447504659946, datetime: "2026-11-28T18:00:00Z" },
            }
          : { status: 401, json: { error: "bad token" } };
      const provider = createOnlineIntensityProvider(
        settings({ electricitymapsApiToken: token, electricitymapsCacheSecs: 60 }),
        { now },
      );
      const answer = await provider.ready;
      assert.equal(answer.intensityGPerKWh, 58.765447504659946);
      assert.equal(answer.source.kind, "electricity-maps");
      assert.match(answer.source.label, /CA-ON/);
      // 10 kWh at that intensity: CodeCarbon's test vector.
      assert.ok(Math.abs((10 * answer.intensityGPerKWh) / 1000 - 0.58765) < 1e-5);
      const query = new URL(electricityMaps.requests[0]!.path, electricityMaps.url).searchParams;
      assert.deepEqual([query.get("lat"), query.get("lon")], ["43.7", "-79.4"]);
      for (let i = 0; i < 20; i++) provider.current();
      assert.equal(electricityMaps.requests.length, 1, "one call while the cache is fresh");

      electricityMaps.handler = () => ({ status: 200, json: { zone: "CA-ON", carbonIntensity: 99 } });
      clockMs += 61_000;
      assert.equal(
        provider.current()?.intensityGPerKWh,
        58.765447504659946,
        "the stale figure is served while the refresh runs",
      );
      provider.current();
      await waitFor(
        () => (provider.current()?.intensityGPerKWh === 99 ? true : undefined),
        "the refreshed figure",
        5000,
      );
      assert.equal(electricityMaps.requests.length, 2, "one refresh, not one per call");
      provider.close();
    });

    test("a configured country asks by alpha-2 country code", async () => {
      electricityMaps.handler = () => ({ status: 200, json: { zone: "FR", carbonIntensity: 31 } });
      const provider = createOnlineIntensityProvider(
        settings({ electricitymapsApiToken: token, countryIsoCode: "FRA" }),
        { now },
      );
      const answer = await provider.ready;
      provider.close();
      assert.equal(answer.intensityGPerKWh, 31);
      const query = new URL(electricityMaps.requests[0]!.path, electricityMaps.url).searchParams;
      assert.equal(query.get("countryCode"), "FR");
    });

    test("while the first call is in flight there is no answer yet, so no energy is priced at a figure about to be replaced", async () => {
      electricityMaps.handler = () => ({ status: 200, hang: true });
      const provider = createOnlineIntensityProvider(
        settings({ electricitymapsApiToken: token, countryIsoCode: "FRA" }),
        { now },
      );
      await waitFor(
        () => (electricityMaps.requests.length === 1 ? true : undefined),
        "the Electricity Maps call",
        5000,
      );
      assert.equal(provider.current(), null);
      const answer = await provider.ready;
      assert.equal(answer.source.kind, "country", "a call that times out settles on the bundled figure");
      assert.equal(provider.current()?.intensityGPerKWh, answer.intensityGPerKWh);
      provider.close();
    });

    for (const [name, reply] of [
      ["a refused token", { status: 401, json: { error: "Invalid auth-token" } }],
      ["a server error", { status: 500, text: "oops" }],
      ["a body without carbonIntensity", { status: 200, json: { zone: "FR" } }],
    ] as const) {
      test(`${name} falls back to the bundled data, logged once, without the token`, async () => {
        electricityMaps.handler = () => reply;
        const provider = createOnlineIntensityProvider(
          settings({ electricitymapsApiToken: token, countryIsoCode: "FRA", electricitymapsCacheSecs: 0 }),
          { now },
        );
        const answer = await provider.ready;
        assert.equal(answer.source.kind, "country");
        assert.match(answer.source.fallbackReason ?? "", /Electricity Maps failed/);
        provider.current();
        provider.current();
        const warnings = logs.lines.filter((l) => l.level === "warning");
        assert.equal(warnings.length, 1);
        assert.ok(!warnings[0]!.message.includes(token));
        if (reply.status === 401) assert.match(warnings[0]!.message, /401: Invalid auth-token/);
        provider.close();
      });
    }
  });
});
