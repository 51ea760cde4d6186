"""Smoke test of benchmarks/: every workload runs once at a tiny size, so the suite cannot rot.

Benchmarks are not timed tests: nothing here asserts on a time.  What is
checked is that every implementation does the same work (same losses, same
gradients), that chaingrad's gradients keep the parameters' dtype, and that
the report and the memory worker produce what run.py prints.  micrograd and
HIPS autograd live in scratch virtualenvs (benchmarks/setup_peers.sh) and are
not run here; PyTorch is a dev dependency and is.
"""
import gc
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import (engine_worker, many_inputs, mlp_step, run, timing, w1_scalar, w4_depth,
                        w6_second_order)
from optional import needs, optional

torch = optional("torch")

REPO = Path(__file__).resolve().parent.parent


@needs("torch")
def test_scalar_step_records_micrograds_node_count_and_matches_torch():
    steps, info = w1_scalar.build(quick=True, torch=torch)
    # Per point: 640 network ops + 3 for its hinge term + 1 add into the sum; then
    # 1 mul for the mean, 337 squares + 337 adds + 1 mul for L2, 1 add for the total:
    # 644 n + 677, which is 65,077 for micrograd's 100 points.
    assert info["nodes"] == 644 * info["points"] + 677
    assert 644 * w1_scalar.N_POINTS + 677 == 65_077
    first = {name: step() for name, step in steps.items()}
    second = {name: step() for name, step in steps.items()}
    assert set(first) == {"chaingrad", "chaingrad, p.data update", "chaingrad, gc paused", "PyTorch 0-d"}
    for losses in (first, second):      # the two updates (p.data, p under no_grad) do the same
        for name in ("chaingrad", "chaingrad, p.data update", "chaingrad, gc paused"):
            assert losses[name] == pytest.approx(losses["PyTorch 0-d"], rel=1e-12), name
    assert second["chaingrad"] != first["chaingrad"]      # the SGD update happened


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("workload", ["mnist", "small"])
@needs("torch")
def test_mlp_step_implementations_agree_and_keep_dtype(workload, dtype):
    mismatches = []
    steps = mlp_step.build(workload, dtype, quick=True, torch=torch,
                           check=lambda got, want: got == want or mismatches.append(got))
    assert {"hand numpy", "chaingrad", "PyTorch nn", "PyTorch plain"} <= set(steps)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for _ in range(2):      # the second loss depends on the first update: updates agree too
        losses = {name: step() for name, step in steps.items()}
        for name, value in losses.items():
            assert value == pytest.approx(losses["hand numpy"], rel=tol), name
    assert mismatches == []
    params, X, _, _ = mlp_step.problem(workload, dtype, quick=True)
    assert mlp_step.matmul_floor_step(params, X)() is None


def test_scalar_step_phases_are_timed_separately():
    X, ys, init = w1_scalar.problem(quick=True)
    model = w1_scalar.ScalarMLP(init, w1_scalar.leaf)
    before = [p.item() for p in model.parameters()]
    times = w1_scalar.phases(model, X, ys)
    assert list(times) == list(w1_scalar.PHASES) == ["forward", "backward", "update"]
    assert all(wall > 0 and cpu >= 0 for wall, cpu in times.values())
    assert [p.item() for p in model.parameters()] != before      # the update phase ran
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@needs("torch")
def test_hessian_vector_product_matches_torch(dtype, tol):
    steps = w6_second_order.hvp_steps(dtype, quick=True, torch=torch)
    answers = {name: step() for name, step in steps.items()}
    assert set(answers) == {"chaingrad", "PyTorch"}
    assert [h.dtype for h in answers["chaingrad"]] == [np.dtype(dtype)] * 6
    assert all(np.abs(h).max() > 0 for h in answers["PyTorch"])
    assert w6_second_order.largest_difference(answers["chaingrad"], answers["PyTorch"]) < tol


@needs("torch")
def test_third_derivative_of_chain_matches_torch_and_the_formula():
    answers = {name: step() for name, step in w6_second_order.third_steps(30, torch).items()}
    assert answers["chaingrad"] == pytest.approx(answers["PyTorch"], rel=1e-10)
    # One round is y = x + c tanh(x), whose third derivative is c tanh'''(x),
    # tanh''' = -2 (1 - t^2)^2 + 4 t^2 (1 - t^2) with t = tanh(x); here x = 0.5.
    t = np.tanh(0.5)
    third = 0.001 * (-2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t))
    assert w6_second_order.third_steps(1)["chaingrad"]() == pytest.approx(third, rel=1e-12)


@needs("torch")
def test_stack_and_cat_of_many_inputs_time_both_engines():
    times = many_inputs.measure(50, torch, reps=1)
    assert set(times) == {(op, impl) for op in ("stack", "cat") for impl in ("chaingrad", "PyTorch")}
    assert all(f > 0 and b > 0 for f, b in times.values())


def test_engine_worker_imports_the_engine_of_the_package_it_is_given(tmp_path):
    pkg = engine_worker.package(REPO, tmp_path)     # this checkout laid out as an "old" one
    assert (pkg / "chaingrad" / "autograd").resolve() == REPO / "autograd"
    done = subprocess.run([sys.executable, "-m", "benchmarks.engine_worker", "w3", "--reps", "1",
                           "--engine", str(pkg)], cwd=REPO, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["engine"]) == REPO / "autograd"
    assert result["wall"] > 0 and result["cpu"] >= 0


@needs("torch")
def test_depth_chain_gradients_match_torch():
    n = 300
    steps = w4_depth.build(n, torch)
    expected = 0.9999 ** (n // 2)          # d/dx of n/2 times (y * 0.9999 + 0.0001)
    for name, step in steps.items():
        assert step() == pytest.approx(expected, rel=1e-12), name


def test_measure_alternates_and_returns_every_call():
    calls = []
    samples = timing.measure({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                             reps=2, pause=0.0, min_time=0.0, warmup=0)
    assert set(samples) == {"a", "b"}
    assert all(len(s.wall) == len(s.cpu) == 2 for s in samples.values())
    assert all(t >= 0 for s in samples.values() for t in s.wall + s.cpu)
    assert calls.count("a") == calls.count("b")
    assert timing.fmt_time(0.0123) == "12.3 ms" and timing.fmt_time(2.5e-5) == "25 µs"


@needs("torch")
def test_run_command_prints_tables_targets_and_markdown(tmp_path, capsys):
    out = tmp_path / "results.md"
    report = run.main(["--quick", "--no-peers", "--reps", "1", "--pause", "0", "--min-time", "0",
                       "--only", "1", "--only", "3", "--output", str(out)])
    printed = capsys.readouterr().out
    assert "Workload 1" in printed and "Workload 3" in printed and "Targets of issues 7, 10 and 16" in printed
    assert "by phase" in printed
    names = [t[1] for t in report.targets]
    assert "chaingrad / PyTorch 0-d" in names
    assert "chaingrad / PyTorch (faster of nn, plain)" in names
    ratio = {t[1]: t[2] for t in report.targets}["chaingrad / PyTorch 0-d"]
    assert ratio is not None and ratio > 0
    text = out.read_text()
    assert "| implementation | median wall |" in text and "load average" in text


@pytest.mark.parametrize("args", [["mnist", "chaingrad", "--steps", "2", "--quick"],
                                  ["mnist", "hand numpy", "--steps", "2", "--quick"],
                                  ["depth", "chaingrad", "200"]])
def test_memory_worker_reports_peak_in_a_fresh_process(args):
    done = subprocess.run([sys.executable, "-m", "benchmarks.memory", *args], cwd=REPO,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 < result["import_mib"] <= result["peak_mib"]


@needs("torch")
def test_run_command_second_order_many_inputs_and_old_engine(tmp_path, capsys):
    # --compare-old given this checkout itself: the mechanism runs without an older commit at hand
    report = run.main(["--quick", "--no-peers", "--reps", "1", "--pause", "0", "--min-time", "0",
                       "--only", "3", "--only", "6", "--only", "7", "--compare-old", str(REPO),
                       "--output", str(tmp_path / "results.md")])
    printed = capsys.readouterr().out
    assert "Workload 6" in printed and "Workload 7" in printed and "before the redesign" in printed
    value = {t[1]: t[2] for t in report.targets}
    assert 0 < value["new / old engine, W3 small MLP step"]
    assert not any("W1" in name or "W4" in name for name in value)       # only the workloads run
    assert value["answers differ from PyTorch's: 3rd derivative of a 300-op scalar chain (relative)"] < 1e-10
    assert value["chaingrad / PyTorch, 3rd derivative of a 300-op scalar chain (report only)"] > 0


def test_profile_times_the_garbage_collector_through_its_callbacks():
    from benchmarks import profile_engine
    spent, collections = profile_engine.collector_time(lambda: [gc.collect() for _ in range(3)])
    assert collections == 3 and spent > 0
