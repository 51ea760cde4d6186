"""``playground``: watch a classifier of 2-D points learn, epoch by epoch, in one HTML page.

The training runs in Python with our engine; a :class:`Recorder` keeps what
the page replays: after each epoch, the loss and the class the model predicts
at every point of a grid over the data (the decision boundary).  The page
shows the data points on that map, the loss curve, a slider over the recorded
epochs, and (optionally) the explorer of the graph of one batch::

    rec = ag.viz.Recorder(X, y)                 # X: (n, 2) points, y: (n,) class ids
    for epoch in range(1, 31):
        loss = train_one_epoch(...)             # your loop: forward, backward, step
        rec.record(epoch, loss, lambda pts: model(ag.tensor(pts)).data)
    page = ag.viz.playground(rec, graph=batch_loss)   # batch_loss: a Tensor whose graph is kept
    page.save("playground.html")

``predict`` maps an ``(m, 2)`` array of points to class scores ``(m, k)``
(logits or probabilities: the largest wins) or to class ids ``(m,)``.  The
pictures package never imports ``nn`` or ``optim``: the model is only called
through ``predict``.
"""
import numpy as np

from .explore import Page, render_page
from .explore_data import page_data

CONF_LEVELS = 10          # confidence is stored as one digit per grid cell
CLASS_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _round(a, digits=3):
    return np.round(np.asarray(a, dtype=float), digits).tolist()


class Recorder:
    """What the playground replays: the data, and per recorded epoch the loss and the map.

    ``resolution``: grid cells per side; ``margin``: how far (as a fraction of
    the data's range) the map extends beyond the points; at most
    ``max_points`` points are kept for the page (a fixed, evenly spaced subset).
    """

    def __init__(self, X, y, resolution=40, margin=0.1, max_points=1000):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"Recorder: X must have shape (n, 2), got {X.shape}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"Recorder: y must have shape ({X.shape[0]},), got {y.shape}")
        if resolution < 2:
            raise ValueError(f"Recorder: resolution must be >= 2, got {resolution}")
        keep = np.linspace(0, len(X) - 1, min(len(X), max_points)).astype(int)
        self.X, self.y = X[keep], y[keep].astype(int)
        self.classes = int(self.y.max()) + 1 if len(self.y) else 1
        if self.classes > len(CLASS_CHARS):
            raise ValueError(f"Recorder: at most {len(CLASS_CHARS)} classes, got {self.classes}")
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = (hi - lo) * margin + 1e-9
        self.extent = [float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])]
        self.resolution = int(resolution)
        xs = np.linspace(self.extent[0], self.extent[1], self.resolution)
        ys = np.linspace(self.extent[3], self.extent[2], self.resolution)     # top row first
        gx, gy = np.meshgrid(xs, ys)
        self.grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        self.epochs = []

    def record(self, epoch, loss, predict, accuracy=None):
        """Keep epoch ``epoch``: its mean ``loss`` and the map ``predict`` gives (see module doc)."""
        classes, confidence = _classify(np.asarray(predict(self.grid.copy())), len(self.grid))
        self.classes = max(self.classes, int(classes.max()) + 1)
        if self.classes > len(CLASS_CHARS):
            raise ValueError(f"Recorder: at most {len(CLASS_CHARS)} classes, got {self.classes}")
        levels = np.minimum((confidence * CONF_LEVELS).astype(int), CONF_LEVELS - 1)
        self.epochs.append({
            "epoch": int(epoch), "loss": float(loss),
            "accuracy": None if accuracy is None else float(accuracy),
            "classes": "".join(CLASS_CHARS[c] for c in classes),
            "confidence": "".join(str(v) for v in levels)})

    def data(self):
        """The JSON object the page's script reads."""
        return {"extent": self.extent, "resolution": self.resolution, "classes": self.classes,
                "points": {"x": _round(self.X[:, 0]), "y": _round(self.X[:, 1]), "label": self.y.tolist()},
                "epochs": self.epochs}


def _classify(scores, m):
    """(class per point, confidence in [0, 1]) from scores (m, k) or class ids (m,)."""
    if scores.shape == (m,):
        return scores.astype(int), np.ones(m)
    if scores.ndim != 2 or scores.shape[0] != m:
        raise ValueError(f"Recorder.record: predict must return shape ({m}, k) or ({m},), got {scores.shape}")
    scores = scores.astype(float)
    k = scores.shape[1]
    if k == 1:                          # one logit: class 1 when positive
        p = 1 / (1 + np.exp(-scores[:, 0]))
        return (p > 0.5).astype(int), np.abs(2 * p - 1)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    top = p.max(axis=1)
    return p.argmax(axis=1), (top - 1 / k) / (1 - 1 / k)


def playground(recorder, graph=None, title=None, **explore_opts):
    """The playground page (a :class:`~autograd.viz.explore.Page`) for a :class:`Recorder`.

    ``graph``: a Tensor (e.g. the loss of one batch, its graph still held) to
    show below in the explorer; ``explore_opts`` go to the explorer
    (``model=``, ``max_nodes=``...).
    """
    if not recorder.epochs:
        raise ValueError("playground: the recorder holds no epoch; call recorder.record(...) after each epoch")
    title = title or "chaingrad playground"
    explore = svg = None
    if graph is not None:
        explore = page_data(graph, title="the graph of one batch", **explore_opts)
        svg = explore.pop("svg")
    data = {"playground": dict(recorder.data(), title=title), "explore": explore}
    html_text = render_page(title, svg=svg or "", before='<section class="cg-playground"></section>',
                            data=data, scripts=("playground.js", "explore.js"))
    return Page(html_text, data)
