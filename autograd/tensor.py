"""The Tensor: an ndarray, plus what reverse mode needs to send gradients back to it.

A Tensor made by the user is a *leaf*; a Tensor made by a primitive op on
inputs that require grad points at the :class:`~autograd.graph.Node` that
recorded the op.  Scalars are 0-d Tensors and mix freely with Python numbers::

    x = ag.tensor(3.0, requires_grad=True)
    y = 2 * x + 2 + x ** 2      # 0-d Tensors all the way
    y.backward()
    x.grad                      # tensor(8.)
"""
from . import backend, graph
from .backend import xp
from .errors import GradDtypeError, ShapeError, shape_str
from .torch_names import NOT_GIVEN, TorchNames, translate


class Tensor(TorchNames):
    """An n-dimensional array that can record the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is
    anything ``np.asarray`` takes; Python floats and a single Python int get the
    default float dtype (see ``ag.set_default_dtype``); integer and bool data
    (arrays, lists of ints) keep their dtype and cannot require grad.
    """
    __slots__ = ("_data", "grad", "_requires_grad", "_node", "_version", "name", "_hooks",
                 "__weakref__")
    # numpy functions on Tensors: the engine op (recorded), or a clear refusal when a
    # tensor requires grad; never a silent ndarray.  The tables are in numpy_functions.py.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_functions.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_functions.array_function(func, types, args, kwargs)

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data.data
        elif dtype is None and type(data) is int:
            dtype = backend.get_default_dtype()     # API.md: a Python int is a number, like a float
        arr = backend.asarray(data, dtype)
        if arr is data:
            # Own the memory, as torch.tensor does: an optimizer step or `t += 1`
            # must not change the caller's array behind their back.
            arr = arr.copy()
        self._data = _store(arr)
        self.grad = None
        self._requires_grad = False
        self._node = None
        self._version = 0
        self.name = name
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr):
        """Fast constructor for an ndarray the engine already owns (no checks)."""
        t = object.__new__(cls)
        t._data = arr
        t.grad = None
        t._requires_grad = False
        t._node = None
        t._version = 0
        t.name = None
        t._hooks = None
        return t

    # ---- attributes -----------------------------------------------------
    @property
    def data(self):
        """The ndarray.  Assigning to it (also ``t.data -= ...``) counts as an in-place change."""
        d = self._data
        if type(d) is not xp.ndarray:       # a 0-d result kept as a numpy scalar for speed
            d = self._data = xp.asarray(d)
        return d

    @data.setter
    def data(self, value):
        self._data = _store(backend.asarray(value.data if isinstance(value, Tensor) else value))
        self._version += 1

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        """Mark a leaf as a variable to differentiate (returns self)."""
        if flag and self._data.dtype.kind not in "fc":
            raise GradDtypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"this one has dtype {self._data.dtype}; convert it first, e.g. t.astype('float64')")
        if not flag and self._node is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use t.detach() instead")
        self._requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def op(self):
        """Name of the primitive that made this tensor (None for leaves)."""
        return self._node.op.name if self._node is not None else None

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def T(self):
        return ops.transpose(self)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def numpy(self):
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item(): a tensor of shape {shape_str(self.shape)} has {self._data.size} "
                             f"elements; only a one-element tensor converts to a Python number")
        return self._data.item()

    def __array__(self, dtype=None, copy=None):
        data = self.data
        if dtype is not None and dtype != data.dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    # Any one-element tensor converts, whatever its number of axes (as PyTorch's float(t)).
    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise ShapeError(f"the truth value of a tensor of shape {shape_str(self.shape)} is ambiguous")
        return bool(self._data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__   # `==` is elementwise, identity stays the hash

    def __repr__(self):
        body = xp.array2string(xp.asarray(self._data), separator=", ", prefix="tensor(")
        extra = []
        dtype = self._data.dtype
        if dtype != backend.get_default_dtype():
            extra.append(f"dtype={self._data.dtype}")
        if self._node is not None:
            extra.append(f"op={self._node.op.name}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ---- autograd -------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.  See engine.backward.

        ``create_graph=True`` keeps the graph too: the recorded gradient refers to it.
        """
        engine.backward(self, grad, retain_graph=retain_graph or create_graph, create_graph=create_graph)

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self._data)

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach it")
        owner = self._node if self._node is not None else self   # non-leaf hooks live on the node
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(fn)
        return _HookHandle(owner._hooks, fn)

    def retain_grad(self):
        """Keep the gradient of a non-leaf tensor in its ``.grad`` after backward."""
        if self._node is None:
            return
        import weakref
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                t.grad = g if t.grad is None else t.grad + g
        self.register_hook(keep)

    # ---- in-place updates (outside the graph) ----------------------------
    def _inplace(self, name, other, fn):
        if graph._state.grad_enabled and self._requires_grad:
            raise RuntimeError(
                f"in-place {name} on a tensor that requires grad while recording: wrap the "
                f"update in `with ag.no_grad():` (as optimizers do) or use the out-of-place form")
        other = other._data if isinstance(other, Tensor) else other
        data = self._data
        if type(data) is xp.ndarray:
            fn(data, other)
        else:                   # a 0-d value kept as a numpy scalar: update a copy, keep it a scalar
            arr = xp.array(data)
            fn(arr, other)
            self._data = arr[()]
        self._version += 1      # backward checks this to catch stale saved values
        return self

    def __iadd__(self, other):
        return self._inplace("+=", other, lambda a, b: xp.add(a, b, out=a, casting="same_kind"))

    def __isub__(self, other):
        return self._inplace("-=", other, lambda a, b: xp.subtract(a, b, out=a, casting="same_kind"))

    def __imul__(self, other):
        return self._inplace("*=", other, lambda a, b: xp.multiply(a, b, out=a, casting="same_kind"))

    def __itruediv__(self, other):
        return self._inplace("/=", other, lambda a, b: xp.divide(a, b, out=a, casting="same_kind"))

    def __setitem__(self, index, value):
        index = ops._index_arrays(index)
        return self._inplace("[...] =", value, lambda a, b: a.__setitem__(index, b))

    def fill_(self, value):
        return self._inplace("fill_", value, lambda a, b: a.fill(b))

    def copy_(self, src):
        return self._inplace("copy_", src, lambda a, b: xp.copyto(a, b, casting="same_kind"))

    # ---- operators ------------------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __lt__(self, other):
        return ops.lt(self, other)

    def __le__(self, other):
        return ops.le(self, other)

    def __gt__(self, other):
        return ops.gt(self, other)

    def __ge__(self, other):
        return ops.ge(self, other)

    def __eq__(self, other):
        return ops.eq(self, other)

    def __ne__(self, other):
        return ops.ne(self, other)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # ---- methods (each also a function ag.<name>) ------------------------
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def log1p(self): return ops.log1p(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def clip(self, lo=None, hi=None): return ops.clip(self, lo, hi)
    def astype(self, dtype): return ops.astype(self, dtype)

    # Reductions take numpy's spelling (axis=, keepdims=; positional = axis) with numpy's
    # meaning, or PyTorch's (dim=, keepdim=) with PyTorch's; see torch_names.translate.
    # Where the meanings agree the two may mix; both spellings of one argument raise.
    def sum(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return ops.sum(self, *translate("sum", axis, keepdims, dim, keepdim)[:2])

    def mean(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return ops.mean(self, *translate("mean", axis, keepdims, dim, keepdim)[:2])

    # max/min: numpy (axis=, positional): the values, ties share the gradient.
    # PyTorch (dim=int): (values, indices) named tuple, the gradient goes to the index;
    # t.max(other_tensor) is the elementwise maximum.  Mixing the two raises.
    def max(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return self._extreme("max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return self._extreme("min", axis, keepdims, dim, keepdim)

    # var/std: numpy (axis=, ddof=0 by default); PyTorch (dim=, keepdim=, correction= or
    # unbiased=): correction 1 by default.  Mixing the two raises.
    def var(self, axis=None, keepdims=False, ddof=0, *, dim=NOT_GIVEN, keepdim=None, correction=None,
            unbiased=None):
        return self._spread("var", axis, keepdims, ddof, dim, keepdim, correction, unbiased)

    def std(self, axis=None, keepdims=False, ddof=0, *, dim=NOT_GIVEN, keepdim=None, correction=None,
            unbiased=None):
        return self._spread("std", axis, keepdims, ddof, dim, keepdim, correction, unbiased)

    # logsumexp: axis= or dim= (the same meaning; one is required), keepdims= or keepdim=.
    def logsumexp(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return self._logsumexp_spelled(axis, keepdims, dim, keepdim)

    # softmax pair: axis= or dim= (the same meaning), default the last axis.
    def softmax(self, axis=-1, *, dim=None): return ops.softmax(self, axis, dim=dim)
    def log_softmax(self, axis=-1, *, dim=None): return ops.log_softmax(self, axis, dim=dim)

    # argmax/argmin: axis= or dim=, keepdims= or keepdim= (the same meaning); no gradient.
    def argmax(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return self._arg_extreme("argmax", axis, keepdims, dim, keepdim)

    def argmin(self, axis=None, keepdims=False, *, dim=NOT_GIVEN, keepdim=None):
        return self._arg_extreme("argmin", axis, keepdims, dim, keepdim)

    def reshape(self, *shape): return ops.reshape(self, *shape)
    # transpose: numpy's permutation (a tuple, or 3+ ints; none reverses the axes) or
    # PyTorch's swap of two axes (two ints, or dim0=, dim1=) on any rank.
    def transpose(self, *axes, dim0=None, dim1=None): return self._transpose_spelled(axes, dim0, dim1)
    # flatten(): all into one axis; PyTorch's flatten(start_dim, end_dim) joins just those axes.
    def flatten(self, start_dim=0, end_dim=-1): return self._flatten(start_dim, end_dim)
    # squeeze: numpy's axis= raises on an axis longer than 1; PyTorch's dim= leaves it alone.
    def squeeze(self, axis=None, *, dim=NOT_GIVEN): return self._squeeze_spelled(axis, dim)
    # unsqueeze: axis= or dim= (the same meaning).
    def unsqueeze(self, axis=None, *, dim=None): return self._unsqueeze_spelled(axis, dim)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def flip(self, axis=None): return ops.flip(self, axis)
    def pad(self, pad_width): return ops.pad(self, pad_width)
    def split(self, indices_or_sections, axis=0): return ops.split(self, indices_or_sections, axis)
    def matmul(self, other): return ops.matmul(self, other)


def _store(arr):
    """0-d values are kept as numpy scalars: scalar graphs run ~8x faster on them."""
    return arr[()] if arr.ndim == 0 else arr


class _HookHandle:
    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


graph._Tensor = Tensor

from . import engine, ops  # noqa: E402  (the ops need Tensor defined first)

from . import numpy_functions  # noqa: E402  (its tables map numpy functions to the ops)
