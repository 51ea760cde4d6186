"""Saving and loading weights: safetensors (the default) or numpy ``.npz``, never pickle.

    nn.save(model, "mlp.safetensors")              # or nn.save(model.state_dict(), ...)
    nn.save(model, "mlp.safetensors", metadata={"note": "moons, 30 epochs"})
    state = nn.load("mlp.safetensors")             # {name: ndarray}, the state dict
    nn.load("mlp.safetensors", model)              # load into model (strict) and return the model
    nn.serialization.load_metadata("mlp.safetensors")    # {"note": "moons, 30 epochs"}

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
"""
import json
import math
import os
import zipfile

import numpy as np

from chaingrad import autograd as ag
from chaingrad.autograd.files import write_atomically  # shared with the pages of ag.viz

METADATA_KEY = "__metadata__"      # safetensors' name for its metadata; our .npz uses it for an array
_ZIP_MAGIC = b"PK\x03\x04"


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
    return metadata


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
    (:func:`load_metadata` reads it back).
    """
    state, metadata = _as_state(module_or_state), _check_metadata(metadata)
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


def load(path, model=None, strict=True):
    """Read the state dict saved at ``path``; with ``model``, also load it into the model.

    Returns ``{name: ndarray}``, or the ``model`` itself when one is given
    (after ``model.load_state_dict(state, strict)``). Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` (naming the
    file) for a file that is not a complete safetensors or ``.npz`` file of
    numeric arrays, or that does not fit ``model``. A safetensors file lists
    its arrays in the file's order, not necessarily the model's.
    """
    state, _ = _read_checked(path)
    if model is None:
        return state
    try:
        model.load_state_dict(state, strict=strict)
    except ValueError as err:
        raise ValueError(f"nn.load: {os.fspath(path)} does not fit this {type(model).__name__} "
                         f"(the model is unchanged): {err}") from err
    return model


def load_metadata(path):
    """The ``{str: str}`` metadata saved with the arrays at ``path`` (``{}`` if none); reads no arrays."""
    return _read_checked(path, arrays=False)[1]


__all__ = ["save", "load", "load_metadata", "write_atomically"]
