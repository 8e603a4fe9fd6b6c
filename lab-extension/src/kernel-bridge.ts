/**
 * Runs one codecarbon command where the notebook's tracker runs, and reads its reply.
 * In the kernel: an execute request of its own (not a cell), so nothing appears in the notebook;
 * it queues behind a running cell like any execution, which the toggle shows as "starting…" or
 * "stopping…". Beside the kernel: a request to the server extension (XSRF and token added by
 * ServerConnection), whose JSON is checked with the same protocol.
 */
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection, type Kernel, type KernelMessage } from "@jupyterlab/services";
import { parseCapabilities, type CapabilitiesRead } from "./model/kernel-support";
import {
  explainKernelError,
  kernelCode,
  parseServerReply,
  serverRefusal,
  type KernelCommand,
} from "./model/kernel-code";
import { parseKernelReply, type KernelReply } from "./protocol/kernel-command";

export async function sendKernelCommand(
  kernel: Kernel.IKernelConnection,
  command: KernelCommand,
): Promise<KernelReply> {
  let stdout = "";
  let stderr = "";
  let failure: string | null = null;
  const future = kernel.requestExecute({
    code: kernelCode(command),
    silent: false,
    store_history: false,
    allow_stdin: false,
    stop_on_error: false,
  });
  future.onIOPub = (message: KernelMessage.IIOPubMessage) => {
    const type = message.header.msg_type;
    if (type === "stream") {
      const content = message.content as KernelMessage.IStreamMsg["content"];
      if (content.name === "stdout") stdout += content.text;
      else stderr += content.text;
    } else if (type === "error") {
      const content = message.content as KernelMessage.IErrorMsg["content"];
      failure = explainKernelError(`${content.ename}: ${content.evalue}`);
    }
  };
  const done = await future.done;
  const reply = parseKernelReply(stdout);
  if (reply !== null) return reply;
  if (failure !== null) throw new Error(failure);
  if (stderr.trim() !== "") throw new Error(explainKernelError(stderr));
  const status = (done.content as { status?: string }).status;
  throw new Error(
    status === "ok"
      ? "the kernel gave no codecarbon reply (is the codecarbon package recent enough?)"
      : `the kernel answered ${String(status)}`,
  );
}

/** The server extension's route for a kernel tracked beside it. */
export function kernelRunUrl(settings: ServerConnection.ISettings, kernelId: string): string {
  return URLExt.join(settings.baseUrl, "codecarbon", "kernels", encodeURIComponent(kernelId));
}

/**
 * Runs one codecarbon command on the tracker the Jupyter server runs beside the kernel (the server
 * extension). Unlike a kernel execution it does not wait for a running cell.
 */
export async function sendServerCommand(
  settings: ServerConnection.ISettings,
  kernelId: string,
  command: KernelCommand,
): Promise<KernelReply> {
  const response = await ServerConnection.makeRequest(
    kernelRunUrl(settings, kernelId),
    { method: "POST", body: JSON.stringify(command), headers: { "Content-Type": "application/json" } },
    settings,
  );
  const body = await readJson(response);
  if (!response.ok) throw new Error(serverRefusal(response.status, body));
  return parseServerReply(body);
}

/** `GET codecarbon/capabilities?path=<notebook>`: never rejects, a failure is a read that says why. */
export async function readCapabilities(
  settings: ServerConnection.ISettings,
  notebookPath: string,
): Promise<CapabilitiesRead> {
  const url = `${URLExt.join(settings.baseUrl, "codecarbon", "capabilities")}?path=${encodeURIComponent(notebookPath)}`;
  try {
    const response = await ServerConnection.makeRequest(url, { method: "GET" }, settings);
    const body = await readJson(response);
    if (!response.ok)
      return { ok: false, missing: response.status === 404, problem: serverRefusal(response.status, body) };
    return { ok: true, capabilities: parseCapabilities(body) };
  } catch (error) {
    return { ok: false, missing: false, problem: error instanceof Error ? error.message : String(error) };
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
