"""Making tensors: from data, filled, random (one seeded generator), ranges."""
from . import backend
from .backend import xp
from .tensor import Tensor

_rng = [xp.random.default_rng()]


def manual_seed(seed):
    """Seed the generator behind ``randn``, ``rand`` and ``nn.init`` (for reproducible runs)."""
    _rng[0] = xp.random.default_rng(seed)


def get_rng():
    """The numpy Generator that ``randn``/``rand`` and ``nn.init`` draw from."""
    return _rng[0]


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _float(dtype):
    return backend.as_dtype(dtype) if dtype is not None else backend.get_default_dtype()


def _values(t):
    """The array behind a Tensor or array-like, read without going through ``__array__``
    (which refuses a tensor that requires grad): only its shape and dtype are used."""
    return t._data if isinstance(t, Tensor) else xp.asarray(t)


def tensor(data, requires_grad=False, dtype=None, name=None):
    """``ag.tensor([1., 2.], requires_grad=True)``: the same as ``Tensor(...)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape, dtype=None, requires_grad=False):
    return Tensor(xp.zeros(_shape(shape), dtype=_float(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return Tensor(xp.ones(_shape(shape), dtype=_float(dtype)), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(xp.zeros_like(_values(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(xp.ones_like(_values(t), dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from the seeded generator (see ``manual_seed``)."""
    data = _rng[0].standard_normal(_shape(shape)).astype(_float(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) from the seeded generator."""
    data = _rng[0].random(_shape(shape)).astype(_float(dtype))
    return Tensor(data, requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Like ``np.arange``; floats get the default dtype, ints stay integer."""
    data = xp.arange(start, stop, step) if stop is not None else xp.arange(start)
    if dtype is not None:
        data = data.astype(backend.as_dtype(dtype))
    elif data.dtype.kind == "f" or requires_grad:
        data = data.astype(backend.get_default_dtype())
    return Tensor(data, requires_grad=requires_grad)


# ---- PyTorch's creation functions --------------------------------------------------
def from_numpy(array):
    """A Tensor sharing ``array``'s memory, like ``torch.from_numpy``: the dtype is kept, and a
    change to either shows in the other (``ag.tensor`` copies instead)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy ndarray, got {type(array).__name__}; "
                        f"use ag.tensor(data) for other data")
    if array.ndim == 0:
        return Tensor(array)        # 0-d values are stored as numpy scalars: there is no memory to share
    return Tensor._wrap(array)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of shape ``size`` filled with ``fill_value``: a Python float gives the default
    float dtype, an int int64 and a bool bool (as numpy and PyTorch), unless ``dtype`` says;
    with ``requires_grad=True`` an int fill gives the default float dtype."""
    size = (size,) if isinstance(size, int) else tuple(size)
    if dtype is not None:
        dtype = backend.as_dtype(dtype)
    elif isinstance(fill_value, float) or (requires_grad and not isinstance(fill_value, bool)):
        dtype = backend.get_default_dtype()
    return Tensor(xp.full(size, fill_value, dtype=dtype), requires_grad=requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    """A tensor of shape ``size`` with unspecified values (``np.empty``): fill it before reading."""
    return Tensor(xp.empty(_shape(size), dtype=_float(dtype)), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The ``n`` x ``m`` identity matrix (square when ``m`` is None)."""
    return Tensor(xp.eye(n, m, dtype=_float(dtype)), requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (``steps`` is
    required, as in PyTorch; numpy's default of 50 is not assumed)."""
    return Tensor(xp.linspace(start, end, steps, dtype=_float(dtype)), requires_grad=requires_grad)


def _like_dtype(t, dtype, name):
    dtype = backend.as_dtype(dtype) if dtype is not None else _values(t).dtype
    if dtype.kind != "f":
        raise TypeError(f"{name}: random values need a floating dtype, the input has {dtype}; pass dtype=")
    return dtype


def full_like(t, fill_value, dtype=None, requires_grad=False):
    """``full`` with ``t``'s shape and (unless ``dtype`` is given) dtype."""
    return Tensor(xp.full_like(_values(t), fill_value, dtype=dtype), requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    """Standard normal samples with ``t``'s shape and floating dtype (seeded by ``manual_seed``)."""
    dtype = _like_dtype(t, dtype, "randn_like")
    return Tensor(_rng[0].standard_normal(_values(t).shape).astype(dtype), requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) with ``t``'s shape and floating dtype (seeded by ``manual_seed``)."""
    dtype = _like_dtype(t, dtype, "rand_like")
    return Tensor(_rng[0].random(_values(t).shape).astype(dtype), requires_grad=requires_grad)
