"""Elementwise functions of one tensor.  For y = f(x), the VJP is g * f'(x)."""
from ..backend import xp
from .. import graph
from ..graph import primitive


def _const(arr):
    """A constant Tensor (no gradient): masks and signs, whose derivative is zero."""
    return graph._Tensor._wrap(arr)


@primitive(linear=True)
def neg(x):
    return -x
neg.defvjp(lambda g, ans, x: -g)


@primitive
def exp(x):
    return xp.exp(x)
exp.defvjp(lambda g, ans, x: g * ans)                 # d e^x = e^x


@primitive
def log(x):
    return xp.log(x)
log.defvjp(lambda g, ans, x: g / x)                   # d log x = 1/x


@primitive
def log1p(x):
    return xp.log1p(x)
log1p.defvjp(lambda g, ans, x: g / (1 + x))


@primitive
def sqrt(x):
    return xp.sqrt(x)
sqrt.defvjp(lambda g, ans, x: g / (2 * ans))          # d sqrt(x) = 1 / (2 sqrt(x))


@primitive
def abs(x):
    return xp.abs(x)
abs.defvjp(lambda g, ans, x: g * _const(xp.sign(x._data)))   # sign(0) = 0, as PyTorch


@primitive
def sin(x):
    return xp.sin(x)
sin.defvjp(lambda g, ans, x: g * cos(x))


@primitive
def cos(x):
    return xp.cos(x)
cos.defvjp(lambda g, ans, x: -g * sin(x))


@primitive
def tanh(x):
    return xp.tanh(x)
tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))    # d tanh = 1 - tanh^2


@primitive
def sigmoid(x):
    # exp(-|x|) never overflows: 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, e) / (1 + e)
sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans))   # s' = s (1 - s)


@primitive
def relu(x):
    return xp.maximum(x, 0)
relu.defvjp(lambda g, ans, x: g * _const(x._data > 0))  # 0 at x = 0, as PyTorch


@primitive(name="clip")
def _clip(x, lo=None, hi=None):
    return xp.clip(x, lo, hi)
# The gradient passes where lo <= x <= hi (inclusive, as PyTorch's clamp).
_clip.defvjp(lambda g, ans, x, lo=None, hi=None:
             g * _const((x._data >= (-xp.inf if lo is None else lo)) & (x._data <= (xp.inf if hi is None else hi))))


def clip(x, lo=None, hi=None):
    """Limit values to [lo, hi] (either may be None)."""
    return _clip(x, lo=lo, hi=hi)


@primitive(name="astype", linear=True)
def _astype(x, dtype):
    return x.astype(dtype)
_astype.defvjp(lambda g, ans, x, dtype: _astype(g, dtype=x.dtype))


# To an integer or bool dtype there is no gradient, and the result must not require one.
_astype_nograd = primitive(lambda x, dtype: x.astype(dtype), name="astype", differentiable=False)


def astype(x, dtype):
    """Convert to ``dtype``; the gradient is converted back to the input's dtype."""
    dtype = xp.dtype(dtype)
    if x.dtype == dtype:
        return x
    return (_astype if dtype.kind in "fc" else _astype_nograd)(x, dtype=dtype)
