"""Saving and loading weights as numpy ``.npz`` files: no pickle, so loading never runs code.

    nn.save(model, "mlp.npz")            # or nn.save(model.state_dict(), "mlp.npz")
    state = nn.load("mlp.npz")           # {name: ndarray}, the state dict
    nn.load("mlp.npz", model)            # load into model (strict) and return the model

The file holds one array per state-dict key (``layers.0.weight``...).
``save`` writes a temporary file in the target's directory and renames it
over the target (``os.replace`` is atomic), so a crash mid-write never
leaves a half-written file under the real name.  ``load`` reads and checks
every array before anything is returned or copied; a damaged, truncated or
mismatched file raises ``ValueError`` naming the file and the problem, and
the model is left untouched.
"""
import os
import tempfile
import zipfile
import zlib

import numpy as np

from chaingrad import autograd as ag


def _as_state(module_or_state):
    state = module_or_state.state_dict() if hasattr(module_or_state, "state_dict") else module_or_state
    out = {}
    for k, v in state.items():
        arr = np.asarray(v.data if isinstance(v, ag.Tensor) else v)
        if not isinstance(k, str) or not k:
            raise ValueError(f"nn.save: state keys must be non-empty strings, got {k!r}")
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"nn.save: {k!r} holds {arr.dtype} data; only numeric arrays can be saved")
        out[k] = arr
    return out


def save(module_or_state, path):
    """Write a module's state dict (or a ``{name: array}`` dict) to ``path`` as ``.npz``, atomically.

    The file name is used as given (no ``.npz`` is appended).
    """
    state = _as_state(module_or_state)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **state)
            f.flush()
            os.fsync(f.fileno())        # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path, model=None, strict=True):
    """Read the state dict saved at ``path``; with ``model``, also load it into the model.

    Returns ``{name: ndarray}``, or the ``model`` itself when one is given
    (after ``model.load_state_dict(state, strict)``).  Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` (naming the
    file) for a file that is not a complete ``.npz`` of numeric arrays or
    that does not fit ``model``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not hasattr(archive, "files"):
            raise ValueError("it holds a single array, not named arrays")
        with archive:
            # Read every array now: this runs the zip CRC checks on all of them.
            state = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError) as err:
        raise ValueError(f"nn.load: {path} is damaged or not an .npz state file "
                         f"({type(err).__name__}: {err})") from err
    for k, v in state.items():
        if v.dtype.kind not in "biuf":
            raise ValueError(f"nn.load: {path}: {k!r} holds {v.dtype} data, not numbers")
    if model is None:
        return state
    try:
        model.load_state_dict(state, strict=strict)
    except ValueError as err:
        raise ValueError(f"nn.load: {path} does not fit this {type(model).__name__} "
                         f"(the model is unchanged): {err}") from err
    return model
