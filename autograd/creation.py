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
    return xp.dtype(dtype) if dtype is not None else backend.get_default_dtype()


def tensor(data, requires_grad=False, dtype=None, name=None):
    """``ag.tensor([1., 2.], requires_grad=True)``: the same as ``Tensor(...)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape, dtype=None, requires_grad=False):
    return Tensor(xp.zeros(_shape(shape), dtype=_float(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return Tensor(xp.ones(_shape(shape), dtype=_float(dtype)), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(xp.zeros_like(xp.asarray(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(xp.ones_like(xp.asarray(t), dtype=dtype), requires_grad=requires_grad)


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
        data = data.astype(dtype)
    elif data.dtype.kind == "f":
        data = data.astype(backend.get_default_dtype())
    return Tensor(data, requires_grad=requires_grad)
