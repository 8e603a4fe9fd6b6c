"""codecarbon for JupyterLab: the prebuilt JupyterLab extension (toolbar toggle, sidebar) and a
Jupyter server extension that tracks any kernel's process tree from beside it."""

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("codecarbon-jupyterlab")
except PackageNotFoundError:  # copied in by `codecarbon jupyter install` (npm), not pip
    __version__ = "npm"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "codecarbon-jupyterlab"}]


def _jupyter_server_extension_points():
    from .server import CodeCarbonServerApp

    return [{"module": "codecarbon_jupyterlab", "app": CodeCarbonServerApp}]
