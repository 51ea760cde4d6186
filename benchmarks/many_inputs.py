"""Workload 7: ``stack`` and ``cat`` of many one-element inputs, forward and backward.

One op with n inputs: its backward hands a slice of the gradient to each of
the n inputs.  Done right that is linear in n; an engine that copies or
re-walks the whole gradient for every input is quadratic (chaingrad's first
engine took 48 s for ``cat`` of 16,000 inputs).  The step is
``op(xs).sum().backward()`` on n fresh leaves of shape (1,); making the
leaves is not timed.
"""
import statistics
import time

import numpy as np

SIZES = (16_000, 200_000)
QUICK_SIZES = (200, 2_000)
OPS = ("stack", "cat")


def chaingrad_leaves(n):
    from chaingrad import autograd as ag
    return [ag.tensor(np.array([float(i)]), requires_grad=True) for i in range(n)]


def torch_leaves(torch, n):
    return [torch.tensor([float(i)], dtype=torch.float64, requires_grad=True) for i in range(n)]


def chaingrad_op(name):
    from chaingrad import autograd as ag
    return getattr(ag, name)


def run_once(make, op, n):
    """(forward, backward) wall seconds of ``op(xs).sum().backward()``; checks every gradient is 1."""
    xs = make(n)
    t0 = time.perf_counter()
    total = op(xs).sum()
    t1 = time.perf_counter()
    total.backward()
    t2 = time.perf_counter()
    if not (xs[0].grad.item() == xs[-1].grad.item() == 1.0):
        raise AssertionError(f"{op}: gradient of an input is not 1")
    return t1 - t0, t2 - t1


def measure(n, torch, reps):
    """{(op, implementation): (median forward s, median backward s)}, implementations alternating."""
    impls = {"chaingrad": (chaingrad_leaves, chaingrad_op)}
    if torch is not None:
        impls["PyTorch"] = (lambda k: torch_leaves(torch, k), lambda name: getattr(torch, name))
    times = {}
    for rep in range(reps):
        names = list(impls)[rep % 2:] + list(impls)[:rep % 2]
        for op in OPS:
            for name in names:
                make, ops = impls[name]
                times.setdefault((op, name), []).append(run_once(make, ops(op), n))
    return {k: tuple(statistics.median(x) for x in zip(*v)) for k, v in times.items()}
