"""Peak resident memory of one implementation, each in a fresh process of its own.

    python -m benchmarks.memory mnist IMPL [--steps 100] [--quick]   # workload 5
    python -m benchmarks.memory depth IMPL N                         # workload 4

IMPL is a name from the tables (``chaingrad``, ``hand numpy``, ``PyTorch nn``...).
Prints one JSON line: ``import_mib`` (resident memory after importing what
IMPL needs, before any work), ``peak_mib`` (the process's high-water mark)
and ``seconds`` (the work, for workload 4).  A fresh process per
implementation keeps the peaks apart: memory a library once held is never
returned to a number measured later.
"""
import argparse
import json
import time

import numpy as np

from . import rss


def _imports(impl):
    """Import what ``impl`` needs (and only that: the import is part of its memory)."""
    torch = None
    if impl.startswith("PyTorch"):
        import torch
    elif impl.startswith("chaingrad"):
        import chaingrad.autograd  # noqa: F401
        if "nn" in impl:
            import chaingrad.nn  # noqa: F401
            import chaingrad.optim  # noqa: F401
    return torch


def mnist_steps(impl, steps, quick):
    """Workload 2 in float32 for ``steps`` steps."""
    from . import mlp_step
    torch = _imports(impl)
    base = rss.current_mib()
    params, X, y, loss = mlp_step.problem("mnist", np.float32, quick)
    make = {"hand numpy": mlp_step.numpy_step,
            "chaingrad": mlp_step.chaingrad_step,
            "chaingrad nn+optim": mlp_step.chaingrad_nn_step,
            "PyTorch nn": lambda *a: mlp_step.torch_nn_step(torch, *a),
            "PyTorch plain": lambda *a: mlp_step.torch_plain_step(torch, *a)}[impl]
    step = make(params, X, y, loss)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return {"import_mib": base, "peak_mib": rss.peak_mib(), "seconds": time.perf_counter() - t0}


def depth(impl, n):
    """Workload 4 once at depth n."""
    from . import w4_depth
    torch = _imports(impl)
    base = rss.current_mib()
    step = w4_depth.torch_step(torch, n) if torch else w4_depth.chaingrad_step(n)
    t0 = time.perf_counter()
    step()
    return {"import_mib": base, "peak_mib": rss.peak_mib(), "seconds": time.perf_counter() - t0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=["mnist", "depth"])
    ap.add_argument("impl")
    ap.add_argument("n", nargs="?", type=int, default=1_000_000, help="depth (workload 4)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    out = mnist_steps(a.impl, a.steps, a.quick) if a.kind == "mnist" else depth(a.impl, a.n)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
