/**
 * `/metrics` in the Prometheus text format, served from the sampling thread: scrapes are
 * answered while the user's code blocks the main thread. The body is rendered at the first
 * scrape after a measurement, so a run nobody scrapes pays nothing per measurement.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { log } from "../../log";
import type { EmissionsData } from "../emissions-data";
import type { OutputSink } from "../sink";
import { EXPOSITION_CONTENT_TYPE, fleetMetrics, renderExposition } from "./metrics";

export interface ExpositionOptions {
  host: string;
  port: number;
  /** The run's row (the CSV's) before its first measurement; each measurement brings the next. */
  currentRow(): EmissionsData;
}

export interface ExpositionSink extends OutputSink {
  /** Resolves with the port once listening (useful when 0 asked for a free one), null if it could not listen. */
  readonly listening: Promise<number | null>;
}

export function createExpositionSink(options: ExpositionOptions): ExpositionSink {
  let body: string | null = null;
  let row = options.currentRow();
  let intensity: number | null = null;
  const refresh = (latest: EmissionsData): void => {
    row = latest;
    body = null;
  };
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (url.pathname === "/metrics") {
      body ??= renderExposition(fleetMetrics(row, intensity));
      response
        .writeHead(200, { "content-type": EXPOSITION_CONTENT_TYPE, "content-length": Buffer.byteLength(body) })
        .end(request.method === "HEAD" ? undefined : body);
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("codecarbon serves /metrics\n");
    }
  });
  // Scrapers keep connections open; they must not hold the sampling thread at stop.
  server.keepAliveTimeout = 5_000;
  const listening = new Promise<number | null>((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      log.once(
        "warning",
        `prometheus-listen:${options.port}`,
        `Cannot serve Prometheus metrics on ${options.host}:${options.port} (${error.code ?? error.message}); tracking goes on without the /metrics endpoint.` +
          (error.code === "EADDRINUSE"
            ? " Another process (or tracker) uses that port: choose another prometheus_port, or 0 for a free one."
            : ""),
      );
      resolve(null);
    });
    server.listen(options.port, options.host, () => {
      const port = (server.address() as AddressInfo).port;
      log.info(
        `Prometheus metrics at http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}/metrics`,
      );
      resolve(port);
    });
  });
  return {
    name: "prometheus /metrics",
    listening,
    measured({ sample, row: latest }) {
      intensity = sample.intensityGPerKWh;
      refresh(latest);
    },
    out: async (total) => refresh(total),
    exit: async () => {
      await listening;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
