"""Build a teaching notebook from Python, run it, and write it with its outputs.

A builder script (nb00_*.py ... nb09_*.py) lists the cells in order and ends with ``main``:

    nb = Notebook()
    nb.md("# Title")
    nb.code("x = 1 + 1\\nx")
    main(nb, "06_optimizers.ipynb")     # runs it in a fresh kernel, writes notebooks/06_optimizers.ipynb

Cells are written as plain strings so the builder reads like the notebook.
The notebook runs with notebooks/ as working directory, with one BLAS thread (as in
tests/test_notebooks.py), in the ``python3`` kernel, which is the Python that runs the
builder (use the project's .venv).

``python nbXX_name.py --draft`` keeps running past failing cells, reports them, and writes
the result to the temporary directory instead of notebooks/, so a broken draft never
replaces the committed notebook.
"""
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"      # the kernel inherits it: timings as in the test run

# The comparison table of every notebook: engine against hand derivation.
# Pasted into each notebook's first code cell, so the reader sees the definition.
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
    """Table of (quantity, engine, by hand): both values, max abs error and max rel error.

    max abs error = max |engine - hand| over all entries;
    max rel error = max abs error / max |hand|: the error on the scale of the quantity
    (an entry that is 1e-13 next to entries of size 1 does not count as "100% wrong").
    Example: engine [1, 2.000001], hand [1, 2] gives abs 1e-6 and rel 5e-7.
    Fails (AssertionError) when an absolute error exceeds tol, so the notebook is also a test.
    """
    lines = ["| quantity | engine | by hand | max abs error | max rel error |", "|:--|--:|--:|--:|--:|"]
    worst = 0.0
    for name, eng, hand in rows:
        e = np.asarray(eng.numpy() if hasattr(eng, "numpy") else eng, dtype=float)
        h = np.asarray(hand.numpy() if hasattr(hand, "numpy") else hand, dtype=float)
        assert e.shape == h.shape, f"{name}: shapes {e.shape} vs {h.shape}"
        err = np.abs(e - h).max(initial=0.0)
        scale = np.abs(h).max(initial=0.0)
        rel = err / scale if scale > 0 else (0.0 if err == 0 else np.inf)
        worst = max(worst, err)
        lines.append(f"| {name} | {_show(e)} | {_show(h)} | {err:.1e} | {rel:.1e} |")
    if title:
        lines.insert(0, f"**{title}**\n")
    lines.append("\n<small>rel error = max abs error / max |by hand|</small>")
    display(Markdown("\n".join(lines)))
    assert worst <= tol, f"largest absolute error {worst:.3g} exceeds {tol:g}"
'''


class Notebook:
    def __init__(self):
        self.cells = []

    def md(self, text):
        self.cells.append(nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip("\n")))

    def code(self, text):
        self.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(text).strip("\n")))

    def answers(self, *items):
        """One markdown cell of collapsed answers: items are (summary, markdown text) pairs.

        Each answer is a ``<details>`` block, closed until the reader opens it (in Jupyter and on
        the site); the blank lines around the text let it be markdown, math included.
        """
        blocks = [f"<details><summary>{summary}</summary>\n\n{textwrap.dedent(text).strip()}\n\n</details>"
                  for summary, text in items]
        self.cells.append(nbformat.v4.new_markdown_cell("\n\n".join(blocks)))

    def save(self, filename, draft=False, timeout=600):
        """Execute in a fresh kernel and write notebooks/<filename>; return the run time in s.

        draft=True: run past errors (listed on stderr) and write <tmpdir>/draft_<filename>.
        """
        nb = nbformat.v4.new_notebook(cells=self.cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        start = time.perf_counter()
        # "python3" resolves to the interpreter running this script (the venv's).
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=draft,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        seconds = time.perf_counter() - start
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    print(f"cell {i}: {out.ename}: {out.evalue}", file=sys.stderr)
        nbformat.validate(nb)
        path = Path(tempfile.gettempdir()) / f"draft_{filename}" if draft else NOTEBOOKS / filename
        nbformat.write(nb, path)
        print(f"wrote {path} (ran in {seconds:.1f} s)", file=sys.stderr)
        return seconds


def main(nb, filename):
    """Command line of every builder: ``python nbXX_name.py [--draft]``."""
    nb.save(filename, draft="--draft" in sys.argv[1:])
