"""model.npz: the weights (``nn.save``) plus a record of the architecture, in ONE file.

``nn.save`` writes a state dict as a numpy ``.npz`` without pickle. We add one
more array to that state dict, ``META_KEY``: the UTF-8 bytes of a JSON object
(as uint8) that says how to rebuild the network and its data::

    {"format": "chaingrad-mlp", "version": 1, "dataset": "moons",
     "sizes": [2, 16, 2], "activation": "relu", "batchnorm": false, "dropout": 0.0,
     "dtype": "float32", "data_mean": 0.37, "data_std": 0.81, "batch_size": 32}

So a model file is self-contained: copy it anywhere and ``chaingrad evaluate``
or ``chaingrad draw`` still know what it is. Loading never executes code.
"""
import json
import os

import numpy as np

META_KEY = "__chaingrad__"
FORMAT, VERSION = "chaingrad-mlp", 1
_REQUIRED = {"dataset": str, "sizes": list, "activation": str, "batchnorm": bool,
             "dropout": (int, float), "dtype": str, "data_mean": (int, float), "data_std": (int, float)}


class ModelFileError(Exception):
    """The file is missing, unreadable, not ours, or does not fit its recorded architecture."""


def build_model(meta):
    """A fresh ``nn.MLP`` with the architecture recorded in ``meta``, its parameters in ``meta["dtype"]``."""
    from chaingrad import autograd as ag
    from chaingrad import nn
    outer = ag.get_default_dtype()
    ag.set_default_dtype(np.dtype(meta["dtype"]))     # parameters and buffers are made in this dtype
    try:
        return nn.MLP(meta["sizes"], activation=meta["activation"], batchnorm=meta["batchnorm"],
                      dropout=meta["dropout"])
    finally:
        ag.set_default_dtype(outer)


def save(model, meta, path):
    """Write ``model``'s state dict and ``meta`` to ``path`` with ``nn.save`` (atomic)."""
    from chaingrad import nn
    meta = {"format": FORMAT, "version": VERSION, **meta}
    state = dict(model.state_dict())            # {dotted name: ndarray}
    state[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    nn.save(state, path)
    from .report import make_readable
    make_readable(path)          # nn.save writes through mkstemp, which makes the file private


def _read_meta(array):
    meta = json.loads(bytes(np.asarray(array).astype(np.uint8)).decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("unknown format")
    if meta.get("version") != VERSION:
        raise ValueError(f"format version {meta.get('version')!r}, this chaingrad reads {VERSION}")
    for key, kind in _REQUIRED.items():
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"field {key!r} is missing or has the wrong type")
    return meta


def load(path):
    """Return ``(model, meta)`` from a file written by :func:`save`.

    Raises ModelFileError (one line) when the file is missing, damaged, not a
    chaingrad model, or holds weights of another architecture than recorded.
    """
    from chaingrad import nn
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ModelFileError(f"{path}: is a directory, expected a model .npz file")
    try:
        state = dict(nn.load(path))
    except Exception as e:       # nn.load's own clear error: truncated, not an npz, ...
        raise ModelFileError(f"cannot read model file: {e}") from None
    if META_KEY not in state:
        raise ModelFileError(f"{path}: not a model written by chaingrad train "
                             f"(no architecture record; it holds {', '.join(sorted(state)) or 'nothing'})")
    try:
        meta = _read_meta(state.pop(META_KEY))
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: damaged architecture record ({e})") from None
    try:
        if np.dtype(meta["dtype"]) not in (np.float32, np.float64):
            raise ValueError(f"unsupported dtype {meta['dtype']!r}")
        model = build_model(meta)
    except Exception as e:
        raise ModelFileError(f"{path}: cannot build the recorded architecture {meta['sizes']}: {e}") from None
    try:
        model.load_state_dict(state, strict=True)
    except Exception as e:
        raise ModelFileError(f"{path}: weights do not fit the recorded architecture "
                             f"MLP {'-'.join(map(str, meta['sizes']))}: {e}") from None
    return model, meta
