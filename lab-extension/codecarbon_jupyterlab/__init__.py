"""The prebuilt JupyterLab extension of codecarbon (the tracker runs in the tslab kernel)."""


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "codecarbon-jupyterlab"}]
