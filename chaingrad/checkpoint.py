"""model.safetensors: the weights (``nn.save``) plus a record of the architecture, in ONE file.

``nn.save`` writes the state dict as safetensors: a JSON header, then the raw
arrays, nothing pickled. The header's metadata holds, under ``META_KEY``, a
JSON record that says how to rebuild the network and its data::

    {"format": "chaingrad-mlp", "version": 1, "dataset": "moons",
     "sizes": [2, 16, 2], "activation": "relu", "batchnorm": false, "dropout": 0.0,
     "dtype": "float32", "data_mean": 0.37, "data_std": 0.81, "batch_size": 32}

So a model file is self-contained: copy it anywhere and ``chaingrad evaluate``
or ``chaingrad draw`` still know what it is. Loading never executes code.

Older runs wrote ``model.npz``, with the record as one more array (the UTF-8
bytes of the JSON, as uint8) named ``__chaingrad__``; those still load.

Layout: ``nn.save`` also records the weights' layout, (out, in) since
chaingrad 0.2. A model file of chaingrad 0.1 has (in, out) weights and no
such record; ``nn.load`` knows it by its ``__chaingrad__`` record and
transposes them, and ``load`` prints its one-line note on stderr.
"""
import json
import os
import sys
import warnings

import numpy as np

META_KEY = "__chaingrad__"           # the metadata key (safetensors), or the array's name (old .npz)
MODEL_FILE = "model.safetensors"     # what `chaingrad train` writes
FORMAT, VERSION = "chaingrad-mlp", 1
# What a model file may record (and what `chaingrad train` offers).
ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "scaled_tanh", "softplus")
DTYPES = ("float32", "float64")
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
    """Write ``model``'s state dict with ``meta`` as the file's metadata (``nn.save``: atomic, 0644).

    The format follows the name (``.npz`` or safetensors), as for ``nn.save``.
    """
    from chaingrad import nn
    record = json.dumps({"format": FORMAT, "version": VERSION, **meta})
    nn.save(model, path, metadata={META_KEY: record})


def _read_meta(text):
    meta = json.loads(text)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("unknown format")
    if meta.get("version") != VERSION:
        raise ValueError(f"format version {meta.get('version')!r}, this chaingrad reads {VERSION}")
    for key, kind in _REQUIRED.items():
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"field {key!r} is missing or has the wrong type")
    if meta["activation"] not in ACTIVATIONS:
        raise ValueError(f"unknown activation {meta['activation']!r} (this chaingrad knows "
                         f"{', '.join(ACTIVATIONS)})")
    if meta["dtype"] not in DTYPES:
        raise ValueError(f"unsupported dtype {meta['dtype']!r}")
    return meta


def _record(path, state):
    """The architecture record's JSON text: from the header metadata, or an old file's array."""
    from chaingrad.nn.serialization import load_metadata
    text = load_metadata(path).get(META_KEY)
    if text is None and META_KEY in state:                 # an old model.npz
        text = bytes(np.asarray(state.pop(META_KEY)).astype(np.uint8)).decode("utf-8")
    return text


def _load_state(path):
    """``nn.load(path)``, its note on converting a chaingrad 0.1 file printed as one line on stderr."""
    from chaingrad import nn
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", nn.LayoutWarning)
        state = dict(nn.load(path))
    for note in notes:
        if issubclass(note.category, nn.LayoutWarning):
            print(f"chaingrad: note: {note.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)
    return state


def load(path):
    """Return ``(model, meta)`` from a file written by :func:`save` (or an older ``model.npz``).

    Raises ModelFileError (one line) when the file is missing, damaged, not a
    chaingrad model, or holds weights of another architecture than recorded.
    """
    from chaingrad import nn
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ModelFileError(f"{path}: is a directory, expected a model file ({MODEL_FILE} or model.npz)")
    try:
        state = _load_state(path)
        text = _record(path, state)
    except (ValueError, OSError) as e:      # nn.load's own clear error: truncated, not a model file, ...
        raise ModelFileError(f"cannot read model file: {e}") from None
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{path}: damaged architecture record ({e})") from None
    if text is None:
        raise ModelFileError(f"{path}: not a model written by chaingrad train "
                             f"(no architecture record; it holds {', '.join(sorted(state)) or 'nothing'})")
    try:
        meta = _read_meta(text)
    except ValueError as e:
        raise ModelFileError(f"{path}: damaged architecture record ({e})") from None
    try:
        model = build_model(meta)
    except Exception as e:
        raise ModelFileError(f"{path}: cannot build the recorded architecture {meta['sizes']}: {e}") from None
    try:
        model.load_state_dict(state, strict=True)
    except Exception as e:
        raise ModelFileError(f"{path}: weights do not fit the recorded architecture "
                             f"MLP {'-'.join(map(str, meta['sizes']))}: {e}") from None
    return model, meta
