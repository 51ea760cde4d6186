"""The interactive pages of `chaingrad train --html` and `chaingrad draw --html`.

* ``graph.html`` (beside ``graph.svg``): the explorer of one training batch's graph,
  ``ag.viz.explore``: step through forward and backward, click any node.
* ``playground.html`` (``train --html`` on a 2-D dataset: xor, moons, spirals):
  the decision regions and the loss after every epoch of this run, with the
  graph of one batch below, ``ag.viz.playground``.

The commands call the three functions below; everything else stays in train.py.
"""
import os

import numpy as np

from . import report

PLAYGROUND_FEATURES = 2       # the playground draws the plane of the inputs


def _imports():
    """autograd, imported on first use, on purpose: it takes most of a second to import, and
    the parser (`chaingrad --help`) imports this module through train.py."""
    from chaingrad import autograd as ag  # lazy: see the docstring
    return ag


def recorder(args, data):
    """A ``Recorder`` for the playground when ``--html`` was given and the data is 2-D, else None."""
    if not getattr(args, "html", False) or data.features != PLAYGROUND_FEATURES:
        return None
    return _imports().viz.Recorder(*data.train)


def record_epoch(rec, model, entry):
    """After an epoch: keep its loss and the classes the model predicts over the plane."""
    if rec is None:
        return
    ag = _imports()
    dtype = np.dtype(ag.get_default_dtype())

    def predict(points):
        model.eval()                           # no dropout; batch norm's running statistics
        with ag.no_grad():
            return np.asarray(model(ag.tensor(points.astype(dtype))).data)

    rec.record(entry["epoch"], entry["loss"], predict, accuracy=entry["train_accuracy"])


def _batch_loss(model, loss_fn, X, y):
    """One training-mode batch, forward and loss only: the explorer runs backward itself."""
    ag = _imports()
    model.train()
    return loss_fn(model(ag.tensor(X, name="X")), ag.tensor(y, name="y"))


def write_pages(args, svg_path, model, loss_fn, X, y, title, rec=None):
    """Write graph.html beside ``svg_path`` (and playground.html when ``rec`` holds epochs).

    Returns ``(files written, warnings)``: a failure is a warning, never the end of a run.
    """
    if not getattr(args, "html", False):
        return [], []
    ag = _imports()
    files, warnings = [], []
    out_dir = os.path.dirname(os.path.abspath(svg_path))
    try:
        loss = _batch_loss(model, loss_fn, X, y)
        path = os.path.splitext(svg_path)[0] + ".html"
        report.write_text(path, ag.viz.explore(loss, model=model, title=title).html.encode("utf-8"))
        files.append(os.path.basename(path))
        if rec is not None and rec.epochs:
            page = ag.viz.playground(rec, graph=loss, model=model, title=f"playground: {title}")
            report.write_text(os.path.join(out_dir, "playground.html"), page.html.encode("utf-8"))
            files.append("playground.html")
    except ag.viz.DotNotFoundError:
        warnings.append("warning: graph.html not written: Graphviz's `dot` program is missing "
                        "(sudo apt-get install graphviz)")
    except Exception as e:     # the run itself is still good
        warnings.append(f"warning: html pages not written: {' '.join(str(e).split())}")
    return files, warnings
