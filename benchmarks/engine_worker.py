"""Time one chaingrad workload in a process of its own, with this checkout's engine or another's.

    python -m benchmarks.engine_worker WORKLOAD [--engine PACKAGE_DIR] [--reps N] [--quick]

This is how ``run.sh --compare-old PATH`` sets the engine of an older
checkout (PATH) against today's: two engines cannot both be ``chaingrad`` in
one process, so each runs in a worker, and run.py alternates old and new
workers.  The benchmark code is the same for both (this checkout's
``benchmarks/``); only the engine under it differs.

:func:`package` lays out PACKAGE_DIR: a folder ``chaingrad/`` holding the old
checkout's ``chaingrad/__init__.py`` and links to its ``autograd``, ``nn``
and ``optim`` (the repository keeps them at the top level; its pyproject
maps them into ``chaingrad``).  The worker puts PACKAGE_DIR first on
``sys.path`` and removes the editable install's import finder, which would
otherwise map ``chaingrad.autograd`` to this checkout.  It prints one JSON
line: median wall and CPU seconds per call, and the file the engine was
imported from, so the caller can check which engine ran.
"""
import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

WORKLOADS = ("w1", "w3", "w4", "w6-hvp-float64", "w6-hvp-float32", "w6-third")


def package(checkout, where):
    """Make ``where/chaingrad`` the package of the checkout at ``checkout``; return ``where``."""
    checkout, pkg = Path(checkout).resolve(), Path(where) / "chaingrad"
    pkg.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(checkout / "chaingrad" / "__init__.py", pkg / "__init__.py")
    for sub in ("autograd", "nn", "optim"):
        if not (pkg / sub).exists():
            (pkg / sub).symlink_to(checkout / sub, target_is_directory=True)
    return Path(where)


def use_engine(package_dir):
    """Import ``chaingrad`` from ``package_dir`` from now on (before anything imported it)."""
    if "chaingrad" in sys.modules:
        raise RuntimeError("use_engine: chaingrad is already imported in this process")
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(package_dir))


def step(workload, quick):
    """(step function, warm-up calls) of a workload, built with the engine in use."""
    import numpy as np

    from . import mlp_step, w1_scalar, w4_depth, w6_second_order
    if workload == "w1":
        X, ys, init = w1_scalar.problem(quick)
        model = w1_scalar.ScalarMLP(init, w1_scalar.leaf)
        return w1_scalar.chaingrad_step(model, X, ys, w1_scalar.update_under_no_grad), 1
    if workload == "w3":
        return mlp_step.chaingrad_step(*mlp_step.problem("small", np.float64)), 50
    if workload == "w4":
        return w4_depth.chaingrad_step(2000 if quick else w4_depth.DEPTH), 0
    if workload.startswith("w6-hvp"):
        return w6_second_order.chaingrad_hvp(np.dtype(workload.split("-")[-1]), quick), 3
    rounds = w6_second_order.QUICK_ROUNDS if quick else w6_second_order.CHAIN_ROUNDS
    return w6_second_order.chaingrad_third(rounds), 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workload", choices=WORKLOADS)
    ap.add_argument("--engine", help="a folder made by package(): import chaingrad from there")
    ap.add_argument("--reps", type=int, default=3, help="timed calls")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if a.engine:
        use_engine(a.engine)
    from chaingrad import autograd as ag

    from . import timing
    fn, warmup = step(a.workload, a.quick)
    # min_time: a sample of a short step (W3's is about 0.5 ms) repeats it for 0.1 s; one call
    # alone varies with whatever the collector happens to do during it
    samples = timing.measure({"step": fn}, reps=a.reps, warmup=warmup, pause=0, min_time=0.1, wake=False)["step"]
    print(json.dumps({"engine": str(Path(ag.__file__).resolve().parent),
                      "wall": statistics.median(samples.wall), "cpu": statistics.median(samples.cpu)}))


if __name__ == "__main__":
    main()
