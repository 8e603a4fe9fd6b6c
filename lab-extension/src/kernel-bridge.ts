/**
 * Runs one codecarbon command in a notebook's kernel and reads its reply. The request is an
 * execute request of its own (not a cell), so nothing appears in the notebook; it queues behind
 * a running cell like any execution, which the toggle shows as "starting…" or "stopping…".
 */
import type { Kernel, KernelMessage } from "@jupyterlab/services";
import { explainKernelError, kernelCode, type KernelCommand } from "./model/kernel-code";
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
