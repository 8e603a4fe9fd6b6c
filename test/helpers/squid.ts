/**
 * A real Squid (Debian's package) on a loopback port, run with Debian's stock squid.conf: its
 * access rules as shipped (`http_access deny CONNECT !SSL_ports`, `allow localhost`, …), with
 * only the listening port and the log, pid and spool paths changed. With `basicAuth`, the
 * `auth_param basic` lines and one rule that requires a login are added in front of the stock
 * rules, as a company proxy that asks for credentials would have them.
 *
 * Its access log (one line per request: `CONNECT 127.0.0.2:443` for a tunnel, `GET
 * http://127.0.0.1:PORT/path` for a forward-proxy request) is how a test tells how a call went.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "./loopback-server";

export const SQUID = "/usr/sbin/squid";
export const SQUID_CONF = "/etc/squid/squid.conf";
export const SQUID_BASIC_AUTH = "/usr/lib/squid/basic_ncsa_auth";

export interface Squid {
  url: string;
  port: number;
  /** The access log so far (squid writes it as requests end). */
  accessLog(): string;
  /** Waits until the access log has a line containing `needle` (squid logs a request after it ends). */
  waitForLog(needle: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface SquidOptions {
  basicAuth?: { user: string; password: string };
  /** Extra ports the stock `SSL_ports` ACL should allow CONNECT to (when a test cannot bind 443). */
  sslPorts?: number[];
}

function requireInstalled(): void {
  for (const file of [SQUID, SQUID_CONF]) {
    if (!fs.existsSync(file))
      throw new Error(
        `${file} is missing: install Debian's squid (apt-get install -y squid; scripts/setup.sh does it)`,
      );
  }
}

/** The stock configuration with the port and paths made the test's own; the access rules are untouched. */
function configFor(port: number, dir: string, options: SquidOptions): string {
  const stock = fs.readFileSync(SQUID_CONF, "utf8").split("\n");
  const lines: string[] = [];
  for (const line of stock) {
    if (/^\s*http_port\s/.test(line)) lines.push(`http_port 127.0.0.1:${port}`);
    else if (/^\s*coredump_dir\s/.test(line)) lines.push(`coredump_dir ${dir}`);
    // conf.d holds Debian's logfile_rotate only; it is kept by the include.
    else lines.push(line);
  }
  const extra = [
    `access_log stdio:${path.join(dir, "access.log")}`,
    `cache_log ${path.join(dir, "cache.log")}`,
    `pid_filename ${path.join(dir, "squid.pid")}`,
    `netdb_filename none`,
    // Faster stop: the default waits 30 s for open connections.
    "shutdown_lifetime 1 seconds",
  ];
  for (const sslPort of options.sslPorts ?? []) extra.push(`acl SSL_ports port ${sslPort}`);
  let config = lines.join("\n") + "\n" + extra.join("\n") + "\n";
  if (options.basicAuth) {
    const passwords = path.join(dir, "passwords");
    const hash = execFileSync("openssl", ["passwd", "-apr1", options.basicAuth.password], { encoding: "utf8" }).trim();
    fs.writeFileSync(passwords, `${options.basicAuth.user}:${hash}\n`, { mode: 0o644 });
    const auth = [
      `auth_param basic program ${SQUID_BASIC_AUTH} ${passwords}`,
      "auth_param basic realm codecarbon-test",
      "acl authenticated proxy_auth REQUIRED",
      "http_access deny !authenticated",
    ].join("\n");
    // Before the first http_access line, so the login is asked before any stock rule allows.
    config = config.replace(/^http_access /m, `${auth}\nhttp_access `);
  }
  return config;
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startSquid(options: SquidOptions = {}): Promise<Squid> {
  requireInstalled();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-squid-"));
  // Squid started as root drops to the `proxy` user, which must write its logs here.
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const configFile = path.join(dir, "squid.conf");
  fs.writeFileSync(configFile, configFor(port, dir, options));
  const read = (name: string) => {
    try {
      return fs.readFileSync(path.join(dir, name), "utf8");
    } catch {
      return "";
    }
  };
  let output = "";
  const child: ChildProcess = spawn(SQUID, ["-N", "-f", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const why = child.exitCode !== null ? `exited with ${child.exitCode}` : "did not listen within 20 s";
      const logs = `${output}\n${read("cache.log")}`;
      await stop();
      throw new Error(`squid ${why}:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessLog: () => read("access.log"),
    waitForLog: async (needle) => {
      // Bounded: squid writes the line when the request ends, a few milliseconds after the answer.
      for (let i = 0; i < 50; i++) {
        if (read("access.log").includes(needle)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    },
    stop,
  };
}
