"""Build a teaching notebook from Python, run it, and write it with its outputs.

A builder script lists the cells in order and calls ``save``:

    nb = Notebook()
    nb.md("# Title")
    nb.code("x = 1 + 1\\nx")
    nb.save("05_optimizers.ipynb")      # runs it in a fresh kernel, then writes it

Cells are written as plain strings so the builder reads like the notebook.
The notebook runs with the notebooks/ folder as working directory, in the
kernel of the Python that runs the builder (use the project's .venv).
"""
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent


class Notebook:
    def __init__(self):
        self.cells = []

    def md(self, text):
        self.cells.append(nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip()))

    def code(self, text):
        self.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(text).strip()))

    def save(self, filename, execute=True, timeout=600):
        nb = nbformat.v4.new_notebook(cells=self.cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        path = NOTEBOOKS / filename
        seconds = None
        if execute:
            start = time.perf_counter()
            # "python3" resolves to the interpreter running this script (the venv's).
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
            seconds = time.perf_counter() - start
        nbformat.validate(nb)
        nbformat.write(nb, path)
        print(f"wrote {path.name}" + (f" (ran in {seconds:.1f} s)" if seconds is not None else ""),
              file=sys.stderr)
        return seconds
