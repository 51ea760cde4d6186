"""Reductions (sum, mean, max, min, var, std, logsumexp, prod), cumsum and the softmax pair.

A reduction's VJP spreads the upstream gradient back over the reduced axes:
``_expand`` puts the reduced axes back (as size 1) and broadcasts to the
input's shape.  Options follow numpy (``axis=``, ``keepdims=``); PyTorch's
``dim=``/``keepdim=`` are the same options where the two dialects agree.
Where they disagree (max, min, var, std), the public function picks the
meaning by the spelling (see ``dialects.translate``).
"""
import builtins
from collections import namedtuple

from ..backend import xp
from ..dialects import NOT_GIVEN, function, translate
from ..primitive import primitive
from ..tensor import Tensor
from .arithmetic import eq, maximum, minimum, where
from .elementwise import exp
from .shape import _transpose, broadcast_to, flip, getitem, unsqueeze

DIMS = {"dim": "axis", "keepdim": "keepdims"}     # PyTorch's names of the same options


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


@primitive(linear=True, method="sum", numpy=[xp.sum], torch=DIMS)
def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (int, tuple or None for all).  d/dx_i = 1 for every summed element."""
    return xp.sum(x, axis=axis, keepdims=keepdims)
sum.defvjp(lambda g, ans, x, axis=None, keepdims=False: _expand(g, x.shape, axis, keepdims),
           formulas=[('1', 'g spread over the summed axes')])


@primitive(linear=True, method="mean", numpy=[xp.mean], torch=DIMS)
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; each element gets 1/n of the gradient."""
    return xp.mean(x, axis=axis, keepdims=keepdims)
mean.defvjp(lambda g, ans, x, axis=None, keepdims=False:
            _expand(g, x.shape, axis, keepdims) / _count(x.shape, axis),
            formulas=[('1/n', 'g spread over the averaged axes, / n')])


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


# What max(dim=...) and min(dim=...) return, like torch.return_types.max / .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


@function(Tensor, numpy=[xp.max, xp.amax])
def max(x, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
    """Largest element over ``axis``; tied maxima split the gradient evenly (numpy's meaning).

    PyTorch's spelling ``max(dim=1)`` gives ``(values, indices)``, the gradient going
    to the index; ``t.max(other)`` is the elementwise ``maximum``.
    """
    return _extreme("max", x, axis, keepdims, dim, keepdim)


@function(Tensor, numpy=[xp.min, xp.amin])
def min(x, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
    """Smallest element over ``axis``; tied minima split the gradient evenly (see ``max``)."""
    return _extreme("min", x, axis, keepdims, dim, keepdim)


# The methods add PyTorch's one more meaning: t.max(other) is the elementwise maximum.
def _max_method(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
    if isinstance(axis, Tensor) and axis.ndim > 0 or isinstance(axis, Tensor) and axis.dtype.kind == "f":
        return maximum(self, axis)
    return max(self, axis, keepdims, dim=dim, keepdim=keepdim)


def _min_method(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
    if isinstance(axis, Tensor) and axis.ndim > 0 or isinstance(axis, Tensor) and axis.dtype.kind == "f":
        return minimum(self, axis)
    return min(self, axis, keepdims, dim=dim, keepdim=keepdim)


Tensor.max, Tensor.min = _max_method, _min_method
max.spellings["method"], min.spellings["method"] = ("max",), ("min",)


def _extreme(op, x, axis, keepdims, dim, keepdim):
    if isinstance(axis, Tensor) and axis.ndim == 0 and axis.dtype.kind in "iu":
        axis = int(axis)
    if isinstance(axis, Tensor) or (axis is not None and not isinstance(axis, (int, tuple, list, xp.integer))):
        raise TypeError(f"{op}(a, b): the second argument is the axis; for the elementwise "
                        f"{'largest' if op == 'max' else 'smallest'} of two tensors use "
                        f"ag.{'maximum' if op == 'max' else 'minimum'}(a, b)")
    axis, keepdims, pytorch = translate(op, axis, keepdims, dim, keepdim, strict=True)
    if not pytorch:
        return (_max if op == "max" else _min)(x, axis, keepdims)
    # PyTorch sends the gradient of max(dim=) to the one index it returns (not split among
    # ties), so the values are taken by indexing at the indices.
    if not isinstance(axis, (int, xp.integer)):
        raise TypeError(f"{op}(dim=...): dim must be one int (got {axis!r}); for the largest value over "
                        f"several axes use {op}(axis=...) (numpy) or a{op}")
    axis = axis % builtins.max(x.ndim, 1)
    indices = (argmax if op == "max" else argmin)(x, axis)
    values = getitem(x, _index_along(indices.data, axis))
    if keepdims:
        values, indices = unsqueeze(values, axis), unsqueeze(indices, axis)
    return (max_result if op == "max" else min_result)(values, indices)


def _index_along(indices, axis):
    """The index tuple that picks position ``indices[...]`` along ``axis`` in every slice
    (numpy's ``take_along_axis``, with the axis dropped)."""
    grids = xp.indices(indices.shape, sparse=True)
    return tuple(grids[:axis]) + (indices,) + tuple(grids[axis:])


@primitive(name="var")
def _var(x, axis=None, keepdims=False, ddof=0):
    return xp.var(x, axis=axis, keepdims=keepdims, ddof=ddof)
# d var / dx_i = 2 (x_i - mean) / (n - ddof)
_var.defvjp(lambda g, ans, x, axis=None, keepdims=False, ddof=0:
            _expand(g, x.shape, axis, keepdims) * 2 * (x - mean(x, axis, keepdims=True))
            / (_count(x.shape, axis) - ddof),
            formulas=[('2(x - x̄)/(n - ddof)', 'g·2(x - x̄)/(n - ddof)')])


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


@function(Tensor, method="var", numpy=[xp.var])
def var(x, axis=None, keepdims=False, ddof=0, *, dim=NOT_GIVEN, keepdim=None, correction=None,
        unbiased=None):
    """Variance over ``axis`` with numpy's ``ddof`` (0 unless given: biased); PyTorch's
    spelling (``dim=``, ``keepdim=``, ``correction=``/``unbiased=``) uses correction 1."""
    return _spread("var", x, axis, keepdims, ddof, dim, keepdim, correction, unbiased)


@function(Tensor, method="std", numpy=[xp.std])
def std(x, axis=None, keepdims=False, ddof=0, *, dim=NOT_GIVEN, keepdim=None, correction=None,
        unbiased=None):
    """Standard deviation over ``axis`` (see ``var`` for ``ddof`` and PyTorch's spelling)."""
    return _spread("std", x, axis, keepdims, ddof, dim, keepdim, correction, unbiased)


def _spread(op, x, axis, keepdims, ddof, dim, keepdim, correction, unbiased):
    extras = [n for n, v in (("correction", correction), ("unbiased", unbiased)) if v is not None]
    axis, keepdims, pytorch = translate(op, axis, keepdims, dim, keepdim, strict=True,
                                        numpy_only=["ddof"] if ddof else [], pytorch_only=extras)
    if pytorch:
        if correction is not None and unbiased is not None:
            raise TypeError(f"{op}: got both correction= and unbiased=; pass one of them")
        ddof = correction if correction is not None else (1 if unbiased is None else int(bool(unbiased)))
    return (_var if op == "var" else _std)(x, axis, keepdims, ddof)


def _stable_max(x, axis):
    m = xp.max(x, axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0)      # all -inf rows: shift by 0, not by -inf


@primitive(method="logsumexp", torch=DIMS)
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x), axis)), computed without overflow by shifting by the maximum."""
    if axis is None:
        raise TypeError("logsumexp: needs the axis to reduce, axis= (numpy) or dim= (PyTorch)")
    m = _stable_max(x, axis)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)
# d/dx_i log sum_j e^{x_j} = e^{x_i} / sum_j e^{x_j} = exp(x_i - lse)
logsumexp.defvjp(lambda g, ans, x, axis, keepdims=False:
                 _expand(g, x.shape, axis, keepdims) * exp(x - _expand(ans, x.shape, axis, keepdims)),
                 formulas=[('softmax(x)', 'g·softmax(x)')])


@primitive(method="softmax", torch={"dim": "axis"})
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (or PyTorch's ``dim``); stable for any finite logits."""
    e = xp.exp(x - _stable_max(x, axis))
    return e / xp.sum(e, axis=axis, keepdims=True)
# J = diag(s) - s s^T, so  J^T g = s * (g - <g, s>)
softmax.defvjp(lambda g, ans, x, axis=-1: ans * (g - sum(g * ans, axis, keepdims=True)),
               formulas=[('diag(y) - y yᵀ', 'y·(g - Σ g·y)')])


@primitive(method="log_softmax", torch={"dim": "axis"})
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along ``axis`` (or PyTorch's ``dim``); stable for any finite logits."""
    shifted = x - _stable_max(x, axis)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
# d/dx_j (x_i - lse) = delta_ij - softmax_j,  so  J^T g = g - softmax * sum(g)
log_softmax.defvjp(lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis, keepdims=True),
                   formulas=[('I - softmax(x)', 'g - eʸ·Σ g')])


@primitive(differentiable=False, method="argmax", numpy=[xp.argmax], torch=DIMS)
def argmax(x, axis=None, keepdims=False):
    """Index of the largest element (no gradient)."""
    return xp.argmax(x, axis=axis, keepdims=keepdims)


@primitive(differentiable=False, method="argmin", numpy=[xp.argmin], torch=DIMS)
def argmin(x, axis=None, keepdims=False):
    """Index of the smallest element (no gradient)."""
    return xp.argmin(x, axis=axis, keepdims=keepdims)


# ---- scans and products --------------------------------------------------------------------------
@primitive(linear=True, method="cumsum", numpy=[xp.cumsum], torch={"dim": "axis"})
def cumsum(x, axis=None):
    """Running sums along ``axis`` (numpy: None flattens first; PyTorch's ``dim=``).

    y_i = x_0 + ... + x_i, so dL/dx_j = g_j + ... + g_last: the running sum of the
    gradient taken from the end (flip, cumsum, flip back).
    """
    return xp.cumsum(x, axis=axis)


def _cumsum_vjp(g, ans, x, axis=None):
    if axis is None:                          # y is x flattened, then summed
        return flip(cumsum(flip(g, 0), 0), 0).reshape(x.shape)
    return flip(cumsum(flip(g, axis), axis), axis)


cumsum.defvjp(_cumsum_vjp, formulas=[('[j ≤ i]', 'g summed from the end')])


@primitive(method="prod", numpy=[xp.prod], torch=DIMS)
def prod(x, axis=None, keepdims=False):
    """Product over ``axis`` (int, tuple or None for all).

    d/dx_i of x_0 x_1 ... x_n is the product of the *other* factors, computed
    without dividing by x_i, so it is exact where some factors are 0.
    """
    return xp.prod(x, axis=axis, keepdims=keepdims)


def _prod_vjp(g, ans, x, axis=None, keepdims=False):
    # Move the reduced axes to the end as one axis, take each element's product of
    # the others there, and move the result back.
    reduced = _axes(axis, x.ndim)
    perm = tuple(i for i in range(x.ndim) if i not in reduced) + reduced
    moved = _transpose(x, axes=perm)
    lead = moved.shape[:x.ndim - len(reduced)]
    others = _others_product(moved.reshape(lead + (_count(x.shape, axis),))).reshape(moved.shape)
    return _expand(g, x.shape, axis, keepdims) * _transpose(others, axes=tuple(xp.argsort(perm)))


prod.defvjp(_prod_vjp, formulas=[('∏ of the other factors', 'g·∏_{j≠i} x_j')])


@primitive(name="others_product")
def _others_product(x):
    """Along the last axis, each element's product of all the other elements:
    (exclusive running product from the left) * (exclusive running product from the right)."""
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(x, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return left * right


def _others_product_vjp(g, ans, x):
    # d P_i / d x_k (k != i) is the product of the elements other than i and k: row k of
    # `rows` is x with x_k set to 1, so its "others" product at i is exactly that.
    n = x.shape[-1]
    diagonal = xp.eye(n, dtype=bool)
    rows = where(diagonal, 1.0, unsqueeze(x, -2))          # (..., k, i)
    return sum(where(diagonal, 0.0, _others_product(rows)) * unsqueeze(g, -2), -1)


_others_product.defvjp(_others_product_vjp, formulas=[('∏_{j≠i,k} x_j', 'Σ_{i≠k} g_i ∏_{j≠i,k} x_j')])
