"""The Tensor: an ndarray, plus what reverse mode needs to send gradients back to it.

Every Tensor that requires grad has a graph vertex, ``_node`` (a
:class:`~.graph.Node`): the node of the op that made it, or, for a *leaf* the
user created with ``requires_grad=True``, a leaf node that receives its
gradient.  ``_node is None`` means: no gradient flows here.  Scalars are 0-d Tensors and mix freely with Python numbers::

    x = ag.tensor(3.0, requires_grad=True)
    y = 2 * x + 2 + x ** 2      # 0-d Tensors all the way
    y.backward()
    x.grad                      # tensor(8.)
"""
import weakref

from . import backend, graph
from .backend import xp
from .errors import GradDtypeError, ShapeError, shape_str


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is
    anything ``np.asarray`` takes; Python floats and a single Python int get the
    default float dtype (see ``ag.set_default_dtype``); integer and bool data
    (arrays, lists of ints) keep their dtype and cannot require grad.
    """
    __slots__ = ("_data", "_grad", "_owns_grad", "_node", "_base", "_version", "name", "__weakref__")
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy ufuncs on Tensors.  ``ndarray * t``, ``ndarray < t`` and ``np.exp(t)`` run our
        op (a Tensor, recorded like ``t * ndarray``); any other ufunc, ``np.isfinite(t)`` say,
        runs on the data and gives an ndarray, as for any array-like (PyTorch allows both)."""
        op = _UFUNC_OPS.get(ufunc) if method == "__call__" and not kwargs else None
        if op is not None:
            return op(*inputs)
        inputs = tuple(x.data if isinstance(x, Tensor) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

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
        self._grad = None
        self._owns_grad = False
        self._node = None
        self._base = None
        self._version = 0
        self.name = name
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr):
        """Fast constructor for an ndarray the engine already owns (no checks)."""
        t = object.__new__(cls)
        t._data = arr
        t._grad = None
        t._owns_grad = False
        t._node = None
        t._base = None      # the tensor whose memory this one views (it holds the version)
        t._version = 0
        t.name = None
        return t

    # ---- attributes -----------------------------------------------------
    @property
    def data(self):
        """The ndarray, outside the graph (as PyTorch's ``.data``): writing into it is
        not tracked.  Assigning to it (also ``t.data -= ...``) counts as an in-place change."""
        return self._storage_array()

    @data.setter
    def data(self, value):
        self._data = _store(backend.asarray(value.data if isinstance(value, Tensor) else value))
        self._version_owner()._version += 1

    def _storage_array(self):
        """The value as an ndarray that shares this tensor's memory.

        A 0-d value is normally held as an (immutable) numpy scalar, the form numpy's
        own arithmetic returns and the fast one.  Whoever needs memory to write into
        or share (``.data``, ``detach``) gets a 0-d array that replaces the scalar."""
        d = self._data
        if type(d) is not xp.ndarray:
            d = self._data = xp.asarray(d)
        return d

    def _version_owner(self):
        """The tensor whose version counter this one shares: its base if it is a view."""
        return self if self._base is None else self._base

    @property
    def grad(self):
        """The accumulated gradient (a Tensor), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"grad: expected a Tensor or None, got {type(value).__name__}")
        self._grad = value
        self._owns_grad = False     # the caller may hold it: never add into it in place

    @property
    def requires_grad(self):
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        """Mark a leaf as a variable to differentiate (returns self)."""
        if flag and self._data.dtype.kind not in "fc":
            raise GradDtypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"this one has dtype {self._data.dtype}; convert it first, e.g. t.astype('float64')")
        if not self.is_leaf:
            if flag:
                return self
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use t.detach() instead")
        if flag and self._node is None:
            self._node = graph.Node.leaf(self)
        elif not flag:
            self._node = None
        return self

    @property
    def is_leaf(self):
        return self._node is None or self._node.op is None

    @property
    def op(self):
        """Name of the primitive that made this tensor (None for leaves)."""
        return None if self.is_leaf else self._node.op.name

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
        """The values as an ndarray sharing memory.  For a tensor that requires grad it is
        read-only: a write would go unseen by the graph (PyTorch refuses numpy() there)."""
        data = self._storage_array()
        if self._node is not None:
            data = data.view()
            data.flags.writeable = False
        return data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item(): a tensor of shape {shape_str(self.shape)} has {self._data.size} "
                             f"elements; only a one-element tensor converts to a Python number")
        return self._data.item()

    def __array__(self, dtype=None, copy=None):
        data = self.numpy()
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
        if not self.is_leaf:
            extra.append(f"op={self._node.op.name}")
        elif self._node is not None:
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
        """A new leaf sharing this tensor's data (and version counter), cut from the graph."""
        t = Tensor._wrap(self._storage_array())
        t._base = self._version_owner()
        return t

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        The replacement must keep the gradient's shape.  Returns a handle whose
        ``remove()`` unregisters the hook.
        """
        if self._node is None:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach it")
        node = self._node
        if node.hooks is None:
            node.hooks = []
        node.hooks.append(fn)
        return _HookHandle(node.hooks, fn)

    def retain_grad(self):
        """Keep the gradient of a non-leaf tensor in its ``.grad`` after backward
        (after its hooks ran, as PyTorch)."""
        if self._node is None:
            raise RuntimeError("retain_grad: this tensor does not require grad, so no gradient will reach it")
        if not self.is_leaf:
            self._node.receiver = weakref.ref(self)

    # ---- in-place updates (outside the graph) ----------------------------
    def _inplace(self, name, other, fn):
        if graph._state.grad_enabled and self._node is not None:
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
        self._mark_modified()
        return self

    def _mark_modified(self):
        """After an in-place write: bump the version shared with views (inputs saved by
        ops are checked against it) and tell the ops that made this memory that their
        saved output is stale (ops like exp reuse their output in the VJP)."""
        owner = self._version_owner()
        owner._version += 1
        for t in (self, owner):
            if t._node is not None and t._node.op is not None:
                t._node.output_modified = True

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

    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return ops.min(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0): return ops.var(self, axis, keepdims, ddof)
    def std(self, axis=None, keepdims=False, ddof=0): return ops.std(self, axis, keepdims, ddof)
    def logsumexp(self, axis, keepdims=False): return ops.logsumexp(self, axis, keepdims)
    def softmax(self, axis=-1): return ops.softmax(self, axis)
    def log_softmax(self, axis=-1): return ops.log_softmax(self, axis)
    def argmax(self, axis=None): return ops.argmax(self, axis)
    def argmin(self, axis=None): return ops.argmin(self, axis)

    def reshape(self, *shape): return ops.reshape(self, *shape)
    def transpose(self, *axes): return ops.transpose(self, *axes)
    def flatten(self): return ops.reshape(self, -1)
    def squeeze(self, axis=None): return ops.squeeze(self, axis)
    def unsqueeze(self, axis): return ops.unsqueeze(self, axis)
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


# The ops are built on Tensor (primitive.py wraps their results in it), so they
# are imported once Tensor exists; Tensor's methods and operators call them.
from . import engine, ops  # noqa: E402

_UFUNC_OPS = {
    xp.add: ops.add, xp.subtract: ops.sub, xp.multiply: ops.mul, xp.true_divide: ops.div,
    xp.power: ops.pow, xp.matmul: ops.matmul, xp.maximum: ops.maximum, xp.minimum: ops.minimum,
    xp.less: ops.lt, xp.less_equal: ops.le, xp.greater: ops.gt, xp.greater_equal: ops.ge,
    xp.equal: ops.eq, xp.not_equal: ops.ne, xp.negative: ops.neg, xp.absolute: ops.abs,
    xp.exp: ops.exp, xp.log: ops.log, xp.log1p: ops.log1p, xp.sqrt: ops.sqrt, xp.sin: ops.sin,
    xp.cos: ops.cos, xp.tanh: ops.tanh,
}
