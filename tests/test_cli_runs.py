"""Runs and their folders: one run per folder, no empty folder after a failure, --resume.

Issue 17, items 19-21, and the chaingrad/ part of issue 16 item 1 (no import cycle).
"""
import ast
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_cli import MODEL, REPO, RESUME, TINY, assert_one_line_error, chaingrad

CLAIM = ".chaingrad-run"


def start(*args, cwd=None):
    """`python -m chaingrad ARGS` in the background, its output readable line by line."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    env.pop("CHAINGRAD_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "chaingrad", *map(str, args)], cwd=cwd or REPO, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_epoch(proc):
    """Read stdout until the first epoch line: an event, not a time."""
    for line in proc.stdout:
        if line.startswith("epoch"):
            return line
    raise AssertionError(f"no epoch line; stderr: {proc.stderr.read()}")


def interrupt(proc):
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, err


# --- item 19: one run per folder ----------------------------------------------------------------

def test_two_runs_started_together_into_one_folder(tmp_path):
    """Both used to exit 0, run.json from one run and model.safetensors from the other."""
    out = tmp_path / "run"
    procs = [start("train", *TINY[:4], "--hidden", hidden, "--out", out) for hidden in ("8", "6")]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(status for status, _ in results) == [0, 2], results
    loser = next(err for status, err in results if status == 2)
    assert "in use by another chaingrad train" in loser or "holds an earlier run" in loser, loser
    assert len(loser.strip().splitlines()) == 1
    record = json.loads((out / "run.json").read_text())
    from chaingrad import checkpoint
    _, meta = checkpoint.load(str(out / MODEL))
    assert meta["sizes"] == record["model"]["sizes"]          # both files come from the same run
    assert not (out / CLAIM).exists()


def test_a_run_in_progress_holds_its_folder_even_against_force(tmp_path):
    out = tmp_path / "run"
    first = start("train", "--dataset", "moons", "--hidden", "8", "--epochs", "100000", "--out", out)
    try:
        wait_for_epoch(first)
        holder = json.loads((out / CLAIM).read_text())
        assert holder["pid"] == first.pid
        for extra in ([], ["--force"]):
            line = assert_one_line_error(chaingrad("train", *TINY, "--out", out, *extra),
                                         "in use by another chaingrad train", f"pid {first.pid}")
            assert line.startswith("chaingrad train: error:")
        status, err = interrupt(first)
    finally:
        first.kill()
    assert status == 130, err
    assert not (out / CLAIM).exists()                         # released after Ctrl-C too
    assert sorted(p.name for p in out.iterdir()) == [MODEL, RESUME, "run.json"]
    assert_one_line_error(chaingrad("train", *TINY, "--out", out), "holds an earlier run", "--force")


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_claim_left_by_a_killed_run_is_taken_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / CLAIM).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "token": "old"}))
    result = chaingrad("train", *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    assert not (out / CLAIM).exists()


def test_a_claim_from_another_host_is_respected(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / CLAIM).write_text(json.dumps({"pid": 1, "host": "elsewhere", "token": "x", "started": "today"}))
    line = assert_one_line_error(chaingrad("train", *TINY, "--out", out), "in use", "elsewhere",
                                 str(out / CLAIM))
    assert "remove" in line
    assert sorted(p.name for p in out.iterdir()) == [CLAIM]    # nothing written, the marker kept


def test_a_run_whose_claim_was_taken_writes_nothing(tmp_path):
    from chaingrad import claim
    from chaingrad.errors import CLIError
    held = claim.take(str(tmp_path))
    with pytest.raises(CLIError, match="in use"):
        claim.take(str(tmp_path))
    (tmp_path / CLAIM).write_text(json.dumps({"pid": os.getpid(), "host": "x", "token": "someone else"}))
    with pytest.raises(CLIError, match="taken over"):
        held.check()
    held.release()                                            # not ours any more: left alone
    assert (tmp_path / CLAIM).exists()


# --- item 20: the forgotten command, the empty folder -------------------------------------------

@pytest.mark.parametrize("args, suggestion", [
    (["--dataset", "moons"], "chaingrad train --dataset moons"),
    (["--epochs", "3", "--hidden", "8,8"], "chaingrad train --epochs 3 --hidden 8,8"),
    (["runs/latest/model.safetensors"], "chaingrad evaluate runs/latest/model.safetensors"),
])
def test_a_forgotten_command_is_named(args, suggestion, capsys):
    from chaingrad.cli import main
    status = main(args)
    _, err = capsys.readouterr()
    assert status == 2
    line = assert_one_line_error(subprocess.CompletedProcess(args, status, "", err), f"did you mean `{suggestion}`")
    assert "invalid choice" not in line


def test_a_diverged_run_leaves_no_empty_folder(tmp_path):
    diverge = ["--dataset", "moons", "--optimizer", "sgd", "--lr", "1e5", "--epochs", "3"]
    assert_one_line_error(chaingrad("train", *diverge, "--out", tmp_path / "new" / "run"), "training diverged")
    assert not (tmp_path / "new").exists()
    assert_one_line_error(chaingrad("train", *diverge, cwd=tmp_path), "training diverged")
    assert not (tmp_path / "runs").exists()
    (tmp_path / "mine").mkdir()                                # a folder of the user's stays
    assert_one_line_error(chaingrad("train", *diverge, "--out", tmp_path / "mine"), "training diverged")
    assert sorted(os.listdir(tmp_path)) == ["mine"] and not os.listdir(tmp_path / "mine")


# --- item 21: --resume ends with the numbers of an uninterrupted run -----------------------------

def _numbers(out):
    """Everything a run's numbers are: per-epoch history (without timings), results, weights."""
    record = json.loads((out / "run.json").read_text())
    history = [{k: v for k, v in h.items() if k != "seconds"} for h in record["history"]]
    results = {k: v for k, v in record["results"].items() if "seconds" not in k}
    from safetensors.numpy import load_file
    return history, results, load_file(str(out / MODEL)), load_file(str(out / RESUME))


def assert_same_numbers(a, b):
    (ha, ra, wa, sa), (hb, rb, wb, sb) = _numbers(a), _numbers(b)
    assert ha == hb and ra == rb
    for arrays_a, arrays_b in ((wa, wb), (sa, sb)):
        assert sorted(arrays_a) == sorted(arrays_b)
        for k in arrays_a:
            assert np.array_equal(arrays_a[k], arrays_b[k]), k        # bit for bit


SEEDED = {"adam": ["--dataset", "moons", "--hidden", "8,6", "--batchnorm", "--dropout", "0.2", "--seed", "3"],
          "momentum": ["--dataset", "spirals", "--hidden", "12", "--optimizer", "momentum", "--seed", "5",
                       "--dtype", "float64", "--batch-size", "50"]}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_resuming_to_more_epochs_gives_the_numbers_of_one_longer_run(tmp_path, name):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert chaingrad("train", *SEEDED[name], "--epochs", "4", "--out", whole).returncode == 0
    assert chaingrad("train", *SEEDED[name], "--epochs", "2", "--out", part).returncode == 0
    result = chaingrad("train", "--resume", part, "--epochs", "4")
    assert result.returncode == 0, result.stderr
    assert "resume: from epoch 2/4" in result.stdout
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("epoch")] == ["3/4", "4/4"]
    assert_same_numbers(whole, part)
    record = json.loads((part / "run.json").read_text())
    assert record["resumed_from_epoch"] == 2 and [h["epoch"] for h in record["history"]] == [1, 2, 3, 4]
    evaluated = chaingrad("evaluate", part / MODEL)
    assert f"({record['results']['test_correct']}/{record['results']['test_rows']})" in evaluated.stdout


def test_resuming_after_ctrl_c_gives_the_numbers_of_an_uninterrupted_run(tmp_path):
    args = ["--dataset", "moons", "--hidden", "8", "--dropout", "0.1", "--seed", "7"]
    stopped = tmp_path / "stopped"
    proc = start("train", *args, "--epochs", "100000", "--out", stopped)
    try:
        wait_for_epoch(proc)
        status, err = interrupt(proc)
    finally:
        proc.kill()
    assert status == 130 and f"chaingrad train --resume {stopped}" in err, err
    done = len(json.loads((stopped / "run.json").read_text())["history"])
    target = done + 2
    result = chaingrad("train", "--resume", stopped, "--epochs", target)
    assert result.returncode == 0, result.stderr
    whole = tmp_path / "whole"
    assert chaingrad("train", *args, "--epochs", target, "--out", whole).returncode == 0
    assert_same_numbers(whole, stopped)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert chaingrad("train", *TINY, "--out", out).returncode == 0
    return out


@pytest.mark.parametrize("extra, words", [
    ([], ["finished its 2 epochs", "--epochs N (more than 2)"]),
    (["--epochs", "2"], ["finished its 2 epochs"]),
    (["--epochs", "4", "--lr", "0.5"], ["its own settings", "--lr 0.003, not 0.5", "drop --lr"]),
    (["--epochs", "4", "--hidden", "16"], ["--hidden [8], not [16]"]),
    (["--epochs", "4", "--batchnorm"], ["--batchnorm False, not True"]),
    (["--epochs", "4", "--out", "elsewhere"], ["leave --out out"]),
])
def test_resume_refuses_what_it_cannot_do(finished, extra, words, capsys):
    from chaingrad.cli import main
    status = main(["train", "--resume", str(finished), *extra])
    _, err = capsys.readouterr()
    assert status == 2
    assert_one_line_error(subprocess.CompletedProcess([], status, "", err), *words)


def test_resume_accepts_the_run_s_own_options(finished, tmp_path):
    import shutil
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    result = chaingrad("train", "--resume", copy, "--epochs", "3", "--dataset", "xor", "--hidden", "8", "--seed", "0")
    assert result.returncode == 0, result.stderr


def test_resume_needs_a_resume_file(tmp_path):
    assert_one_line_error(chaingrad("train", "--resume", tmp_path / "nothing"), "no such folder")
    assert_one_line_error(chaingrad("train", "--resume", tmp_path), "no resume.safetensors")
    assert sorted(os.listdir(tmp_path)) == []                  # and no claim left behind


def test_the_resume_file_holds_no_pickle_only_arrays_and_json(finished):
    from safetensors import safe_open

    from chaingrad import resume
    with safe_open(str(finished / RESUME), framework="np") as f:
        keys, metadata = set(f.keys()), f.metadata()
    assert {k.split("/")[0] for k in keys} == {"model", "optimizer"}
    assert any(k.endswith("/exp_avg_sq") for k in keys)         # Adam's running averages
    record = json.loads(metadata[resume.RESUME_KEY])
    assert record["scheduler"] is None and record["rng"]["bit_generator"] == "PCG64"
    assert {s["step"] for s in record["optimizer"]["state"].values()} == {16}     # 2 epochs of 8 batches


# --- issue 16 item 1: chaingrad/ imports one way ------------------------------------------------

PACKAGE = REPO / "chaingrad"
LIBRARY = ("chaingrad.autograd", "chaingrad.nn", "chaingrad.optim")


def _imports_of(path):
    """``(module-level targets, [(target, function)] inside functions)`` of chaingrad/'s own modules."""
    tree = ast.parse(path.read_text())
    top, inside = set(), []
    for fn in [None] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
        body = tree.body if fn is None else fn.body
        for node in (n for stmt in body for n in ast.walk(stmt)):
            if isinstance(node, ast.ImportFrom):
                base = "chaingrad" if node.level == 1 else (node.module or "")
                names = [f"{base}.{node.module}" if node.level == 1 and node.module else
                         f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("chaingrad."):
                    name = ".".join(name.split(".")[:2])
                    if fn is None:
                        top.add(name)
                    else:
                        inside.append((name, fn))
    return top, inside


def test_chaingrad_modules_import_one_way():
    graph = {}
    for path in PACKAGE.glob("*.py"):
        top, inside = _imports_of(path)
        module = f"chaingrad.{path.stem}"
        graph[module] = {t for t in top if t != module and (PACKAGE / (t.split(".")[1] + ".py")).exists()}
        for target, fn in inside:       # only the library, lazily, and the function says why
            assert target in LIBRARY, f"{module}.{fn.name} imports {target} inside a function"
            source = ast.get_source_segment(path.read_text(), fn)
            assert "on purpose" in source, f"{module}.{fn.name}: say why {target} is imported lazily"
    order, seen = [], set()

    def visit(module, path=()):
        assert module not in path, "import cycle: " + " -> ".join(path + (module,))
        if module not in seen:
            for target in sorted(graph.get(module, ())):
                visit(target, path + (module,))
            seen.add(module)
            order.append(module)
    for module in sorted(graph):
        visit(module)
    assert order.index("chaingrad.errors") < order.index("chaingrad.train") < order.index("chaingrad.cli")


def test_the_parser_starts_without_the_library():
    code = ("import sys, chaingrad.cli; print(sorted(m for m in sys.modules if m.startswith("
            "('chaingrad.autograd', 'chaingrad.nn', 'chaingrad.optim'))))")
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
