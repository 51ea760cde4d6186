"""model.safetensors: the weights (``nn.save``) plus a record of the architecture, in ONE file.

``nn.save`` writes the state dict as safetensors: a JSON header, then the raw
arrays, nothing pickled. The header's metadata holds, under ``META_KEY``, a
JSON record that says how to rebuild the network and its data::

    {"format": "chaingrad-mlp", "version": 1, "dataset": "moons",
     "sizes": [2, 16, 2], "activation": "relu", "batchnorm": false, "dropout": 0.0,
     "dtype": "float32", "data_mean": 0.37, "data_std": 0.81, "batch_size": 32}

So a model file is self-contained: copy it anywhere and ``chaingrad evaluate``
or ``chaingrad draw`` still know what it is. Loading never executes code.

A model file may come from someone else, so it is data to check, never to
trust: every field of the record goes through ONE schema check
(:func:`check_record`), and the record must agree with the arrays the file
holds before anything is built from it. Without that, a 384-byte file whose
record claims sizes ``[64, 4000, 4000, 10]`` would make us allocate 257 MB
(gigabytes for larger claims) before finding out that the weights do not fit.

Older runs wrote ``model.npz``, with the record as one more array (the UTF-8
bytes of the JSON, as uint8) named ``__chaingrad__``; those still load.

Layout: ``nn.save`` also records the weights' layout, (out, in) since
chaingrad 0.2. A model file of chaingrad 0.1 has (in, out) weights and no
such record; ``nn.load`` knows it by its ``__chaingrad__`` record and
transposes them, and ``load`` prints its one-line note on stderr.
"""
import json
import math
import os
import sys
import warnings

import numpy as np

from .datasets import DATASETS
from .errors import ModelFileError

META_KEY = "__chaingrad__"           # the metadata key (safetensors), or the array's name (old .npz)
MODEL_FILE = "model.safetensors"     # what `chaingrad train` writes
FORMAT, VERSION = "chaingrad-mlp", 1
# What a model file may record (and what `chaingrad train` offers).
ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "scaled_tanh", "softplus")
DTYPES = ("float32", "float64")
DEFAULT_BATCH_SIZE = 32              # files written before batch_size was recorded


def library():
    """autograd and nn, imported on first use, on purpose: they take most of a second to
    import, and the parser (`chaingrad --help`) reads ACTIVATIONS and DTYPES from here."""
    from chaingrad import autograd as ag  # lazy: see the docstring
    from chaingrad import nn  # lazy: see the docstring
    return ag, nn


# --- the schema of the architecture record --------------------------------------------------

def is_count(v, least=1):
    """An integer >= ``least`` (JSON ``true`` is not a size, though Python's bool is an int)."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= least


def is_finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _one_of(names):
    return lambda v: isinstance(v, str) and v in names


# field -> (test, what the field must be): the whole schema, in one table.
RECORD_SCHEMA = {
    "dataset": (_one_of(DATASETS), f"one of {', '.join(DATASETS)}"),
    "sizes": (lambda v: isinstance(v, list) and len(v) >= 2 and all(map(is_count, v)),
              "a list of at least two positive integers"),
    "activation": (_one_of(ACTIVATIONS), f"an activation this chaingrad knows ({', '.join(ACTIVATIONS)})"),
    "batchnorm": (lambda v: isinstance(v, bool), "true or false"),
    "dropout": (lambda v: is_finite(v) and 0 <= v < 1, "a number >= 0 and < 1"),
    "dtype": (_one_of(DTYPES), f"one of {', '.join(DTYPES)}"),
    "data_mean": (is_finite, "a finite number"),
    "data_std": (lambda v: is_finite(v) and v > 0, "a finite number > 0"),
    "batch_size": (is_count, "a positive integer"),
}
OPTIONAL = {"batch_size": DEFAULT_BATCH_SIZE}      # fields older files may lack, with their value


def _shown(value, limit=60):
    """``repr(value)`` cut to ``limit`` characters: a forged field may be megabytes long."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_fields(record, schema, optional=None):
    """Check ``record``'s fields against ``schema``; fill in the optional ones. ValueError names the field."""
    optional = optional or {}
    for key, (test, what) in schema.items():
        if key not in record and key in optional:
            record[key] = optional[key]
        elif key not in record:
            raise ValueError(f"field {key!r} is missing")
        elif not test(record[key]):
            raise ValueError(f"field {key!r} must be {what}, got {_shown(record[key])}")
    return record


def parse_json(text):
    """``json.loads`` that fails with ValueError only: a record nested 100,000 deep is damaged,
    not a reason for a RecursionError (the parser recurses once per level)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")         # UnicodeDecodeError is a ValueError
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("it is nested too deeply to be a record") from None


def check_record(text):
    """The architecture record's JSON text -> the record, checked field by field (ValueError if not)."""
    meta = parse_json(text)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("unknown format")
    if meta.get("version") != VERSION:
        raise ValueError(f"format version {_shown(meta.get('version'))}, this chaingrad reads {VERSION}")
    return check_fields(meta, RECORD_SCHEMA, OPTIONAL)


def architecture(sizes):
    return "MLP " + "-".join(map(str, sizes))


def check_against_arrays(meta, state):
    """Refuse a record that describes more weights than the file holds numbers, BEFORE building it.

    The arrays in ``state`` were read from the file, so their size is bounded
    by the file's; the model built from the record is bounded by nothing else.
    Counting numbers (not comparing shapes) keeps this independent of how
    ``nn.Linear`` lays out its weight; ``load_state_dict`` then checks every
    shape exactly and names the keys that differ.
    """
    sizes = meta["sizes"]
    needed = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))       # Python ints: no overflow
    held = sum(int(np.asarray(v).size) for v in state.values())
    if needed > held:
        raise ValueError(f"weights do not fit the recorded architecture {architecture(sizes)}: it has "
                         f"{needed:,} weights and biases, the file holds {held:,} numbers")


# --- building, saving, loading -----------------------------------------------------------------

def build_model(meta):
    """A fresh ``nn.MLP`` with the architecture recorded in ``meta``, its parameters in ``meta["dtype"]``."""
    ag, nn = library()
    outer = ag.get_default_dtype()
    ag.set_default_dtype(np.dtype(meta["dtype"]))     # parameters and buffers are made in this dtype
    try:
        return nn.MLP(meta["sizes"], activation=meta["activation"], batchnorm=meta["batchnorm"],
                      dropout=meta["dropout"])
    finally:
        ag.set_default_dtype(outer)


def record_text(meta):
    """The JSON text of the record stored in a model file (never NaN: the schema refuses it)."""
    return json.dumps({"format": FORMAT, "version": VERSION, **meta}, allow_nan=False)


def save(model, meta, path):
    """Write ``model``'s state dict with ``meta`` as the file's metadata (``nn.save``: atomic, 0644).

    The format follows the name (``.npz`` or safetensors), as for ``nn.save``.
    """
    _, nn = library()
    nn.save(model, path, metadata={META_KEY: record_text(meta)})


def _record(path, state, nn):
    """The architecture record's JSON text: from the header metadata, or an old file's array."""
    text = nn.load_metadata(path).get(META_KEY)
    if text is None and META_KEY in state:                 # an old model.npz
        text = bytes(np.asarray(state.pop(META_KEY)).astype(np.uint8))
    return text


def _load_state(path, nn):
    """``nn.load(path)``, its note on converting a chaingrad 0.1 file printed as one line on stderr."""
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", nn.LayoutWarning)
        state = dict(nn.load(path))
    for note in notes:
        if issubclass(note.category, nn.LayoutWarning):
            print(f"chaingrad: note: {note.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(note.message, note.category, note.filename, note.lineno)
    return state


def read(path):
    """``(state, meta)`` of a model file: its arrays and its checked record; nothing is built.

    Raises ModelFileError (one line) when the file is missing, damaged, not a
    chaingrad model, or its record is damaged or claims more than the file holds.
    """
    _, nn = library()
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ModelFileError(f"{path}: is a directory, expected a model file ({MODEL_FILE} or model.npz)")
    try:
        state = _load_state(path, nn)      # nn.load checks every array against the file's size
        text = _record(path, state, nn)
    except (ValueError, OSError) as e:     # nn.load's own clear error: truncated, not a model file, ...
        raise ModelFileError(f"cannot read model file: {e}") from None
    if text is None:
        raise ModelFileError(f"{path}: not a model written by chaingrad train "
                             f"(no architecture record; it holds {', '.join(sorted(state)) or 'nothing'})")
    try:
        meta = check_record(text)
    except ValueError as e:
        raise ModelFileError(f"{path}: damaged architecture record: {e}") from None
    try:
        check_against_arrays(meta, state)
    except ValueError as e:
        raise ModelFileError(f"{path}: {e}") from None
    return state, meta


def load(path):
    """Return ``(model, meta)`` from a file written by :func:`save` (or an older ``model.npz``).

    Raises ModelFileError (one line) when the file is missing, damaged, not a
    chaingrad model, or holds weights of another architecture than recorded.
    """
    state, meta = read(path)
    try:
        model = build_model(meta)
    except Exception as e:
        raise ModelFileError(f"{path}: cannot build the recorded architecture {meta['sizes']}: {e}") from None
    try:
        model.load_state_dict(state, strict=True)
    except Exception as e:
        raise ModelFileError(f"{path}: weights do not fit the recorded architecture "
                             f"{architecture(meta['sizes'])}: {e}") from None
    return model, meta
