/**
 * The online provider against protocol fakes of geojs, ipinfo, the cloud metadata service and
 * Electricity Maps (test/helpers/fake-geo-services.ts): the edges of each lookup, and the live
 * intensity's cache across expiries and failures. A fake clock drives the cache; nothing waits
 * on wall time except the bounded request timeouts set in the settings.
 */
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { resolveConfig } from "../../src/config";
import type { TrackerOptions } from "../../src/config/options.generated";
import { createOnlineIntensityProvider, resetOnlineCaches, type GeoLocation } from "../../src/intensity/online";
import type { LocatedResolution } from "../../src/intensity/provider";
import {
  GEOJS_ONTARIO,
  IPINFO_ILLINOIS,
  startFakeCloudMetadata,
  startFakeElectricityMaps,
  startFakeGeojs,
  startFakeIpinfo,
  type FakeCloudMetadata,
  type FakeElectricityMaps,
  type FakeGeojs,
  type FakeIpinfo,
} from "../helpers/fake-geo-services";
import { CLOSED_PORT_URL } from "../helpers/loopback-server";
import { useLogCapture } from "../helpers/log-capture";
import { waitFor } from "../helpers/sandbox";

const TOKEN = "em-token-never-logged-7f3a9c";

function roundTrip(baseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get(`${baseUrl}/ping`, (response) => response.resume().on("end", () => resolve())).on("error", reject);
  });
}

describe("online intensity against the service fakes", () => {
  const logs = useLogCapture();
  let dir: string;
  let geojs: FakeGeojs;
  let ipinfo: FakeIpinfo;
  let metadata: FakeCloudMetadata;
  let electricityMaps: FakeElectricityMaps;
  let clockMs = 0;
  const now = () => clockMs;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-online-fakes-"));
    [geojs, ipinfo, metadata, electricityMaps] = await Promise.all([
      startFakeGeojs(),
      startFakeIpinfo(),
      startFakeCloudMetadata(),
      startFakeElectricityMaps(TOKEN),
    ]);
  });
  after(async () => {
    await Promise.all([geojs.close(), ipinfo.close(), metadata.close(), electricityMaps.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    resetOnlineCaches();
    clockMs = 1_700_000_000_000;
    for (const fake of [geojs, ipinfo, metadata, electricityMaps]) fake.requests.length = 0;
    geojs.override = null;
    geojs.body = GEOJS_ONTARIO;
    ipinfo.override = null;
    ipinfo.body = IPINFO_ILLINOIS;
    metadata.cloud = null;
    electricityMaps.override = null;
    electricityMaps.token = TOKEN;
  });
  afterEach(() => {
    resetOnlineCaches();
    for (const line of logs.lines) assert.ok(!line.message.includes(TOKEN), `the token leaked into: ${line.message}`);
  });

  function settings(options: TrackerOptions = {}) {
    return resolveConfig(
      {
        geolocationEndpoint: geojs.endpoint,
        geolocationBackupEndpoint: ipinfo.endpoint,
        cloudMetadataEndpoint: metadata.url,
        electricitymapsEndpoint: electricityMaps.endpoint,
        geolocationTimeoutSecs: 0.3,
        apiTimeoutSecs: 0.5,
        ...options,
      },
      { env: {}, cwd: dir, home: dir },
    ).settings;
  }

  const warnings = () => logs.lines.filter((l) => l.level === "warning");

  describe("geolocation", () => {
    test("CodeCarbon's USA payload from geojs: alpha-3, name, lower-case region; location() tells the tracker", async () => {
      geojs.body = {
        country_code3: "usa",
        country_code: "us",
        country: "United States",
        region: "Illinois",
        latitude: "41.8",
        longitude: "-87.6",
      };
      const provider = createOnlineIntensityProvider(settings(), { now });
      const answer = await provider.ready;
      assert.equal(answer.location.countryIsoCode, "USA");
      assert.equal(answer.location.countryName, "United States");
      assert.equal(answer.location.region, "illinois");
      assert.deepEqual(provider.location(), {
        countryIsoCode: "USA",
        countryAlpha2: "US",
        countryName: "United States",
        region: "illinois",
        latitude: 41.8,
        longitude: -87.6,
        source: "geojs",
      });
      assert.equal(ipinfo.calls().length, 0);
    });

    test("a geojs failure is retried once before the backup is asked", async () => {
      const answerNormally = geojs.handler;
      geojs.handler = (request) =>
        geojs.calls().length === 1 ? { status: 503, text: "busy" } : answerNormally(request);
      const provider = createOnlineIntensityProvider(settings(), { now });
      await provider.ready.finally(() => (geojs.handler = answerNormally));
      assert.equal(geojs.calls().length, 2);
      assert.equal(ipinfo.calls().length, 0);
      assert.equal(provider.location()?.source, "geojs");
    });

    for (const [name, reply, reason] of [
      ["a JSON array", { status: 200, json: [GEOJS_ONTARIO] }, /geojs answered something other than a JSON object/],
      ["an HTML page", { status: 200, text: "<html>captive portal</html>" }, /geojs/],
      [
        "a 3-letter code missing",
        { status: 200, json: { ...GEOJS_ONTARIO, country_code3: "" } },
        /geojs gave no 3-letter country code/,
      ],
    ] as const) {
      test(`geojs answering ${name} counts as a failure: ipinfo locates, and the log says why`, async () => {
        geojs.override = reply;
        const provider = createOnlineIntensityProvider(settings(), { now });
        const answer = await provider.ready;
        assert.equal(answer.location.countryIsoCode, "USA");
        assert.equal(provider.location()?.source, "ipinfo");
        assert.equal(geojs.calls().length, 2);
        const debug = logs.lines.filter((l) => l.level === "debug" && l.message.includes("Located by ipinfo"));
        assert.equal(debug.length, 1);
        assert.match(debug[0]!.message, reason);
        assert.equal(warnings().length, 0);
      });
    }

    test('ipinfo\'s CodeCarbon vector (US, loc "0,88") gives USA / illinois with its coordinates', async () => {
      geojs.override = { status: 404, json: { error: "not found" } };
      ipinfo.body = { country: "US", region: "Illinois", loc: "0,88" };
      const provider = createOnlineIntensityProvider(settings(), { now });
      const answer = await provider.ready;
      assert.equal(answer.location.countryIsoCode, "USA");
      assert.equal(answer.location.countryName, "United States");
      assert.equal(answer.location.region, "illinois");
      assert.deepEqual([answer.latitude, answer.longitude], [0, 88]);
    });

    test("an unknown alpha-2 from ipinfo, after geojs failed: the world average and one warning naming both reasons", async () => {
      geojs.override = { status: 500, text: "down" };
      ipinfo.body = { country: "ZZ", region: "Nowhere" };
      const provider = createOnlineIntensityProvider(settings(), { now });
      const answer = await provider.ready;
      assert.equal(answer.source.kind, "world-average");
      assert.equal(answer.location.countryIsoCode, null);
      assert.equal(provider.location(), null, "a failed lookup is not passed on: the next run tries again");
      assert.equal(warnings().length, 1);
      assert.match(warnings()[0]!.message, /geojs \(answered HTTP 500\)/);
      assert.match(warnings()[0]!.message, /unknown country code "ZZ"/);
      assert.match(warnings()[0]!.message, /country_iso_code/);
    });

    test(
      "services that never answer are given up after geolocation_timeout_secs, each tried twice",
      { timeout: 15_000 },
      async () => {
        geojs.override = { status: 200, hang: true };
        ipinfo.override = { status: 200, hang: true };
        const answer = await createOnlineIntensityProvider(settings({ geolocationTimeoutSecs: 0.2 }), { now }).ready;
        assert.equal(answer.source.kind, "world-average");
        assert.equal(geojs.calls().length, 2);
        assert.equal(ipinfo.calls().length, 2);
        assert.equal(warnings().length, 1);
      },
    );

    test("a location found by an earlier run is used without asking again", async () => {
      const known: GeoLocation = {
        countryIsoCode: "FRA",
        countryAlpha2: "FR",
        countryName: "France",
        region: "ile-de-france",
        latitude: 48.86,
        longitude: 2.35,
        source: "geojs",
      };
      const provider = createOnlineIntensityProvider(settings(), { now, knownLocation: known });
      const answer = await provider.ready;
      assert.equal(answer.location.countryIsoCode, "FRA");
      assert.deepEqual([answer.latitude, answer.longitude], [48.86, 2.35]);
      assert.equal(provider.location(), known);
      assert.equal(geojs.requests.length + ipinfo.requests.length, 0);
    });
  });

  describe("cloud detection", () => {
    test("Azure is located like private infrastructure, and the probe sent Azure's header", async () => {
      metadata.cloud = { provider: "azure", location: "westeurope" };
      const answer = await createOnlineIntensityProvider(settings(), { now }).ready;
      assert.equal(answer.location.onCloud, false);
      assert.equal(answer.location.cloudProvider, "");
      assert.equal(answer.location.countryIsoCode, "CAN", "geolocated");
      assert.match(answer.source.fallbackReason ?? "", /AZURE region westeurope is treated as private infrastructure/);
    });

    test("when AWS and GCP both answer, AWS wins as in CodeCarbon's probe order", async () => {
      const answerNormally = metadata.handler;
      metadata.handler = (request) => {
        if (request.path.startsWith("/latest/dynamic/instance-identity/document"))
          return { status: 200, json: { region: "us-east-1" } };
        if (request.path.startsWith("/computeMetadata/v1/instance/"))
          return { status: 200, json: { zone: "projects/1/zones/us-central1-a" } };
        return { status: 404, text: "no" };
      };
      try {
        const answer = await createOnlineIntensityProvider(settings(), { now }).ready;
        assert.notEqual(answer.source.kind, "cloud-region");
        assert.match(answer.source.fallbackReason ?? "", /AWS region us-east-1/);
      } finally {
        metadata.handler = answerNormally;
      }
    });

    test("a GCP region missing from the bundled data falls back to geolocation, with the reason", async () => {
      metadata.cloud = { provider: "gcp", zone: "projects/1/zones/xx-nowhere9-b" };
      const answer = await createOnlineIntensityProvider(settings(), { now }).ready;
      assert.equal(answer.location.countryIsoCode, "CAN");
      assert.match(answer.source.fallbackReason ?? "", /GCP region xx-nowhere9 is not in the bundled cloud data/);
      assert.equal(geojs.calls().length, 1);
    });

    test("the metadata service is probed once per thread, like the location", async () => {
      await createOnlineIntensityProvider(settings(), { now }).ready;
      await createOnlineIntensityProvider(settings(), { now }).ready;
      assert.equal(metadata.requests.length, 3, "one probe per provider, for both providers");
      assert.equal(geojs.calls().length, 1);
    });

    test("a configured cloud provider and region make no call at all, even with a token", async () => {
      const answer = await createOnlineIntensityProvider(
        settings({ cloudProvider: "gcp", cloudRegion: "us-central1", electricitymapsApiToken: TOKEN }),
        { now },
      ).ready;
      assert.equal(answer.source.kind, "cloud-region");
      assert.equal(answer.location.cloudRegion, "us-central1");
      assert.equal(
        geojs.requests.length + ipinfo.requests.length + metadata.requests.length + electricityMaps.requests.length,
        0,
      );
    });
  });

  describe("Electricity Maps", () => {
    const isLive = (answer: LocatedResolution | null) =>
      answer?.source.kind === "electricity-maps" ? answer : undefined;

    test("a failed refresh serves the bundled figure and waits a full expiry before the next try", async () => {
      const provider = createOnlineIntensityProvider(
        settings({ electricitymapsApiToken: TOKEN, electricitymapsCacheSecs: 60 }),
        { now },
      );
      const first = await provider.ready;
      assert.equal(first.intensityGPerKWh, 58.765447504659946);
      assert.equal(first.source.label, "Electricity Maps live, zone CA-ON");
      assert.equal(first.source.dataset, "Electricity Maps API (carbon-intensity/latest)");
      assert.equal(first.source.year, new Date(clockMs).getUTCFullYear());
      assert.equal(first.location.countryIsoCode, "CAN", "the CSV's location is the located one");

      electricityMaps.override = { status: 500, json: { message: "upstream unavailable" } };
      clockMs += 61_000;
      assert.equal(provider.current()?.intensityGPerKWh, 58.765447504659946, "stale but served while the refresh runs");
      const fallback = await waitFor(() => {
        const answer = provider.current();
        return answer?.source.kind !== "electricity-maps" ? answer : undefined;
      }, "the bundled fallback");
      assert.match(fallback?.source.fallbackReason ?? "", /Electricity Maps failed: .*HTTP 500: upstream unavailable/);
      for (let i = 0; i < 10; i++) provider.current();
      clockMs += 30_000;
      for (let i = 0; i < 10; i++) provider.current();
      // A request of our own through the same server: any call the provider had started by now
      // has reached the fake by the time ours comes back.
      await roundTrip(electricityMaps.url);
      assert.equal(electricityMaps.calls().length, 2, "no call before the next expiry");

      electricityMaps.override = null;
      clockMs += 31_000;
      await waitFor(() => isLive(provider.current()), "the live figure again");
      provider.close();
      assert.equal(electricityMaps.calls().length, 3, "first answer, the failed refresh, the retry one expiry later");
      assert.equal(warnings().length, 1);
    });

    test("a second provider in the same thread reuses a fresh cached figure for the same zone", async () => {
      const s = settings({ electricitymapsApiToken: TOKEN, electricitymapsCacheSecs: 600 });
      const first = createOnlineIntensityProvider(s, { now });
      await first.ready;
      first.close();
      clockMs += 10_000;
      const second = createOnlineIntensityProvider(s, { now });
      assert.equal(isLive(await second.ready)?.intensityGPerKWh, 58.765447504659946);
      second.close();
      assert.equal(electricityMaps.calls().length, 1);
    });

    test("without coordinates Electricity Maps is asked by the located country's alpha-2 code", async () => {
      geojs.override = { status: 500, text: "down" };
      ipinfo.body = { country: "US", region: "Illinois" };
      const provider = createOnlineIntensityProvider(settings({ electricitymapsApiToken: TOKEN }), { now });
      const answer = await provider.ready;
      provider.close();
      assert.equal(answer.source.label, "Electricity Maps live, zone US");
      const query = new URL(electricityMaps.calls()[0]!.path, electricityMaps.url).searchParams;
      assert.deepEqual([query.get("countryCode"), query.get("lat")], ["US", null]);
    });

    for (const [configured, expected] of [
      [{ countryIsoCode: "DEU" }, "DE"],
      [{ countryIsoCode: "CHE" }, "CH"],
      [{ countryIsoCode: "GBR", country2letterIsoCode: "gb" }, "GB"],
    ] as const) {
      test(`a configured ${JSON.stringify(configured)} asks by countryCode=${expected}`, async () => {
        const provider = createOnlineIntensityProvider(settings({ electricitymapsApiToken: TOKEN, ...configured }), {
          now,
        });
        const answer = await provider.ready;
        provider.close();
        assert.equal(answer.source.kind, "electricity-maps");
        assert.equal(answer.location.countryIsoCode, configured.countryIsoCode);
        const query = new URL(electricityMaps.calls()[0]!.path, electricityMaps.url).searchParams;
        assert.equal(query.get("countryCode"), expected);
        assert.equal(geojs.requests.length + metadata.requests.length, 0);
      });
    }

    for (const [name, reply, reason] of [
      [
        "an HTML error page with status 200",
        { status: 200, text: "<html>gateway</html>" },
        /without a usable carbonIntensity/,
      ],
      [
        "a negative carbonIntensity",
        { status: 200, json: { zone: "FR", carbonIntensity: -3 } },
        /without a usable carbonIntensity/,
      ],
      [
        "carbonIntensity as a string",
        { status: 200, json: { zone: "FR", carbonIntensity: "58" } },
        /without a usable carbonIntensity/,
      ],
      [
        "a 429 with a message",
        { status: 429, json: { message: "Rate limit exceeded" } },
        /HTTP 429: Rate limit exceeded/,
      ],
    ] as const) {
      test(`${name}: the bundled figure for the country, one warning`, async () => {
        electricityMaps.override = reply;
        const provider = createOnlineIntensityProvider(
          settings({ electricitymapsApiToken: TOKEN, countryIsoCode: "FRA" }),
          { now },
        );
        const answer = await provider.ready;
        provider.close();
        assert.equal(answer.source.kind, "country");
        assert.equal(answer.location.countryIsoCode, "FRA");
        assert.equal(warnings().length, 1);
        assert.match(warnings()[0]!.message, reason);
      });
    }

    test("a wrong token: 401 with the service's reason, never the token", async () => {
      electricityMaps.token = "the-right-one";
      const provider = createOnlineIntensityProvider(
        settings({ electricitymapsApiToken: TOKEN, countryIsoCode: "FRA" }),
        { now },
      );
      const answer = await provider.ready;
      provider.close();
      assert.equal(electricityMaps.calls()[0]!.headers["auth-token"], TOKEN);
      assert.equal(answer.source.kind, "country");
      assert.match(warnings()[0]!.message, /HTTP 401: Invalid auth-token/);
    });

    test("an unreachable endpoint: the bundled figure, one warning naming the endpoint", async () => {
      const provider = createOnlineIntensityProvider(
        settings({
          electricitymapsApiToken: TOKEN,
          countryIsoCode: "FRA",
          electricitymapsEndpoint: `${CLOSED_PORT_URL}/v3`,
        }),
        { now },
      );
      const answer = await provider.ready;
      provider.close();
      assert.equal(answer.source.kind, "country");
      assert.equal(warnings().length, 1);
      assert.match(warnings()[0]!.message, /127\.0\.0\.1:47/);
    });

    test("a forced intensity wins over a token: no call at all", async () => {
      const answer = await createOnlineIntensityProvider(
        settings({ electricitymapsApiToken: TOKEN, forceCarbonIntensityGCo2eKwh: 50 }),
        { now },
      ).ready;
      assert.equal(answer.intensityGPerKWh, 50);
      // CodeCarbon's vector: 50 g/kWh for 2 kWh is 0.1 kg.
      assert.equal((2 * answer.intensityGPerKWh) / 1000, 0.1);
      assert.equal(
        geojs.requests.length + ipinfo.requests.length + metadata.requests.length + electricityMaps.requests.length,
        0,
      );
    });
  });
});
