"""HIPS autograd's side of every workload, run inside its own virtualenv.

HIPS autograd and chaingrad are both imported as ``autograd``, so this runs
as a script under ``.peers/hips/bin/python`` (peers.run_hips); ``sys.path[0]``
is then benchmarks/, from which it takes ``data``, ``rss``, ``timing`` and
``w4_depth.chain`` (none of them imports chaingrad).  HIPS is functional:
``grad(loss)(params, ...)`` returns the gradient, and the update is ours.

    hips_worker.py scalar [--quick] [--reps R]      # workload 1
    hips_worker.py mlp mnist|small float32|float64  # workloads 2 and 3
    hips_worker.py depth N                          # workload 4: one run, time and memory
    hips_worker.py mem [--steps 100] [--quick]      # workload 5

Each prints one JSON line.
"""
import argparse
import json
import time

import autograd.numpy as anp
import numpy as np
from autograd import grad      # HIPS autograd (this script runs in its venv)

import data
import rss
import timing
import w4_depth


def relu(a):
    return anp.maximum(a, 0.0)


def scalar_loss(flat, inputs, ys, sizes):
    """micrograd's demo loss on scalars; ``flat`` holds the parameters in micrograd's order."""
    ps = list(flat)     # unbox the list once (one node per parameter), not at every use
    scores = []
    for x in inputs:
        k = 0
        for li, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
            acts = []
            for _ in range(n):
                acts.append(sum((wi * xi for wi, xi in zip(ps[k:k + m], x)), ps[k + m]))
                k += m + 1
            x = acts if li == len(sizes) - 2 else [relu(a) for a in acts]
        scores.append(x[0])
    losses = [relu(1 + -yi * si) for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + data.ALPHA * sum(p * p for p in ps)


def scalar(quick, reps):
    X, y = data.moons(4 if quick else 100)
    inputs, ys = X.tolist(), [float(v) for v in y]
    init = data.init_mlp(data.SCALAR_SIZES, uniform=True)
    flat = [float(v) for W, b in zip(init[::2], init[1::2])
            for j in range(W.shape[1]) for v in list(W[:, j]) + [b[j]]]
    dloss = grad(scalar_loss)
    state = [flat]

    def step():
        g = dloss(state[0], inputs, ys, data.SCALAR_SIZES)
        state[0] = [p - data.LR * gp for p, gp in zip(state[0], g)]
    samples = timing.measure({"HIPS": step}, reps, pause=0.0, wake=False)["HIPS"]
    return {"times": samples.wall, "cpu_times": samples.cpu}


def mlp_loss(params, X, y, loss):
    h = X
    last = len(params) // 2 - 1
    for i in range(last + 1):
        h = anp.dot(h, params[2 * i]) + params[2 * i + 1]
        if i < last:
            h = relu(h)
    if loss == "ce":
        m = anp.max(h, axis=1, keepdims=True)
        logp = h - m - anp.log(anp.sum(anp.exp(h - m), axis=1, keepdims=True))
        return -anp.mean(logp[np.arange(X.shape[0]), y])
    return anp.mean(relu(1 - y * h)) + data.ALPHA * sum(anp.sum(p * p) for p in params)


def mlp_step(workload, dtype, quick, seen_dtypes):
    params, X, y, loss = data.problem(workload, dtype, quick)
    dloss = grad(mlp_loss)

    def step():
        gs = dloss(params, X, y, loss)
        seen_dtypes.update(str(g.dtype) for g in gs)
        for p, g in zip(params, gs):
            p -= data.LR * g
    return step


def mlp(workload, dtype, quick, reps):
    seen = set()
    step = mlp_step(workload, np.dtype(dtype), quick, seen)
    samples = timing.measure({"HIPS": step}, reps, pause=0.0)["HIPS"]
    return {"times": samples.wall, "cpu_times": samples.cpu, "grad_dtypes": sorted(seen)}


def depth(n):
    base = rss.current_mib()
    c0, t0 = time.process_time(), time.perf_counter()
    grad(lambda x: w4_depth.chain(x, n))(1.0)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
            "import_mib": base, "peak_mib": rss.peak_mib()}


def mem(steps, quick):
    base = rss.current_mib()
    step = mlp_step("mnist", np.float32, quick, set())
    for _ in range(steps):
        step()
    return {"import_mib": base, "peak_mib": rss.peak_mib()}


def main():
    ap = argparse.ArgumentParser(description="HIPS autograd's side of the benchmark")
    ap.add_argument("what", choices=["scalar", "mlp", "depth", "mem"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=100)
    a = ap.parse_args()
    if a.what == "scalar":
        out = scalar(a.quick, a.reps)
    elif a.what == "mlp":
        out = mlp(a.args[0], a.args[1], a.quick, a.reps)
    elif a.what == "depth":
        out = depth(int(a.args[0]))
    else:
        out = mem(a.steps, a.quick)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
