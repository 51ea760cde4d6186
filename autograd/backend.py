"""The one seam between chaingrad and its array library.

Everything that computes on arrays reaches numpy through ``xp`` here, so a
different array module with numpy's interface (CuPy, say) could later be
swapped in at this single place.  The graph and backward machinery itself
never computes on arrays; only the primitives' forwards do.
"""
import numpy as xp

ndarray = xp.ndarray

_default_dtype = [xp.dtype(xp.float64)]


def set_default_dtype(dtype):
    """Set the float dtype given to Python numbers and float lists (float64 at start)."""
    dtype = xp.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype[0] = dtype


def get_default_dtype():
    return _default_dtype[0]


def asarray(data, dtype=None):
    """Turn ``data`` into an ndarray: Python numbers and lists of floats take the default dtype."""
    if dtype is not None:
        return xp.asarray(data, dtype=dtype)
    arr = xp.asarray(data)
    if arr.dtype == xp.float64 and not isinstance(data, (xp.ndarray, xp.generic)):
        # Python floats (and lists of them) follow the default dtype, as in PyTorch.
        arr = arr.astype(_default_dtype[0], copy=False)
    elif arr.dtype.kind in "iu" and isinstance(data, float):
        arr = arr.astype(_default_dtype[0])
    return arr
