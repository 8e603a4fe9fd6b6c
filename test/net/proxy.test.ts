/**
 * Proxies, with a real tinyproxy: HTTP(S)_PROXY route calls through it, NO_PROXY bypasses it,
 * credentials in the proxy URL authenticate and never show up in our messages.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { HttpError, httpRequest, redactUrl } from "../../src/net/http";
import { startLoopbackServer, type LoopbackServer } from "../helpers/loopback-server";
import { startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy";
import { startFakeCodeCarbonApi, type FakeCodeCarbonApi } from "../helpers/fake-codecarbon-api";
import { makeSandbox, readCsvRows, runChild } from "../helpers/sandbox";

/**
 * The proxy's own log tells a proxied call from a direct one: http:// calls are forward-proxy
 * requests (`GET http://127.0.0.1:PORT/…`), never CONNECT tunnels. Each check uses a fresh target port.
 */
const tunnelled = (proxy: Tinyproxy, server: LoopbackServer) => {
  const log = proxy.log();
  assert.ok(!log.includes(`CONNECT 127.0.0.1:${server.port}`), "an http:// call must not open a CONNECT tunnel");
  return log.includes(`http://127.0.0.1:${server.port}/`);
};

describe("proxies (real tinyproxy)", () => {
  let proxy: Tinyproxy;
  let securedProxy: Tinyproxy;
  const targets: LoopbackServer[] = [];

  before(async () => {
    proxy = await startTinyproxy();
    securedProxy = await startTinyproxy({ basicAuth: { user: "alice", password: "s3cret-pass" } });
  });
  after(async () => {
    await Promise.all([proxy.stop(), securedProxy.stop(), ...targets.map((t) => t.close())]);
  });

  async function target(): Promise<LoopbackServer> {
    const server = await startLoopbackServer(() => ({ status: 200, json: { ok: true } }));
    targets.push(server);
    return server;
  }

  const get = (url: string, env: NodeJS.ProcessEnv) => httpRequest({ method: "GET", url, timeoutMs: 5000 }, { env });

  test("HTTP_PROXY routes http:// calls through the proxy", async () => {
    const t = await target();
    const response = await get(`${t.url}/a`, { HTTP_PROXY: proxy.url });
    assert.equal(response.status, 200);
    assert.ok(tunnelled(proxy, t), "the proxy carried the call");
  });

  test("a tinyproxy that allows CONNECT to 443 only still carries http:// calls (forward requests)", async () => {
    const strict = await startTinyproxy({ connectPorts: [443] });
    try {
      const t = await target();
      const response = await get(`${t.url}/strict`, { HTTP_PROXY: strict.url });
      assert.equal(response.status, 200);
      assert.equal(t.requests[0]?.path, "/strict");
      assert.ok(tunnelled(strict, t), "the proxy carried the call");
    } finally {
      await strict.stop();
    }
  });

  test("lower-case http_proxy works too, and wins over the upper-case one", async () => {
    const t = await target();
    await get(`${t.url}/b`, { http_proxy: proxy.url, HTTP_PROXY: "http://127.0.0.1:47" });
    assert.ok(tunnelled(proxy, t));
  });

  test("NO_PROXY bypasses the proxy for the hosts it lists", async () => {
    const listed = await target();
    await get(`${listed.url}/c`, { HTTP_PROXY: proxy.url, NO_PROXY: "example.org,127.0.0.1" });
    assert.equal(listed.requests.length, 1);
    assert.ok(!tunnelled(proxy, listed), "direct");
    const star = await target();
    await get(`${star.url}/d`, { HTTP_PROXY: proxy.url, no_proxy: "*" });
    assert.ok(!tunnelled(proxy, star), "direct with *");
    const other = await target();
    await get(`${other.url}/e`, { HTTP_PROXY: proxy.url, NO_PROXY: "example.org" });
    assert.ok(tunnelled(proxy, other), "hosts not listed are proxied");
  });

  test("HTTPS_PROXY alone does not capture http:// calls (as curl and requests)", async () => {
    const t = await target();
    const response = await get(`${t.url}/f`, { HTTPS_PROXY: "http://127.0.0.1:47" });
    assert.equal(response.status, 200);
  });

  test("credentials in the proxy URL authenticate; without them the proxy refuses", async () => {
    const user = new URL(securedProxy.url);
    user.username = "alice";
    user.password = "s3cret-pass";
    const t = await target();
    const ok = await get(`${t.url}/g`, { HTTP_PROXY: user.toString() });
    assert.equal(ok.status, 200);
    assert.ok(tunnelled(securedProxy, t));
    const refusedTarget = await target();
    await assert.rejects(get(`${refusedTarget.url}/h`, { HTTP_PROXY: securedProxy.url }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.match(error.message, /407|Proxy/i);
      return true;
    });
    assert.equal(refusedTarget.requests.length, 0);
  });

  test("a failing proxy's error message never contains its credentials", async () => {
    const env = { HTTP_PROXY: "http://alice:s3cret-pass@127.0.0.1:47" };
    const t = await target();
    await assert.rejects(get(`${t.url}/i`, env), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.ok(!error.message.includes("s3cret-pass"), error.message);
      return true;
    });
    assert.equal(redactUrl("http://alice:s3cret-pass@proxy:3128/"), "http://***@proxy:3128/");
  });

  test("a tracker's geolocation and API calls go through the proxy; NO_PROXY hosts go direct", async () => {
    const api: FakeCodeCarbonApi = await startFakeCodeCarbonApi();
    const geojs = await startLoopbackServer(() => ({
      status: 200,
      json: {
        country_code3: "DEU",
        country_code: "DE",
        country: "Germany",
        region: "Berlin",
        latitude: "52.5",
        longitude: "13.4",
      },
    }));
    const sandbox = makeSandbox();
    try {
      const script = `const { EmissionsTracker } = require(CODECARBON);
        (async () => {
          const tracker = new EmissionsTracker({ measurePowerSecs: 0.3, outputMethods: ["csv", "api"] }).start();
          await new Promise((r) => setTimeout(r, 700));
          await tracker.stop();
        })();`;
      const env = {
        CODECARBON_GEOLOCATION_ENDPOINT: `${geojs.url}/v1/ip/geo.json`,
        CODECARBON_CLOUD_DETECTION: "false",
        CODECARBON_API_ENDPOINT: api.url,
        CODECARBON_API_KEY: "cpt_test-token-0123456789",
        HTTP_PROXY: proxy.url,
        http_proxy: proxy.url,
        NO_PROXY: "",
        no_proxy: "",
      };
      await runChild(script, sandbox, env);
      assert.ok(tunnelled(proxy, geojs), "geolocation went through the proxy");
      assert.ok(api.all.length >= 2, "the run and its points reached the API");
      assert.ok(proxy.log().includes(`${api.url}/runs`), "the API calls went through the proxy");
      const [row] = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
      assert.equal(row?.["country_iso_code"], "DEU");

      const direct = await startFakeCodeCarbonApi();
      try {
        await runChild(script, sandbox, {
          ...env,
          CODECARBON_API_ENDPOINT: direct.url,
          NO_PROXY: "127.0.0.1",
          no_proxy: "127.0.0.1",
        });
        assert.ok(direct.all.length >= 2);
        assert.ok(!proxy.log().includes(`127.0.0.1:${new URL(direct.url).port}`), "NO_PROXY hosts are called directly");
      } finally {
        await direct.close();
      }
    } finally {
      sandbox.cleanup();
      await Promise.all([api.close(), geojs.close()]);
    }
  });
});
