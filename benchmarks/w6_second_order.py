"""Workload 6: second order.  Derivatives of derivatives, through ``create_graph=True``.

(a) A Hessian-vector product of workload 2's loss (the 784-512-512-10 MLP,
    softmax cross-entropy, batch 128): differentiate the loss once, keeping
    the backward pass as a graph, then differentiate the dot product of that
    gradient with a fixed vector ``v``::

        g = grad(L, params, create_graph=True)          # dL/dp, itself a graph
        Hv = grad(sum_i <g_i, v_i>, params)             # d/dp <dL/dp, v> = H v

(b) The third derivative of a chain of scalar ops, ``y = y + 0.001 * tanh(y)``
    repeated (tanh, mul, add: three ops a round; the derivative of a round is
    close to 1, so nothing vanishes or overflows), by nesting ``grad``
    three times.  Every backward with ``create_graph`` records a bigger graph
    than the one it walks: this measures recording VJPs, not arithmetic.

Both run the same code on chaingrad and on PyTorch (``torch.autograd.grad``),
from the same data and weights; :func:`check` compares their answers.
"""
import numpy as np

from . import data, mlp_step

CHAIN_ROUNDS = 3334          # 3 ops a round: a chain of 10,002 ops
QUICK_ROUNDS = 100


# ---- (a) Hessian-vector product of workload 2's loss ----------------------
def directions(params, seed=data.SEED):
    """The vector v of the product: one seeded normal array per parameter, in its dtype."""
    rng = np.random.default_rng(seed + 3)
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


def chaingrad_hvp(dtype, quick=False):
    """A function computing H v with chaingrad; it returns the product as numpy arrays."""
    from chaingrad import autograd as ag     # here: engine_worker.py picks which chaingrad first
    params, X, y, loss = mlp_step.problem("mnist", dtype, quick)
    Ps = [ag.tensor(p, requires_grad=True) for p in params]
    Vs = [ag.tensor(v) for v in directions(params)]
    Xt, rows = ag.tensor(X), np.arange(X.shape[0])

    def step():
        L = mlp_step.forward_loss(Xt, Ps, y, loss, rows)
        gs = ag.grad(L, Ps, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gs, Vs))
        return [h.numpy() for h in ag.grad(dot, Ps)]
    return step


def torch_hvp(torch, dtype, quick=False):
    """The same H v with ``torch.autograd.grad`` (double backward)."""
    params, X, y, loss = mlp_step.problem("mnist", dtype, quick)
    Ps = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
    Vs = [torch.from_numpy(v) for v in directions(params)]
    Xt, yt, rows = torch.from_numpy(X), torch.from_numpy(y), torch.arange(X.shape[0])

    def step():
        L = mlp_step.forward_loss(Xt, Ps, yt, loss, rows)
        gs = torch.autograd.grad(L, Ps, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gs, Vs))
        return [h.numpy() for h in torch.autograd.grad(dot, Ps)]
    return step


# ---- (b) third derivative of a scalar chain -------------------------------
def chain(y, rounds):
    """``rounds`` times ``y = y + 0.001 * tanh(y)`` on any scalar type with a tanh method."""
    for _ in range(rounds):
        y = y + y.tanh() * 0.001
    return y


def chaingrad_third(rounds):
    """A function returning d³y/dx³ at x = 0.5 with chaingrad (nested ag.grad)."""
    from chaingrad import autograd as ag

    def step():
        x = ag.tensor(0.5, requires_grad=True)
        (d1,) = ag.grad(chain(x, rounds), x, create_graph=True)
        (d2,) = ag.grad(d1, x, create_graph=True)
        (d3,) = ag.grad(d2, x)
        return d3.item()
    return step


def torch_third(torch, rounds):
    """The same third derivative with ``torch.autograd.grad``."""
    def step():
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        (d1,) = torch.autograd.grad(chain(x, rounds), x, create_graph=True)
        (d2,) = torch.autograd.grad(d1, x, create_graph=True)
        (d3,) = torch.autograd.grad(d2, x)
        return d3.item()
    return step


# ---- building and checking -------------------------------------------------
def hvp_steps(dtype, quick=False, torch=None):
    """Steps of (a) in one dtype (name -> function returning the product)."""
    steps = {"chaingrad": chaingrad_hvp(dtype, quick)}
    if torch is not None:
        steps["PyTorch"] = torch_hvp(torch, dtype, quick)
    return steps


def third_steps(rounds, torch=None):
    """Steps of (b) (name -> function returning the third derivative)."""
    steps = {"chaingrad": chaingrad_third(rounds)}
    if torch is not None:
        steps["PyTorch"] = torch_third(torch, rounds)
    return steps


def largest_difference(a, b):
    """The largest difference between two answers (lists of arrays or numbers), relative to b's largest value."""
    a = [np.asarray(x, dtype=np.float64) for x in (a if isinstance(a, list) else [a])]
    b = [np.asarray(x, dtype=np.float64) for x in (b if isinstance(b, list) else [b])]
    scale = max(float(np.abs(x).max()) for x in b) or 1.0
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b)) / scale
