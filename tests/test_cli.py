"""End-to-end tests of the `chaingrad` command, run in a subprocess as a user would run it.

One tiny training run (XOR, 2 epochs, one hidden layer of 8) is shared by the
tests that look at what it wrote; every bad input must end in exactly one line
on stderr, a non-zero exit status and no traceback.
"""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from optional import needs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TINY = ["--dataset", "xor", "--epochs", "2", "--hidden", "8"]
MODEL = "model.safetensors"
RESUME = "resume.safetensors"


def chaingrad(*args, cwd=None, script=False, env=None):
    """Run `python -m chaingrad ARGS` (or the installed console script) and return the result."""
    cmd = [str(Path(sys.executable).parent / "chaingrad")] if script else [sys.executable, "-m", "chaingrad"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", **(env or {})}
    env.pop("CHAINGRAD_DEBUG", None)
    return subprocess.run(cmd + [str(a) for a in args], cwd=cwd or REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def assert_one_line_error(result, *words):
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The shared tiny run, by the installed console script without --out: (output directory, process)."""
    cwd = tmp_path_factory.mktemp("cli")
    result = chaingrad("train", *TINY, cwd=cwd, script=True)
    assert result.returncode == 0, result.stderr
    runs = [p for p in (cwd / "runs").iterdir() if p.name != "latest"]
    assert len(runs) == 1 and re.fullmatch(r"xor-\d{8}-\d{6}", runs[0].name)
    assert (cwd / "runs" / "latest").resolve() == runs[0].resolve()     # runs/latest follows the newest run
    return runs[0], result


# --- a good run and what it leaves behind -------------------------------------------------------

def test_train_reports_each_epoch_and_a_summary(run):
    _, result = run
    epochs = re.findall(r"^epoch (\d)/2 +loss ([\d.]+) +train acc +([\d.]+)% +val acc +([\d.]+)%",
                        result.stdout, flags=re.M)
    assert [e[0] for e in epochs] == ["1", "2"]
    assert re.search(r"^done: +test accuracy [\d.]+% \(\d+/\d+\), [\d,]+ parameters, trained in", result.stdout,
                     flags=re.M)
    assert "Traceback" not in result.stderr


@needs("matplotlib")
def test_output_directory_holds_the_five_files(run):
    out, _ = run
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "graph.svg", MODEL, RESUME, "run.json"]


def test_run_json_has_settings_history_and_results(run):
    out, result = run
    record = json.loads((out / "run.json").read_text())
    s = record["settings"]
    assert (s["dataset"], s["hidden"], s["epochs"], s["optimizer"], s["dtype"]) == \
        ("xor", [8], 2, "adam", "float32")
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    r = record["results"]
    assert 0 <= r["test_accuracy"] <= 1 and r["test_correct"] == round(r["test_accuracy"] * r["test_rows"])
    import chaingrad
    assert record["versions"] == {"chaingrad": chaingrad.__version__, "numpy": np.__version__,
                                  "python": sys.version.split()[0]}
    # 2 -> 8 -> 2: (2*8 + 8) + (8*2 + 2) parameters
    assert record["model"]["sizes"] == [2, 8, 2] and record["model"]["parameters"] == 42
    assert f"({r['test_correct']}/{r['test_rows']})" in result.stdout


def test_evaluate_reproduces_the_reported_accuracy(run):
    out, _ = run
    r = json.loads((out / "run.json").read_text())["results"]
    result = chaingrad("evaluate", out / MODEL)
    assert result.returncode == 0, result.stderr
    assert f"test accuracy {100 * r['test_accuracy']:.2f}% ({r['test_correct']}/{r['test_rows']})" \
        in result.stdout


def _check_svg(path):
    root = ET.parse(path).getroot()          # well-formed XML or it raises
    assert root.tag.endswith("svg")
    text = path.read_text()
    assert "<g id=\"graph0\"" in text and "cluster" in text      # drawn by dot, with module clusters
    return text


def test_graph_svg_is_a_drawing_with_module_clusters(run):
    out, _ = run
    text = _check_svg(out / "graph.svg")
    assert "layers.0" in text and "cross_entropy" in text


@needs("matplotlib")
def test_curves_png_is_a_png_image(run):
    out, _ = run
    data = (out / "curves.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 400 and height >= 200


def test_draw_redraws_a_saved_model(run, tmp_path):
    out, _ = run
    target = tmp_path / "again.svg"
    result = chaingrad("draw", out / MODEL, "--out", target, "--depth", "1")
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    _check_svg(target)


def test_model_file_loads_in_python_and_matches_the_recorded_architecture(run):
    from chaingrad import checkpoint
    model, meta = checkpoint.load(str(run[0] / MODEL))
    assert meta["sizes"] == [2, 8, 2] and meta["dataset"] == "xor"
    assert model.sizes == [2, 8, 2]
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}


def test_every_option_and_evaluate_in_float64_with_batchnorm(tmp_path):
    """Batch norm (running statistics in eval), dropout, SGD with momentum, float64, --out."""
    out = tmp_path / "moons"
    result = chaingrad("train", "--dataset", "moons", "--hidden", "6,4", "--activation", "tanh", "--batchnorm",
                       "--dropout", "0.1", "--optimizer", "momentum", "--lr", "0.05", "--epochs", "1",
                       "--batch-size", "50", "--seed", "3", "--dtype", "float64", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "MLP 2-6-4-2, tanh, batch norm, dropout 0.1" in result.stdout
    record = json.loads((out / "run.json").read_text())
    assert record["settings"]["optimizer"] == "momentum" and record["settings"]["batch_size"] == 50
    r = record["results"]
    evaluated = chaingrad("evaluate", out / MODEL)
    assert f"({r['test_correct']}/{r['test_rows']})" in evaluated.stdout, evaluated.stderr


def _without(tmp_path, *packages):
    """An environment in which these packages fail to import and no `dot` program is on PATH."""
    blocked = tmp_path / "blocked"
    for name in packages:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked by the test')\n")
    return {"PYTHONPATH": f"{blocked}{os.pathsep}{REPO}", "PATH": str(tmp_path / "no-programs")}


def test_missing_optional_pieces_degrade_with_a_warning(tmp_path):
    """No scikit-learn: a bare `train` falls back to spirals; no matplotlib: no PNG; no dot: no SVG."""
    out = tmp_path / "run"
    env = _without(tmp_path, "sklearn", "matplotlib")
    result = chaingrad("train", "--epochs", "1", "--hidden", "4", "--out", out, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "using --dataset spirals" in result.stderr and "scikit-learn" in result.stderr
    assert "warning: matplotlib is not installed" in result.stderr
    assert "warning: graph.svg not written" in result.stderr and "apt-get install graphviz" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["graph.dot", MODEL, RESUME, "run.json"]
    assert (out / "graph.dot").read_text().startswith("digraph")

    assert_one_line_error(chaingrad("train", "--dataset", "digits", "--out", tmp_path / "digits", env=env),
                          "digits", "pip install scikit-learn")
    assert_one_line_error(chaingrad("draw", out / MODEL, env=env), "dot")


# --- help -------------------------------------------------------------------------------------

def in_process(capsys, *args):
    """Call chaingrad.cli.main(args) directly (fast); return (status, stdout, stderr)."""
    from chaingrad.cli import main
    try:
        status = main([str(a) for a in args])
    except SystemExit as e:          # --help exits through argparse
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["draw"]])
def test_every_subcommand_has_help_with_examples(command, capsys):
    status, out, _ = in_process(capsys, *command, "--help")
    assert status == 0 and "usage: chaingrad" in out
    assert "examples:" in out


def test_version(capsys):
    import chaingrad
    assert re.fullmatch(r"\d+\.\d+\.\d+", chaingrad.__version__)
    status, out, _ = in_process(capsys, "--version")
    assert status == 0
    assert out.strip() == f"chaingrad {chaingrad.__version__} (numpy {np.__version__}, Python {sys.version.split()[0]})"


def test_console_script_is_installed():
    result = chaingrad("train", "--help", script=True)
    assert result.returncode == 0 and "--dataset" in result.stdout


# --- bad input: one line on stderr, non-zero exit, no traceback --------------------------------

@pytest.mark.parametrize("args, words", [
    (["train", "--dataset", "cifar"], ["--dataset", "invalid choice", "cifar"]),
    (["train", "--activation", "gelu"], ["--activation", "gelu"]),
    (["train", "--hidden", "64,x"], ["--hidden", "64,x"]),
    (["train", "--hidden", "64;32"], ["--hidden"]),
    (["train", "--hidden=-4"], ["--hidden", "positive"]),
    (["train", "--lr", "0"], ["--lr", "> 0"]),
    (["train", "--lr=-0.01"], ["--lr", "> 0"]),
    (["train", "--lr", "fast"], ["--lr"]),
    (["train", "--dropout", "1.5"], ["--dropout"]),
    (["train", "--epochs", "0"], ["--epochs"]),
    (["train", "--optimizer", "lbfgs"], ["--optimizer"]),
    (["train", "--dtype", "float16"], ["--dtype"]),
    (["train", "--bogus"], ["unrecognized", "--bogus"]),
    (["train", "--out", ""], ["--out", "empty"]),
    (["fly"], ["invalid choice"]),
])
def test_bad_arguments(args, words, capsys):
    status, out, err = in_process(capsys, *args)
    assert status == 2
    assert_one_line_error(subprocess.CompletedProcess(args, status, out, err), *words)


def test_bad_argument_in_a_subprocess():
    """The same through `python -m chaingrad`, as a user meets it."""
    result = chaingrad("train", "--hidden", "sixty")
    assert result.returncode == 2
    assert_one_line_error(result, "--hidden", "sixty")


def test_output_dir_that_is_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_line_error(chaingrad("train", *TINY, "--out", blocker), "output directory", str(blocker))


def test_output_dir_under_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_line_error(chaingrad("train", *TINY, "--out", blocker / "run"), "output directory")


@pytest.mark.parametrize("command", ["evaluate", "draw"])
def test_missing_model_file(command, tmp_path):
    assert_one_line_error(chaingrad(command, tmp_path / "nothing.npz"), "no such file")


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty", "zip"])
@pytest.mark.parametrize("name", [MODEL, "model.npz"])
def test_damaged_model_file(run, tmp_path, how, name):
    good = (run[0] / MODEL).read_bytes()
    bad = tmp_path / name
    bad.write_bytes({"garbage": b"this is not a model" * 10, "truncated": good[: len(good) // 2],
                     "empty": b"", "zip": b"PK\x03\x04" + b"\x00" * 40}[how])
    for command in ("evaluate", "draw"):
        line = assert_one_line_error(chaingrad(command, bad), str(bad))
        assert "pickle" not in line


def test_model_file_of_another_architecture(run, tmp_path):
    """Weights of a 2-8-2 network under the record of a 2-4-2 one (and the other way round), and a
    plain nn.save file."""
    from chaingrad import nn
    from chaingrad import checkpoint
    model, meta = checkpoint.load(str(run[0] / MODEL))
    mixed = tmp_path / "mixed.safetensors"
    checkpoint.save(model, {**meta, "sizes": [2, 4, 2]}, str(mixed))    # record says 2-4-2, weights are 2-8-2
    line = assert_one_line_error(chaingrad("evaluate", mixed), "do not fit", "2-4-2")
    assert "layers.0.weight" in line and "changed: " in line and ":;" not in line
    other = nn.MLP([2, 4, 2])
    checkpoint.save(other, meta, str(mixed))            # record says 2-8-2, weights are 2-4-2: counted first
    assert_one_line_error(chaingrad("evaluate", mixed), "do not fit", "2-8-2", "42 weights", "holds 22 numbers")

    plain = tmp_path / "plain.safetensors"
    nn.save(other, str(plain))                          # no architecture record at all
    assert_one_line_error(chaingrad("evaluate", plain), "not a model written by chaingrad train")

    broken = tmp_path / "broken-record.safetensors"     # the architecture record itself is garbage
    nn.save(other, str(broken), metadata={checkpoint.META_KEY: "{not json"})
    assert_one_line_error(chaingrad("evaluate", broken), "damaged architecture record")

    wrong_data = tmp_path / "digits-shaped.safetensors"  # fits its record, but not the dataset it names
    wide = nn.MLP([5, 8, 2])
    checkpoint.save(wide, {**meta, "sizes": [5, 8, 2]}, str(wrong_data))
    assert_one_line_error(chaingrad("evaluate", wrong_data), "5 features", "xor has 2")


def test_a_recorded_activation_that_the_command_does_not_know(run, tmp_path):
    """Said in the command's words (no "Module class or Module instance")."""
    from chaingrad import checkpoint
    model, meta = checkpoint.load(str(run[0] / MODEL))
    path = tmp_path / "gelu.safetensors"
    checkpoint.save(model, {**meta, "activation": "gelu"}, str(path))
    line = assert_one_line_error(chaingrad("evaluate", path), "field 'activation'", "'gelu'", "relu, leaky_relu")
    assert "Module" not in line


def _old_npz(run, path):
    """A model file as chaingrad wrote it before safetensors: the record as a uint8 array in the .npz,
    the Linear weights in chaingrad 0.1's (in, out) layout."""
    from chaingrad import checkpoint
    model, meta = checkpoint.load(str(run[0] / MODEL))
    record = json.dumps({"format": "chaingrad-mlp", "version": 1, **meta}).encode()
    old_layout = {k: v.T if k.endswith("weight") else v for k, v in model.state_dict().items()}
    np.savez(path, **old_layout, __chaingrad__=np.frombuffer(record, dtype=np.uint8))


def test_old_npz_model_files_still_load(run, tmp_path):
    old = tmp_path / "model.npz"
    _old_npz(run, old)
    new = chaingrad("evaluate", run[0] / MODEL)
    result = chaingrad("evaluate", old)
    assert result.returncode == 0 and result.stdout == new.stdout, result.stderr
    result = chaingrad("draw", old, "--out", tmp_path / "old.svg")
    assert result.returncode == 0, result.stderr
    _check_svg(tmp_path / "old.svg")


def test_train_writes_the_model_as_safetensors_with_the_record_in_its_header(run):
    from safetensors import safe_open

    from chaingrad import checkpoint
    with safe_open(str(run[0] / MODEL), framework="np") as f:
        record = json.loads(f.metadata()[checkpoint.META_KEY])
        assert sorted(f.keys()) == ["layers.0.bias", "layers.0.weight", "layers.2.bias", "layers.2.weight"]
    assert record["format"] == "chaingrad-mlp" and record["sizes"] == [2, 8, 2]
    assert oct((run[0] / MODEL).stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_readme_shows_the_committed_graph_of_the_default_run():
    readme = (REPO / "README.md").read_text()
    assert "](notebooks/figures/chaingrad-train-graph.svg)" in readme
    text = _check_svg(REPO / "notebooks" / "figures" / "chaingrad-train-graph.svg")
    assert "MLP 64&#45;64&#45;32&#45;10" in text and "layers.4.weight" in text      # dot escapes "-"


# --- the command line's edges: picture formats, Ctrl-C, --force, logs, divergence, huge sizes ----

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF", "dot": b"digraph"}


@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_draw_chooses_the_format_from_the_extension(run, tmp_path, fmt):
    target = tmp_path / f"graph.{fmt.upper() if fmt == 'png' else fmt}"        # the case does not matter
    result = chaingrad("draw", run[0] / MODEL, "--out", target)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(MAGIC[fmt])


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.svg.txt"])
def test_draw_refuses_an_unknown_picture_format(capsys, tmp_path, name):
    status, out, err = in_process(capsys, "draw", tmp_path / "model.safetensors", "--out", tmp_path / name)
    assert status == 2
    assert_one_line_error(subprocess.CompletedProcess([], status, out, err), "--out", "picture format",
                          ".svg, .png, .pdf or .dot")
    assert not (tmp_path / name).exists()


def test_ctrl_c_keeps_the_last_finished_epoch(tmp_path):
    """SIGINT after the first epoch line: exit 130, the model of the last finished epoch, run.json marked
    interrupted with the history so far, runs/latest pointing to the run."""
    import signal
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CHAINGRAD_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "chaingrad", "train", "--dataset", "moons", "--hidden", "8",
                             "--epochs", "100000"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in proc.stdout:                  # wait for an event, not for a time
            if line.startswith("epoch"):
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "interrupted" in err and "kept the model of epoch" in err
    out = (tmp_path / "runs" / "latest").resolve()
    assert sorted(p.name for p in out.iterdir()) == [MODEL, RESUME, "run.json"]
    record = json.loads((out / "run.json").read_text())
    assert record["interrupted"] is True and record["files"] == [MODEL, RESUME, "run.json"]
    history = record["history"]
    assert len(history) >= 1 and [h["epoch"] for h in history] == list(range(1, len(history) + 1))
    assert f"kept the model of epoch {len(history)}/100000" in err
    # the saved weights are those of the last finished epoch: they give its validation accuracy
    from chaingrad import checkpoint, datasets
    from chaingrad.train import accuracy
    model, meta = checkpoint.load(str(out / MODEL))
    data = datasets.load("moons", np.float32, meta["data_mean"], meta["data_std"])
    correct, rows = accuracy(model, *data.val)
    assert correct / rows == history[-1]["val_accuracy"]


@needs("matplotlib")
def test_out_that_holds_a_run_is_refused_unless_forced(tmp_path):
    out = tmp_path / "run"
    assert chaingrad("train", *TINY, "--out", out).returncode == 0
    model = (out / MODEL).read_bytes()
    (out / "graph.dot").write_text("digraph { }")            # as a run without `dot` leaves
    line = assert_one_line_error(chaingrad("train", *TINY, "--seed", "1", "--out", out), "--out", "--force",
                                 "earlier run", MODEL, "run.json")
    assert line.startswith("chaingrad train: error:")
    assert (out / MODEL).read_bytes() == model                # nothing was touched
    result = chaingrad("train", *TINY, "--seed", "1", "--out", out, "--force")
    assert result.returncode == 0, result.stderr
    assert (out / MODEL).read_bytes() != model
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "graph.svg", MODEL, RESUME, "run.json"]  # no dot
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("a folder of my own")   # not a run: accepted
    assert chaingrad("train", *TINY, "--out", other).returncode == 0
    assert (other / "notes.txt").exists()


@needs("matplotlib")
def test_no_progress_bar_frames_in_a_log(run):
    """stderr is a pipe here, as in CI: the per-epoch lines on stdout only, nothing on stderr."""
    _, result = run
    assert result.stderr == ""


def test_the_progress_bar_shows_on_a_terminal(tmp_path):
    import fcntl
    import pty
    import struct
    import termios
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))    # 24 rows, 100 columns
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    try:
        result = subprocess.run([sys.executable, "-m", "chaingrad", "train", *TINY, "--out", tmp_path / "run"],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=follower, timeout=300)
        os.close(follower)
        frames = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:            # the terminal is closed and drained
                break
            if not chunk:
                break
            frames += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0
    assert b"epoch 1/2:" in frames and b"0/8" in frames and b"batch/s" in frames


def test_a_diverging_run_says_so_in_one_line(tmp_path):
    """No numpy RuntimeWarnings with library source lines before the one line."""
    result = chaingrad("train", "--dataset", "moons", "--optimizer", "sgd", "--lr", "1e5", "--epochs", "3",
                       "--out", tmp_path / "run")
    assert result.returncode == 1
    line = assert_one_line_error(result, "training diverged", "smaller --lr")
    assert "Warning" not in line


@pytest.mark.parametrize("hidden", ["1000000000", "1000000,1000000"])       # terabytes
def test_sizes_whose_parameters_do_not_fit_in_memory_are_refused_up_front(tmp_path, hidden):
    result = chaingrad("train", "--dataset", "xor", "--hidden", hidden, "--out", tmp_path / "run")
    assert result.returncode == 2
    assert_one_line_error(result, "--hidden", "parameters", "memory", "GiB")
    assert not result.stdout and not (tmp_path / "run" / MODEL).exists()


def test_memory_check_lets_real_networks_through():
    from chaingrad.preflight import check_memory
    check_memory([784, 512, 512, 10], 128, np.float32, "adam", available=2 ** 30)
    with pytest.raises(Exception, match="more than this machine's 0.0 GiB"):
        check_memory([784, 512, 512, 10], 128, np.float32, "adam", available=2 ** 20)


def test_one_line_joins_a_heading_and_its_list_with_a_space():
    from chaingrad.cli import one_line
    assert one_line("load failed, nothing was changed:\n  missing keys: 'a'\n  unexpected keys: 'b'") == \
        "load failed, nothing was changed: missing keys: 'a'; unexpected keys: 'b'"
    assert one_line("one\n\n two ") == "one; two"
