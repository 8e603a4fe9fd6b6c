/**
 * A real tinyproxy (Debian's package) on a loopback port, for the proxy tests. It adds a
 * `Via: 1.1 tinyproxy` header to what it forwards, which is how a test server tells a proxied
 * request from a direct one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./loopback-server";

export const TINYPROXY = "/usr/bin/tinyproxy";

export interface Tinyproxy {
  url: string;
  port: number;
  log(): string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(
        `tinyproxy exited with ${child.exitCode}: ${fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""}`,
      );
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error("tinyproxy did not start listening within 10 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TinyproxyOptions {
  basicAuth?: { user: string; password: string };
  /** `ConnectPort` lines: CONNECT only to these ports, as a company tinyproxy is set up. */
  connectPorts?: number[];
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  if (!fs.existsSync(TINYPROXY)) {
    throw new Error(
      `${TINYPROXY} is missing: run \`bash scripts/setup.sh\` (it installs Debian's tinyproxy), or sudo apt-get install -y --no-install-recommends tinyproxy`,
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-tinyproxy-"));
  const port = await freePort();
  const logFile = path.join(dir, "tinyproxy.log");
  const lines = [
    `Port ${port}`,
    "Listen 127.0.0.1",
    "Allow 127.0.0.1",
    "Timeout 30",
    `LogFile "${logFile}"`,
    "LogLevel Info",
    "MaxClients 20",
    "DisableViaHeader No",
  ];
  if (options.basicAuth) lines.push(`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`);
  for (const connectPort of options.connectPorts ?? []) lines.push(`ConnectPort ${connectPort}`);
  const config = path.join(dir, "tinyproxy.conf");
  fs.writeFileSync(config, lines.join("\n") + "\n");
  const child = spawn(TINYPROXY, ["-d", "-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  await waitForPort(port, child, logFile);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : ""),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
