"""The benchmark of issue 7: chaingrad against hand-written numpy, PyTorch, micrograd and HIPS autograd.

    bash benchmarks/run.sh                 # everything (about 10 minutes on 2 cores)
    bash benchmarks/run.sh --quick         # tiny sizes, a few seconds: does it all still run?
    bash benchmarks/run.sh --only 2        # one workload (repeat --only for more)

Workloads: 1 scalar MLP step (micrograd's demo), 2 MNIST MLP step (float32
and float64), 3 small MLP step, 4 a chain of 1,000,000 scalar ops, 5 peak
memory and import time.  In-process implementations alternate, sample by
sample (``timing.measure``); HIPS autograd runs in its own virtualenv and
process (``hips_worker.py``), and every peak memory is measured in a fresh
process (``memory.py``).  Prints one table per workload (medians), then every
target of the issue with the measured ratio; a full run also writes
benchmarks/results.md with the date and the machine.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import mlp_step, peers, timing, w1_scalar, w4_depth

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
        """Record ``value <= limit`` (a ratio of wall times; None when it could not be measured).

        ``cpu`` is the same ratio of CPU times, shown beside it where meaningful."""
        self.targets.append((workload, what, value, limit, cpu))

    def targets_rows(self):
        rows = []
        for workload, what, value, limit, cpu in self.targets:
            if value is None:
                verdict = "not measured"
            elif value <= limit:
                verdict = "met"
            else:
                verdict = f"MISSED by {value / limit:.2f}x" if limit else "MISSED"
            rows.append([str(workload), what, "-" if value is None else f"{value:.3g}",
                         "-" if cpu is None else f"{cpu:.3g}", f"<= {limit:g}", verdict])
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
             "'micrograd, gc paused' is extra information: micrograd with the garbage collector "
             "paused during the step (its backward closures put every node in a reference cycle)"]
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
            nodes = w1_scalar.count_nodes(mlp_step.chaingrad_forward_loss(
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
    report.target(4, "chaingrad / PyTorch 0-d, time", ratio(wall[big], wall.get(torch_big)), 1.0,
                  ratio(cpu[big], cpu.get(torch_big)))
    report.target(4, f"chaingrad per node at {n:,} / at {small:,} (linear in depth)",
                  ratio(wall[big] / n, wall[little] / small), 1.25, ratio(cpu[big] / n, cpu[little] / small))
    growth = {k: m["peak_mib"] - m["import_mib"] for k, m in mem.items()}
    report.target(4, "chaingrad / PyTorch 0-d, memory growth", ratio(growth["chaingrad"], growth["PyTorch 0-d"]), 1.2)
    report.target(4, "chaingrad / PyTorch 0-d, peak memory", ratio(mem["chaingrad"]["peak_mib"],
                                                                  mem["PyTorch 0-d"]["peak_mib"]), 1.2)


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
    ap.add_argument("--only", type=int, action="append", choices=[1, 2, 3, 4, 5],
                    help="run only this workload (repeatable)")
    ap.add_argument("--reps", type=int, help="repetitions per implementation (default per workload)")
    ap.add_argument("--pause", type=float, default=0.3, help="untimed seconds between samples")
    ap.add_argument("--min-time", type=float, default=0.1,
                    help="seconds of calls per sample (each call is timed on its own)")
    ap.add_argument("--no-peers", action="store_true",
                    help="skip micrograd and HIPS autograd (their scratch venvs)")
    ap.add_argument("--output", help="markdown file for the tables (default: benchmarks/results.md "
                                     "after a full run)")
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
    todo = set(args.only or [1, 2, 3, 4, 5])
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
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    headers = TARGET_HEADERS
    print(render_text("Targets of issue 7 (ratios of medians from this run)", headers,
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
