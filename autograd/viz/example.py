"""The README's picture: a two-layer network's graph with values and gradients.

``python -m chaingrad.autograd.viz --example out.svg`` writes it.  The network is built
from two tiny stand-in modules that label their ops with ``ag.scope`` exactly
as ``nn.Module`` does, so the pictures package needs no ``nn``.
"""
import numpy as np

from .. import graph
from ..ops.linalg import linear
from ..tensor import Tensor
from .draw import draw
from .record import record_grads


class _Module:
    """Just enough of a module for the pictures: named_parameters and named_modules."""

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self):
        for path, m in self.named_modules():
            for name, p in m._params():
                yield (f"{path}.{name}" if path else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def _children(self):
        return []

    def _params(self):
        return []

    def __call__(self, x):
        with graph.scope(type(self).__name__, kind="module", obj=self):
            return self.forward(x)


class Linear(_Module):
    """x @ weight.T + bias as one ``linear`` op, weight of shape (out, in) with N(0, 1/in) entries (as nn.Linear)."""

    def __init__(self, n_in, n_out, rng):
        self.weight = Tensor(rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in)), requires_grad=True)
        self.bias = Tensor(np.zeros(n_out), requires_grad=True)

    def _params(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def forward(self, x):
        return linear(x, self.weight, self.bias)


class Tanh(_Module):
    def forward(self, x):
        return x.tanh()


class TwoLayer(_Module):
    """layers = [Linear(2, 3), Tanh(), Linear(3, 1)]"""

    def __init__(self, rng):
        self.layers = [Linear(2, 3, rng), Tanh(), Linear(3, 1, rng)]

    def _children(self):
        return [(f"layers.{i}", m) for i, m in enumerate(self.layers)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@graph.composite("mse_loss")
def mse_loss(pred, target):
    """mean((pred - target)²), drawn as one op."""
    d = pred - target
    return (d * d).mean()


def two_layer_example(path=None, **draw_opts):
    """Build the two-layer network, run forward and backward under ``record_grads``, and
    draw it (``draw_opts`` go to ``draw``).  Writes SVG to ``path`` when given; returns
    the picture."""
    rng = np.random.default_rng(0)
    net = TwoLayer(rng)
    x = Tensor([[0.5, -1.0], [1.5, 2.0]], name="x")
    target = Tensor([[1.0], [-1.0]], name="target")
    with record_grads() as rec:
        loss = mse_loss(net(x), target)
        loss.name = "loss"
        loss.backward(retain_graph=True)     # keep the values for the picture
    opts = dict(model=net, grads=rec, title="two-layer network: values and gradients after backward")
    opts.update(draw_opts)
    pic = draw(loss, **opts)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(pic.svg())
    return pic


