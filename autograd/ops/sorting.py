"""Ordering: ``argsort`` (no gradient), and PyTorch's ``sort`` and ``topk``.

``sort`` and ``topk`` return PyTorch's named tuple ``(values, indices)``.  The
values are the input *indexed* at the indices (one ``getitem``), so the
gradient goes back to the picked positions and nowhere else, to each
position once: the VJP of indexing scatters it back.

``sort`` is one of the two named exceptions to the spelling rule (see the
README): numpy's ``ndarray.sort()`` sorts in place and returns None, which
has no use on a graph tensor, so the method follows PyTorch.  ``np.sort(t)``
keeps numpy's meaning (the values; ``numpy_functions.py``).
"""
from collections import namedtuple

from ..backend import xp
from ..dialects import function
from ..primitive import primitive
from ..tensor import Tensor
from .shape import getitem

sort_result = namedtuple("sort", ["values", "indices"])        # like torch.return_types.sort
topk_result = namedtuple("topk", ["values", "indices"])


def _order(data, axis, descending):
    """Stable ascending (or descending) order of ``data`` along ``axis``: equal values keep
    their order in both directions, as PyTorch's ``stable=True``."""
    if descending:
        key = data.astype(xp.int64) if data.dtype.kind in "bu" else data
        return xp.argsort(-key, axis=axis, kind="stable")
    return xp.argsort(data, axis=axis, kind="stable")


@primitive(differentiable=False, method="argsort", torch={"dim": "axis"})
def argsort(x, axis=-1, descending=False):
    """The indices that sort ``x`` along ``axis`` (PyTorch: ``dim=``, ``descending=``); stable,
    so equal values keep their order.  Indices carry no gradient."""
    return _order(x, axis, descending)


def _pick(x, indices, axis):
    """``x`` at ``indices`` along ``axis`` (numpy's take_along_axis) as one getitem."""
    grids = list(xp.indices(indices.shape, sparse=True))
    grids[axis] = indices
    return getitem(x, tuple(grids))


@function(Tensor, method="sort")
def sort(x, dim=-1, descending=False, *, stable=False):
    """PyTorch's ``sort``: ``(values, indices)`` along ``dim``, ascending unless ``descending``.

    Always stable (``stable=`` is accepted for PyTorch's signature).  The gradient
    of ``values`` goes to the positions the values came from.
    """
    if x.ndim == 0:
        return sort_result(getitem(x, ()), Tensor(xp.array(0)))
    axis = dim % x.ndim
    indices = _order(x.data, axis, descending)
    return sort_result(_pick(x, indices, axis), Tensor(indices))


@function(Tensor, method="topk")
def topk(x, k, dim=-1, largest=True, sorted=True):
    """PyTorch's ``topk``: the ``k`` largest (or smallest) entries along ``dim`` and their
    indices; the gradient goes to those positions.  Ties keep the earlier index first."""
    if x.ndim == 0:
        if k not in (0, 1):
            raise ValueError(f"topk: k={k} is out of range for a 0-d tensor")
        return topk_result(getitem(x, ()), Tensor(xp.array(0)))
    axis = dim % x.ndim
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dimension {dim} of length {n}")
    indices = xp.take(_order(x.data, axis, largest), xp.arange(k), axis=axis)
    return topk_result(_pick(x, indices, axis), Tensor(indices))
