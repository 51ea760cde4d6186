"""resume.safetensors: what `chaingrad train --resume DIR` needs to go on exactly where a run stopped.

A run keeps, after every finished epoch, a snapshot of everything the next
epoch reads: the model's weights and buffers, the optimizer's state (Adam's
running averages and step counts, SGD's momentum buffers, ...), the state of
the random generator behind dropout, and the history so far. Ctrl-C and the
end of a run write the last snapshot next to the model, as ONE safetensors
file, so a resumed run ends with the same numbers, bit for bit, as a run that
was never interrupted.

Nothing is pickled: the arrays are stored as safetensors arrays
(``model/<name>``, ``optimizer/<index>/<name>``) and everything else is one
JSON record in the header's metadata. Like a model file, the record is data
to check (``train.py`` checks the run's settings; :func:`read` the rest)
before anything is built from it.
"""
import json

import numpy as np

from .checkpoint import META_KEY, check_against_arrays, check_record, is_count, library, parse_json, record_text
from .errors import ModelFileError

RESUME_FILE = "resume.safetensors"
RESUME_KEY = "__chaingrad_resume__"
FORMAT, VERSION = "chaingrad-resume", 1


def snapshot(model, optimizer):
    """Copies of what the next epoch reads: weights and buffers, optimizer state, dropout's generator."""
    ag, _ = library()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "rng": ag.get_rng().bit_generator.state}


def restore(snap, model, optimizer):
    """Put a snapshot read by :func:`read` back into ``model``, ``optimizer`` and dropout's generator.

    The optimizer was built from the run's settings; its hyperparameters must
    be those the file records (JSON has lists where the optimizer has tuples:
    compare both as JSON). Raises ValueError (or numpy's TypeError for a bad
    generator state) when the snapshot does not fit.
    """
    ag, _ = library()
    groups = optimizer.state_dict()["param_groups"]
    if json.loads(json.dumps(groups)) != snap["optimizer"]["param_groups"]:
        raise ValueError("the optimizer's hyperparameters differ from the run's settings")
    model.load_state_dict(snap["model"], strict=True)
    optimizer.load_state_dict({"param_groups": groups, "state": snap["optimizer"]["state"]})
    ag.get_rng().bit_generator.state = snap["rng"]


def _split_optimizer(state_dict):
    """An optimizer's ``state_dict()`` -> (arrays by file key, the JSON-able rest)."""
    arrays, scalars = {}, {}
    for index, entry in state_dict["state"].items():
        scalars[str(index)] = {}
        for name, value in entry.items():
            if isinstance(value, np.ndarray):
                arrays[f"optimizer/{index}/{name}"] = value
            else:
                scalars[str(index)][name] = value
    return arrays, {"param_groups": state_dict["param_groups"], "state": scalars}


def save(path, snap, meta, run):
    """Write ``snap`` (from :func:`snapshot`) with the architecture record ``meta`` and ``run``
    (JSON-able: settings, epoch, history) to ``path``, atomically (``nn.save``)."""
    _, nn = library()
    arrays, optimizer = _split_optimizer(snap["optimizer"])
    arrays.update({f"model/{k}": v for k, v in snap["model"].items()})
    record = {"format": FORMAT, "version": VERSION, **run, "optimizer": optimizer,
              "scheduler": None,     # `chaingrad train` runs no learning-rate schedule (yet)
              "rng": snap["rng"]}
    nn.save(arrays, path, metadata={META_KEY: record_text(meta),
                                    RESUME_KEY: json.dumps(record, allow_nan=False)})


def _join_optimizer(optimizer, arrays):
    """The JSON part and the arrays -> an optimizer ``state_dict()`` (ValueError if malformed)."""
    if not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict):
        raise ValueError("the optimizer's state is missing")
    state = {}
    for index, entry in optimizer["state"].items():
        if not isinstance(entry, dict) or not all(is_count(v, 0) for v in entry.values()):
            raise ValueError(f"the optimizer's state of parameter {index} is not a set of counts")
        state[index] = dict(entry)
    for key, array in arrays.items():
        _, index, name = key.split("/", 2)
        if index not in state:
            raise ValueError(f"array {key!r} belongs to no parameter of the optimizer's state")
        state[index][name] = array
    return {"param_groups": optimizer.get("param_groups"), "state": state}


def read(path):
    """``(meta, run, snap)`` of a resume file: the checked architecture record, the run's JSON
    record (settings, epoch, history; for the caller to check) and the snapshot to restore."""
    _, nn = library()
    try:
        arrays = dict(nn.load(path))
        metadata = nn.load_metadata(path)
    except (ValueError, OSError) as e:
        raise ModelFileError(f"cannot read {path}: {e}") from None
    if RESUME_KEY not in metadata or META_KEY not in metadata:
        raise ModelFileError(f"{path}: not written by chaingrad train (no resume record)")
    try:
        meta = check_record(metadata[META_KEY])
    except ValueError as e:
        raise ModelFileError(f"{path}: damaged architecture record: {e}") from None
    try:
        run = parse_json(metadata[RESUME_KEY])
        if not isinstance(run, dict) or (run.get("format"), run.get("version")) != (FORMAT, VERSION):
            raise ValueError(f"unknown format (this chaingrad reads {FORMAT} version {VERSION})")
        model = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
        check_against_arrays(meta, model)
        optimizer = _join_optimizer(run.get("optimizer"),
                                    {k: v for k, v in arrays.items() if k.startswith("optimizer/")})
        if not isinstance(run.get("rng"), dict):
            raise ValueError("the random generator's state is missing")
    except ValueError as e:
        raise ModelFileError(f"{path}: damaged resume record: {e}") from None
    return meta, run, {"model": model, "optimizer": optimizer, "rng": run["rng"]}
