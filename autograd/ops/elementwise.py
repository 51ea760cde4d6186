"""Elementwise functions of one tensor.  For y = f(x), the VJP is g * f'(x).

Each op is one declaration: the numpy forward, its spellings (Tensor method,
numpy ufunc), then its VJP and formula right below.  Masks and signs inside
VJPs (``x > 0``, ``_sign(x)``) are values without a gradient: comparisons and
the ``differentiable=False`` primitives below give arrays in an ordinary
backward and constant Tensors under ``create_graph``.
"""
from ..backend import as_dtype, xp
from ..primitive import primitive
from ..tensor import Tensor



@primitive(name="sign", differentiable=False)
def _sign(x):
    """-1, 0 or 1; 0 at NaN too, so abs passes no NaN gradient there (as PyTorch)."""
    return xp.where(x != x, 0, xp.sign(x))


@primitive(name="unclamped", differentiable=False)
def _unclamped(ans):
    """Where relu let x through: ans > 0, and NaN (which relu passes on, as PyTorch).
    (Not ``~(ans <= 0)``: inverting a numpy bool scalar costs 6x these two comparisons.)"""
    return (ans > 0) | (ans != ans)


@primitive(method="sign")
def sign(x):
    """-1, 0 or 1.  numpy's ndarray has no ``sign`` method, so this is PyTorch's: 0 at NaN
    too (``np.sign(t)`` keeps numpy's NaN).  Piecewise constant: its gradient is zero
    (as in PyTorch, the result stays in the graph)."""
    return xp.where(x != x, 0, xp.sign(x))
sign.defvjp(lambda g, ans, x: g * 0.0,
            formulas=[('0', '0')])


@primitive(linear=True, operators="__neg__", numpy=[xp.negative])
def neg(x):
    return -x
neg.defvjp(lambda g, ans, x: -g,
           formulas=[('-1', '-g')])


@primitive(method="exp", numpy=[xp.exp])
def exp(x):
    return xp.exp(x)
exp.defvjp(lambda g, ans, x: g * ans,
           formulas=[('eˣ = y', 'g·y')])


@primitive(method="log", numpy=[xp.log])
def log(x):
    return xp.log(x)
log.defvjp(lambda g, ans, x: g / x,
           formulas=[('1/x', 'g / x')])


@primitive(method="log1p", numpy=[xp.log1p])
def log1p(x):
    return xp.log1p(x)
log1p.defvjp(lambda g, ans, x: g / (1 + x),
             formulas=[('1/(1+x)', 'g / (1 + x)')])


@primitive(method="sqrt", numpy=[xp.sqrt])
def sqrt(x):
    return xp.sqrt(x)
sqrt.defvjp(lambda g, ans, x: g / (2 * ans),
            formulas=[('1/(2y)', 'g / (2y)')])


@primitive(method="abs", operators="__abs__", numpy=[xp.absolute, xp.fabs])
def abs(x):
    return xp.abs(x)
abs.defvjp(lambda g, ans, x: g * _sign(x),
           formulas=[('sign(x)', 'g·sign(x)')])


@primitive(method="sin", numpy=[xp.sin])
def sin(x):
    return xp.sin(x)
sin.defvjp(lambda g, ans, x: g * cos(x),
           formulas=[('cos x', 'g·cos x')])


@primitive(method="cos", numpy=[xp.cos])
def cos(x):
    return xp.cos(x)
cos.defvjp(lambda g, ans, x: -g * sin(x),
           formulas=[('-sin x', '-g·sin x')])


@primitive(method="tanh", numpy=[xp.tanh])
def tanh(x):
    return xp.tanh(x)
tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans),
            formulas=[('1 - y²', 'g·(1 - y²)')])


@primitive(method="sigmoid")
def sigmoid(x):
    # exp(-|x|) never overflows: 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1, e) / (1 + e)
sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans),
               formulas=[('y(1 - y)', 'g·y·(1 - y)')])


@primitive(method="relu")
def relu(x):
    return xp.maximum(x, 0)
relu.defvjp(lambda g, ans, x: g * _unclamped(ans),
            formulas=[('[x > 0]', 'g·[x > 0]')])


@primitive(method="clip")
def clip(x, lo=None, hi=None):
    """Limit values to [lo, hi] (either may be None)."""
    return xp.clip(x, lo, hi)
# The gradient passes where lo <= x <= hi (inclusive, as PyTorch's clamp).
clip.defvjp(lambda g, ans, x, lo=None, hi=None: g * _inside(x, lo=lo, hi=hi),
            formulas=[('[lo ≤ x ≤ hi]', 'g·[lo ≤ x ≤ hi]')])


@primitive(name="inside", differentiable=False)
def _inside(x, lo=None, hi=None):
    """The mask lo <= x <= hi (a bound that is None does not limit)."""
    return (x >= (-xp.inf if lo is None else lo)) & (x <= (xp.inf if hi is None else hi))


@primitive(name="astype", linear=True)
def _astype(x, dtype):
    return x.astype(dtype)
_astype.defvjp(lambda g, ans, x, dtype: _astype(g, x.dtype),
               formulas=[('1', "g cast to x's dtype")])
_astype_nograd = primitive(lambda x, dtype: x.astype(dtype), name="astype", differentiable=False, arity=1)


def astype(x, dtype):
    """Convert to ``dtype`` (numpy's names, or PyTorch's ``torch.float32``); the gradient
    is converted back to the input's dtype.  Converting to the same dtype returns ``x``."""
    dtype = as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return (_astype if dtype.kind in "fc" else _astype_nograd)(x, dtype)


Tensor.astype = astype
