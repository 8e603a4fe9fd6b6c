/**
 * The real Code Carbon API server (carbonserver, pinned, with its own PostgreSQL) from
 * `../shared/servers/codecarbon-api`, the fixture CI places beside the clone. One instance per
 * suite: `start.sh` prints its URL, project token and experiment, `query.sh` reads the database
 * back, `start.sh stop` removes everything. The runner's pid is watched by the fixture, so a
 * crashed test run leaves no server behind.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { parseCsv } from "../../src/protocol/csv";
import { REPO_ROOT } from "./sandbox";

const run = promisify(execFile);

export const API_FIXTURE_DIR = path.resolve(REPO_ROOT, "..", "shared", "servers", "codecarbon-api");

export interface ApiServer {
  url: string;
  /** The same database behind an `AUTH_PROVIDER=oidc` server (the upstream default), with OIDC_PORT. */
  oidcUrl: string | null;
  /**
   * With `oidc`: a bearer JWT for the fixture organization's user, which the OIDC server accepts
   * in its development sign-in mode (ENVIRONMENT=develop, JWT_KEY), as a signed-in user.
   */
  userToken: string | null;
  apiKey: string;
  projectId: string;
  experimentId: string;
  tmpdir: string;
  /** Rows of a SQL query as header → cell records. */
  query(sql: string): Promise<Array<Record<string, string>>>;
  /** Stops the main uvicorn (the database stays), as an outage. */
  stopServer(): Promise<void>;
  /** Starts it again with the same command, port and environment. */
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

interface FixtureJson {
  url: string;
  oidc_url?: string;
  user_token?: string;
  api_key: string;
  project_id: string;
  experiment_id: string;
  tmpdir: string;
  pid_file: string;
}

function requireFixture(): string {
  const start = path.join(API_FIXTURE_DIR, "start.sh");
  if (!fs.existsSync(start)) {
    throw new Error(
      `the Code Carbon API fixture is missing: ${start} does not exist. These tests need the real server ` +
        "(../shared/servers/codecarbon-api beside the clone, as CI places it), PostgreSQL (apt-get install -y postgresql) " +
        "and PyPI access on its first start.",
    );
  }
  return start;
}

export async function startApiServer(options: { oidc?: boolean } = {}): Promise<ApiServer> {
  const start = requireFixture();
  const env: NodeJS.ProcessEnv = { ...process.env, CODECARBON_API_WATCH_PID: String(process.pid) };
  if (options.oidc) {
    env["OIDC_PORT"] = "auto";
    // The development sign-in mode: the OIDC server also takes JWTs signed with this key.
    env["ENVIRONMENT"] = "develop";
    env["JWT_KEY"] = "codecarbon-node-test-jwt-key-0123456789abcdef";
  }
  let stdout: string;
  try {
    // The first start builds the server's venv (about 30 s, a minute on a busy machine).
    ({ stdout } = await run(start, [], { env, encoding: "utf8", timeout: 240_000 }));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`the Code Carbon API fixture did not start: ${e.message}\n${e.stderr ?? ""}`, { cause: error });
  }
  const fx = JSON.parse(stdout) as FixtureJson;
  const query = path.join(API_FIXTURE_DIR, "query.sh");
  let relaunch: { cmd: string[]; cwd: string; env: NodeJS.ProcessEnv } | undefined;

  const readPid = () => Number(fs.readFileSync(fx.pid_file, "utf8").trim());
  const answers = async (): Promise<boolean> => {
    try {
      const response = await fetch(`${fx.url}/`, { signal: AbortSignal.timeout(2000) });
      return response.ok;
    } catch {
      return false;
    }
  };
  return {
    url: fx.url,
    oidcUrl: fx.oidc_url ?? null,
    userToken: fx.user_token ?? null,
    apiKey: fx.api_key,
    projectId: fx.project_id,
    experimentId: fx.experiment_id,
    tmpdir: fx.tmpdir,
    query: async (sql) => {
      const { stdout: csv } = await run(query, [fx.tmpdir, sql], { encoding: "utf8", timeout: 30_000 });
      const [header = [], ...rows] = parseCsv(csv);
      return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""])));
    },
    stopServer: async () => {
      const pid = readPid();
      // What start.sh ran, read back from the process, so the restart is the same server.
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
      relaunch = {
        cmd,
        cwd: fs.readlinkSync(`/proc/${pid}/cwd`),
        env: Object.fromEntries(environ.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])),
      };
      process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
    },
    startServer: async () => {
      if (relaunch === undefined) throw new Error("startServer() needs a stopServer() first");
      const [file, ...args] = relaunch.cmd;
      const log = fs.openSync(path.join(fx.tmpdir, "uvicorn.log"), "a");
      const child = spawn(file!, args, {
        cwd: relaunch.cwd,
        env: relaunch.env,
        detached: true,
        stdio: ["ignore", log, log],
      });
      fs.closeSync(log);
      child.unref();
      // start.sh stop finds it through the same pid file.
      fs.writeFileSync(fx.pid_file, `${child.pid}\n`);
      for (let i = 0; i < 600 && !(await answers()); i++) await new Promise((r) => setTimeout(r, 100));
      if (!(await answers())) throw new Error("the Code Carbon API did not answer again within 60 s");
    },
    stop: async () => {
      await run(start, ["stop", fx.tmpdir], { encoding: "utf8", timeout: 60_000 });
    },
  };
}
