"""Drives a real Jupyter kernel for the notebook tests, step by step, and prints what each
executed cell produced as JSON on stdout.

Usage: kernel_driver.py PLAN.json, where the plan is
  {"kernel_name": "tslab", "cwd": "...", "env": {...}}   to start a kernel here, or
  {"connection_file": "..."}                             to drive a kernel a Jupyter server started,
plus "steps": a list of
  {"code": "...", "timeout": 60}          execute and wait for the cell to finish,
  {"code": "...", "wait": false}          execute without waiting,
  {"sleep": 1.5}, {"interrupt": true}, {"restart": true}.
Each waited-for cell's result has its outputs and the kernel's own times of its busy and idle
status messages ("busy", "idle": ISO text), which time the execution as JupyterLab sees it.
"""
import json
import os
import sys
import time

from jupyter_client import BlockingKernelClient, KernelManager


def stamp(msg):
    """The kernel's own time of a message (its header date), as ISO text."""
    date = msg.get("header", {}).get("date")
    return date.isoformat() if hasattr(date, "isoformat") else date


def collect(client, msg_id, timeout, times=None):
    outputs = []
    deadline = time.time() + timeout
    while True:
        remaining = deadline - time.time()
        if remaining <= 0:
            outputs.append({"type": "timeout"})
            return outputs
        try:
            msg = client.get_iopub_msg(timeout=remaining)
        except Exception:
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "stream":
            outputs.append({"type": "stream", "name": content["name"], "text": content["text"]})
        elif kind in ("display_data", "execute_result", "update_display_data"):
            outputs.append({"type": kind, "data": content.get("data", {})})
        elif kind == "error":
            outputs.append({"type": "error", "ename": content.get("ename"), "evalue": content.get("evalue")})
        elif kind == "status" and content["execution_state"] == "busy" and times is not None:
            times["busy"] = stamp(msg)
        elif kind == "status" and content["execution_state"] == "idle":
            if times is not None:
                times["idle"] = stamp(msg)
            return outputs


def main():
    plan = json.load(open(sys.argv[1]))
    manager = None
    if "connection_file" in plan:
        client = BlockingKernelClient(connection_file=plan["connection_file"])
        client.load_connection_file()
    else:
        manager = KernelManager(kernel_name=plan["kernel_name"])
        env = dict(os.environ)
        env.update(plan.get("env", {}))
        manager.start_kernel(cwd=plan["cwd"], env=env)
        client = manager.client()
    client.start_channels()
    # A kernel a server has just started may not answer its heartbeat yet, which
    # wait_for_ready reports as "died": give it a few tries.
    for attempt in range(20):
        try:
            client.wait_for_ready(timeout=60)
            break
        except RuntimeError:
            if attempt == 19:
                raise
            time.sleep(0.5)
    results = []
    try:
        for step in plan["steps"]:
            if "code" in step:
                msg_id = client.execute(step["code"], store_history=True, stop_on_error=False)
                if step.get("wait", True):
                    times = {}
                    outputs = collect(client, msg_id, step.get("timeout", 60), times)
                    results.append({"code": step["code"], "outputs": outputs, **times})
                    if any(o["type"] == "error" for o in outputs):
                        # tslab drops requests that arrive within 200 ms of an error.
                        time.sleep(0.3)
                else:
                    results.append({"code": step["code"], "outputs": None})
            elif "sleep" in step:
                time.sleep(step["sleep"])
            elif step.get("interrupt"):
                manager.interrupt_kernel()
            elif step.get("restart"):
                manager.restart_kernel(now=True)
                client.stop_channels()
                client = manager.client()
                client.start_channels()
                client.wait_for_ready(timeout=60)
    finally:
        client.stop_channels()
        if manager is not None:
            manager.shutdown_kernel(now=True)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
