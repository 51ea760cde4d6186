"""Reductions (sum, mean, max, min, var, std, logsumexp) and the softmax pair.

A reduction's VJP spreads the upstream gradient back over the reduced axes:
``_expand`` puts the reduced axes back (as size 1) and broadcasts to the
input's shape.
"""
import builtins

from ..backend import xp
from ..primitive import primitive
from .arithmetic import eq, where
from .elementwise import exp
from .shape import broadcast_to


def _axes(axis, ndim):
    """Normalise ``axis`` to a sorted tuple of non-negative ints (None -> all axes)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    out = []
    for a in axis:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(out))


def _expand(g, shape, axis, keepdims):
    """Give ``g`` (a reduction's output gradient) the input's ``shape`` by broadcasting."""
    if not keepdims:
        kept = [1 if i in _axes(axis, len(shape)) else n for i, n in enumerate(shape)]
        g = g.reshape(tuple(kept))
    return broadcast_to(g, shape)


def _count(shape, axis):
    n = 1
    for a in _axes(axis, len(shape)):
        n *= shape[a]
    return n


@primitive(name="sum", linear=True)
def _sum(x, axis=None, keepdims=False):
    return xp.sum(x, axis=axis, keepdims=keepdims)
_sum.defvjp(lambda g, ans, x, axis=None, keepdims=False: _expand(g, x.shape, axis, keepdims),
            formulas=[('1', 'g spread over the summed axes')])


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (int, tuple or None for all).  d/dx_i = 1 for every summed element."""
    return _sum(x, axis=axis, keepdims=keepdims)


@primitive(name="mean", linear=True)
def _mean(x, axis=None, keepdims=False):
    return xp.mean(x, axis=axis, keepdims=keepdims)
_mean.defvjp(lambda g, ans, x, axis=None, keepdims=False:
             _expand(g, x.shape, axis, keepdims) / _count(x.shape, axis),
             formulas=[('1/n', 'g spread over the averaged axes, / n')])


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; each element gets 1/n of the gradient."""
    return _mean(x, axis=axis, keepdims=keepdims)


@primitive(name="extreme_share", differentiable=False)
def _extreme_share(x, ans, axis=None, keepdims=False):
    """1/k at each of the k elements equal to the extreme (max or min), 0 elsewhere.
    A NaN extreme came from the NaNs: they share the gradient (as PyTorch)."""
    if not keepdims:
        ans = xp.expand_dims(ans, _axes(axis, x.ndim))
    hit = (x == ans) | ((x != x) & (ans != ans))
    return (hit / xp.sum(hit, axis=axis, keepdims=True)).astype(x.dtype)


def _extreme_vjp(g, ans, x, axis=None, keepdims=False):
    # Every element equal to the extreme shares the gradient evenly (ties split, as PyTorch).
    return _expand(g, x.shape, axis, keepdims) * _extreme_share(x, ans, axis=axis, keepdims=keepdims)


@primitive(name="max")
def _max(x, axis=None, keepdims=False):
    return xp.max(x, axis=axis, keepdims=keepdims)
_max.defvjp(_extreme_vjp,
            formulas=[('[x = y] (ties share)', 'g to the largest entries')])


@primitive(name="min")
def _min(x, axis=None, keepdims=False):
    return xp.min(x, axis=axis, keepdims=keepdims)
_min.defvjp(_extreme_vjp,
            formulas=[('[x = y] (ties share)', 'g to the smallest entries')])


def max(x, axis=None, keepdims=False):
    """Largest element over ``axis``; tied maxima split the gradient evenly."""
    return _max(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    """Smallest element over ``axis``; tied minima split the gradient evenly."""
    return _min(x, axis=axis, keepdims=keepdims)


@primitive(name="var")
def _var(x, axis=None, keepdims=False, ddof=0):
    return xp.var(x, axis=axis, keepdims=keepdims, ddof=ddof)
# d var / dx_i = 2 (x_i - mean) / (n - ddof)
_var.defvjp(lambda g, ans, x, axis=None, keepdims=False, ddof=0:
            _expand(g, x.shape, axis, keepdims) * 2 * (x - mean(x, axis, keepdims=True))
            / (_count(x.shape, axis) - ddof),
            formulas=[('2(x - x̄)/(n - ddof)', 'g·2(x - x̄)/(n - ddof)')])


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom (0: biased, 1: unbiased)."""
    return _var(x, axis=axis, keepdims=keepdims, ddof=ddof)


@primitive(name="std")
def _std(x, axis=None, keepdims=False, ddof=0):
    return xp.std(x, axis=axis, keepdims=keepdims, ddof=ddof)
def _std_vjp(g, ans, x, axis=None, keepdims=False, ddof=0):
    # d std / dx_i = (x_i - mean) / ((n - ddof) std).  Where std = 0 every x_i equals the
    # mean, and the gradient is 0 (as PyTorch), not 0/0: divide by 1 there instead.
    safe = where(eq(ans, 0), 1, ans)
    return (_expand(g / safe, x.shape, axis, keepdims) * (x - mean(x, axis, keepdims=True))
            / (_count(x.shape, axis) - ddof))


_std.defvjp(_std_vjp,
            formulas=[('(x - x̄)/((n - ddof)·y)', 'g·(x - x̄)/((n - ddof)·y)')])


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation over ``axis`` (see ``var`` for ``ddof``)."""
    return _std(x, axis=axis, keepdims=keepdims, ddof=ddof)


def _stable_max(x, axis):
    m = xp.max(x, axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0)      # all -inf rows: shift by 0, not by -inf


@primitive(name="logsumexp")
def _logsumexp(x, axis, keepdims=False):
    m = _stable_max(x, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)
# d/dx_i log sum_j e^{x_j} = e^{x_i} / sum_j e^{x_j} = exp(x_i - lse)
_logsumexp.defvjp(lambda g, ans, x, axis, keepdims=False:
                  _expand(g, x.shape, axis, keepdims) * exp(x - _expand(ans, x.shape, axis, keepdims)),
                  formulas=[('softmax(x)', 'g·softmax(x)')])


def logsumexp(x, axis, keepdims=False):
    """log(sum(exp(x), axis)), computed without overflow by shifting by the maximum."""
    return _logsumexp(x, axis=axis, keepdims=keepdims)


@primitive(name="softmax")
def _softmax(x, axis=-1):
    e = xp.exp(x - _stable_max(x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)
# J = diag(s) - s s^T, so  J^T g = s * (g - <g, s>)
_softmax.defvjp(lambda g, ans, x, axis=-1: ans * (g - sum(g * ans, axis, keepdims=True)),
                formulas=[('diag(y) - y yᵀ', 'y·(g - Σ g·y)')])


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``; stable for any finite logits."""
    return _softmax(x, axis=axis)


@primitive(name="log_softmax")
def _log_softmax(x, axis=-1):
    shifted = x - _stable_max(x, axis)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
# d/dx_j (x_i - lse) = delta_ij - softmax_j,  so  J^T g = g - softmax * sum(g)
_log_softmax.defvjp(lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis, keepdims=True),
                    formulas=[('I - softmax(x)', 'g - eʸ·Σ g')])


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis``; stable for any finite logits."""
    return _log_softmax(x, axis=axis)


@primitive(name="argmax", differentiable=False)
def _argmax(x, axis=None):
    return xp.argmax(x, axis=axis)


@primitive(name="argmin", differentiable=False)
def _argmin(x, axis=None):
    return xp.argmin(x, axis=axis)


def argmax(x, axis=None):
    """Index of the largest element (no gradient)."""
    return _argmax(x, axis=axis)


def argmin(x, axis=None):
    """Index of the smallest element (no gradient)."""
    return _argmin(x, axis=axis)
