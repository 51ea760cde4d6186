"""A model file is data from someone else: the architecture record is checked before it is used.

Issue 17, items 16-18: a forged record that claims huge sizes is refused
before anything is allocated; a record nested 100,000 deep is "damaged", not
a RecursionError; every field goes through one schema check, and a bad one
ends in one line naming the field, in evaluate, draw and train --resume.
"""
import json
import subprocess
import tracemalloc

import numpy as np
import pytest

from test_cli import MODEL, TINY, assert_one_line_error, chaingrad

GOOD = {"format": "chaingrad-mlp", "version": 1, "dataset": "xor", "sizes": [2, 8, 2], "activation": "relu",
        "batchnorm": False, "dropout": 0.0, "dtype": "float32", "data_mean": 0.0, "data_std": 1.0,
        "batch_size": 32}


def _model_file(path, record_text, state=None):
    """A safetensors file with ``state`` (default: a 2-8-2 MLP's) and the record text as given."""
    from chaingrad import checkpoint, nn
    nn.save(state if state is not None else nn.MLP([2, 8, 2]), str(path),
            metadata={checkpoint.META_KEY: record_text})
    return path


def in_process(capsys, *args):
    from chaingrad.cli import main
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, out, err)


# --- item 16: sizes the file does not hold ------------------------------------------------------

def test_a_forged_record_claiming_huge_sizes_is_refused_before_allocating(tmp_path, capsys):
    """384 bytes that claim 64-4000-4000-10 made checkpoint.load allocate 257 MB before refusing."""
    from chaingrad import checkpoint
    forged = _model_file(tmp_path / "forged.safetensors",
                         json.dumps({**GOOD, "dataset": "digits", "sizes": [64, 4000, 4000, 10]}),
                         {"layers.0.weight": np.zeros((2, 2), np.float32)})
    assert forged.stat().st_size < 1000
    tracemalloc.start()
    try:
        with pytest.raises(checkpoint.ModelFileError, match="do not fit the recorded architecture") as err:
            checkpoint.load(str(forged))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2 ** 20, f"{peak / 2 ** 20:.0f} MB allocated for a {forged.stat().st_size}-byte file"
    assert "16,304,010 weights and biases" in str(err.value) and "file holds 4 numbers" in str(err.value)
    for command in ("evaluate", "draw"):
        line = assert_one_line_error(in_process(capsys, command, forged), "do not fit", "MLP 64-4000-4000-10")
        assert "internal error" not in line


# --- item 17: a record nested too deeply --------------------------------------------------------

@pytest.mark.parametrize("command", ["evaluate", "draw"])
def test_a_deeply_nested_record_is_damaged_not_a_recursion_error(tmp_path, command):
    nested = _model_file(tmp_path / MODEL, "[" * 100000 + "]" * 100000)
    line = assert_one_line_error(chaingrad(command, nested), "damaged architecture record", "nested too deeply")
    assert "internal error" not in line and "Recursion" not in line


# --- item 18: one schema check ------------------------------------------------------------------

BAD_FIELDS = [
    ("data_std", float("nan")), ("data_std", 0), ("data_std", -1.0), ("data_std", float("inf")),
    ("data_mean", float("inf")), ("data_mean", float("nan")), ("data_mean", "0.5"),
    ("batch_size", "x"), ("batch_size", 0), ("batch_size", None), ("batch_size", -5), ("batch_size", 2.5),
    ("batch_size", True),
    ("sizes", [2, 0, 2]), ("sizes", [2, "8", 2]), ("sizes", [2]), ("sizes", "2-8-2"), ("sizes", [2, True, 2]),
    ("dropout", 1.0), ("dropout", -0.1), ("dropout", float("nan")),
    ("activation", "gelu"), ("activation", ["relu"]),
    ("batchnorm", "yes"), ("dtype", "float16"), ("dataset", "cifar"), ("dataset", None),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS, ids=[f"{f}={v!r}" for f, v in BAD_FIELDS])
@pytest.mark.parametrize("command", ["evaluate", "draw"])
def test_every_bad_field_is_one_damaged_record_line(tmp_path, capsys, command, field, value):
    """NaN std or inf mean used to give "test accuracy 40.00%" and exit 0; batch_size -5 drew
    "one batch of -5 rows"; batch_size "x" ended in "internal error"."""
    path = _model_file(tmp_path / MODEL, json.dumps({**GOOD, field: value}))
    line = assert_one_line_error(in_process(capsys, command, path),
                                 f"damaged architecture record: field {field!r}", str(path))
    assert "internal error" not in line
    assert not (tmp_path / "graph.svg").exists()


def test_a_missing_field_is_named(tmp_path, capsys):
    record = {k: v for k, v in GOOD.items() if k != "data_std"}
    path = _model_file(tmp_path / MODEL, json.dumps(record))
    assert_one_line_error(in_process(capsys, "evaluate", path), "field 'data_std' is missing")


def test_a_record_without_batch_size_still_loads_as_older_files_do(tmp_path):
    from chaingrad import checkpoint
    record = {k: v for k, v in GOOD.items() if k != "batch_size"}
    _, meta = checkpoint.load(str(_model_file(tmp_path / MODEL, json.dumps(record))))
    assert meta["batch_size"] == 32


def test_a_long_forged_value_is_cut_in_the_message(tmp_path, capsys):
    path = _model_file(tmp_path / MODEL, json.dumps({**GOOD, "activation": "x" * 100000}))
    line = assert_one_line_error(in_process(capsys, "evaluate", path), "field 'activation'")
    assert len(line) < 600


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "run"
    result = chaingrad("train", *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _forge_resume(run, target, change_record=None, change_run=None):
    """A copy of ``run`` whose resume file's architecture record or run record was changed."""
    import shutil

    from chaingrad import checkpoint, nn, resume
    shutil.copytree(run, target)
    path = target / resume.RESUME_FILE
    metadata = nn.load_metadata(str(path))
    if change_record:
        metadata[checkpoint.META_KEY] = change_record(metadata[checkpoint.META_KEY])
    if change_run:
        metadata[resume.RESUME_KEY] = change_run(metadata[resume.RESUME_KEY])
    nn.save(nn.load(str(path)), str(path), metadata=metadata)
    return target


@pytest.mark.parametrize("field, value", [("data_std", float("nan")), ("batch_size", -5), ("sizes", [2, 0, 2])])
def test_train_resume_checks_the_same_schema(finished_run, tmp_path, capsys, field, value):
    forged = _forge_resume(finished_run, tmp_path / "run",
                           change_record=lambda text: json.dumps({**json.loads(text), field: value}))
    assert_one_line_error(in_process(capsys, "train", "--resume", forged, "--epochs", "3"),
                          f"damaged architecture record: field {field!r}")


@pytest.mark.parametrize("change, words", [
    (lambda r: "[" * 100000 + "]" * 100000, ["damaged resume record", "nested too deeply"]),
    (lambda r: json.dumps({**json.loads(r), "history": []}), ["damaged resume record", "history"]),
    (lambda r: json.dumps({**json.loads(r), "settings": {**json.loads(r)["settings"], "lr": -1}}),
     ["damaged resume record", "field 'lr'"]),
    (lambda r: json.dumps({**json.loads(r), "rng": {"bit_generator": "MT19937"}}), ["damaged resume record"]),
    (lambda r: json.dumps({**json.loads(r), "optimizer": {**json.loads(r)["optimizer"], "state": {
        k: {"step": "x"} for k in json.loads(r)["optimizer"]["state"]}}}), ["damaged resume record", "counts"]),
    (lambda r: json.dumps({**json.loads(r), "optimizer": {**json.loads(r)["optimizer"], "param_groups": [
        {**g, "lr": 10.0} for g in json.loads(r)["optimizer"]["param_groups"]]}}),
     ["damaged resume record", "hyperparameters"]),
], ids=["nested", "no-history", "negative-lr", "wrong-generator", "step-not-a-count", "other-lr"])
def test_a_damaged_resume_record_is_one_line(finished_run, tmp_path, capsys, change, words):
    forged = _forge_resume(finished_run, tmp_path / "run", change_run=change)
    line = assert_one_line_error(in_process(capsys, "train", "--resume", forged, "--epochs", "3"), *words)
    assert "internal error" not in line


def test_a_command_called_from_python_leaves_the_engine_as_it_was(finished_run, tmp_path, capsys):
    """The commands set the default dtype and reseed the generator for their run, then put both back."""
    import shutil

    from chaingrad import autograd as ag
    from chaingrad.cli import main
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    ag.set_default_dtype(np.float64)
    ag.manual_seed(123)
    expected = np.random.default_rng(123).random(3)
    for args in (["evaluate", run / MODEL], ["train", "--resume", run, "--epochs", "3"]):
        assert main([str(a) for a in args]) == 0, capsys.readouterr().err
        assert ag.get_default_dtype() == np.float64
    assert np.array_equal(ag.get_rng().random(3), expected)
