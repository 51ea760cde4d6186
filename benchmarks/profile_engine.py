"""Where chaingrad's time goes in the overhead-bound workloads (1, 3 and 4).

    .venv/bin/python -m benchmarks.profile_engine [--only 1] [--top 25]

For each workload it prints four views of chaingrad's step:
- the garbage collector: time spent in collections during the step, timed
  exactly through ``gc.callbacks``;
- phases: CPU time per node of forward, backward and update, unprofiled;
- cProfile (deterministic, so it inflates cheap calls but counts exactly):
  calls per graph node and own CPU time per call of the top functions;
- pyinstrument (a sampling profiler, so it barely slows the code down; from
  the scratch venv benchmarks/.peers/tools, see setup_peers.sh): the share
  of time spent in each function itself (flat view).
CPU time (``time.process_time``), not wall time, so that other processes on
a busy machine do not blur the picture; pyinstrument samples wall time.
"""
import argparse
import cProfile
import gc
import glob
import pstats
import sys
import time

import numpy as np

from . import data, mlp_step, peers, w1_scalar, w4_depth


def pyinstrument():
    if peers.ensure("tools"):
        return None
    for site in glob.glob(str(peers.PEERS / "tools" / "lib" / "python*" / "site-packages")):
        if site not in sys.path:
            sys.path.append(site)
    try:
        import pyinstrument
        return pyinstrument
    except ImportError:
        return None


def scalar_phases(model, X, ys):
    """Workload 1's step in three timed phases: (forward, backward, update) CPU seconds."""
    times = w1_scalar.phases(model, X, ys)
    return tuple(times[name][1] for name in w1_scalar.PHASES)


def chain_phases(n):
    """Workload 4 in phases: (forward, backward, freeing the graph) CPU seconds."""
    from chaingrad import autograd as ag
    t0 = time.process_time()
    x = ag.tensor(1.0, requires_grad=True)
    y = w4_depth.chain(x, n)
    t1 = time.process_time()
    y.backward()
    t2 = time.process_time()
    del y
    return t1 - t0, t2 - t1, time.process_time() - t2


def workloads(only):
    """(title, node count, function running the profiled work, phases or None) for the workloads asked for."""
    from chaingrad import autograd as ag
    out = []
    if 1 in only:
        steps, info = w1_scalar.build()
        X1, y1 = data.moons(w1_scalar.N_POINTS)
        ys = [float(v) for v in y1]
        model = w1_scalar.ScalarMLP(data.init_mlp(data.SCALAR_SIZES, uniform=True),
                                    lambda v: ag.tensor(v, requires_grad=True))
        out.append((f"Workload 1: scalar MLP step, {info['nodes']:,} nodes", info["nodes"], steps["chaingrad"],
                    (("forward", "backward", "update"), lambda: scalar_phases(model, X1, ys))))
    if 3 in only:
        params, X, y, loss = mlp_step.problem("small", np.float64)
        step = mlp_step.chaingrad_step(params, X, y, loss)
        Ps = [ag.tensor(p, requires_grad=True) for p in params]
        nodes = w1_scalar.count_nodes(mlp_step.forward_loss(
            ag.tensor(X), Ps, ag.tensor(y), loss, np.arange(len(X))))
        calls = 2000

        def many():
            for _ in range(calls):
                step()
        out.append((f"Workload 3: small MLP step x {calls} ({nodes} nodes each)", nodes * calls, many, None))
    if 4 in only:
        n = 200_000
        out.append((f"Workload 4: chain of {n:,} ops", n, w4_depth.chaingrad_step(n),
                    (("forward", "backward", "free"), lambda: chain_phases(n))))
    return out


def collector_time(work):
    """(wall seconds spent in garbage collections during ``work()``, number of collections).

    Python calls every function in ``gc.callbacks`` at the start and the
    stop of each collection, so the sum of the intervals is exact.
    """
    spent, started = [0.0, 0], [0.0]

    def callback(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]
            spent[1] += 1
    gc.callbacks.append(callback)
    try:
        work()
    finally:
        gc.callbacks.remove(callback)
    return tuple(spent)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", type=int, action="append", choices=[1, 3, 4])
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args(argv)
    pi = pyinstrument()
    for title, nodes, work, phases in workloads(set(a.only or [1, 3, 4])):
        work()                                   # warm up
        t0, c0 = time.perf_counter(), time.process_time()
        work()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"\n=== {title}: unprofiled {cpu:.3f} s CPU ({wall:.3f} s wall), "
              f"{cpu / nodes * 1e6:.2f} µs CPU per node")
        collector, collections = collector_time(work)
        print(f"--- garbage collector: {collections} collections during the step took "
              f"{collector / nodes * 1e6:.2f} µs/node wall "
              f"({100 * collector / wall:.0f}% of the unprofiled wall time)")
        if phases:
            names, run = phases
            best = min((run() for _ in range(3)), key=sum)
            print("--- phases (CPU, best of 3): " + ", ".join(
                f"{name} {t / nodes * 1e6:.2f} µs/node ({100 * t / sum(best):.0f}%)"
                for name, t in zip(names, best)))
        if pi is not None:
            from pyinstrument.renderers import ConsoleRenderer
            profiler = pi.Profiler(interval=0.0002)
            profiler.start()
            work()
            profiler.stop()
            print("--- pyinstrument, flat: share of wall time spent in each function itself")
            text = profiler.output(ConsoleRenderer(unicode=True, color=False, flat=True,
                                                   time="percent_of_total", show_all=True))
            # (the root frame's "[self]" row is pyinstrument's bookkeeping, not engine time)
            print("\n".join([ln for ln in text.splitlines() if "[self]" not in ln][:a.top + 7]))
        else:
            print("--- pyinstrument unavailable (setup_peers.sh tools failed)")
        prof = cProfile.Profile(time.process_time)
        prof.enable()
        work()
        prof.disable()
        stats = pstats.Stats(prof)
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:a.top]
        total = sum(v[2] for v in stats.stats.values())
        print(f"--- cProfile (total own CPU time {total:.2f} s, inflated by tracing): top own time")
        print(f"{'own %':>6} {'calls/node':>10} {'µs/call':>8}  function")
        for (file, line, fn), (cc, nc, tt, ct, callers) in rows:
            where = f"{file.split(str(peers.HERE.parent) + '/')[-1]}:{line}({fn})"
            print(f"{100 * tt / total:6.1f} {nc / nodes:10.2f} {tt / nc * 1e6:8.2f}  {where}")


if __name__ == "__main__":
    main()
