"""Executes a notebook headlessly with nbclient on the kernel it names and writes it back with
its outputs. Usage: execute_notebook.py NOTEBOOK.ipynb [TIMEOUT_SECONDS]"""
import sys

import nbformat
from nbclient import NotebookClient


def main():
    path = sys.argv[1]
    timeout = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": __import__("os").path.dirname(path)}})
    try:
        client.execute()
    finally:
        nbformat.write(notebook, path)


if __name__ == "__main__":
    main()
