"""Elementwise functions of two tensors, with numpy broadcasting.

The VJPs return gradients of the *output's* shape; the engine sums them back
to each input's shape (``engine.unbroadcast``), so no op here worries about
broadcasting.
"""
from ..backend import xp
from ..graph import primitive
from .elementwise import _const, log


@primitive(linear=True)
def add(x, y):
    return x + y
add.defvjp(lambda g, ans, x, y: g,
           lambda g, ans, x, y: g)


@primitive(linear=True)
def sub(x, y):
    return x - y
sub.defvjp(lambda g, ans, x, y: g,
           lambda g, ans, x, y: -g)


@primitive
def mul(x, y):
    return x * y
mul.defvjp(lambda g, ans, x, y: g * y,
           lambda g, ans, x, y: g * x)


@primitive
def div(x, y):
    return x / y
div.defvjp(lambda g, ans, x, y: g / y,
           lambda g, ans, x, y: -g * ans / y)      # d(x/y)/dy = -x/y^2 = -ans/y


def _safe_log(x):
    # log x where x != 0; at x == 0 the exponent's gradient is x^y log x -> 0 (y > 0)
    return log(where(eq(x, 0), 1, x))


def _pow_vjp_x(g, ans, x, y):
    # d x^y / dx = y x^(y-1).  Where y = 0 that is 0, also at x = 0 (where x^(y-1)
    # would be inf and 0 * inf = nan), so use base 1 there.  PyTorch does the same.
    return g * y * where(eq(y, 0), 1, x) ** (y - 1)


@primitive
def pow(x, y):
    return x ** y
pow.defvjp(_pow_vjp_x,
           lambda g, ans, x, y: g * ans * _safe_log(x))


def _tie_split(a, b, dtype):
    """1 where a wins, 1/2 at ties, 0 where b wins: ties share the gradient evenly (PyTorch)."""
    return _const(((a > b) + 0.5 * (a == b)).astype(dtype))


@primitive
def maximum(x, y):
    return xp.maximum(x, y)
maximum.defvjp(lambda g, ans, x, y: g * _tie_split(x._data, y._data, g.dtype),
               lambda g, ans, x, y: g * _tie_split(y._data, x._data, g.dtype))


@primitive
def minimum(x, y):
    return xp.minimum(x, y)
minimum.defvjp(lambda g, ans, x, y: g * _tie_split(y._data, x._data, g.dtype),
               lambda g, ans, x, y: g * _tie_split(x._data, y._data, g.dtype))


@primitive
def where(c, a, b):
    """``a`` where ``c`` is true, else ``b`` (the condition gets no gradient)."""
    return xp.where(c, a, b)
where.defvjp(None,
             lambda g, ans, c, x, y: where(c, g, 0.0),
             lambda g, ans, c, x, y: where(c, 0.0, g))


# Comparisons give bool tensors and no gradient.
lt = primitive(lambda x, y: x < y, name="lt", differentiable=False)
le = primitive(lambda x, y: x <= y, name="le", differentiable=False)
gt = primitive(lambda x, y: x > y, name="gt", differentiable=False)
ge = primitive(lambda x, y: x >= y, name="ge", differentiable=False)
eq = primitive(lambda x, y: x == y, name="eq", differentiable=False)
ne = primitive(lambda x, y: x != y, name="ne", differentiable=False)
