"""Adadelta: RMSprop whose step size is itself a moving average of past steps."""
import numpy as np

from .optimizer import Optimizer


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), with PyTorch's update rule.

    ``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0)``

    Each weight keeps two moving averages, of squared gradients ``G`` and of
    squared updates ``D`` (states "square_avg" and "acc_delta")::

        g_t <- g_t + weight_decay * p_{t-1}                   (if weight_decay)
        G_t  = rho * G_{t-1} + (1 - rho) * g_t^2
        d_t  = sqrt(D_{t-1} + eps) / sqrt(G_t + eps) * g_t
        D_t  = rho * D_{t-1} + (1 - rho) * d_t^2
        p_t  = p_{t-1} - lr * d_t

    The ratio of the two root-mean-squares gives the step the units of the
    weights, so no learning rate is really needed (``lr=1.0``).

    Note on names: the method the MIT notes (6.036 ch. 7, section 7.7.2.3
    "Adadelta") call *adadelta*, ``G_t = gamma G_{t-1} + (1-gamma) g_t^2``,
    ``W_t = W_{t-1} - eta g_t / sqrt(G_t + eps)``, is RMSprop-style: it has
    the ``G`` average but not the ``D`` one.  Use :class:`~optim.RMSprop` with
    ``alpha = gamma`` for that rule; this class is Zeiler's Adadelta, as in PyTorch.

    Example::

        w = ag.tensor([1.0], requires_grad=True)
        opt = Adadelta([w])
        (w ** 2).sum().backward(); opt.step()   # d = sqrt(1e-6)/sqrt(0.4+1e-6)*2 ~ 0.00316
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        if lr < 0 or eps < 0 or weight_decay < 0 or not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: invalid lr={lr}, rho={rho}, eps={eps} or weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            state["acc_delta"] = np.zeros_like(p.data)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p.data
        sq, acc = state["square_avg"], state["acc_delta"]
        sq *= rho
        sq += (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        acc *= rho
        acc += (1 - rho) * delta * delta
        p -= group["lr"] * delta
