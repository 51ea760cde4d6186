"""Saving and loading weights: safetensors (the default) or numpy ``.npz``, never pickle.

    nn.save(model, "mlp.safetensors")              # or nn.save(model.state_dict(), ...)
    nn.save(model, "mlp.safetensors", metadata={"note": "moons, 30 epochs"})
    state = nn.load("mlp.safetensors")             # {name: ndarray}, the state dict
    nn.load("mlp.safetensors", model)              # load into model (strict) and return the model
    nn.serialization.load_metadata("mlp.safetensors")    # {"note": "moons, 30 epochs"}
    nn.load("old.safetensors", model, layout="in_out")   # a plain nn.save file of chaingrad 0.1

Two formats, both plain numbers with no code inside, so loading never runs
anything:

- **safetensors** (the default; any file name not ending in ``.npz``): an
  8-byte header length, a JSON header listing every array's dtype, shape and
  byte range, then the raw bytes. ``metadata`` (strings to strings) is stored
  in the header. PyTorch, JAX and the Hugging Face tools read it too.
- **.npz** (a name ending in ``.npz``): numpy's zip of ``.npy`` arrays;
  ``metadata`` becomes one more array, ``__metadata__``, holding its JSON.

``save`` picks the format from the file name; ``load`` from the file's first
bytes (a zip archive is ``.npz``), so a renamed file still loads.

``save`` writes a temporary file in the target's directory and renames it
over the target (``os.replace`` is atomic), so a crash mid-write never leaves
a half-written file under the real name. The new file gets the usual
permissions (0666 minus the umask, so 0644 under umask 022); a file that is
replaced keeps its own. ``load`` checks every array's header against the size
of the file before reading it, so a damaged, truncated or forged file raises
``ValueError`` naming the file and the problem (never a MemoryError, never a
hint to allow pickle), and a model is left untouched.

**Layouts.** Since chaingrad 0.2 a Linear weight has PyTorch's shape (out,
in); chaingrad 0.1 stored (in, out). For a square layer the two cannot be
told apart by shape, so no file is guessed at: ``save`` records, in the
metadata, ``chaingrad.format`` (this module's ``FORMAT_VERSION``),
``chaingrad.layout`` (``"out_in"``) and ``chaingrad.version``, and ``load``
reads a file by these rules, first match wins:

1. the file records ``chaingrad.layout``: read as recorded;
2. it carries a marker of chaingrad 0.1: the ``__chaingrad__`` architecture
   record of ``chaingrad train`` (in the header, or as an array of an old
   ``model.npz``), or it is a ``.npz`` (PyTorch's tools write no ``.npz``;
   chaingrad 0.1 wrote every one of them): (in, out), converted;
3. anything else (e.g. ``safetensors.torch.save_file(model.state_dict())``):
   PyTorch's (out, in), read as it is.

A plain ``nn.save`` safetensors file of chaingrad 0.1 has no marker at all,
so rule 3 would take it for PyTorch's: ``load(path, layout="in_out")`` says
what it is (``layout=`` is refused when it contradicts a recorded layout).
A conversion transposes the Linear weights (with ``model``: the ``weight``
of each ``nn.Linear`` in it; without: every 2-D array named ``weight``, the
only 2-D arrays chaingrad 0.1's layers had) and says so in one line, a
``LayoutWarning`` (``warnings.warn``; ``chaingrad evaluate`` prints it as a
note).
"""
import json
import math
import os
import warnings
import zipfile

import numpy as np

from chaingrad import __version__
from chaingrad import autograd as ag
from chaingrad.autograd.files import write_atomically  # shared with the pages of ag.viz

from .layers import Linear

METADATA_KEY = "__metadata__"      # safetensors' name for its metadata; our .npz uses it for an array
_ZIP_MAGIC = b"PK\x03\x04"

# The record every file gets (see the module docstring, "Layouts").
FORMAT_VERSION = 2                 # 1: chaingrad 0.1's files, which recorded nothing, weights (in, out)
OUT_IN, IN_OUT = "out_in", "in_out"
RECORD_KEYS = ("chaingrad.format", "chaingrad.layout", "chaingrad.version")
OLD_MARKER = "__chaingrad__"       # chaingrad 0.1's `chaingrad train` record (chaingrad/checkpoint.py)


class LayoutWarning(UserWarning):
    """A file of chaingrad 0.1 ((in, out) Linear weights) was converted to the (out, in) layout."""


# ---- saving -----------------------------------------------------------------------------------

def _as_state(module_or_state):
    state = module_or_state.state_dict() if hasattr(module_or_state, "state_dict") else module_or_state
    out = {}
    for k, v in state.items():
        arr = np.asarray(v.data if isinstance(v, ag.Tensor) else v)
        if not isinstance(k, str) or not k:
            raise ValueError(f"nn.save: state keys must be non-empty strings, got {k!r}")
        if k == METADATA_KEY:
            raise ValueError(f"nn.save: {k!r} is reserved for the metadata; rename that entry")
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"nn.save: {k!r} holds {arr.dtype} data; only numeric arrays can be saved")
        out[k] = np.array(arr, order="C", copy=None)    # safetensors stores C order (0-d stays 0-d)
    return out


def _check_metadata(metadata):
    metadata = dict(metadata or {})
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"nn.save: metadata maps strings to strings (as safetensors' header does); "
                            f"got {k!r}: {type(v).__name__} (json.dumps it first)")
        if k in RECORD_KEYS:
            raise ValueError(f"nn.save: the metadata key {k!r} is reserved for chaingrad's record of the "
                             f"file's format and layout; rename that entry")
    return metadata


def _record():
    """What every saved file records: the format version, the layout, the chaingrad that wrote it."""
    return {"chaingrad.format": str(FORMAT_VERSION), "chaingrad.layout": OUT_IN, "chaingrad.version": __version__}


def _write_safetensors(f, state, metadata):
    from safetensors.numpy import save as to_bytes
    f.write(to_bytes(state, metadata=metadata or None))


def _write_npz(f, state, metadata):
    if metadata:
        state = {**state, METADATA_KEY: np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)}
    np.savez(f, **state)


def save(module_or_state, path, metadata=None):
    """Write a module's state dict (or a ``{name: array}`` dict) to ``path``, atomically.

    The format follows the name: ``.npz`` is numpy's, anything else
    safetensors (``model.safetensors`` is the usual name); the name is used
    as given. ``metadata``: a ``{str: str}`` dict stored with the arrays
    (:func:`load_metadata` reads it back). The file also records its format
    version and layout (the keys ``RECORD_KEYS``; see the module docstring).
    """
    state, metadata = _as_state(module_or_state), _check_metadata(metadata)
    metadata.update(_record())
    path = os.fspath(path)
    writer = _write_npz if path.endswith(".npz") else _write_safetensors
    write_atomically(path, lambda f: writer(f, state, metadata))


# ---- loading ----------------------------------------------------------------------------------

def _npy_member(z, info, size_of_file):
    """One array of a ``.npz``: its header is read and checked before any of its data is."""
    if not info.filename.endswith(".npy"):
        raise ValueError(f"member {info.filename!r} is not a .npy array")
    if info.compress_size > size_of_file:
        raise ValueError(f"member {info.filename!r} claims {info.compress_size} bytes, "
                         f"the file holds {size_of_file}")
    with z.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"{info.filename}: unsupported .npy format version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
            else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(f)
        if dtype.kind not in "biuf" or dtype.hasobject:
            raise ValueError(f"{info.filename} holds {dtype} data (Python objects, which need pickle); "
                             f"only numeric arrays are loaded")
        needed = math.prod(shape) * dtype.itemsize
        held = info.file_size - f.tell()
        if needed != held:
            raise ValueError(f"{info.filename}: its header claims {shape} {dtype} ({needed:,} bytes), "
                             f"it holds {held:,} bytes")
        data = f.read(needed)           # reading to the end also runs the zip's CRC check
    if len(data) != needed:
        raise ValueError(f"{info.filename}: truncated")
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran_order else "C").copy()


def _read_npz(path, names=None):
    """``{name: array}`` of a ``.npz`` (only ``names`` if given), read member by member."""
    size = os.path.getsize(path)
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if names is None or i.filename[:-len(".npy")] in names]
        return {i.filename[:-len(".npy")]: _npy_member(z, i, size) for i in infos}


def _npz_metadata(array):
    try:
        metadata = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"its {METADATA_KEY!r} entry is not JSON") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"its {METADATA_KEY!r} entry is not a JSON object")
    return metadata


def _read(path, arrays=True):
    """``(state, metadata)`` of a file in either format; ``arrays=False`` skips the arrays."""
    with open(path, "rb") as f:
        is_zip = f.read(4) == _ZIP_MAGIC
    if is_zip:
        state = _read_npz(path, None if arrays else {METADATA_KEY})
        metadata = _npz_metadata(state.pop(METADATA_KEY)) if METADATA_KEY in state else {}
        return state, metadata
    from safetensors import safe_open       # checks every tensor's byte range against the file size
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
        state = {k: f.get_tensor(k) for k in f.keys()} if arrays else {}
    return state, metadata


def _read_checked(path, arrays=True):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"nn.load: {path} is a directory, not a model file")
    try:
        state, metadata = _read(path, arrays)
    except Exception as err:      # zip, npy, safetensors and OS errors: all mean "cannot use this file"
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ValueError(f"nn.load: {path} is damaged or not a safetensors or .npz state file "
                         f"({reason})") from err
    for k, v in state.items():
        if v.dtype.kind not in "biuf":
            raise ValueError(f"nn.load: {path}: {k!r} holds {v.dtype} data, not numbers")
    return state, metadata


def _file_layout(path, state, metadata, layout):
    """``(layout, why)`` of a file: ``why`` is None when no conversion note is due (rules in the docstring)."""
    if layout not in (None, OUT_IN, IN_OUT):
        raise ValueError(f"nn.load: layout must be None (read the file's record), {OUT_IN!r} (PyTorch's "
                         f"(out, in) weights) or {IN_OUT!r} (chaingrad 0.1's (in, out)), got {layout!r}")
    recorded = metadata.get("chaingrad.layout")
    if recorded is not None:
        version = metadata.get("chaingrad.format", "")
        if recorded not in (OUT_IN, IN_OUT) or not version.isdigit() or int(version) > FORMAT_VERSION:
            raise ValueError(f"nn.load: {path} records format {version!r} and layout {recorded!r}, which "
                             f"this chaingrad (format {FORMAT_VERSION}) does not know; upgrade chaingrad")
        if layout is not None and layout != recorded:
            raise ValueError(f"nn.load: {path} records its layout, {recorded!r}; layout={layout!r} "
                             f"contradicts it (drop the layout= argument)")
        return recorded, None
    if layout is not None:
        return layout, None             # the caller said what the file holds: no note
    if OLD_MARKER in metadata or OLD_MARKER in state:
        return IN_OUT, "it holds the __chaingrad__ record of chaingrad 0.1's `chaingrad train`"
    with open(path, "rb") as f:
        if f.read(4) == _ZIP_MAGIC:
            return IN_OUT, "a .npz without a layout record is chaingrad 0.1's"
    return OUT_IN, None


def _linear_weight_keys(state, model):
    """The keys of ``state`` that hold Linear weights: of ``model``'s ``nn.Linear`` layers, or
    (no model) every 2-D array named ``weight``, as chaingrad 0.1 had no other 2-D weight."""
    if model is not None:
        names = {f"{name}.weight" if name else "weight" for name, m in model.named_modules()
                 if isinstance(m, Linear)}
        return [k for k in state if k in names and np.ndim(state[k]) == 2]
    return [k for k, v in state.items() if (k == "weight" or k.endswith(".weight")) and np.ndim(v) == 2]


def _convert_from_in_out(path, state, model, why):
    """Transpose chaingrad 0.1's (in, out) Linear weights to (out, in), with a one-line note."""
    keys = _linear_weight_keys(state, model)
    for k in keys:
        state[k] = np.ascontiguousarray(state[k].T)
    if why is not None:
        warnings.warn(f"nn.load: {path} has chaingrad 0.1's (in, out) Linear weights ({why}); "
                      f"transposed {len(keys)} of them to (out, in)", LayoutWarning, stacklevel=3)
    return state


def load(path, model=None, strict=True, layout=None):
    """Read the state dict saved at ``path``; with ``model``, also load it into the model.

    Returns ``{name: ndarray}``, or the ``model`` itself when one is given
    (after ``model.load_state_dict(state, strict)``). Linear weights come
    out in the (out, in) layout: a file of chaingrad 0.1 that can be told
    by its markers is converted with a ``LayoutWarning``, a file without any
    chaingrad marker (one of PyTorch's) is read as it is, and ``layout``
    (``"in_out"`` or ``"out_in"``) says what an unmarked file holds, e.g.
    ``layout="in_out"`` for a plain ``nn.save`` file of chaingrad 0.1 (see
    the module docstring). Raises ``FileNotFoundError`` for a missing file
    and ``ValueError`` (naming the file) for a file that is not a complete
    safetensors or ``.npz`` file of numeric arrays, or that does not fit
    ``model``. A safetensors file lists its arrays in the file's order, not
    necessarily the model's.
    """
    state, metadata = _read_checked(path)
    path = os.fspath(path)
    file_layout, why = _file_layout(path, state, metadata, layout)
    if file_layout == IN_OUT:
        state = _convert_from_in_out(path, state, model, why)
    if model is None:
        return state
    try:
        model.load_state_dict(state, strict=strict)
    except ValueError as err:
        raise ValueError(f"nn.load: {path} does not fit this {type(model).__name__} "
                         f"(the model is unchanged): {err}") from err
    return model


def load_metadata(path):
    """The ``{str: str}`` metadata saved with the arrays at ``path`` (``{}`` if none); reads no arrays.

    The record of the file's format and layout (``RECORD_KEYS``) is left out:
    :func:`load_record` reads it.
    """
    metadata = _read_checked(path, arrays=False)[1]
    return {k: v for k, v in metadata.items() if k not in RECORD_KEYS}


def load_record(path):
    """``{"chaingrad.format": ..., "chaingrad.layout": ..., "chaingrad.version": ...}`` as the file
    at ``path`` records them (``{}`` for a file of chaingrad 0.1 or of another library)."""
    metadata = _read_checked(path, arrays=False)[1]
    return {k: metadata[k] for k in RECORD_KEYS if k in metadata}


__all__ = ["save", "load", "load_metadata", "load_record", "write_atomically", "LayoutWarning"]
