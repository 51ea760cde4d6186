"""Adam and AdamW: momentum plus a per-weight step size, with bias correction."""
import math

import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), with PyTorch's update rule.

    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)``

    Moving averages of the gradient and of its square (states "exp_avg",
    "exp_avg_sq"), both started at 0 and therefore corrected for bias::

        g_t <- g_t + weight_decay * p_{t-1}              (L2 penalty, if weight_decay)
        m_t  = b1 * m_{t-1} + (1 - b1) * g_t
        v_t  = b2 * v_{t-1} + (1 - b2) * g_t^2
        m^_t = m_t / (1 - b1^t)        v^_t = v_t / (1 - b2^t)
        p_t  = p_{t-1} - lr * m^_t / (sqrt(v^_t) + eps)

    This is the MIT notes' Adam (6.036 ch. 7, section 7.7.2.4) and Sayed's
    (ch. 65, Example 65.3), except that ``eps`` is added after the square
    root, as in the original paper and PyTorch.

    Example::

        w = ag.tensor([1.0, -1.0], requires_grad=True)
        opt = Adam([w], lr=0.1)
        (w ** 2).sum().backward(); opt.step()     # first step moves each weight by ~lr: [0.9, -0.9]
    """
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        b1, b2 = betas
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, eps={eps} or weight_decay={weight_decay}")
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        lr, wd, (b1, b2) = group["lr"], group["weight_decay"], group["betas"]
        if wd != 0:
            if self._decoupled:
                p *= 1 - lr * wd           # AdamW: shrink the weights directly
            else:
                g = g + wd * p.data        # Adam: L2 penalty through the gradient
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - b1) * (g - m)            # = b1*m + (1-b1)*g, written as PyTorch's lerp
        v *= b2
        v += (1 - b2) * g * g
        bias1 = 1 - b1 ** t
        bias2 = 1 - b2 ** t
        denom = np.sqrt(v) / math.sqrt(bias2) + group["eps"]
        p -= (lr / bias1) * m / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)``

    Instead of adding ``weight_decay * p`` to the gradient (where Adam's
    per-weight scaling would weaken it for weights with large gradients),
    every step first shrinks the weights by the same factor::

        p_{t-1} <- (1 - lr * weight_decay) * p_{t-1}

    and then takes Adam's step with the plain gradient.
    """
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
