"""The site's live explorer pages, made at build time with ``ag.viz.explore(...).save(path)``.

MkDocs runs this file as a hook (``hooks:`` in mkdocs.yml): before the build
collects its files, ``on_files`` saves one explorer page per graph in
``GRAPHS`` into a temporary folder and adds it to the site as
``explorer/<name>.html``; docs/pictures.md embeds each one in an iframe, so
a reader steps through backward on the page itself.  Nothing generated is
committed, so the pages always show what this checkout's engine does.

By hand: ``python docs/gen_pages.py OUTDIR`` writes the same pages into OUTDIR.
"""
import inspect
import re
import shutil
import sys
import tempfile
from pathlib import Path

from chaingrad import autograd as ag
from chaingrad import nn


def fan_out():
    """b = a + a; c = b + b: a is used twice and receives 2 + 2 = 4."""
    a = ag.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    b.name = "b"
    c = b + b
    c.name = "c"
    return ag.viz.explore(c, title="fan-out: b = a + a, c = b + b")


def small_mlp():
    """A 2-3-2 network with tanh and a cross-entropy loss on three rows: modules and matrices."""
    ag.manual_seed(0)
    model = nn.MLP([2, 3, 2], activation="tanh")
    x = ag.tensor([[0.5, -1.0], [1.5, 2.0], [-0.3, 0.8]], name="x")
    loss = nn.CrossEntropyLoss()(model(x), [0, 1, 1])
    loss.name = "loss"
    return ag.viz.explore(loss, model=model, title="a small MLP: 2-3-2, tanh, cross-entropy")


def batch_norm():
    """Linear, batch norm, ReLU, Linear and an MSE loss on four rows, in training mode."""
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1))
    x = ag.tensor([[0.5, -1.0], [1.5, 2.0], [-0.3, 0.8], [1.0, 0.1]], name="x")
    target = ag.tensor([[1.0], [-1.0], [0.5], [0.0]], name="target")
    loss = nn.MSELoss()(model(x), target)
    loss.name = "loss"
    return ag.viz.explore(loss, model=model, title="batch norm: Linear, BatchNorm1d, ReLU, Linear, MSE")


# name in the site (explorer/<name>.html) -> the function that makes its page
GRAPHS = {"fan_out": fan_out, "small_mlp": small_mlp, "batch_norm": batch_norm}


def write_pages(out_dir):
    """Save every page of ``GRAPHS`` into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [Path(make().save(out_dir / f"{name}.html")) for name, make in GRAPHS.items()]


# ---- the MkDocs hook ------------------------------------------------------------------

_made = []      # the temporary folders of this build, removed when it ends
OPS_MARKER = "<!-- ops: every other public name of chaingrad.autograd -->"


def autograd_names():
    """The names ``chaingrad.autograd`` exports (it has no ``__all__``): its public attributes
    that are not modules.  tests/test_docs.py checks each against the built reference."""
    import types
    return sorted(n for n in dir(ag) if not n.startswith("_")
                  and not isinstance(getattr(ag, n), types.ModuleType))


def on_page_markdown(markdown, page, config, files):
    """Fill the reference's list of ops with every exported name the page does not document yet."""
    if OPS_MARKER not in markdown:
        return markdown
    shown = set(re.findall(r"^::: chaingrad\.autograd\.(\w+)", markdown, flags=re.M))
    shown |= set(re.findall(r'id="chaingrad\.autograd\.(\w+)"', markdown))
    rest = [n for n in autograd_names() if n not in shown]
    return markdown.replace(OPS_MARKER, "\n\n".join(_reference_entry(n) for n in rest))


# Ops whose forward is a lambda have no name mkdocstrings can look up; their entry is written here.
OPERATORS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _reference_entry(name):
    """``::: chaingrad.autograd.<name>`` for mkdocstrings, or a plain entry for a lambda op."""
    obj = getattr(ag, name)
    if "<" not in getattr(obj, "__qualname__", ""):
        return f"::: chaingrad.autograd.{name}"
    try:
        signature = str(inspect.signature(getattr(obj, "forward", obj)))
    except (TypeError, ValueError):
        signature = "(...)"
    what = (f"`x {OPERATORS[name]} y` elementwise, with numpy broadcasting: a bool Tensor, "
            f"without gradient." if name in OPERATORS else inspect.getdoc(obj) or "An op of chaingrad.autograd.")
    return f"### `{name}{signature}` {{ #chaingrad.autograd.{name} }}\n\n{what}"


def on_files(files, config):
    """Add the explorer pages to the site's files (MkDocs >= 1.6: File.generated)."""
    from mkdocs.structure.files import File

    where = Path(tempfile.mkdtemp(prefix="chaingrad-docs-"))
    _made.append(where)
    for path in write_pages(where):
        files.append(File.generated(config, f"explorer/{path.name}", abs_src_path=str(path)))
    return files


def on_post_build(config):
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/gen_pages.py OUTDIR")
    for written in write_pages(sys.argv[1]):
        print(written)
