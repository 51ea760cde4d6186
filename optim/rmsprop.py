"""RMSprop: divide each weight's step by a moving average of its gradient's magnitude."""
import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes, 2012), with PyTorch's update rule.

    ``RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0)``

    Each weight ``j`` keeps a moving average of its squared gradient::

        g_t <- g_t + weight_decay * p_{t-1}                  (if weight_decay)
        G_t  = alpha * G_{t-1} + (1 - alpha) * g_t^2         G_0 = 0  (state "square_avg")
        p_t  = p_{t-1} - lr * g_t / (sqrt(G_t) + eps)

    The step is large where the loss is flat and small where it is steep.

    Note on names: what the MIT notes (6.036 ch. 7, section 7.7.2.3
    "Adadelta") call *adadelta* is this method: their
    ``G_t = gamma G_{t-1} + (1 - gamma) g_t^2`` and
    ``W_t = W_{t-1} - eta g_t / sqrt(G_t + eps)`` is RMSprop with
    ``alpha = gamma`` (only the place of ``eps`` differs: PyTorch, and we, add
    it after the square root).  Zeiler's Adadelta, the one PyTorch and
    :class:`~optim.Adadelta` implement, additionally rescales the step by a
    moving average of past updates.

    Example::

        w = ag.tensor([1.0], requires_grad=True)
        opt = RMSprop([w], lr=0.01)
        (w ** 2).sum().backward(); opt.step()      # G = 0.01*4, step = 0.01*2/0.2 = 0.1
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        if lr < 0 or eps < 0 or weight_decay < 0 or not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: invalid lr={lr}, alpha={alpha}, eps={eps} or weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        alpha = group["alpha"]
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        sq = state["square_avg"]
        sq *= alpha
        sq += (1 - alpha) * g * g
        p -= group["lr"] * (g / (np.sqrt(sq) + group["eps"]))
