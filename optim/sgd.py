"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Gradient descent: ``p <- p - lr * g``, optionally with momentum.

    ``SGD(params, lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0)``

    With gradient ``g_t`` of the loss at step ``t`` (PyTorch's rules)::

        g_t <- g_t + weight_decay * p_{t-1}            # L2 penalty (weight_decay/2)*||p||^2
        b_1  = g_1                                     # momentum buffer, first step
        b_t  = momentum * b_{t-1} + (1 - dampening) * g_t
        d_t  = g_t + momentum * b_t    if nesterov     # look ahead along the buffer
               b_t                     otherwise
        p_t  = p_{t-1} - lr * d_t

    With ``momentum=0`` this is plain gradient descent, ``d_t = g_t``.

    Relation to the MIT notes (6.036 ch. 7, section 7.7.2.2 "Momentum"): there
    ``V_t = gamma V_{t-1} + eta g_t`` and ``W_t = W_{t-1} - V_t``, which is our
    buffer times ``lr`` (``V_t = lr * b_t``) with ``momentum = gamma``.  Their
    moving-average form ``M_t = gamma M_{t-1} + (1 - gamma) g_t`` is
    ``dampening = momentum`` (apart from the first step, where PyTorch, and
    we, start the buffer at ``g_1``).

    Example::

        w = ag.tensor([1.0, -2.0], requires_grad=True)
        opt = SGD([w], lr=0.1, momentum=0.9)
        (w ** 2).sum().backward(); opt.step()      # w = [0.8, -1.6]
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
        if lr < 0:
            raise ValueError(f"SGD: invalid learning rate {lr}")
        if momentum < 0:
            raise ValueError(f"SGD: invalid momentum {momentum}")
        if weight_decay < 0:
            raise ValueError(f"SGD: invalid weight_decay {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov,
                                      weight_decay=weight_decay, dampening=dampening))

    def _update(self, p, g, state, group):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0:
            g = g + wd * p.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # a copy (g may be p.grad's own array) in p's dtype (weight decay
                # with a numpy float64 scalar would have promoted a float32 g)
                buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p -= lr * g
