/**
 * Real Jupyter for the notebook tests: the project's Python environment (.venv, from
 * requirements-test.txt), the tslab kernel from node_modules registered in a private
 * JUPYTER_PATH, notebook folders where `codecarbon` and `@types/node` resolve as the README
 * recipe sets them up, a headless notebook runner, a kernel driver, and a jupyter server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "./sandbox";
import { freePort } from "./loopback-server";

export const VENV_PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");
// The one writer of the tslab kernel spec (setup and the notebook bench use it too).
const { TSLAB_BIN, writeTslabKernelSpec } = require(path.join(REPO_ROOT, "scripts", "lib", "tslab-kernel.js")) as {
  TSLAB_BIN: string;
  writeTslabKernelSpec(jupyterData: string): string;
};

export interface JupyterBox {
  root: string;
  /** The notebook folder: the kernel's working folder. */
  work: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function requireJupyter(): void {
  if (!fs.existsSync(VENV_PYTHON))
    throw new Error(
      `${VENV_PYTHON} is missing: run \`bash scripts/setup.sh\` (it installs Jupyter from requirements-test.txt)`,
    );
  if (!fs.existsSync(TSLAB_BIN)) throw new Error(`${TSLAB_BIN} is missing: run \`npm ci\``);
  if (!fs.existsSync(path.join(REPO_ROOT, "dist", "index.js")))
    throw new Error("dist/ is missing: run `npm run build` (npm test does)");
}

export function makeJupyterBox(): JupyterBox {
  requireJupyter();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-jupyter-"));
  const work = path.join(root, "work");
  fs.mkdirSync(path.join(work, "node_modules", "@types"), { recursive: true });
  fs.mkdirSync(path.join(root, "home"));
  writeTslabKernelSpec(path.join(root, "jupyter"));
  // The package and Node's types resolve from the notebook's folder, as after `npm install codecarbon @types/node`.
  fs.symlinkSync(REPO_ROOT, path.join(work, "node_modules", "codecarbon"), "dir");
  fs.symlinkSync(
    path.join(REPO_ROOT, "node_modules", "@types", "node"),
    path.join(work, "node_modules", "@types", "node"),
    "dir",
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.toUpperCase().startsWith("CODECARBON_") && !key.startsWith("JPY_")) env[key] = value;
  Object.assign(env, {
    HOME: path.join(root, "home"),
    JUPYTER_PATH: path.join(root, "jupyter"),
    JUPYTER_DATA_DIR: path.join(root, "data"),
    JUPYTER_RUNTIME_DIR: path.join(root, "runtime"),
    JUPYTER_CONFIG_DIR: path.join(root, "config"),
    JUPYTER_PLATFORM_DIRS: "1",
    CODECARBON_LOG_LEVEL: "info",
  });
  return { root, work, env, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export function notebookJson(cells: string[]): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
        language_info: { name: "typescript" },
      },
      cells: cells.map((source, i) => ({
        cell_type: "code",
        id: `cell-${i}`,
        metadata: {},
        execution_count: null,
        outputs: [],
        source,
      })),
    },
    null,
    1,
  );
}

export interface CellOutput {
  output_type?: string;
  type?: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Executes the notebook headlessly (nbclient) and returns each cell's outputs. */
export async function executeNotebook(box: JupyterBox, file: string, timeoutS = 120): Promise<CellOutput[][]> {
  const result = await run(
    VENV_PYTHON,
    [path.join(REPO_ROOT, "test", "jupyter", "execute_notebook.py"), file, String(timeoutS)],
    box.env,
    (timeoutS + 30) * 1000,
  );
  const notebook = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: { outputs: CellOutput[] }[] };
  if (result.code !== 0)
    throw new Error(
      `notebook execution failed (${result.code}):\n${result.stderr}\n${JSON.stringify(notebook.cells.map((c) => c.outputs))}`,
    );
  return notebook.cells.map((c) => c.outputs);
}

export type DriverStep =
  { code: string; wait?: boolean; timeout?: number } | { sleep: number } | { interrupt: true } | { restart: true };

/** Drives a kernel step by step (see test/jupyter/kernel_driver.py); returns the executed cells' outputs. */
export async function driveKernel(
  box: JupyterBox,
  plan: ({ kernel_name: "tslab"; cwd: string; env?: Record<string, string> } | { connection_file: string }) & {
    steps: DriverStep[];
  },
  timeoutMs = 120_000,
): Promise<Array<{ code: string; outputs: CellOutput[] | null; busy?: string; idle?: string }>> {
  const planFile = path.join(box.root, `plan-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(planFile, JSON.stringify(plan));
  const result = await run(
    VENV_PYTHON,
    [path.join(REPO_ROOT, "test", "jupyter", "kernel_driver.py"), planFile],
    box.env,
    timeoutMs,
  );
  if (result.code !== 0) throw new Error(`kernel driver failed (${result.code}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as Array<{
    code: string;
    outputs: CellOutput[] | null;
    busy?: string;
    idle?: string;
  }>;
}

export function textOf(outputs: readonly CellOutput[] | null | undefined, stream?: "stdout" | "stderr"): string {
  return (outputs ?? [])
    .filter((o) => (o.output_type ?? o.type) === "stream" && (stream === undefined || o.name === stream))
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : (o.text ?? "")))
    .join("");
}

export interface JupyterServer {
  url: string;
  token: string;
  /** The server's process. */
  process: ChildProcess;
  /** What the server has logged so far. */
  log(): string;
  api(
    route: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

/** The checkout's server extension (lab-extension/codecarbon_jupyterlab), importable and enabled. */
export const CODECARBON_SERVER_EXTENSION = path.join(REPO_ROOT, "lab-extension");

export interface JupyterServerOptions {
  /** Load the codecarbon server extension from the checkout. */
  codecarbon?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The Python that runs the server (default: the project's .venv). */
  python?: string;
}

export async function startJupyterServer(box: JupyterBox, options: JupyterServerOptions = {}): Promise<JupyterServer> {
  const port = await freePort();
  const token = `test-${Math.random().toString(16).slice(2)}`;
  const child: ChildProcess = spawn(
    options.python ?? VENV_PYTHON,
    [
      "-m",
      "jupyter_server",
      `--ServerApp.ip=127.0.0.1`,
      `--ServerApp.port=${port}`,
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${box.work}`,
      "--ServerApp.open_browser=False",
      "--allow-root",
      ...(options.codecarbon === true ? ['--ServerApp.jpserver_extensions={"codecarbon_jupyterlab": True}'] : []),
    ],
    {
      env: {
        ...box.env,
        ...(options.codecarbon === true
          ? {
              PYTHONPATH: [CODECARBON_SERVER_EXTENSION, box.env["PYTHONPATH"]]
                .filter((p): p is string => Boolean(p))
                .join(path.delimiter),
            }
          : {}),
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let log = "";
  child.stdout!.on("data", (c: Buffer) => (log += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const api: JupyterServer["api"] = async (route, init = {}) => {
    const response = await fetch(`${url}${route}`, {
      method: init.method ?? "GET",
      headers: { authorization: `token ${token}`, "content-type": "application/json", ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    let json: unknown = text;
    try {
      json = text === "" ? null : (JSON.parse(text) as unknown);
    } catch {
      // An HTML or plain-text error page: keep the text.
    }
    return { status: response.status, json };
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyter server exited (${child.exitCode}):\n${log}`);
    try {
      if ((await api("/api/status")).status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`jupyter server did not start within 30 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    token,
    process: child,
    log: () => log,
    api,
    // SIGTERM, so the server shuts its kernels down (a SIGKILLed server orphans them).
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
