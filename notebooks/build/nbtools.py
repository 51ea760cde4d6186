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
import os
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"      # the kernel inherits it: timings as in the test run

# The comparison table of every notebook: engine against hand derivation (same layout as notebooks 1-4).
COMPARE = r'''
from IPython.display import Markdown, display


def _show(v):
    v = np.asarray(v, dtype=float)
    if v.size == 1:
        return f"{v.item():.6g}"
    if v.size <= 4:
        return "[" + ", ".join(f"{x:.4g}" for x in v.ravel()) + "]"
    return f"{'x'.join(map(str, v.shape))}, norm {np.linalg.norm(v):.4g}"


def compare(rows, tol=1e-10, title=None):
    """Table of (quantity, engine, by hand): value, max abs error, max relative error.

    relative error = |engine - hand| / max(|engine|, |hand|), taken as 0 where both are 0.
    Fails (AssertionError) when an absolute error exceeds tol, so the notebook is also a test.
    """
    lines = ["| quantity | engine | by hand | max abs error | max rel error |", "|:--|--:|--:|--:|--:|"]
    worst = 0.0
    for name, eng, hand in rows:
        e = np.asarray(eng.numpy() if hasattr(eng, "numpy") else eng, dtype=float)
        h = np.asarray(hand.numpy() if hasattr(hand, "numpy") else hand, dtype=float)
        assert e.shape == h.shape, f"{name}: shapes {e.shape} vs {h.shape}"
        err = np.abs(e - h)
        den = np.maximum(np.abs(e), np.abs(h))
        rel = np.divide(err, den, out=np.zeros_like(err), where=den > 0)
        worst = max(worst, err.max(initial=0.0))
        lines.append(f"| {name} | {_show(e)} | {_show(h)} | {err.max(initial=0):.1e} | {rel.max(initial=0):.1e} |")
    if title:
        lines.insert(0, f"**{title}**\n")
    display(Markdown("\n".join(lines)))
    assert worst <= tol, f"largest absolute error {worst:.3g} exceeds {tol:g}"
'''


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
