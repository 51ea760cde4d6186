"""Ops that move elements around without changing them: their VJPs move the
gradient back (reshape it back, transpose it back, scatter it back).

A few public functions normalise their arguments before the primitive runs
(``reshape(2, 3)`` or ``reshape((2, 3))``; an index holding Tensors; PyTorch's
``dim=`` spellings); they are declared with ``function`` next to their primitive.
"""
from ..backend import xp
from ..dialects import NOT_GIVEN, function, translate
from ..errors import ShapeError, shape_str
from ..primitive import primitive
from ..tensor import Tensor, index_arrays


def _shape_arg(shape):
    """Accept ``reshape(2, 3)`` as well as ``reshape((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


@primitive(name="reshape", linear=True)
def _reshape(x, shape):
    return xp.reshape(x, shape)
_reshape.defvjp(lambda g, ans, x, shape: _reshape(g, shape=x.shape),
                formulas=[('1 (moved)', 'g reshaped back')])


@function(Tensor, method="reshape")
def reshape(x, *shape):
    """The same elements in a new shape (one dimension may be -1)."""
    return _reshape(x, _shape_arg(shape))


@function(Tensor, method="flatten")
def flatten(x, start_dim=0, end_dim=-1):
    """All elements in one axis; PyTorch's ``flatten(start_dim, end_dim)`` joins just those
    axes (inclusive), so ``flatten(1)`` keeps the batch axis."""
    if x.ndim == 0:
        return _reshape(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {shape_str(x.shape)}")
    joined = int(xp.prod(x.shape[start:end + 1]))
    return _reshape(x, x.shape[:start] + (joined,) + x.shape[end + 1:])


@primitive(name="transpose", linear=True)
def _transpose(x, axes=None):
    return xp.transpose(x, axes)
_transpose.defvjp(lambda g, ans, x, axes=None:
                  _transpose(g, axes=None if axes is None else tuple(xp.argsort(axes))),
                  formulas=[('1 (moved)', 'g transposed back')])


@function(Tensor, method="transpose")
def transpose(x, *axes, dim0=None, dim1=None):
    """Permute axes (reverse them when none are given); the VJP applies the inverse permutation.

    ``transpose(x, (1, 0, 2))`` is numpy's permutation; two separate ints,
    ``transpose(x, 0, 1)`` (or ``dim0=, dim1=``), are PyTorch's spelling (numpy
    has none) and swap those two axes, on any rank.
    """
    if dim0 is not None or dim1 is not None:
        if axes or dim0 is None or dim1 is None:
            raise TypeError("transpose: pass both dim0= and dim1= (PyTorch) or the axes (numpy), not a mix")
        axes = (dim0, dim1)
    if len(axes) == 2 and all(isinstance(a, (int, xp.integer)) for a in axes):
        d0, d1 = (a % x.ndim for a in axes)
        perm = list(range(x.ndim))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        axes = tuple(perm)
    axes = _shape_arg(axes) if axes else None
    if axes is not None:
        # Negative axes must be made positive, or the VJP's argsort inverts the wrong permutation.
        axes = tuple(int(a) % x.ndim if -x.ndim <= a < x.ndim else a for a in axes)
    return _transpose(x, axes)


Tensor.T = property(lambda self: _transpose(self), doc="The axes reversed (a matrix's transpose).")


@primitive(linear=True, method="broadcast_to", numpy=[xp.broadcast_to])
def broadcast_to(x, shape):
    """``x`` repeated along new or length-1 axes to ``shape``."""
    return xp.broadcast_to(x, tuple(shape))
# The engine sums the gradient back to x's shape (unbroadcast), so the VJP is the identity.
broadcast_to.defvjp(lambda g, ans, x, shape: g,
                    formulas=[('1 (copied)', 'g summed over the copies')])


@function(Tensor, method="squeeze", numpy=[xp.squeeze])
def squeeze(x, axis=None, *, dim=NOT_GIVEN):
    """Drop axes of length 1 (all of them when ``axis`` is None).  numpy's ``axis=`` raises on
    an axis longer than 1; PyTorch's ``dim=`` leaves such an axis alone."""
    axis, _, pytorch = translate("squeeze", axis, False, dim, None)
    if pytorch and axis is not None:
        axes = axis if isinstance(axis, tuple) else (axis,)
        axis = tuple(a for a in axes if x.shape[a] == 1) or None
        if axis is None:
            return _reshape(x, x.shape)     # nothing to drop: a new tensor, as in PyTorch
    return _reshape(x, xp.squeeze(xp.empty(x.shape, dtype=bool), axis=axis).shape)


@function(Tensor, method="unsqueeze")
def unsqueeze(x, axis=None, *, dim=None):
    """Insert an axis of length 1 at ``axis`` (or PyTorch's ``dim``)."""
    axis, _, _ = translate("unsqueeze", axis, False, dim, None)
    if axis is None:
        raise TypeError("unsqueeze: needs the position of the new axis, axis= (numpy) or dim= (PyTorch)")
    return _reshape(x, xp.expand_dims(xp.empty(x.shape, dtype=bool), axis).shape)


def _has_int_array(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, xp.ndarray) and i.dtype.kind in "iu" for i in items)


@primitive(name="getitem", linear=True)
def _getitem(x, index):
    return x[index]
_getitem.defvjp(lambda g, ans, x, index: _scatter_add(g, shape=x.shape, index=index),
                formulas=[('1 at index', 'g scattered into zeros at index')])


@primitive(name="scatter_add", linear=True)
def _scatter_add(g, shape, index):
    """Zeros of ``shape`` with ``g`` added at ``index``: the transpose of indexing."""
    out = xp.zeros(shape, dtype=g.dtype)
    if _has_int_array(index):
        xp.add.at(out, index, g)     # repeated indices must accumulate, plain assignment would not
    else:
        out[index] = g
    return out
_scatter_add.defvjp(lambda g, ans, x, shape, index: _getitem(g, index=index),
                    formulas=[('1 at index', 'g[index]')])


@function(Tensor, method="__getitem__")
def getitem(x, index):
    """``x[index]`` with ints, slices, None, Ellipsis, integer arrays and bool masks."""
    return _getitem(x, index_arrays(index))


def _offsets(sizes):
    out, start = [], 0
    for n in sizes:
        out.append((start, start + n))
        start += n
    return out


# cat and stack take any number of inputs, so their VJPs are given for all inputs at
# once (defvjp_all): one pass over the gradient, not one call per input with all of them.
@primitive(name="cat", linear=True, promotes=True)
def _cat(*xs, axis=0):
    return xp.concatenate(xs, axis=axis)
_cat.defvjp_all(lambda g, ans, *xs, axis=0:
                [_getitem(g, index=(slice(None),) * (axis % ans.ndim) + (slice(lo, hi),))
                 for lo, hi in _offsets([x.shape[axis % ans.ndim] for x in xs])],
                formula=('1 on its slice', 'g sliced back'))


@primitive(name="stack", linear=True, promotes=True)
def _stack(*xs, axis=0):
    return xp.stack(xs, axis=axis)
_stack.defvjp_all(lambda g, ans, *xs, axis=0:
                  [_getitem(g, index=(slice(None),) * (axis % ans.ndim) + (i,)) for i in range(len(xs))],
                  formula=('1 on its slice', 'g[i] along the new axis'))


@function(Tensor)
def cat(ts, axis=0, *, dim=None):
    """Join tensors along an existing ``axis`` (or PyTorch's ``dim``); the VJP slices the gradient apart."""
    ts = tuple(ts)
    if not ts:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    return _cat(ts, translate("cat", axis, False, dim, None, axis_default=0)[0])


@function(Tensor, numpy=[xp.stack])
def stack(ts, axis=0, *, dim=None):
    """Join tensors along a new ``axis`` (or PyTorch's ``dim``); the VJP takes each slice back."""
    ts = tuple(ts)
    if not ts:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    return _stack(ts, translate("stack", axis, False, dim, None, axis_default=0)[0])


def _slices(x, axis, bounds):
    """The pieces ``x[..., lo:hi, ...]`` along ``axis`` between consecutive ``bounds``
    (each piece a getitem of ``x``, so its gradient lands on its slice)."""
    ax = axis % x.ndim
    return tuple(getitem(x, (slice(None),) * ax + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:]))


@function(Tensor, method="split")
def split(x, split_size_or_sections, dim=0):
    """PyTorch's ``split``: pieces of ``split_size`` along ``dim`` (the last may be shorter),
    or pieces of the given sizes (a list that adds up to the axis length).

    numpy has no ``ndarray.split`` method, so this is the PyTorch spelling;
    ``np.split(t, n)`` keeps numpy's meaning (n equal pieces, or split *indices*).
    """
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split")
    n = x.shape[dim]
    if isinstance(split_size_or_sections, (int, xp.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {size}")
        bounds = list(range(0, n, size)) + [n] if n else [0, 0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, the length of "
                             f"dim {dim}; for numpy's split at indices use np.split(t, indices)")
        bounds = [0]
        for s in sizes:
            bounds.append(bounds[-1] + s)
    return _slices(x, dim, bounds)


@function(Tensor, method="chunk")
def chunk(x, chunks, dim=0):
    """PyTorch's ``chunk``: ``chunks`` pieces of ceil(n / chunks) along ``dim`` (fewer when
    the length does not allow that many, as in PyTorch)."""
    if not isinstance(chunks, (int, xp.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = x.shape[dim] if x.ndim else 0
    return split(x, max(-(-n // int(chunks)), 1), dim)


@function(Tensor, method="ravel", numpy=[xp.ravel])
def ravel(x):
    """All elements in one axis (numpy's ``ravel``; the same as ``flatten()``)."""
    return _reshape(x, (-1,))


@primitive(name="pad", linear=True)
def _pad(x, pad_width):
    return xp.pad(x, pad_width)
_pad.defvjp(lambda g, ans, x, pad_width:
            _getitem(g, index=tuple(slice(lo, lo + n) for (lo, hi), n in zip(pad_width, x.shape))),
            formulas=[('1 inside', 'g cropped')])


@function(Tensor, method="pad")
def pad(x, pad_width):
    """Zero-pad like ``np.pad(x, pad_width)``; the VJP crops the gradient."""
    pw = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (x.ndim, 2))
    return _pad(x, tuple(tuple(int(v) for v in row) for row in pw))


@primitive(linear=True, method="flip", numpy=[xp.flip], torch={"dims": "axis"})
def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    return xp.flip(x, axis)
flip.defvjp(lambda g, ans, x, axis=None: flip(g, axis),
            formulas=[('1 (moved)', 'g flipped back')])
