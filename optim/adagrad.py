"""Adagrad: a step size per weight that shrinks with the sum of its squared gradients."""
import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer, 2011).

    ``Adagrad(params, lr=0.01, eps=1e-10, weight_decay=0.0)``

    Every weight ``j`` keeps the running *sum* of its squared gradients::

        g_t <- g_t + weight_decay * p_{t-1}          (if weight_decay)
        s_t  = s_{t-1} + g_t^2                       s_0 = 0   (state "sum")
        p_t  = p_{t-1} - lr * g_t / (sqrt(s_t) + eps)

    Weights with large past gradients get small steps, rarely-updated weights
    keep large ones.  Because ``s_t`` only grows, the steps shrink for ever;
    RMSprop and Adadelta replace the sum by a moving average (MIT notes,
    6.036 ch. 7, section 7.7.2.3 introduces "adadelta" as this variant).

    Example::

        w = ag.tensor([1.0], requires_grad=True)
        opt = Adagrad([w], lr=0.5)
        (w ** 2).sum().backward(); opt.step()      # w = 1 - 0.5 * 2/2 = [0.5]
    """

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"Adagrad: invalid lr={lr}, eps={eps} or weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, eps=eps, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.zeros_like(p.data)
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        state["sum"] += g * g
        p -= group["lr"] * (g / (np.sqrt(state["sum"]) + group["eps"]))
