/**
 * A tiny HTTP server on 127.0.0.1 for protocol fakes: each test gives it a handler that
 * answers like the real service, and reads back every request it received.
 */
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
}

export interface LoopbackServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  handler: (request: ReceivedRequest) => Reply;
  close(): Promise<void>;
}

export async function startLoopbackServer(handler: (request: ReceivedRequest) => Reply): Promise<LoopbackServer> {
  const hanging = new Set<http.ServerResponse>();
  const state: LoopbackServer = {
    url: "",
    port: 0,
    requests: [],
    handler,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const received: ReceivedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      state.requests.push(received);
      const reply = state.handler(received);
      if (reply.hang) {
        hanging.add(res);
        return;
      }
      const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? "");
      res.writeHead(reply.status, { "content-type": reply.json !== undefined ? "application/json" : "text/plain" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  state.port = port;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A loopback port where nothing listens (and that fetch does not ban, unlike 9): calls are refused at once. */
export const CLOSED_PORT_URL = "http://127.0.0.1:47";

/** A loopback port that was free a moment ago, for servers that cannot be told to pick one (port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
