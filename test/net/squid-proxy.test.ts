/**
 * Proxies, with Debian's real Squid and its stock access rules (CONNECT to 443 only, everything
 * else allowed from localhost): http:// calls go through as forward-proxy requests, https:// calls
 * through a CONNECT tunnel to a TLS server whose test CA is passed to the client, NO_PROXY
 * bypasses, `auth_param basic` credentials in the proxy URL authenticate, and a tracker's
 * geolocation and API calls all pass.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import { HttpError, httpRequest } from "../../src/net/http";
import { startLoopbackServer, type LoopbackServer } from "../helpers/loopback-server";
import { startSquid, type Squid } from "../helpers/squid";
import { startTlsServer, type TlsServer } from "../helpers/tls-server";
import { startFakeGeojs } from "../helpers/fake-geo-services";
import { startFakeCodeCarbonApi } from "../helpers/fake-codecarbon-api";
import { makeSandbox, readCsvRows, runChild } from "../helpers/sandbox";

const USER = "carol";
const PASSWORD = "squid-s3cret";

describe("proxies (real squid, Debian's stock rules)", () => {
  let squid: Squid;
  let securedSquid: Squid;
  let tls: TlsServer;
  const targets: LoopbackServer[] = [];

  before(async () => {
    tls = await startTlsServer();
    // When the TLS server could not take port 443, the stock SSL_ports gets its port (and only then).
    const sslPorts = tls.port === 443 ? [] : [tls.port];
    [squid, securedSquid] = await Promise.all([
      startSquid({ sslPorts }),
      startSquid({ sslPorts, basicAuth: { user: USER, password: PASSWORD } }),
    ]);
  });
  after(async () => {
    await Promise.all([squid?.stop(), securedSquid?.stop(), tls?.close(), ...targets.map((t) => t.close())]);
  });

  async function target(): Promise<LoopbackServer> {
    const server = await startLoopbackServer(() => ({ status: 200, json: { ok: true } }));
    targets.push(server);
    return server;
  }

  const get = (url: string, env: NodeJS.ProcessEnv, ca?: string) =>
    httpRequest({ method: "GET", url, timeoutMs: 10_000 }, ca === undefined ? { env } : { env, ca });

  const withCredentials = (proxy: Squid, user = USER, password = PASSWORD) => {
    const url = new URL(proxy.url);
    url.username = user;
    url.password = password;
    return url.toString();
  };

  test("the stock rules refuse a CONNECT tunnel to an http:// port (what the client used to send)", async () => {
    const t = await target();
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request({
        host: "127.0.0.1",
        port: squid.port,
        method: "CONNECT",
        path: `127.0.0.1:${t.port}`,
      });
      request.once("connect", (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      });
      request.once("error", reject);
      request.end();
    });
    assert.equal(status, 403);
  });

  test("http:// through HTTP_PROXY is a forward-proxy request that squid carries", async () => {
    const t = await target();
    const response = await get(`${t.url}/forward`, { HTTP_PROXY: squid.url });
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { ok: true });
    assert.equal(t.requests[0]?.path, "/forward");
    assert.match(String(t.requests[0]?.headers["via"]), /squid/);
    assert.ok(await squid.waitForLog(`GET ${t.url}/forward`), squid.accessLog());
    assert.ok(!squid.accessLog().includes(`CONNECT 127.0.0.1:${t.port}`));
  });

  test("squid's own error for an unreachable server is a network failure, not the server's answer", async () => {
    const gone = await target();
    await gone.close();
    await assert.rejects(get(`${gone.url}/gone`, { HTTP_PROXY: squid.url }), (error: unknown) => {
      assert.ok(error instanceof HttpError, String(error));
      assert.equal(error.code, "ERR_CODECARBON_NETWORK");
      assert.match(error.message, /the proxy answered HTTP 50\d \(ERR_CONNECT_FAIL/);
      return true;
    });
  });

  test("https:// through HTTPS_PROXY tunnels with CONNECT; the test CA passed to the client is trusted", async () => {
    const response = await get(`${tls.url}/secure`, { HTTPS_PROXY: squid.url }, tls.ca);
    assert.equal(response.status, 200);
    assert.deepEqual(response.json(), { ok: true, tls: true });
    assert.ok(await squid.waitForLog(`CONNECT ${tls.host}:${tls.port}`), squid.accessLog());
    // Without the CA the certificate is refused, and the message says why.
    await assert.rejects(get(`${tls.url}/untrusted`, { HTTPS_PROXY: squid.url }), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.match(error.message, /certificate/i);
      return true;
    });
    assert.ok(!tls.paths.includes("/untrusted"));
  });

  test("https:// without HTTPS_PROXY goes direct even when HTTP_PROXY is set (as curl and requests)", async () => {
    const before = squid.accessLog();
    const response = await get(`${tls.url}/direct`, { HTTP_PROXY: squid.url }, tls.ca);
    assert.equal(response.status, 200);
    assert.ok(tls.paths.includes("/direct"));
    assert.equal(squid.accessLog(), before);
  });

  test("NO_PROXY bypasses squid for the hosts it lists", async () => {
    const listed = await target();
    await get(`${listed.url}/bypass`, { HTTP_PROXY: squid.url, NO_PROXY: "example.org,127.0.0.1" });
    assert.equal(listed.requests.length, 1);
    assert.equal(listed.requests[0]?.headers["via"], undefined);
    const other = await target();
    await get(`${other.url}/proxied`, { HTTP_PROXY: squid.url, NO_PROXY: "example.org" });
    assert.match(String(other.requests[0]?.headers["via"]), /squid/);
  });

  test("auth_param basic: the URL's credentials authenticate, for http:// and https://; none or wrong ones get 407", async () => {
    const t = await target();
    const ok = await get(`${t.url}/authed`, { HTTP_PROXY: withCredentials(securedSquid) });
    assert.equal(ok.status, 200);
    assert.ok(await securedSquid.waitForLog(`GET ${t.url}/authed`));
    assert.match(securedSquid.accessLog(), new RegExp(`${USER} `), "squid logged the user");
    const secure = await get(`${tls.url}/authed-tls`, { HTTPS_PROXY: withCredentials(securedSquid) }, tls.ca);
    assert.equal(secure.status, 200);

    for (const proxy of [securedSquid.url, withCredentials(securedSquid, USER, "wrong-password")]) {
      const refused = await target();
      await assert.rejects(get(`${refused.url}/refused`, { HTTP_PROXY: proxy }), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.match(error.message, /407/);
        assert.ok(!error.message.includes("wrong-password"), error.message);
        return true;
      });
      assert.equal(refused.requests.length, 0);
    }
    await assert.rejects(get(`${tls.url}/refused-tls`, { HTTPS_PROXY: securedSquid.url }, tls.ca), /407/);
  });

  test("a tracker's geolocation and API calls go through squid", async () => {
    const api = await startFakeCodeCarbonApi();
    const geojs = await startFakeGeojs();
    const sandbox = makeSandbox();
    try {
      const script = `const { EmissionsTracker } = require(CODECARBON);
        (async () => {
          const tracker = new EmissionsTracker({ measurePowerSecs: 0.3, outputMethods: ["csv", "api"] }).start();
          await new Promise((r) => setTimeout(r, 700));
          await tracker.stop();
        })();`;
      const proxy = withCredentials(securedSquid);
      await runChild(script, sandbox, {
        CODECARBON_GEOLOCATION_ENDPOINT: geojs.endpoint,
        CODECARBON_CLOUD_DETECTION: "false",
        CODECARBON_API_ENDPOINT: api.url,
        CODECARBON_API_KEY: "cpt_test-token-0123456789",
        HTTP_PROXY: proxy,
        http_proxy: proxy,
        NO_PROXY: "",
        no_proxy: "",
      });
      assert.equal(geojs.calls().length, 1);
      assert.ok(api.all.length >= 2, "the run and its points reached the API");
      assert.ok(await securedSquid.waitForLog(`GET ${geojs.endpoint}`), securedSquid.accessLog());
      assert.ok(await securedSquid.waitForLog(`POST ${api.url}/runs`));
      assert.ok(await securedSquid.waitForLog(`POST ${api.url}/emissions`));
      const [row] = readCsvRows(path.join(sandbox.cwd, "emissions.csv"));
      assert.equal(row?.["country_iso_code"], "CAN");
    } finally {
      sandbox.cleanup();
      await Promise.all([api.close(), geojs.close()]);
    }
  });
});
