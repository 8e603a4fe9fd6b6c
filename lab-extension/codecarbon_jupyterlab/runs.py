"""The trackers beside the kernels: one `codecarbon kernel-tracker` child per tracked kernel,
driven with the kernel command protocol (src/protocol/kernel-command.ts) over its stdin and
stdout. The child stops and writes its row on a stop request, SIGTERM, the end of its stdin (this
server is gone) or the kernel's exit; this module only starts it, talks to it and forgets it
when it exits."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from dataclasses import dataclass, field
from typing import Any, Optional

from .runtime import TrackerCommand

KERNEL_API_VERSION = 1
REPLY_PREFIX = "CODECARBON_REPLY "
STATES = ("idle", "running", "stopped")

#: How long a start may take (hardware detection, the first intensity lookup).
START_TIMEOUT_S = 60.0
#: How long a stop may take (the last measurement, the row, the outputs' last reports).
STOP_TIMEOUT_S = 30.0


def parse_reply(line: str) -> Optional[dict[str, Any]]:
    """The reply on one line of the child's stdout, checked as parseKernelReply checks it; None
    when the line is not a reply."""
    if not line.startswith(REPLY_PREFIX):
        return None
    try:
        raw = json.loads(line[len(REPLY_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("ok"), bool) or raw.get("state") not in STATES:
        return None

    def text(value: Any) -> Optional[str]:
        return value if isinstance(value, str) else None

    emissions = raw.get("emissionsKg")
    reply: dict[str, Any] = {
        "version": KERNEL_API_VERSION,
        "ok": raw["ok"],
        "state": raw["state"],
        "runId": text(raw.get("runId")),
        "kernelId": text(raw.get("kernelId")),
        "feed": text(raw.get("feed")),
        "emissionsKg": emissions
        if isinstance(emissions, (int, float)) and not isinstance(emissions, bool)
        else None,
    }
    if isinstance(raw.get("error"), str):
        reply["error"] = raw["error"]
    return reply


def idle_reply(kernel_id: str, error: Optional[str] = None) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "version": KERNEL_API_VERSION,
        "ok": error is None,
        "state": "idle",
        "runId": None,
        "kernelId": kernel_id,
        "feed": None,
        "emissionsKg": None,
    }
    if error is not None:
        reply["error"] = error
    return reply


@dataclass
class BesideRun:
    """One tracker child serving one kernel."""

    kernel_id: str
    kernel_pid: int
    folder: str
    notebook: str
    process: asyncio.subprocess.Process
    log: logging.Logger
    replies: asyncio.Queue = field(default_factory=asyncio.Queue)
    last: Optional[dict[str, Any]] = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: list = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def request(self, action: str, timeout: float, **extra: Any) -> dict[str, Any]:
        """Sends one request and waits for its reply (requests are answered in order)."""
        async with self.lock:
            # Replies nobody asked for (the child's own stop at the kernel's exit) are history.
            while not self.replies.empty():
                self.last = self.replies.get_nowait()
            if not self.alive or self.process.stdin is None or self.process.stdin.is_closing():
                return self.last or idle_reply(self.kernel_id, "the tracker has exited")
            line = json.dumps({"version": KERNEL_API_VERSION, "action": action, **extra})
            try:
                self.process.stdin.write(f"{line}\n".encode())
                await self.process.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                return self.last or idle_reply(self.kernel_id, "the tracker has exited")
            try:
                reply = await asyncio.wait_for(self.replies.get(), timeout)
            except asyncio.TimeoutError:
                return {**(self.last or idle_reply(self.kernel_id)), "ok": False,
                        "error": f"the tracker did not answer {action} within {timeout:.0f} s"}
            self.last = reply
            return reply

    async def read_stdout(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            reply = parse_reply(line)
            if reply is not None:
                self.replies.put_nowait(reply)
            elif line:
                self.log.info("[codecarbon %s] %s", self.kernel_id[:8], line)

    async def read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                self.log.info("[codecarbon %s] %s", self.kernel_id[:8], line)

    async def finish(self, timeout: float) -> None:
        """Stops the run and waits for the child to exit: a stop request (the row is written),
        then the end of its stdin, then SIGTERM, then SIGKILL, each bounded."""
        if self.alive:
            await self.request("stop", timeout)
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if not self.alive:
                break
            if sig is not None:
                try:
                    self.process.send_signal(sig)
                except ProcessLookupError:
                    break
            try:
                await asyncio.wait_for(self.process.wait(), 5.0 if sig is None else 3.0)
            except asyncio.TimeoutError:
                self.log.warning("codecarbon: the tracker of kernel %s did not exit yet", self.kernel_id)
        await self.drain()

    async def drain(self) -> None:
        """Waits (bounded) for the child's last lines, then keeps its last reply."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=3.0)
        while not self.replies.empty():
            self.last = self.replies.get_nowait()


class RunRegistry:
    """The runs of one server: at most one child per kernel; the last reply of an ended run is
    kept for status until the kernel is gone."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self.runs: dict[str, BesideRun] = {}
        self.ended: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, kernel_id: str) -> asyncio.Lock:
        return self._locks.setdefault(kernel_id, asyncio.Lock())

    def status(self, kernel_id: str) -> dict[str, Any]:
        run = self.runs.get(kernel_id)
        if run is not None and run.last is not None:
            return run.last
        return self.ended.get(kernel_id) or idle_reply(kernel_id)

    async def query(self, kernel_id: str) -> dict[str, Any]:
        run = self.runs.get(kernel_id)
        if run is None or not run.alive:
            return self.status(kernel_id)
        return await run.request("status", 10.0)

    async def start(
        self,
        kernel_id: str,
        kernel_pid: int,
        folder: str,
        notebook: str,
        command: TrackerCommand,
        env: dict[str, str],
        settings: Optional[dict[str, Any]],
        offline: bool,
    ) -> dict[str, Any]:
        """Starts the kernel's run, or answers for the one already running (one run per kernel)."""
        async with self._lock(kernel_id):
            run = self.runs.get(kernel_id)
            if run is not None and run.alive:
                return await run.request("status", 10.0)
            argv = [*command.argv, "kernel-tracker", "--pid", str(kernel_pid), "--kernel-id", kernel_id]
            self.log.info("codecarbon: tracking kernel %s (pid %s) beside it in %s with the %s",
                          kernel_id, kernel_pid, folder, command.source)
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    cwd=folder,
                    env=env,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as error:
                return idle_reply(kernel_id, f"cannot run the tracker ({argv[0]}): {error}")
            run = BesideRun(kernel_id, kernel_pid, folder, notebook, process, self.log)
            run.tasks = [asyncio.ensure_future(run.read_stdout()), asyncio.ensure_future(run.read_stderr())]
            self.runs[kernel_id] = run
            asyncio.ensure_future(self._forget_on_exit(run))
            extra: dict[str, Any] = {}
            if settings:
                extra["settings"] = settings
            if offline:
                extra["offline"] = True
            reply = await run.request("start", START_TIMEOUT_S, **extra)
            if not reply.get("ok") or reply.get("state") != "running":
                # A tracker that could not start serves nobody: let it go.
                await run.finish(5.0)
                failed = {**reply, "ok": False}
                failed.setdefault("error", "the tracker did not start (see the server log)")
                return failed
            return reply

    async def stop(self, kernel_id: str, timeout: float = STOP_TIMEOUT_S) -> dict[str, Any]:
        """Stops the kernel's run (its row is written) and waits for its child to exit."""
        async with self._lock(kernel_id):
            run = self.runs.get(kernel_id)
            if run is None:
                return self.status(kernel_id)
            await run.finish(timeout)
            self._forget(run)
            return self.status(kernel_id)

    async def stop_all(self, timeout: float = STOP_TIMEOUT_S) -> None:
        kernels = list(self.runs)
        if kernels:
            self.log.info("codecarbon: stopping %d run(s) beside kernels", len(kernels))
            await asyncio.gather(*(self.stop(k, timeout) for k in kernels), return_exceptions=True)

    def forget_kernel(self, kernel_id: str) -> None:
        self.ended.pop(kernel_id, None)
        if kernel_id not in self.runs:
            self._locks.pop(kernel_id, None)

    def _forget(self, run: BesideRun) -> None:
        if self.runs.get(run.kernel_id) is run:
            del self.runs[run.kernel_id]
        if run.last is not None:
            self.ended[run.kernel_id] = run.last

    async def _forget_on_exit(self, run: BesideRun) -> None:
        code = await run.process.wait()
        await run.drain()
        if code != 0:
            self.log.warning("codecarbon: the tracker of kernel %s exited with status %s", run.kernel_id, code)
        self._forget(run)


def child_env(base: dict[str, str], notebook_path: str) -> dict[str, str]:
    """The child's environment: the server's, with the notebook named as Jupyter names it for
    its kernels (JPY_SESSION_NAME: the run's project name and the fleet metrics' label)."""
    return {**base, "JPY_SESSION_NAME": notebook_path}
