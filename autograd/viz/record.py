"""Gradients of inner tensors, recorded during backward without touching ``.grad``.

``backward`` computes a gradient for every tensor in the graph but keeps only
the leaves' (in ``.grad``).  ``record_grads`` listens to the engine
(``autograd.engine.observe``) and keeps a copy of each one, so the
pictures can show them::

    with ag.viz.record_grads() as rec:
        loss.backward()
    rec[h]                  # d loss / d h for an inner tensor h (an ndarray)
    ag.viz.draw(loss)       # shows every gradient, inner ones included

It also notes, for every ``relu``, which units were dead on this batch
(output 0 for every example, so no gradient can pass): the saved output is
still there when the observer runs, just before backward frees it.
"""
import numpy as np

from .. import engine
from ..tensor import Tensor
from .walk import is_op

_last = [None]     # the most recent record: draw() uses it when not given grads=


class GradRecord:
    """Gradients seen during backward, keyed by graph vertex (Node).

    Look up with a Tensor (``rec[t]``, ``t in rec``) or a key.  Several
    backward calls inside one ``with`` block ADD, like leaf ``.grad``.
    ``dead_relus[node]`` is ``(dead units, units)`` for each relu node.
    """

    def __init__(self):
        self.grads = {}
        self.dead_relus = {}
        self.order = []          # keys in the order backward visited them
        self.visits = []         # per step: (node, its gradient, [(input index, parent, gradient sent)])

    @staticmethod
    def _key(t):
        return t._node if isinstance(t, Tensor) and t._node is not None else t

    def __getitem__(self, t):
        return self.grads[self._key(t)]

    def get(self, t, default=None):
        return self.grads.get(self._key(t), default)

    def __contains__(self, t):
        return self._key(t) in self.grads

    def __len__(self):
        return len(self.grads)

    def _observe(self, key, g, sends):
        g = np.array(getattr(g, "data", g))     # a private copy: the engine may add into .grad in place
        old = self.grads.get(key)
        self.grads[key] = g if old is None else old + g
        self.order.append(key)
        self.visits.append((key, g, [(i, parent, np.array(getattr(gi, "data", gi))) for i, parent, gi, _ in sends]))
        if is_op(key) and key.op.name == "relu" and key.ans is not None:
            self.dead_relus[key] = dead_units(key.ans)


def grad_table(grads):
    """The ``grads=`` argument of the pictures as ``{key: ndarray}``: a :class:`GradRecord`,
    a dict ``{tensor: gradient}``, None (the latest record) or False (none: ``{}``)."""
    if grads is None:
        grads = last_record()
    if grads is None or grads is False:
        return {}
    if isinstance(grads, GradRecord):
        return grads.grads
    return {GradRecord._key(t): getattr(g, "data", g) for t, g in grads.items()}


def dead_units(out):
    """``(dead, units)`` for a relu output: a unit (one entry of a row) is dead on this
    batch when it is 0 for every example (rows = axis 0), so its gradient is 0 too."""
    out = np.asarray(out)
    if out.ndim == 0:
        return int(out <= 0), 1
    alive = (out > 0).reshape(out.shape[0], -1).any(axis=0) if out.ndim > 1 else out > 0
    return int(alive.size - np.count_nonzero(alive)), int(alive.size)


class record_grads:
    """Context manager: record every gradient backward computes (see module docstring)."""

    def __init__(self):
        self.record = GradRecord()

    def __enter__(self):
        self._observing = engine.observe(self.record._observe)
        self._observing.__enter__()
        _last[0] = self.record
        return self.record

    def __exit__(self, *exc):
        self._observing.__exit__(*exc)
        return False


def last_record():
    """The record of the latest ``record_grads`` block (None before the first)."""
    return _last[0]


def clear():
    """Forget the latest record (it keeps its graph's nodes alive)."""
    _last[0] = None
