/**
 * Real Prometheus and Pushgateway (Debian's packages, installed by scripts/setup.sh) on loopback ports,
 * each with its own temporary storage and configuration, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./loopback-server";

export interface RunningServer {
  url: string;
  port: number;
  log(): string;
  stop(): Promise<void>;
}

function findBinary(name: string): string {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter).concat(["/usr/bin", "/usr/local/bin"])) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    `${name} is not installed: run \`bash scripts/setup.sh\` (it installs Debian's prometheus and prometheus-pushgateway), or sudo apt-get install -y --no-install-recommends prometheus prometheus-pushgateway`,
  );
}

async function startServer(
  binary: string,
  args: (port: number, dir: string) => string[],
  readyPath: string,
): Promise<RunningServer> {
  const executable = findBinary(binary);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-${binary}-`));
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(executable, args(port, dir), { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`${binary} exited (${child.exitCode}):\n${output}`);
    }
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.status < 500) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${binary} did not start within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, log: () => output, stop };
}

/** A Pushgateway; with `basicAuth`, it requires that user and password (bcrypt hash given). */
export function startPushgateway(basicAuth?: { user: string; bcryptHash: string }): Promise<RunningServer> {
  return startServer(
    "prometheus-pushgateway",
    (port, dir) => {
      const args = [`--web.listen-address=127.0.0.1:${port}`, `--persistence.file=${path.join(dir, "metrics.store")}`];
      if (basicAuth) {
        const config = path.join(dir, "web.yml");
        fs.writeFileSync(config, `basic_auth_users:\n  ${basicAuth.user}: ${basicAuth.bcryptHash}\n`);
        args.push(`--web.config.file=${config}`);
      }
      return args;
    },
    "/-/ready",
  );
}

/** A Prometheus that scrapes the given targets every second. */
export function startPrometheus(targets: string[]): Promise<RunningServer> {
  return startServer(
    "prometheus",
    (port, dir) => {
      const config = path.join(dir, "prometheus.yml");
      fs.writeFileSync(
        config,
        [
          "global:",
          "  scrape_interval: 1s",
          "  scrape_timeout: 900ms",
          "scrape_configs:",
          "  - job_name: codecarbon",
          "    static_configs:",
          `      - targets: [${targets.map((t) => `"${t}"`).join(", ")}]`,
          "",
        ].join("\n"),
      );
      return [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ];
    },
    "/-/ready",
  );
}

export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function promQuery(prometheus: RunningServer, query: string): Promise<PromVectorSample[]> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as {
    status: string;
    data?: { resultType: string; result: PromVectorSample[] };
    error?: string;
  };
  if (body.status !== "success" || !body.data)
    throw new Error(`query ${query} failed: ${body.error ?? response.status}`);
  return body.data.result;
}

/** The Pushgateway's groups as its API gives them: labels of the group and, per metric, its samples. */
export interface PushgatewayGroup {
  labels: Record<string, string>;
  metrics: Map<string, { type: string; samples: { labels: Record<string, string>; value: number }[] }>;
}

export async function pushgatewayGroups(
  gateway: RunningServer,
  headers: Record<string, string> = {},
): Promise<PushgatewayGroup[]> {
  const response = await fetch(`${gateway.url}/api/v1/metrics`, { headers });
  const body = (await response.json()) as { data: Array<Record<string, unknown>> };
  return body.data.map((group) => {
    const metrics = new Map<string, { type: string; samples: { labels: Record<string, string>; value: number }[] }>();
    for (const [name, family] of Object.entries(group)) {
      if (name === "labels" || name === "last_push_successful" || typeof family !== "object" || family === null)
        continue;
      const f = family as { type?: string; metrics?: Array<{ labels: Record<string, string>; value?: string }> };
      if (!f.metrics) continue;
      metrics.set(name, {
        type: f.type ?? "",
        samples: f.metrics.map((m) => ({ labels: m.labels, value: Number(m.value) })),
      });
    }
    return { labels: group["labels"] as Record<string, string>, metrics };
  });
}
