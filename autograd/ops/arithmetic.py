"""Elementwise functions of two tensors, with numpy broadcasting.

The VJPs return gradients of the *output's* shape; the engine sums them back
to each input's shape (``engine.unbroadcast``), so no op here worries about
broadcasting.
"""
from ..backend import xp
from ..primitive import primitive
from .elementwise import log


@primitive(promotes=True, linear=True, operators=("__add__", "__radd__"), numpy=[xp.add])
def add(x, y):
    return x + y
add.defvjp(lambda g, ans, x, y: g,
           lambda g, ans, x, y: g,
           inputs=('a', 'b'),
           formulas=[('1', 'g'), ('1', 'g')])


@primitive(promotes=True, linear=True, operators=("__sub__", "__rsub__"), numpy=[xp.subtract])
def sub(x, y):
    return x - y
sub.defvjp(lambda g, ans, x, y: g,
           lambda g, ans, x, y: -g,
           inputs=('a', 'b'),
           formulas=[('1', 'g'), ('-1', '-g')])


@primitive(promotes=True, operators=("__mul__", "__rmul__"), numpy=[xp.multiply])
def mul(x, y):
    return x * y
mul.defvjp(lambda g, ans, x, y: g * y,
           lambda g, ans, x, y: g * x,
           inputs=('a', 'b'),
           formulas=[('b', 'g·b'), ('a', 'g·a')])


@primitive(promotes=True, operators=("__truediv__", "__rtruediv__"), numpy=[xp.true_divide])
def div(x, y):
    return x / y
div.defvjp(lambda g, ans, x, y: g / y,
           lambda g, ans, x, y: -g * ans / y,
           inputs=('a', 'b'),
           formulas=[('1/b', 'g / b'), ('-a/b²', '-g·a / b²')])


def _safe_log(x):
    # log x where x != 0; at x == 0 the exponent's gradient is x^y log x -> 0 (y > 0)
    return log(where(eq(x, 0), 1, x))


def _pow_vjp_x(g, ans, x, y):
    # d x^y / dx = y x^(y-1).  At x = y = 0 that is 0 * inf = nan; the derivative is 0
    # there (as PyTorch), so use base 1 where both are 0.  Only there: elsewhere the
    # base stays x, so that differentiating this VJP by y gives x^-1 at y = 0.
    return g * y * where(_both_zero(x, y), 1, x) ** (y - 1)


_both_zero = primitive(lambda x, y: (x == 0) & (y == 0), name="both_zero", differentiable=False, promotes=True)


@primitive(promotes=True, method="pow", operators=("__pow__", "__rpow__"), numpy=[xp.power, xp.float_power])
def pow(x, y):
    return x ** y
pow.defvjp(_pow_vjp_x,
           lambda g, ans, x, y: g * ans * _safe_log(x),
           inputs=('a', 'b'),
           formulas=[('b·a^(b-1)', 'g·b·a^(b-1)'), ('y·log a', 'g·y·log a')])


_floor_quotient = primitive(lambda x, y: xp.floor_divide(x, y), name="floor_divide",
                            differentiable=False, promotes=True)


@primitive(promotes=True, method="remainder", operators=("__mod__", "__rmod__"), numpy=[xp.remainder])
def remainder(x, y):
    """``x % y`` with the sign of ``y`` (numpy's ``remainder``/``mod``, PyTorch's ``remainder``).

    x % y = x - floor(x / y) y, and floor(x / y) is piecewise constant: dx gets g,
    dy gets -g floor(x / y) (as PyTorch; at the jumps the derivative does not exist).
    """
    return xp.remainder(x, y)
remainder.defvjp(lambda g, ans, x, y: g,
                 lambda g, ans, x, y: -g * _floor_quotient(x, y),
                 inputs=('a', 'b'),
                 formulas=[('1', 'g'), ('-⌊a/b⌋', '-g·⌊a/b⌋')])


@primitive(name="wins", differentiable=False, promotes=True)
def _wins(a, b):
    """a's share of maximum(a, b)'s gradient: 1/2 at ties (ties share evenly), 0 where
    b is larger, else 1: where either is NaN both get all of it, as in PyTorch."""
    return xp.where(a == b, 0.5, xp.where(a < b, 0.0, 1.0)).astype(xp.result_type(a, b))


@primitive(promotes=True, numpy=[xp.maximum])
def maximum(x, y):
    return xp.maximum(x, y)
maximum.defvjp(lambda g, ans, x, y: g * _wins(x, y),
               lambda g, ans, x, y: g * _wins(y, x),
               inputs=('a', 'b'),
               formulas=[('[a > b] (½ at ties)', 'g·[a > b]'), ('[b > a] (½ at ties)', 'g·[b > a]')])


@primitive(promotes=True, numpy=[xp.minimum])
def minimum(x, y):
    return xp.minimum(x, y)
minimum.defvjp(lambda g, ans, x, y: g * _wins(y, x),
               lambda g, ans, x, y: g * _wins(x, y),
               inputs=('a', 'b'),
               formulas=[('[a < b] (½ at ties)', 'g·[a < b]'), ('[b < a] (½ at ties)', 'g·[b < a]')])


@primitive(promotes=True, public=True)
def where(c, a, b):
    """``a`` where ``c`` is true, else ``b`` (the condition gets no gradient)."""
    return xp.where(c, a, b)
where.defvjp(None,
             lambda g, ans, c, x, y: where(c, g, 0.0),
             lambda g, ans, c, x, y: where(c, 0.0, g),
             inputs=('c', 'a', 'b'),
             formulas=[None, ('[c]', 'g where c, else 0'), ('[not c]', 'g where not c, else 0')])
# Comparisons: bool results, no gradient.
lt = primitive(lambda x, y: x < y, name="lt", differentiable=False, promotes=True,
               operators="__lt__", numpy=[xp.less])
le = primitive(lambda x, y: x <= y, name="le", differentiable=False, promotes=True,
               operators="__le__", numpy=[xp.less_equal])
gt = primitive(lambda x, y: x > y, name="gt", differentiable=False, promotes=True,
               operators="__gt__", numpy=[xp.greater])
ge = primitive(lambda x, y: x >= y, name="ge", differentiable=False, promotes=True,
               operators="__ge__", numpy=[xp.greater_equal])
eq = primitive(lambda x, y: x == y, name="eq", differentiable=False, promotes=True,
               operators="__eq__", numpy=[xp.equal])
ne = primitive(lambda x, y: x != y, name="ne", differentiable=False, promotes=True,
               operators="__ne__", numpy=[xp.not_equal])
