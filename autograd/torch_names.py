"""PyTorch spellings on the Tensor, with one rule: never silently in between.

chaingrad speaks two dialects.  numpy spellings keep numpy's meaning
(``axis=``, ``keepdims=``, ``t.max(axis)`` gives the values, ``t.std()`` has
``ddof=0``); PyTorch spellings get PyTorch's meaning (``dim=``, ``keepdim=``,
``t.max(dim=1)`` gives ``(values, indices)``, ``t.std(dim=1)`` uses correction
1, ``view``, ``permute``, ``clamp``...).  Where the two dialects would mean
different things and a call mixes them, it raises instead of guessing::

    t.sum(dim=1, keepdim=True)      # PyTorch: same as t.sum(axis=1, keepdims=True)
    t.max(dim=1)                    # PyTorch: (values, indices), named like torch.return_types.max
    t.max(axis=1)                   # numpy:   values only
    t.max(1, keepdim=True)          # TypeError: mixes the dialects where they disagree
    t.sum(axis=0, dim=1)            # TypeError: both spellings of the same argument

``translate`` is the only place that maps ``dim``/``keepdim`` onto numpy's
``axis``/``keepdims``; the Tensor methods and the functional forms (``ag.cat``,
``ag.softmax``, ``nn.Softmax``...) all call it.  ``TorchNames`` is a mixin of
the Tensor holding the methods a PyTorch user expects, each a composition of
existing primitives (``view`` is ``reshape``, ``clamp`` is ``clip``...).
"""
from collections import namedtuple

from .backend import xp
from .errors import ShapeError, shape_str


class _NotGiven:
    """Default of ``dim=``: tells "not passed" apart from an explicit ``dim=None``
    (in PyTorch ``t.std(dim=None)`` means "all axes, correction 1")."""

    def __repr__(self):
        return "<not given>"


NOT_GIVEN = _NotGiven()


def translate(op, axis, keepdims, dim, keepdim, *, axis_default=None, strict=False,
              numpy_only=(), pytorch_only=()):
    """Map both spellings of "which axes, and keep them?" to numpy's ``(axis, keepdims)``.

    Returns ``(axis, keepdims, pytorch)``; ``pytorch`` is True when the call used
    the PyTorch spelling (``dim=``, ``keepdim=`` or a name in ``pytorch_only``), so
    an op whose two meanings differ (max, min, var, std) can pick PyTorch's.

    Raises TypeError, naming ``op``, when the same argument is given in both
    spellings (``axis=`` and ``dim=``, ``keepdims=`` and ``keepdim=``) and, for
    ``strict`` ops, when a call mixes the dialects at all: ``numpy_only`` and
    ``pytorch_only`` list the other options that were passed (``ddof``,
    ``correction``...).  A positional axis counts as numpy's ``axis``.
    """
    if (dim is NOT_GIVEN or (dim is None and not strict)) and keepdim is None and not pytorch_only:
        return axis, keepdims, False        # the numpy spelling alone: nothing to translate or check
    dim_names_axes = dim is not NOT_GIVEN and dim is not None
    if dim_names_axes and axis is not None and axis != axis_default:
        raise TypeError(f"{op}: got both axis= (numpy spelling) and dim= (PyTorch spelling); pass one of them")
    if keepdim is not None and keepdims:
        raise TypeError(f"{op}: got both keepdims= (numpy spelling) and keepdim= (PyTorch spelling); pass one of them")
    numpy_names = [n for n, given in (("axis= (or a positional axis)", axis is not None and axis != axis_default),
                                      ("keepdims=", bool(keepdims))) if given] + [n + "=" for n in numpy_only]
    pytorch_names = [n for n, given in (("dim=", dim is not NOT_GIVEN), ("keepdim=", keepdim is not None))
                     if given] + [n + "=" for n in pytorch_only]
    if strict and numpy_names and pytorch_names:
        raise TypeError(
            f"{op}: {', '.join(numpy_names)} is numpy's spelling and {', '.join(pytorch_names)} PyTorch's, "
            f"and {op} means different things in the two; write it all numpy (axis=, keepdims=) "
            f"or all PyTorch (dim=, keepdim=)")
    if dim_names_axes:
        axis = dim
    return axis, bool(keepdims or keepdim), bool(pytorch_names)


# What t.max(dim=...) and t.min(dim=...) return, like torch.return_types.max / .min.
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


def _index_along(indices, axis):
    """The index tuple that picks position ``indices[...]`` along ``axis`` in every slice.

    For a 2-D ``x`` and axis 1, ``x[_index_along(indices, 1)]`` is ``x[i, indices[i]]``
    for every row ``i`` (numpy's ``take_along_axis``, with the axis dropped).
    """
    grids = xp.indices(indices.shape, sparse=True)
    return tuple(grids[:axis]) + (indices,) + tuple(grids[axis:])


def _dtype(dtype):
    """A numpy dtype from anything naming one: np.float32, "float32", or torch.float32."""
    text = str(dtype)
    if text.startswith("torch."):       # torch.float32 -> "float32", without importing torch
        return xp.dtype(text[len("torch."):])
    return xp.dtype(dtype)


def _looks_like_dtype(x):
    """True for a dtype-like argument (as in ``view(np.float32)``), False for shapes and arrays."""
    if isinstance(x, (int, tuple, list)) or (hasattr(x, "shape") and not isinstance(x, type)):
        return False
    try:
        _dtype(x)
    except TypeError:
        return False
    return True


class TorchNames:
    """Tensor methods under the names a PyTorch user types (mixed into :class:`Tensor`).

    Every method is a composition of existing primitives, so gradients, pictures
    and ``create_graph`` work as for the numpy-named methods.
    """
    __slots__ = ()      # the Tensor keeps its slots (no per-instance __dict__)

    # ---- reductions whose PyTorch meaning differs from numpy's ---------------
    def _extreme(self, op, axis, keepdims, dim, keepdim):
        """``max``/``min``: numpy's values, or with ``dim=`` PyTorch's ``(values, indices)``.

        PyTorch sends the gradient of ``max(dim=)`` to the one index it returns
        (not split among ties), so the values are taken by indexing at the
        indices: the gradient of that indexing puts it exactly there.
        """
        from . import ops
        if isinstance(axis, TorchNames):            # t.max(other): elementwise, as torch.max(a, b)
            return (ops.maximum if op == "max" else ops.minimum)(self, axis)
        axis, keepdims, pytorch = translate(op, axis, keepdims, dim, keepdim, strict=True)
        if not pytorch:
            return (ops.max if op == "max" else ops.min)(self, axis, keepdims)
        if not isinstance(axis, (int, xp.integer)):
            raise TypeError(f"{op}(dim=...): dim must be one int (got {axis!r}); for the largest value over "
                            f"several axes use {op}(axis=...) (numpy) or a{op}")
        axis = axis % max(self.ndim, 1)
        indices = (ops.argmax if op == "max" else ops.argmin)(self, axis)
        values = self[_index_along(indices.data, axis)]
        if keepdims:
            values, indices = values.unsqueeze(axis), indices.unsqueeze(axis)
        return (max_result if op == "max" else min_result)(values, indices)

    def _arg_extreme(self, op, axis, keepdims, dim, keepdim):
        """``argmax``/``argmin`` with either spelling (they agree); ``keepdims`` keeps the axis as 1."""
        from . import ops
        axis, keepdims, _ = translate(op, axis, keepdims, dim, keepdim)
        out = getattr(ops, op)(self, axis)
        if not keepdims:
            return out
        return out.reshape((1,) * self.ndim) if axis is None else out.unsqueeze(axis)

    def _logsumexp_spelled(self, axis, keepdims, dim, keepdim):
        from . import ops
        axis, keepdims, _ = translate("logsumexp", axis, keepdims, dim, keepdim)
        if axis is None:
            raise TypeError("logsumexp: needs the axis to reduce, axis= (numpy) or dim= (PyTorch)")
        return ops.logsumexp(self, axis, keepdims)

    def amax(self, dim=None, keepdim=False):
        """PyTorch's ``amax``: the largest values over ``dim`` (int, tuple or None), ties share the gradient."""
        return self.max(axis=dim, keepdims=keepdim)

    def amin(self, dim=None, keepdim=False):
        """PyTorch's ``amin``: the smallest values over ``dim``, ties share the gradient."""
        return self.min(axis=dim, keepdims=keepdim)

    def _spread(self, op, axis, keepdims, ddof, dim, keepdim, correction, unbiased):
        """``var``/``std``: numpy's ``ddof`` (default 0), or PyTorch's ``correction`` (default 1).

        Any PyTorch keyword (``dim``, ``keepdim``, ``correction``, ``unbiased``)
        selects PyTorch's default correction of 1 (Bessel's correction).
        """
        from . import ops
        extras = [n for n, v in (("correction", correction), ("unbiased", unbiased)) if v is not None]
        axis, keepdims, pytorch = translate(op, axis, keepdims, dim, keepdim, strict=True,
                                            numpy_only=["ddof"] if ddof else [], pytorch_only=extras)
        if pytorch:
            if correction is not None and unbiased is not None:
                raise TypeError(f"{op}: got both correction= and unbiased=; pass one of them")
            ddof = correction if correction is not None else (1 if unbiased is None else int(bool(unbiased)))
        return (ops.var if op == "var" else ops.std)(self, axis, keepdims, ddof)

    # ---- shape --------------------------------------------------------------
    def view(self, *shape):
        """PyTorch's ``view``: the same elements in a new shape (here exactly ``reshape``).

        ``t.view(dtype)`` reinterprets the bits in PyTorch; that is not supported.
        """
        if len(shape) == 1 and _looks_like_dtype(shape[0]):
            raise TypeError(f"view({shape[0]}): reinterpreting the bits as another dtype is not supported; "
                            f"to convert the values use .to({shape[0]})")
        return self.reshape(*shape)

    def permute(self, *dims):
        """PyTorch's ``permute(*dims)``: axis ``i`` of the result is axis ``dims[i]`` of ``self``."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ShapeError(f"permute: dims {tuple(dims)} must name each of the {self.ndim} axes of a tensor "
                             f"of shape {shape_str(self.shape)} exactly once")
        return self.transpose(tuple(dims))

    def swapaxes(self, axis0, axis1):
        """Swap two axes (numpy's ``swapaxes``, PyTorch's ``transpose(dim0, dim1)``), on any rank."""
        axes = list(range(self.ndim))
        a, b = axis0 % max(self.ndim, 1), axis1 % max(self.ndim, 1)
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(tuple(axes))

    swapdims = swapaxes

    def _transpose_spelled(self, axes, dim0, dim1):
        """``transpose``'s two dialects: a permutation (numpy) or two axes to swap (PyTorch).

        Two separate ints always swap, on any rank, so ``t.transpose(0, 1)`` is
        PyTorch's matrix transpose; for a 2-D tensor numpy would read it as the
        identity permutation, which nobody writes on purpose.  A tuple, or
        three or more ints, is numpy's permutation; no argument reverses the axes.
        """
        from . import ops
        if dim0 is not None or dim1 is not None:
            if axes or dim0 is None or dim1 is None:
                raise TypeError("transpose: pass both dim0= and dim1= (PyTorch) or the axes (numpy), not a mix")
            return self.swapaxes(dim0, dim1)
        if len(axes) == 2 and all(isinstance(a, int) for a in axes):
            return self.swapaxes(*axes)
        return ops.transpose(self, *axes)

    def _squeeze_spelled(self, axis, dim):
        """numpy's ``squeeze(axis)`` raises on an axis of length > 1; PyTorch's ``squeeze(dim)`` leaves it."""
        from . import ops
        axis, _, pytorch = translate("squeeze", axis, False, dim, None)
        if pytorch and axis is not None:
            axes = axis if isinstance(axis, tuple) else (axis,)
            axis = tuple(a for a in axes if self.shape[a] == 1) or None
            if axis is None:
                return self.reshape(self.shape)     # nothing to drop: a new tensor, as in PyTorch
        return ops.squeeze(self, axis)

    def _unsqueeze_spelled(self, axis, dim):
        from . import ops
        axis, _, _ = translate("unsqueeze", axis, False, dim, None)
        if axis is None:
            raise TypeError("unsqueeze: needs the position of the new axis, axis= (numpy) or dim= (PyTorch)")
        return ops.unsqueeze(self, axis)

    def _flatten(self, start_dim, end_dim):
        """Join axes ``start_dim..end_dim`` (inclusive) into one: PyTorch's ``flatten(1)`` keeps the batch axis."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        if start > end:
            raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for a tensor of shape {shape_str(self.shape)}")
        joined = int(xp.prod(self.shape[start:end + 1]))
        return self.reshape(self.shape[:start] + (joined,) + self.shape[end + 1:])

    def contiguous(self):
        """Every Tensor is contiguous here: returns ``self`` (as PyTorch does for contiguous tensors)."""
        return self

    def expand(self, *sizes):
        """PyTorch's ``expand``: broadcast to ``sizes``, where -1 keeps that axis's length."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    # ---- dtype and copies -----------------------------------------------------
    def to(self, target):
        """``to(dtype)`` converts; ``to(other_tensor)`` takes its dtype; ``to("cpu")`` is ``self``.

        The gradient flows back converted to the input's dtype.  Dtypes may be
        numpy's (``np.float32``), strings (``"float32"``) or ``torch.float32``.
        """
        if isinstance(target, TorchNames):
            return self.type_as(target)
        if isinstance(target, str) and target.split(":")[0] == "cpu":
            return self
        if not _looks_like_dtype(target):
            raise TypeError(f"to({target!r}): expected a dtype, a tensor or 'cpu' (chaingrad runs on the CPU)")
        return self.astype(_dtype(target))

    def cpu(self):
        """The tensor on the CPU: ``self`` (chaingrad computes with numpy on the CPU)."""
        return self

    def float(self):
        """Convert to float32 (PyTorch's ``float()``; recorded, the gradient comes back in this dtype)."""
        return self.astype(xp.float32)

    def double(self):
        """Convert to float64 (PyTorch's ``double()``)."""
        return self.astype(xp.float64)

    def half(self):
        """Convert to float16 (PyTorch's ``half()``)."""
        return self.astype(xp.float16)

    def long(self):
        """Convert to int64 (PyTorch's ``long()``, e.g. for labels; no gradient)."""
        return self.astype(xp.int64)

    def int(self):
        """Convert to int32 (PyTorch's ``int()``; no gradient)."""
        return self.astype(xp.int32)

    def bool(self):
        """Convert to bool (PyTorch's ``bool()``; no gradient)."""
        return self.astype(xp.bool_)

    def type_as(self, other):
        """Convert to ``other``'s dtype."""
        return self.astype(other.dtype)

    def clone(self):
        """A copy with its own memory that stays in the graph (the gradient passes unchanged)."""
        from .ops.torch_extra import clone
        return clone(self)

    # ---- in place (version-counted, outside the graph, like the optimizers' updates) ----
    def zero_(self):
        """Set every element to 0, in place."""
        return self.fill_(0)

    def add_(self, other, alpha=1):
        """``self += alpha * other``, in place (``p.add_(g, alpha=-lr)`` is an SGD step)."""
        return self._inplace("add_", _scaled(other, alpha), _INPLACE["add"])

    def sub_(self, other, alpha=1):
        """``self -= alpha * other``, in place."""
        return self._inplace("sub_", _scaled(other, alpha), _INPLACE["sub"])

    def mul_(self, other):
        """``self *= other``, in place."""
        return self._inplace("mul_", other, _INPLACE["mul"])

    def div_(self, other):
        """``self /= other``, in place."""
        return self._inplace("div_", other, _INPLACE["div"])

    # ---- elementwise -----------------------------------------------------------
    def clamp(self, min=None, max=None):
        """PyTorch's ``clamp(min=, max=)``: with numbers it is ``clip``.  Tensor bounds get
        gradients too, where they win; at a tie the gradient goes to ``self`` (as in PyTorch)."""
        from . import ops
        if min is None and max is None:
            raise TypeError("clamp: at least one of min= and max= must be given")
        if isinstance(min, TorchNames) or isinstance(max, TorchNames):
            out = self if min is None else ops.where(self < min, min, self)
            return out if max is None else ops.where(out > max, max, out)
        return self.clip(min, max)

    def norm(self, p="fro", dim=None, keepdim=False):
        """PyTorch's ``norm``: the p-norm of all elements (``dim=None``) or over ``dim``.

        ``p`` is "fro" or 2 (Euclidean; its gradient at 0 is 0, as PyTorch's), 1,
        inf, -inf or any positive number.
        """
        from .numpy_functions import vector_norm
        out = vector_norm(self, 2 if p == "fro" else p, dim, keepdim)
        if out is None:
            raise ValueError(f"norm: p={p!r} is not supported; use 'fro', 2, 1, inf, -inf or a positive number")
        return out

    def square(self):
        """``self * self``."""
        return self * self

    def pow(self, exponent):
        """``self ** exponent``."""
        return self ** exponent

    # ---- plain Python answers -----------------------------------------------------
    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self.data.tolist()

    def numel(self):
        """Number of elements (numpy's ``size``; note ``t.size`` is numpy's attribute, not a method)."""
        return self.size

    def dim(self):
        """Number of axes (numpy's ``ndim``)."""
        return self.ndim

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor as its number (as PyTorch does)."""
        if self.ndim == 0:
            return format(self.item(), spec)
        return super().__format__(spec)


def _scaled(other, alpha):
    if alpha == 1:
        return other
    return (other.data if isinstance(other, TorchNames) else xp.asarray(other)) * alpha


# numpy ufuncs writing into the tensor's own array; casting="same_kind" refuses e.g. float into int.
_INPLACE = {
    name: (lambda ufunc: lambda a, b: ufunc(a, b, out=a, casting="same_kind"))(ufunc)
    for name, ufunc in (("add", xp.add), ("sub", xp.subtract), ("mul", xp.multiply), ("div", xp.divide))
}
