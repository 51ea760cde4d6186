"""The benchmark of issues 7 and 10: chaingrad against hand-written numpy, PyTorch, micrograd and HIPS autograd.

    bash benchmarks/run.sh                 # everything (about 10 minutes on 2 cores)
    bash benchmarks/run.sh --quick         # tiny sizes, a few seconds: does it all still run?
    bash benchmarks/run.sh --only 2        # one workload (repeat --only for more)

Workloads: 1 scalar MLP step (micrograd's demo; also with micrograd's
``p.data`` update, and by phase), 2 MNIST MLP step (float32 and float64), 3
small MLP step, 4 a chain of 1,000,000 scalar ops, 5 peak memory and import
time, 6 second order (issue 10: a Hessian-vector product, a third
derivative), 7 stack / cat backward with many inputs.  In-process
implementations alternate, sample by sample (``timing.measure``); HIPS
autograd runs in its own virtualenv and process (``hips_worker.py``), and
every peak memory is measured in a fresh process (``memory.py``).  Prints
one table per workload (medians), then every target of the issues with the
measured ratio; a full run also writes benchmarks/results.md with the date
and the machine.

``--compare-old PATH`` adds the engine of an older checkout (PATH) against
this one on workloads 1, 3, 4 and 6, each engine in worker processes of its
own (``engine_worker.py``), alternating old and new.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import engine_worker, many_inputs, mlp_step, peers, timing, w1_scalar, w4_depth, w6_second_order

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
TARGET_HEADERS = ["workload", "target", "measured (wall)", "same in CPU time", "limit", "verdict (wall)"]


# ---- collecting and printing results ---------------------------------------
class Report:
    """Tables (one per workload) and target checks, printed as text and written as markdown."""

    def __init__(self):
        self.sections, self.targets = [], []

    def add(self, title, headers, rows, notes=()):
        section = (title, headers, [[str(c) for c in r] for r in rows], list(notes))
        self.sections.append(section)
        print(render_text(*section), flush=True)

    def target(self, workload, what, value, limit, cpu=None):
        """Record ``value <= limit`` (a ratio of wall times; None when it could not be measured;
        a ``limit`` of None only reports the value).

        ``cpu`` is the same ratio of CPU times, shown beside it where meaningful."""
        self.targets.append((workload, what, value, limit, cpu))

    def targets_rows(self):
        rows = []
        for workload, what, value, limit, cpu in self.targets:
            if value is None:
                verdict = "not measured"
            elif limit is None:
                verdict = "reported (no target)"
            elif value <= limit:
                verdict = "met"
            else:
                verdict = f"MISSED by {value / limit:.2f}x" if limit else "MISSED"
            rows.append([str(workload), what, "-" if value is None else f"{value:.3g}",
                         "-" if cpu is None else f"{cpu:.3g}",
                         "-" if limit is None else f"<= {limit:g}", verdict])
        return rows


def render_text(title, headers, rows, notes):
    widths = [max(len(x) for x in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = ["", title, line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(out + [f"  note: {n}" for n in notes])


def render_md(title, headers, rows, notes):
    out = [f"#### {title}", "", "| " + " | ".join(headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out + [""] + [f"- {n}" for n in notes])


def ratio(a, b):
    return None if a is None or b is None else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def per(seconds, count):
    """Microseconds per node (or op)."""
    return "-" if seconds is None or not count else f"{seconds / count * 1e6:.2f} µs"


def mib(x):
    return "-" if x is None else f"{x:.0f} MiB"


# ---- the machine -----------------------------------------------------------
def machine(torch):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "?"
    try:
        import threadpoolctl
        blas = ", ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture')} kernels, "
                         f"{i['num_threads']} threads)" for i in threadpoolctl.threadpool_info()
                         if i["user_api"] == "blas")
    except ImportError:
        pass
    env = " ".join(f"{v}={os.environ[v]}" for v in BLAS_VARS if v in os.environ) or "none"
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "versions": f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
                    f"({torch.get_num_threads()} threads)",
        "numpy BLAS": f"{blas}; OpenBLAS variables: {env}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# ---- the workloads ---------------------------------------------------------
class Settings:
    def __init__(self, args, torch):
        self.quick, self.pause, self.min_time, self.torch = args.quick, args.pause, args.min_time, torch
        self.use_peers, self.reps_override = not args.no_peers, args.reps
        self.micrograd = None
        self.peer_notes = []
        if self.use_peers:
            self.micrograd, problem = peers.import_micrograd()
            if problem:
                self.peer_notes.append(f"micrograd not run: {problem}")

    def reps(self, full):
        return self.reps_override or (2 if self.quick else full)

    def measure(self, steps, full_reps, warmup=1, wake=True):
        log(f"  timing {', '.join(steps)}")
        return timing.measure(steps, reps=self.reps(full_reps), warmup=warmup, pause=self.pause,
                              min_time=self.min_time, wake=wake)

    def hips(self, *args):
        """HIPS worker's answer, or (None, reason)."""
        if not self.use_peers:
            return None, "HIPS autograd not run (--no-peers)"
        time.sleep(self.pause)
        log(f"  HIPS autograd: {' '.join(args)}")
        try:
            return peers.run_hips(*args, *(["--quick"] if self.quick else [])), None
        except Exception as err:        # a peer that cannot run is a note, not a crash
            return None, f"HIPS autograd failed: {str(err).strip().splitlines()[-1]}"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def medians(samples):
    """(wall, cpu): name -> median seconds per call, from timing.measure's samples."""
    return ({name: statistics.median(x.wall) for name, x in samples.items()},
            {name: statistics.median(x.cpu) for name, x in samples.items()})


def time_rows(wall, cpu, refs, count=None):
    """Rows: name, median wall[, per node], median CPU[, per node], then ref / this (wall, CPU) per ref."""
    rows = []
    for name, t in wall.items():
        c = cpu.get(name)
        row = [name, timing.fmt_time(t)] + ([per(t, count)] if count else [])
        row += [timing.fmt_time(c)] + ([per(c, count)] if count else [])
        for ref in refs:
            row.append(f"{fmt_ratio(ratio(wall[ref], t))} / {fmt_ratio(ratio(cpu.get(ref), c))}")
        rows.append(row)
    headers = ["implementation", "median wall"] + (["per node"] if count else [])
    headers += ["median CPU"] + (["per node (CPU)"] if count else [])
    return [*headers, *[f"{ref} / this (wall / CPU)" for ref in refs]], rows


CPU_NOTE = ("CPU = this process's CPU time per call, beside the wall time: on a machine shared "
            "with other busy processes it is the steadier number for these single-threaded steps")


def workload1(s, report):
    log("workload 1: scalar MLP step")
    steps, info = w1_scalar.build(s.quick, s.micrograd, s.torch)
    wall, cpu = medians(s.measure(steps, 5, wake=False))
    notes = [f"{info['points']} two-moons points; chaingrad records {info['nodes']:,} nodes per step"
             + (f", micrograd {info['micrograd nodes']:,}" if "micrograd nodes" in info else ""),
             "'micrograd, gc paused' is micrograd with the garbage collector paused during the step "
             "(its backward closures put every node in a reference cycle); 'chaingrad, gc paused' the "
             "same for chaingrad, whose forward's allocations trigger full collections of the heap"]
    hips, problem = s.hips("scalar", "--reps", str(s.reps(3)))
    if hips:
        wall["HIPS autograd"] = statistics.median(hips["times"])
        cpu["HIPS autograd"] = statistics.median(hips["cpu_times"])
        notes.append("HIPS autograd runs the same scalar code functionally (grad of a function of "
                     "a list of 337 floats: 337 more nodes to unbox the list), in its own process")
    notes += [n for n in [problem] + s.peer_notes if n] + [CPU_NOTE]
    headers, rows = time_rows(wall, cpu, ["chaingrad"], info["nodes"])
    report.add("Workload 1: micrograd's demo step on scalars (MLP 2-16-16-1, SVM loss + L2, SGD)",
               headers, rows, notes)
    for peer, what in (("micrograd", "micrograd (gc as usual)"), ("PyTorch 0-d", "PyTorch 0-d")):
        report.target(1, f"chaingrad / {what}", ratio(wall["chaingrad"], wall.get(peer)), 0.5,
                      ratio(cpu["chaingrad"], cpu.get(peer)))
    paused = "micrograd, gc paused"
    report.target(1, "chaingrad / micrograd, gc paused (issue 16)", ratio(wall["chaingrad"], wall.get(paused)),
                  2.5, ratio(cpu["chaingrad"], cpu.get(paused)))
    report.target(1, "chaingrad, gc paused / micrograd, gc paused", ratio(wall["chaingrad, gc paused"],
                  wall.get(paused)), 2.5, ratio(cpu["chaingrad, gc paused"], cpu.get(paused)))
    report.target(1, "chaingrad CPU µs per node", cpu["chaingrad"] / info["nodes"] * 1e6, 3.0)
    data_update = "chaingrad, p.data update"
    report.target(1, "p.data -= lr * p.grad.data / p -= lr * p.grad (no_grad)",
                  ratio(wall[data_update], wall["chaingrad"]), 1.10,
                  ratio(cpu[data_update], cpu["chaingrad"]))
    workload1_phases(s, report, info["nodes"])


def workload1_phases(s, report, nodes):
    """Workload 1's chaingrad step split into forward, backward and update, per node."""
    X, ys, init = w1_scalar.problem(s.quick)
    model = w1_scalar.ScalarMLP(init, w1_scalar.leaf)
    w1_scalar.phases(model, X, ys)               # warm-up
    runs = []
    for _ in range(s.reps(7)):
        gc.collect()
        runs.append(w1_scalar.phases(model, X, ys))
    rows = []
    for name in w1_scalar.PHASES:
        wall, cpu = (statistics.median(r[name][k] for r in runs) for k in (0, 1))
        rows.append([name, timing.fmt_time(wall), per(wall, nodes), timing.fmt_time(cpu), per(cpu, nodes)])
    report.add("Workload 1, chaingrad's step by phase (medians of separately timed phases)",
               ["phase", "median wall", "per node", "median CPU", "per node (CPU)"], rows,
               [f"{len(runs)} steps; per node = over the {nodes:,} nodes of the step (the update touches "
                f"only the 337 parameters)", "the garbage collector runs as usual (no gc.collect() inside)"])


def _torch_best(times):
    ts = [times[k] for k in ("PyTorch nn", "PyTorch plain") if k in times]
    return min(ts) if ts else None


def workload23(s, report, workload, dtypes):
    number = 2 if workload == "mnist" else 3
    title = {"mnist": "Workload 2: MNIST MLP step (784-512-512-10, ReLU, softmax CE, batch 128, SGD)",
             "small": "Workload 3: small MLP step (2-16-16-1, ReLU, SVM loss + L2, batch 32, SGD)"}[workload]
    if s.quick and workload == "mnist":
        title += " [quick: 784-32-32-10, batch 16]"
    for dtype in dtypes:
        dt = np.dtype(dtype).name
        log(f"workload {number}: {workload} {dt}")
        mismatches = []

        def check(grad_dtypes, param_dtypes):
            if grad_dtypes != param_dtypes:
                mismatches.append((grad_dtypes, param_dtypes))
        steps = mlp_step.build(workload, dtype, s.quick, s.torch, check=check)
        params, X, y, loss = mlp_step.problem(workload, dtype, s.quick)
        if workload == "mnist":
            steps["numpy matmuls only (floor)"] = mlp_step.matmul_floor_step(params, X)
        wall, cpu = medians(s.measure(steps, 15))
        notes = []
        hips, problem = s.hips("mlp", workload, dt, "--reps", str(s.reps(15)))
        if hips:
            wall["HIPS autograd"] = statistics.median(hips["times"])
            cpu["HIPS autograd"] = statistics.median(hips["cpu_times"])
            notes.append(f"HIPS autograd gradients come out as {', '.join(hips['grad_dtypes'])}")
        elif problem:
            notes.append(problem)
        notes.append("chaingrad gradients in the parameters' dtype: "
                     + ("yes" if not mismatches else f"NO {mismatches[0]}"))
        variants = [v for v in ("chaingrad", "chaingrad nn+optim") if v in wall]
        if workload == "mnist":
            # BLAS runs on 2 threads here, so CPU time would add both threads up: wall only.
            rows = [[name, timing.fmt_time(t)] + [fmt_ratio(ratio(wall[v], t)) for v in variants]
                    for name, t in wall.items()]
            headers = ["implementation", "median wall"] + [f"{v} / this" for v in variants]
        else:
            from chaingrad import autograd as ag
            Ps = [ag.tensor(p, requires_grad=True) for p in params]
            nodes = w1_scalar.count_nodes(mlp_step.forward_loss(
                ag.tensor(X), Ps, ag.tensor(y), loss, np.arange(len(X))))
            notes.append(f"chaingrad (plain) records {nodes} nodes per step; its wall time per node is "
                         f"{per(wall['chaingrad'], nodes)}, CPU {per(cpu['chaingrad'], nodes)}")
            notes.append(CPU_NOTE)
            headers, rows = time_rows(wall, cpu, variants)
        report.add(f"{title}, {dt}", headers, rows, notes)
        torch_best = _torch_best(wall)
        for v in variants:
            if workload == "mnist":
                report.target(2, f"{v} / hand numpy, {dt}", ratio(wall[v], wall["hand numpy"]), 1.10)
                report.target(2, f"{v} / PyTorch (faster of nn, plain), {dt}", ratio(wall[v], torch_best), 1.0)
            else:
                report.target(3, f"{v} / PyTorch (faster of nn, plain)", ratio(wall[v], torch_best), 0.5,
                              ratio(cpu[v], _torch_best(cpu)))
        if workload == "mnist":
            report.target(2, f"chaingrad gradients not in parameter dtype ({dt}): count", len(mismatches), 0)


def _subprocess_json(args, cwd=REPO):
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=str(cwd),
                          env=peers.clean_env())
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def workload4(s, report):
    n = 2000 if s.quick else w4_depth.DEPTH
    small = n // 10
    log(f"workload 4: chain of {n:,} ops")
    steps = {}
    for depth in (small, n):
        for name, step in w4_depth.build(depth, s.torch).items():
            steps[f"{name} @ {depth}"] = (name, depth), step
    samples = s.measure({k: v[1] for k, v in steps.items()}, 3, warmup=0, wake=False)
    wall_by_label, cpu_by_label = medians(samples)
    wall = {steps[k][0]: t for k, t in wall_by_label.items()}
    cpu = {steps[k][0]: t for k, t in cpu_by_label.items()}
    mem, notes = {}, []
    for name in ("chaingrad", "PyTorch 0-d"):
        time.sleep(s.pause)
        log(f"  peak memory of {name} at depth {n:,} (own process)")
        mem[name] = _subprocess_json(["-m", "benchmarks.memory", "depth", name, str(n)])
    hips, problem = s.hips("depth", str(n))
    if hips:
        wall[("HIPS autograd", n)], cpu[("HIPS autograd", n)] = hips["seconds"], hips["cpu_seconds"]
        mem["HIPS autograd"] = hips
        notes.append("HIPS autograd: one run in its own process (time and memory from the same run)")
    elif problem:
        notes.append(problem)
    rows = []
    for (name, depth), t in wall.items():
        m = mem.get(name) if depth == n else None
        c = cpu[(name, depth)]
        rows.append([name, f"{depth:,}", timing.fmt_time(t), per(t, depth), timing.fmt_time(c), per(c, depth),
                     mib(m and m["peak_mib"]), mib(m and m["peak_mib"] - m["import_mib"])])
    if s.micrograd is not None:
        log("  micrograd: looking for the first depth that fails")
        fail = w4_depth.micrograd_first_failure()
        rows.append(["micrograd", f"{fail:,}" if fail else "-", "RecursionError" if fail else "no failure",
                     "", "", "", "", ""])
        notes.append(f"micrograd's recursive topological sort raises RecursionError from {fail} nodes "
                     f"(recursion limit {sys.getrecursionlimit()})")
    notes += ["peak = the process's resident high-water mark (VmHWM) in a fresh process; "
              "growth = peak minus resident memory after the imports", CPU_NOTE]
    report.add(f"Workload 4: depth, a chain of {n:,} scalar ops, forward + backward",
               ["implementation", "depth", "median wall", "per node", "median CPU", "per node (CPU)",
                "peak", "growth"], rows, notes)
    big, little, torch_big = ("chaingrad", n), ("chaingrad", small), ("PyTorch 0-d", n)
    report.target(4, "chaingrad / PyTorch 0-d, time", ratio(wall[big], wall.get(torch_big)), 0.6,
                  ratio(cpu[big], cpu.get(torch_big)))
    report.target(4, f"chaingrad per node at {n:,} / at {small:,} (linear in depth)",
                  ratio(wall[big] / n, wall[little] / small), 1.25, ratio(cpu[big] / n, cpu[little] / small))
    growth = {k: m["peak_mib"] - m["import_mib"] for k, m in mem.items()}
    report.target(4, "chaingrad / PyTorch 0-d, memory growth", ratio(growth["chaingrad"], growth["PyTorch 0-d"]), 1.2)
    report.target(4, "chaingrad / PyTorch 0-d, peak memory", ratio(mem["chaingrad"]["peak_mib"],
                                                                  mem["PyTorch 0-d"]["peak_mib"]), 0.5)


def workload6(s, report):
    log("workload 6: second order")
    rows, notes = [], []
    # (what, steps, largest relative difference from PyTorch allowed)
    cases = [(f"Hessian-vector product of W2's loss, {np.dtype(dt).name}",
              w6_second_order.hvp_steps(dt, s.quick, s.torch), 1e-4 if dt == np.float32 else 1e-10)
             for dt in (np.float64, np.float32)]
    rounds = w6_second_order.QUICK_ROUNDS if s.quick else w6_second_order.CHAIN_ROUNDS
    cases.append((f"3rd derivative of a {3 * rounds:,}-op scalar chain",
                   w6_second_order.third_steps(rounds, s.torch), 1e-10))
    for what, steps, tol in cases:
        answers = {name: step() for name, step in steps.items()}
        diff = w6_second_order.largest_difference(answers["chaingrad"], answers["PyTorch"])
        wall, cpu = medians(s.measure(steps, 5, wake=False))
        rows.append([what, timing.fmt_time(wall["chaingrad"]), timing.fmt_time(wall["PyTorch"]),
                     f"{fmt_ratio(ratio(wall['chaingrad'], wall['PyTorch']))} / "
                     f"{fmt_ratio(ratio(cpu['chaingrad'], cpu['PyTorch']))}", f"{diff:.1e}"])
        report.target(6, f"answers differ from PyTorch's: {what} (relative)", diff, tol)
        report.target(6, f"chaingrad / PyTorch, {what} (report only)",
                      ratio(wall["chaingrad"], wall["PyTorch"]), None, ratio(cpu["chaingrad"], cpu["PyTorch"]))
    notes += ["Hv = grad(<grad(L, p, create_graph=True), v>, p) with the same weights, batch and v in both",
              "difference = largest |chaingrad - PyTorch| over all entries / largest |PyTorch| entry",
              "compared with the engine before the redesign by --compare-old"]
    if s.quick:
        notes.append("quick: W2's network is 784-32-32-10, batch 16")
    report.add("Workload 6: second order (create_graph=True), chaingrad vs torch.autograd.grad",
               ["what", "chaingrad wall", "PyTorch wall", "chaingrad / PyTorch (wall / CPU)",
                "difference"], rows, notes)


def workload7(s, report):
    sizes = many_inputs.QUICK_SIZES if s.quick else many_inputs.SIZES
    rows, backward = [], {}
    for n in sizes:
        log(f"workload 7: stack and cat of {n:,} inputs")
        times = many_inputs.measure(n, s.torch, s.reps(3))
        for op in many_inputs.OPS:
            (cf, cb), (tf, tb) = times[(op, "chaingrad")], times[(op, "PyTorch")]
            rows.append([op, f"{n:,}", timing.fmt_time(cf), timing.fmt_time(cb), per(cb, n),
                         timing.fmt_time(tf), timing.fmt_time(tb), fmt_ratio(ratio(cf + cb, tf + tb))])
        backward[n] = {op: times[(op, "chaingrad")][1] / n for op in many_inputs.OPS}
    for op in many_inputs.OPS:
        report.target(7, f"{op}: chaingrad backward per input at {sizes[-1]:,} / at {sizes[0]:,} (linear)",
                      ratio(backward[sizes[-1]][op], backward[sizes[0]][op]), 1.5)
    report.add("Workload 7: stack / cat of n one-element inputs, op(xs).sum().backward()",
               ["op", "inputs", "chaingrad forward", "chaingrad backward", "backward per input",
                "PyTorch forward", "PyTorch backward", "chaingrad / PyTorch (total)"], rows,
               ["wall times, medians; implementations alternate; making the leaves is not timed",
                "the engine before the redesign took 3.6 s (stack) and 48 s (cat) at 16,000 inputs "
                "(issue 10)"])


# ---- the engine of another checkout (--compare-old) ------------------------
# (workload number, worker's name for it, what, timed calls per worker)
OLD_NEW = [(1, "w1", "W1 scalar MLP step", 3), (3, "w3", "W3 small MLP step", 3),
           (4, "w4", "W4 chain of scalar ops", 1),
           (6, "w6-hvp-float64", "W6 Hessian-vector product, float64", 5),
           (6, "w6-hvp-float32", "W6 Hessian-vector product, float32", 5),
           (6, "w6-third", "W6 3rd derivative of a scalar chain", 2)]


def _commit_of(checkout):
    """``commit abc1234`` of a git checkout (not its path: results are published), else its folder name."""
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return f"commit {done.stdout.strip()}" if done.returncode == 0 else Path(checkout).name


def compare_old(s, report, checkout, todo):
    """The engine of ``checkout`` against this one on the workloads in ``todo``, in alternating workers."""
    rounds = 1 if s.quick else 3
    rows = []
    with tempfile.TemporaryDirectory(prefix="chaingrad-old-") as where:
        engines = {"old": ["--engine", str(engine_worker.package(checkout, where))], "new": []}
        for workload, what, reps in [w[1:] for w in OLD_NEW if w[0] in todo]:
            log(f"old vs new engine: {what}")
            results = {"old": [], "new": []}
            for r in range(rounds):
                for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                    time.sleep(s.pause)
                    out = _subprocess_json(["-m", "benchmarks.engine_worker", workload, "--reps",
                                            str(s.reps_override or reps), *(["--quick"] if s.quick else []),
                                            *engines[name]])
                    _check_engine(out["engine"], checkout if name == "old" else REPO)
                    results[name].append(out)
            row, walls, cpus = _old_new_row(what, results)
            rows.append(row)
            report.target("old", f"new / old engine, {what}", walls, 1.0, cpus)
    report.add(f"The engine before the redesign ({_commit_of(checkout)}) against this one",
               ["workload", "old wall", "new wall", "old CPU", "new CPU", "new / old (wall / CPU)"], rows,
               [f"{rounds} round(s), each runs the old and the new engine in fresh worker processes "
                f"(benchmarks/engine_worker.py, alternating order); times are medians over the rounds, "
                f"new / old the median of the rounds' ratios",
                "the benchmark code is this checkout's for both; only the engine under it differs"])


def _check_engine(engine_file, checkout):
    if not Path(engine_file).is_relative_to(Path(checkout).resolve()):
        raise RuntimeError(f"engine_worker imported chaingrad from {engine_file}, not from {checkout}")


def _old_new_row(what, results):
    med = {name: {k: statistics.median(o[k] for o in outs) for k in ("wall", "cpu")}
           for name, outs in results.items()}
    walls, cpus = (statistics.median(n[k] / o[k] for n, o in zip(results["new"], results["old"]))
                   for k in ("wall", "cpu"))
    row = [what, timing.fmt_time(med["old"]["wall"]), timing.fmt_time(med["new"]["wall"]),
           timing.fmt_time(med["old"]["cpu"]), timing.fmt_time(med["new"]["cpu"]),
           f"{fmt_ratio(walls)} / {fmt_ratio(cpus)}"]
    return row, walls, cpus


def import_time(modules, runs):
    code = (f"import time; t0 = time.perf_counter(); import {modules}; "
            f"print(time.perf_counter() - t0)")
    ts = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=str(REPO), env=peers.clean_env(), check=True)
        ts.append(float(done.stdout))
    return statistics.median(ts)


def workload5(s, report, impls=None):
    steps = 3 if s.quick else 100
    log(f"workload 5: peak memory over {steps} steps of workload 2, float32")
    impls = impls or (["hand numpy", "chaingrad"]
                      + (["chaingrad nn+optim"] if mlp_step.chaingrad_nn_available() else [])
                      + ["PyTorch nn", "PyTorch plain"])
    mem, notes = {}, []
    for name in impls:
        time.sleep(s.pause)
        log(f"  {name} (own process)")
        mem[name] = _subprocess_json(["-m", "benchmarks.memory", "mnist", name, "--steps", str(steps)]
                                     + (["--quick"] if s.quick else []))
    hips, problem = s.hips("mem", "--steps", str(steps))
    if hips:
        mem["HIPS autograd"] = hips
    elif problem:
        notes.append(problem)
    base = mem["hand numpy"]["peak_mib"]
    rows = [[name, mib(m["import_mib"]), mib(m["peak_mib"]), fmt_ratio(m["peak_mib"] / base)]
            for name, m in mem.items()]
    runs = 2 if s.quick else 7
    log("  import times (fresh processes)")
    t_ours = import_time("chaingrad.autograd, chaingrad.nn, chaingrad.optim", runs)
    t_numpy = import_time("numpy", runs)
    notes += ["after import = resident memory once the implementation's libraries are imported; "
              "peak = high-water mark (VmHWM) of its own fresh process",
              f"`from chaingrad import autograd, nn, optim` takes {t_ours * 1e3:.0f} ms in a fresh process "
              f"(median of {runs}; `import numpy` alone {t_numpy * 1e3:.0f} ms)"]
    title = f"Workload 5: memory over {steps} steps of workload 2 (float32), and import time"
    report.add(title, ["implementation", "after import", "peak", "peak / hand numpy"], rows, notes)
    for v in ("chaingrad", "chaingrad nn+optim"):
        if v in mem:
            report.target(5, f"{v} peak / hand numpy peak", mem[v]["peak_mib"] / base, 1.3)
    report.target(5, "from chaingrad import autograd, nn, optim (seconds)", t_ours, 0.3)


# ---- the command -----------------------------------------------------------
def parse(argv):
    ap = argparse.ArgumentParser(prog="benchmarks/run.sh", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes and 2 repetitions")
    ap.add_argument("--only", type=int, action="append", choices=[1, 2, 3, 4, 5, 6, 7],
                    help="run only this workload (repeatable)")
    ap.add_argument("--reps", type=int, help="repetitions per implementation (default per workload)")
    ap.add_argument("--pause", type=float, default=0.3, help="untimed seconds between samples")
    ap.add_argument("--min-time", type=float, default=0.1,
                    help="seconds of calls per sample (each call is timed on its own)")
    ap.add_argument("--no-peers", action="store_true",
                    help="skip micrograd and HIPS autograd (their scratch venvs)")
    ap.add_argument("--output", help="markdown file for the tables (default: benchmarks/results.md "
                                     "after a full run)")
    ap.add_argument("--compare-old", metavar="PATH",
                    help="also time the engine of the checkout at PATH (an older commit) against this one "
                         "on workloads 1, 3, 4 and 6 (those of them run), in worker processes")
    ap.add_argument("--native-blas", action="store_true",
                    help=f"unset {' and '.join(BLAS_VARS)} so OpenBLAS picks its kernels for this CPU")
    return ap.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.native_blas and any(v in os.environ for v in BLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks.run", *argv], env)
    import torch      # a dev dependency of the project: required, never skipped
    s = Settings(args, torch)
    info = machine(torch)
    print("chaingrad benchmark " + ("(quick) " if args.quick else "") + info["date"])
    for k, v in info.items():
        if k != "date":
            print(f"  {k}: {v}")
    report = Report()
    todo = set(args.only or [1, 2, 3, 4, 5, 6, 7])
    if 1 in todo:
        workload1(s, report)
    if 2 in todo:
        workload23(s, report, "mnist", (np.float32, np.float64))
    if 3 in todo:
        workload23(s, report, "small", (np.float64,))
    if 4 in todo:
        workload4(s, report)
    if 5 in todo:
        workload5(s, report)
    if 6 in todo:
        workload6(s, report)
    if 7 in todo:
        workload7(s, report)
    if args.compare_old:
        compare_old(s, report, args.compare_old, todo)
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    headers = TARGET_HEADERS
    print(render_text("Targets of issues 7, 10 and 16 (ratios of medians from this run)", headers,
                      report.targets_rows(), []))
    output = args.output or (None if args.quick or args.only else str(HERE / "results.md"))
    if output:
        Path(output).write_text(markdown(report, info, argv))
        log(f"wrote {output}")
    return report


def markdown(report, info, argv):
    cmd = " ".join(["bash benchmarks/run.sh", *argv])
    lines = [f"### Latest results ({info['date']})", "", f"`{cmd}` on:", ""]
    lines += [f"- {k}: {v}" for k, v in info.items() if k != "date"]
    lines.append("")
    for section in report.sections:
        lines += [render_md(*section), ""]
    lines += [render_md("Targets (ratios of medians from this run)",
                        TARGET_HEADERS,
                        report.targets_rows(), []), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
