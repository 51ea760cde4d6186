"""The picture in the docs: a two-layer network's graph with values and gradients.

    python -m chaingrad.example notebooks/figures/two_layer_graph.svg   # .gv or .dot: DOT source

A 2-3-1 network (``nn.Linear``, ``nn.Tanh``, ``nn.Linear``) on two rows, a mean
squared error drawn as one composite op, forward and backward under
``ag.viz.record_grads`` so every tensor shows its gradient.  It lives beside
the command line, not in ``ag.viz``: it needs ``nn``, and the pictures never
import ``nn``.
"""
import sys

import numpy as np

from chaingrad import autograd as ag
from chaingrad import nn


class TwoLayer(nn.Module):
    """layers = [Linear(2, 3), Tanh(), Linear(3, 1)], drawn as ``layers.0: Linear``...  (A
    ModuleList is never called itself, so the picture has no frame for it.)"""

    def __init__(self, rng):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)])
        with ag.no_grad():               # N(0, 1/in) weights from rng, zero biases: the same picture every run
            for layer in (self.layers[0], self.layers[2]):
                n_out, n_in = layer.weight.shape
                layer.weight.data = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in))
                layer.bias.data = np.zeros(n_out)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@ag.composite("mse_loss")
def mse_loss(pred, target):
    """mean((pred - target)²), drawn as one op."""
    d = pred - target
    return (d * d).mean()


def two_layer_example(path=None, **draw_opts):
    """Build the network, run forward and backward under ``record_grads`` and draw it
    (``draw_opts`` go to ``ag.viz.draw``).  Writes SVG to ``path`` when given; returns
    the picture."""
    net = TwoLayer(np.random.default_rng(0))
    x = ag.tensor([[0.5, -1.0], [1.5, 2.0]], name="x")
    target = ag.tensor([[1.0], [-1.0]], name="target")
    with ag.viz.record_grads() as rec:
        loss = mse_loss(net(x), target)
        loss.name = "loss"
        loss.backward(retain_graph=True)     # keep the values for the picture
    opts = dict(model=net, grads=rec, title="two-layer network: values and gradients after backward")
    opts.update(draw_opts)
    pic = ag.viz.draw(loss, **opts)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(pic.svg())
    return pic


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m chaingrad.example OUT  (.svg for the picture, .gv or .dot for its DOT source)",
              file=sys.stderr)
        return 2
    out = args[0]
    pic = two_layer_example()
    text = pic.source if out.endswith((".gv", ".dot")) else pic.svg()
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
