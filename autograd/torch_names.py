"""PyTorch's convenience methods on the Tensor: ``view``, ``permute``, ``to``, ``clamp``...

The ops themselves answer their PyTorch spellings in their declarations
(``t.sum(dim=1, keepdim=True)``, ``t.max(dim=1)``, see ``dialects.py``).  What
is here are the methods a PyTorch user expects that are compositions of ops
(``view`` is ``reshape``, ``clamp`` is ``clip`` or two ``where``s, ``float()``
is ``astype``...), installed on the Tensor when this module is imported.

Also here: what a PyTorch user meets at the edges.  ``t.size`` stays numpy's
element count, and calling it says to use ``t.shape``; an attribute chaingrad
does not have names what to write instead (the ``INSTEAD`` table, also read
by ``ag.<name>``); ``torch.as_tensor(t)`` reads the values through DLPack.
"""
from .backend import as_dtype, xp
from .errors import ShapeError, shape_str
from .numpy_functions import vector_norm
from .ops import where
from .tensor import Tensor


def _looks_like_dtype(x):
    """True for a dtype-like argument (as in ``view(np.float32)``), False for shapes and arrays."""
    if isinstance(x, (int, tuple, list)) or (hasattr(x, "shape") and not isinstance(x, type)):
        return False
    try:
        as_dtype(x)
    except TypeError:
        return False
    return True


class TorchNames:
    """Tensor methods under the names a PyTorch user types (installed on :class:`Tensor` below).

    Every method is a composition of existing ops, so gradients, pictures
    and ``create_graph`` work as for the numpy-named methods.
    """
    def amax(self, dim=None, keepdim=False):
        """PyTorch's ``amax``: the largest values over ``dim`` (int, tuple or None), ties share the gradient."""
        return self.max(axis=dim, keepdims=keepdim)

    def amin(self, dim=None, keepdim=False):
        """PyTorch's ``amin``: the smallest values over ``dim``, ties share the gradient."""
        return self.min(axis=dim, keepdims=keepdim)

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
        if isinstance(target, Tensor):
            return self.type_as(target)
        if isinstance(target, str) and target.split(":")[0] == "cpu":
            return self
        if not _looks_like_dtype(target):
            raise TypeError(f"to({target!r}): expected a dtype, a tensor or 'cpu' (chaingrad runs on the CPU)")
        return self.astype(as_dtype(target))

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

    # ---- elementwise -----------------------------------------------------------
    def clamp(self, min=None, max=None):
        """PyTorch's ``clamp(min=, max=)``: with numbers it is ``clip``.  Tensor bounds get
        gradients too, where they win; at a tie the gradient goes to ``self`` (as in PyTorch)."""
        if min is None and max is None:
            raise TypeError("clamp: at least one of min= and max= must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self if min is None else where(self < min, min, self)
            return out if max is None else where(out > max, max, out)
        return self.clip(min, max)

    def norm(self, p="fro", dim=None, keepdim=False):
        """PyTorch's ``norm``: the p-norm of all elements (``dim=None``) or over ``dim``.

        ``p`` is "fro" or 2 (Euclidean; its gradient at 0 is 0, as PyTorch's), 1,
        inf, -inf or any positive number.
        """
        out = vector_norm(self, 2 if p == "fro" else p, dim, keepdim)
        if out is None:
            raise ValueError(f"norm: p={p!r} is not supported; use 'fro', 2, 1, inf, -inf or a positive number")
        return out

    # ---- plain Python answers -----------------------------------------------------
    def square(self):
        """``self * self``."""
        return self * self

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self.data.tolist()

    def numel(self):
        """Number of elements (numpy's ``size``; note ``t.size`` is numpy's attribute, not a method)."""
        return self.size

    def dim(self):
        """Number of axes (numpy's ``ndim``)."""
        return self.ndim

    def t(self):
        """PyTorch's ``t()``: a matrix transposed; 0-d and 1-D tensors come back as they are."""
        if self.ndim > 2:
            raise ShapeError(f"t(): expects a tensor of at most 2 dimensions, got shape {shape_str(self.shape)}; "
                             f"use transpose(dim0, dim1) or permute")
        return self.transpose() if self.ndim == 2 else self

    @property
    def grad_fn(self):
        """The graph node of the op that made this tensor (it prints as ``<Node mul ...>``), or
        None for leaves and tensors that do not require grad, as PyTorch's ``grad_fn``."""
        return None if self.is_leaf else self._node


for _name, _fn in vars(TorchNames).items():
    if (callable(_fn) or isinstance(_fn, property)) and not _name.startswith("__"):
        setattr(Tensor, _name, _fn)


# ---- size: numpy's attribute, and a clear error for PyTorch's call ----------------------------------
class ElementCount(int):
    """``t.size``: numpy's element count, an int.  PyTorch's ``t.size()`` is a call, and an
    int cannot be called: this int subclass only adds an error message that says so
    (instead of Python's "'int' object is not callable")."""

    def __call__(self, dim=None):
        raise TypeError(f"t.size is numpy's element count ({int(self)}), not PyTorch's size(): use t.shape "
                        f"(or t.shape[dim]) for the sizes of the axes, and t.numel() for the count")


Tensor.size = property(lambda self: ElementCount(self._data.size),
                       doc="Number of elements (numpy's ``size``); ``t.shape`` gives the axes' sizes.")


# ---- names PyTorch and numpy have that chaingrad spells otherwise, or does not have -------------------
INSTEAD = {
    "cuda": "chaingrad runs on the CPU (numpy); there is no GPU device: drop .cuda()",
    "is_cuda": "chaingrad runs on the CPU (numpy): a tensor is never on a GPU",
    "device": "chaingrad runs on the CPU (numpy): there is no device attribute; .to('cpu') and .cpu() return the tensor",
    "get_device": "chaingrad runs on the CPU (numpy): there is no device",
    "pin_memory": "chaingrad runs on the CPU (numpy): there is nothing to pin",
    "new_zeros": "use ag.zeros(shape, dtype=t.dtype)",
    "new_ones": "use ag.ones(shape, dtype=t.dtype)",
    "new_full": "use ag.full(shape, value, dtype=t.dtype)",
    "new_empty": "use ag.empty(shape, dtype=t.dtype)",
    "new_tensor": "use ag.tensor(data, dtype=t.dtype)",
    "masked_fill": "use ag.where(mask, value, t)",
    "masked_fill_": "use t = ag.where(mask, value, t) (in place only under ag.no_grad(): t[mask] = value)",
    "index_select": "index with an array: t[idx] (dim 0) or t[:, idx]",
    "gather": "use np.take_along_axis(t, idx, axis) (an engine op)",
    "scatter": "not provided: build the result with ag.where or indexing",
    "scatter_add": "not provided: indexing's gradient scatter-adds; build the result with ag.where or indexing",
    "repeat": "PyTorch's repeat is np.tile(t, reps) (an engine op); numpy's repeat is np.repeat(t, n, axis)",
    "expand_as": "use t.broadcast_to(other.shape) (or t.expand(*other.shape))",
    "view_as": "use t.reshape(other.shape)",
    "reshape_as": "use t.reshape(other.shape)",
    "narrow": "slice it: t[start:start + length] (or t[:, start:start + length] for dim 1)",
    "unbind": "use list(t) (dim 0) or ag.split(t, 1, dim) and squeeze",
    "detach_": "use t = t.detach()",
    "cumprod": "not provided: use ag.exp(ag.log(t).cumsum(dim)) for positive t",
    "fill": "use t.fill_(value) (numpy's ndarray.fill is in place too)",
    "copy": "use t.clone() (a copy that stays in the graph) or t.detach().numpy().copy()",
    "dot": "use t @ other (ag.matmul) or np.dot(t, other)",
    "all": "use (t != 0).numpy().all(): the answer has no gradient",
    "any": "use (t != 0).numpy().any(): the answer has no gradient",
    "nonzero": "use np.nonzero(t) (no gradient)",
    "round": "use np.round(t) (no gradient)",
    "floor": "use np.floor(t) (no gradient)",
    "ceil": "use np.ceil(t) (no gradient)",
    "trace": "use np.trace(t) (an engine op)",
    "diagonal": "use np.diagonal(t) (an engine op)",
    "abs_": "use t = t.abs()",
    "exp_": "use t = t.exp()",
    "relu_": "use t = t.relu()",
    "clamp_": "use t = t.clamp(...) (in place only under ag.no_grad())",
    "uniform_": "use nn.init.uniform_(t) (it works under ag.no_grad())",
    "normal_": "use nn.init.normal_(t) (it works under ag.no_grad())",
    "storage": "not provided: t.data is the ndarray",
    "data_ptr": "not provided: t.data is the ndarray (see t.data.ctypes.data)",
    "stride": "not provided: t.data.strides gives numpy's strides in bytes",
    "element_size": "use t.dtype.itemsize",
    "nelement": "use t.numel() (or t.size, numpy's count)",
    "ndimension": "use t.dim() (or t.ndim)",
    "is_contiguous": "not provided: t.contiguous() returns t (numpy handles the memory layout)",
    "sum_to_size": "use t.sum(axis=..., keepdims=True)",
}


def _missing_attribute(self, name):
    """Called only when normal lookup fails: say what chaingrad offers instead."""
    if name.startswith("__") and name.endswith("__"):     # protocols probed by numpy, torch, copy...
        raise AttributeError(f"'Tensor' object has no attribute {name!r}")
    hint = INSTEAD.get(name)
    if hint is None:
        raise AttributeError(f"'Tensor' object has no attribute {name!r}; see the spelling table in the "
                             f"README ('PyTorch and numpy spellings') for what chaingrad offers")
    raise AttributeError(f"'Tensor' object has no attribute {name!r}: {hint}")


Tensor.__getattr__ = _missing_attribute


def module_attribute_hint(name):
    """For ``ag.<name>`` that does not exist: the hint of the table above, or a pointer to
    numpy's function when numpy has one (``np.<name>(t)`` may be an engine op)."""
    hint = INSTEAD.get(name)
    if hint is not None:
        return hint
    if hasattr(xp, name):
        return f"numpy has np.{name}: try np.{name}(t) on a Tensor (it runs the engine op or says why not)"
    return None


# ---- torch.as_tensor(t): DLPack, the protocol torch reads before trying t as a sequence ----------------
def _dlpack(self, **options):
    """Hand the values to another library without a copy (``torch.as_tensor(t)``,
    ``np.from_dlpack(t)``).  Like ``np.asarray(t)``, refused for a tensor that records a
    graph, since the other library's result would not carry the gradient."""
    self.__array__()            # raises for a recording tensor (the message names the ways out)
    return self._writable().__dlpack__(**options)


def _dlpack_device(self):
    return self._writable().__dlpack_device__()


Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = _dlpack_device
