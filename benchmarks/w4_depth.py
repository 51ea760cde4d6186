"""Workload 4: depth.  A chain of n scalar ops, forward then backward.

``y = x``, then alternately ``y = y * 0.9999`` and ``y = y + 0.0001`` (the value
stays near 1, so nothing overflows): n graph nodes in one line, the longest
path a graph can have.  An engine with a recursive graph walk (micrograd's
topological sort) dies of RecursionError near Python's recursion limit; an
iterative one should cost the same per node at any depth.
"""
import sys

DEPTH = 1_000_000


def chain(y, n):
    """n ops in a row on any scalar type."""
    for i in range(n):
        y = y * 0.9999 if i % 2 == 0 else y + 0.0001
    return y


def chaingrad_step(n):
    from chaingrad import autograd as ag     # here, not at the top: hips_worker.py imports chain() with HIPS's autograd

    def step():
        x = ag.tensor(1.0, requires_grad=True)
        chain(x, n).backward()
        return x.grad.item()
    return step


def torch_step(torch, n):
    def step():
        x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        chain(x, n).backward()
        return x.grad.item()
    return step


def micrograd_step(n):
    from micrograd.engine import Value

    def step():
        x = Value(1.0)
        chain(x, n).backward()
        return x.grad
    return step


def micrograd_first_failure(hi=100_000):
    """The smallest chain length at which micrograd's backward raises RecursionError (None if none up to hi)."""
    step = micrograd_step

    def fails(n):
        try:
            step(n)()
            return False
        except RecursionError:
            return True
    if not fails(hi):
        return None
    lo = 1                       # invariant: lo passes, hi fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fails(mid) else (mid, hi)
    return hi


def build(n, torch=None, micrograd=None):
    """Steps of workload 4 at depth n (name -> step function)."""
    steps = {"chaingrad": chaingrad_step(n)}
    if torch is not None:
        steps["PyTorch 0-d"] = torch_step(torch, n)
    return steps


if __name__ == "__main__":     # python -m benchmarks.w4_depth N: one run, for profiling
    print(chaingrad_step(int(sys.argv[1]) if len(sys.argv) > 1 else DEPTH)())
