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


def as_dtype(dtype):
    """A numpy dtype from anything naming one: np.float32, "float32", or PyTorch's
    torch.float32 (read by name, so torch is never imported)."""
    text = str(dtype)
    if text.startswith("torch."):
        text = text[len("torch."):]
        return xp.dtype({"half": "float16", "float": "float32", "double": "float64", "long": "int64",
                         "int": "int32", "bool": "bool", "cfloat": "complex64"}.get(text, text))
    return xp.dtype(dtype)


def store(arr):
    """How a Tensor holds its value: a 0-d value as a numpy scalar, anything else as the array.

    This is the one place that chooses.  Arithmetic on numpy scalars is about
    10x faster than on 0-d arrays (88 ns against 880 ns for a multiply), which
    makes scalar graphs (micrograd's demo) about 8x faster.  The price: a
    numpy scalar has no memory to write into or share, so the Tensor turns it
    into a 0-d array when someone asks for that (``Tensor.data``, in-place ops).
    """
    return arr[()] if arr.ndim == 0 else arr


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
