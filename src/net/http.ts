/**
 * The one way this package talks HTTP. Every outgoing call (geolocation, cloud metadata,
 * Electricity Maps, the CodeCarbon API, emissions_endpoint) goes through `httpRequest`, so proxy
 * rules, timeouts and credential redaction are the same everywhere.
 *
 * Node's fetch ignores HTTP(S)_PROXY before v24 (and even there only on request), so the proxy
 * variables are honoured explicitly with undici's EnvHttpProxyAgent: HTTPS_PROXY for https://
 * URLs, HTTP_PROXY for http:// ones, NO_PROXY to bypass (upper- or lower-case, lower-case wins
 * as in curl). undici is loaded on the first call only, so a tracker that never goes on the
 * network never pays for it.
 *
 * An http:// URL goes to its proxy as a plain forward-proxy request (absolute URI, no CONNECT),
 * as requests and curl send it: company proxies such as Debian's stock Squid refuse CONNECT to
 * any port but 443, so a tunnel would never get through. https:// URLs keep the CONNECT tunnel.
 */
import { CodeCarbonError } from "../errors";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** Serialised as JSON with `content-type: application/json`. */
  json?: unknown;
  /** A text body sent as is (its content-type in headers), for protocols other than JSON. */
  body?: string;
  /** Whole-call limit (connect + headers + body), in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string>>;
  text: string;
  /** The body parsed as JSON; throws an HttpError (code ERR_CODECARBON_HTTP_BODY) when it is not JSON. */
  json(): unknown;
}

export interface HttpOptions {
  /** Where proxy variables are read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * PEM certificates trusted for https:// servers instead of Node's bundled roots (a company or
   * test CA). Without it, Node's roots plus NODE_EXTRA_CA_CERTS are trusted.
   */
  ca?: string;
}

/** A call that got no usable HTTP answer: timeout, refused, DNS or proxy failure, unreadable body. */
export class HttpError extends CodeCarbonError {
  override name = "HttpError";
}

/** The proxy settings found in an environment, credentials included (never log them raw). */
export interface ProxySettings {
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  noProxy: string | undefined;
}

function pick(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function proxySettings(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const httpProxy = pick(env, "http_proxy");
  // As curl and requests do, an https:// URL without HTTPS_PROXY goes direct, not via HTTP_PROXY.
  return { httpProxy, httpsProxy: pick(env, "https_proxy"), noProxy: pick(env, "no_proxy") };
}

/** The URL with any user:password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "***";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//***@");
  }
}

type Undici = typeof import("undici");
type Dispatcher = import("undici").Dispatcher;

let undici: Undici | undefined;
const dispatchers = new Map<string, Dispatcher>();

/**
 * The dispatcher for one URL scheme. Each scheme gets an agent of its own, so that only the
 * https:// one tunnels and an https:// URL without HTTPS_PROXY goes direct (undici's
 * EnvHttpProxyAgent alone would send it to HTTP_PROXY). NO_PROXY matching stays undici's.
 */
function dispatcherFor(
  settings: ProxySettings,
  scheme: "http" | "https",
  ca: string | undefined,
): Dispatcher | undefined {
  const proxy = scheme === "https" ? settings.httpsProxy : settings.httpProxy;
  if (proxy === undefined && ca === undefined) return undefined;
  const key = JSON.stringify([scheme, proxy, settings.noProxy, ca]);
  let dispatcher = dispatchers.get(key);
  if (dispatcher === undefined) {
    undici ??= require("undici") as Undici;
    // Empty strings, not undefined: the agent would otherwise fall back to process.env, which
    // is not the environment we were given.
    const options: import("undici").EnvHttpProxyAgent.Options & { proxyTunnel: boolean } = {
      httpProxy: scheme === "http" ? (proxy ?? "") : "",
      httpsProxy: scheme === "https" ? (proxy ?? "") : "",
      noProxy: settings.noProxy ?? "",
      proxyTunnel: scheme === "https",
    };
    if (ca !== undefined) {
      // The direct agent reads `connect`, the proxy agent `requestTls` (the TLS inside the tunnel).
      options.connect = { ca };
      (options as import("undici").ProxyAgent.Options).requestTls = { ca };
    }
    dispatcher = new undici.EnvHttpProxyAgent(options);
    dispatchers.set(key, dispatcher);
  }
  return dispatcher;
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError" || error.name === "AbortError") return error.message;
  // undici wraps the real reason a few causes deep ("fetch failed" → "Request was cancelled"
  // → "Proxy response (407) !== 200 when HTTP Tunneling"): the innermost one says what happened.
  let innermost: Error = error;
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) innermost = cause;
  const code = (innermost as NodeJS.ErrnoException).code;
  // A tunnel says "Proxy response (407) !== 200"; a forward-proxy request "Proxy Authentication Required (407)".
  const proxyStatus = /Proxy (?:response|Authentication Required) \((\d+)\)/.exec(innermost.message)?.[1];
  if (proxyStatus !== undefined)
    return `the proxy answered HTTP ${proxyStatus}${proxyStatus === "407" ? " (proxy authentication required: put user:password in the proxy URL)" : ""}`;
  return typeof code === "string" && !innermost.message.includes(code)
    ? `${code}: ${innermost.message}`
    : innermost.message;
}

export async function httpRequest(request: HttpRequest, options: HttpOptions = {}): Promise<HttpResponse> {
  const settings = proxySettings(options.env ?? process.env);
  undici ??= require("undici") as Undici;
  const headers: Record<string, string> = { accept: "application/json", ...request.headers };
  let body: string | undefined = request.body;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers["content-type"] = "application/json";
  }
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const where = `${request.method} ${redactUrl(request.url)}`;
  try {
    const scheme = /^https:/i.test(request.url) ? "https" : "http";
    const dispatcher = dispatcherFor(settings, scheme, options.ca);
    const init: import("undici").RequestInit = { method: request.method, headers, signal };
    if (body !== undefined) init.body = body;
    if (dispatcher !== undefined) init.dispatcher = dispatcher;
    const response = await undici.fetch(request.url, init);
    const text = await response.text();
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      responseHeaders[name.toLowerCase()] = value;
    });
    // Without a tunnel, a proxy's own refusal (403 access denied, 503 server unreachable) comes
    // back as the answer. It says nothing about the server, so it is a failed call to retry,
    // never a refusal for good of what was sent. Squid names its errors in this header.
    const proxyError = responseHeaders["x-squid-error"];
    if (proxyError !== undefined)
      throw new HttpError(
        "ERR_CODECARBON_NETWORK",
        `${where} failed: the proxy answered HTTP ${response.status} (${proxyError})`,
      );
    return {
      status: response.status,
      headers: responseHeaders,
      text,
      json: () => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new HttpError(
            "ERR_CODECARBON_HTTP_BODY",
            `${where} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
          );
        }
      },
    };
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const reason = timeout.aborted ? `no answer within ${request.timeoutMs} ms` : describeFailure(error);
    throw new HttpError("ERR_CODECARBON_NETWORK", `${where} failed: ${redactUrl(reason)}`, { cause: error });
  }
}

/** Raised by callers when an answer's status is not the one the protocol promises. */
export class HttpStatusError extends CodeCarbonError {
  override name = "HttpStatusError";
  constructor(
    readonly status: number,
    readonly body: string,
    message: string,
  ) {
    super("ERR_CODECARBON_HTTP_STATUS", message);
  }
}
