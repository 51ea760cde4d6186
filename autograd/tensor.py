"""The Tensor: an ndarray, plus what reverse mode needs to send gradients back to it.

Every Tensor that requires grad has a graph vertex, ``_node`` (a
:class:`~.graph.Node`): the node of the op that made it, or, for a *leaf* the
user created with ``requires_grad=True``, a leaf node that receives its
gradient.  ``_node is None`` means: no gradient flows here.  Scalars are 0-d
Tensors and mix freely with Python numbers::

    x = ag.tensor(3.0, requires_grad=True)
    y = 2 * x + 2 + x ** 2      # 0-d Tensors all the way
    y.backward()
    x.grad                      # tensor(8.)

This module holds the data side only: values, gradients, versions, hooks and
in-place updates.  What computes is attached by the layers above, each where
it is defined: every op's declaration (``ops/``) adds its method and operator,
``engine.py`` adds ``backward``, ``numpy_functions.py`` the numpy protocol,
``torch_names.py`` PyTorch's convenience methods.  So no module below the ops
ever imports them, and the import graph has no cycle.
"""
import weakref

from . import backend, graph
from .backend import xp
from .errors import GradDtypeError, ShapeError, shape_str


class Tensor:
    """An n-dimensional array that can record the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is
    numbers, nested lists or an array of bool, integer or floating type.
    Python floats get the default float dtype (``ag.set_default_dtype``);
    Python ints give int64 and bools bool, as in numpy and PyTorch, except with
    ``requires_grad=True``, which makes Python numbers the default float dtype.
    Integer, bool and complex data cannot require grad.
    """
    __slots__ = ("_data", "_grad", "_node", "_vc", "_name", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        arr = array_from(data, dtype, requires_grad)
        if arr is data:
            # Own the memory, as torch.tensor does: an optimizer step or `t += 1`
            # must not change the caller's array behind their back.
            arr = arr.copy()
        self._data = backend.store(arr)
        self._grad = None
        self._node = None
        self._vc = None
        self._name = name
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, value):
        """Fast constructor for a value the engine already owns (no checks)."""
        t = object.__new__(cls)
        t._data = value
        t._grad = t._node = t._vc = t._name = None
        return t

    # ---- attributes -----------------------------------------------------
    @property
    def data(self):
        """The ndarray, outside the graph (as PyTorch's ``.data``): writing into it is
        not tracked.  Assigning to it (also ``t.data -= ...``) counts as an in-place change."""
        return self._writable()

    @data.setter
    def data(self, value):
        self._data = backend.store(backend.asarray(value._data if isinstance(value, Tensor) else value))
        self._bump_version()

    def _writable(self):
        """The value as an ndarray that shares this tensor's memory (see ``backend.store``:
        a 0-d value held as a numpy scalar becomes a 0-d array here, for good)."""
        d = self._data
        if type(d) is not xp.ndarray:
            d = self._data = xp.asarray(d)
        return d

    def _counter(self):
        """This tensor's version counter (made on first need; views and detached
        copies share their base's)."""
        if self._vc is None:
            self._vc = graph.Version()
        return self._vc

    @property
    def _version(self):
        """How many in-place writes this tensor's memory has seen (PyTorch's ``t._version``)."""
        return 0 if self._vc is None else self._vc.n

    @property
    def name(self):
        """A label for pictures and messages (also shown for inner tensors)."""
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        if self._node is not None and self._node.op is not None:
            self._node.name = value

    @property
    def grad(self):
        """The accumulated gradient (a Tensor), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        # As PyTorch: only None or a gradient of this tensor's shape and dtype.
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: expected a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(
                    f"grad: assigned a gradient of shape {shape_str(value.shape)} and dtype {value.dtype} "
                    f"to a tensor of shape {shape_str(self.shape)} and dtype {self.dtype}; they must match")
        self._grad = value

    @property
    def requires_grad(self):
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        """Mark a leaf as a variable to differentiate (returns self)."""
        if flag and self._data.dtype.kind != "f":
            kind = "complex" if self._data.dtype.kind == "c" else "integer or bool"
            raise GradDtypeError(
                f"requires_grad: only floating-point tensors can require gradients; this one has "
                f"dtype {self._data.dtype} ({kind}); convert it first, e.g. t.astype('float64')")
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

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    # ---- leaving the graph ------------------------------------------------
    def numpy(self):
        """The values as an ndarray sharing memory.  For a tensor that requires grad it is
        read-only: a write would go unseen by the graph (PyTorch refuses numpy() there)."""
        data = self._writable()
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
        # numpy asks for this when it converts implicitly (np.asarray(t), np.array([t1, t2]),
        # np.r_): the result could not carry the gradient, so refuse while recording.
        if self._node is not None and graph._state.grad_enabled:
            raise TypeError(
                f"a tensor that requires grad (shape {shape_str(self.shape)}) was converted to a numpy "
                f"array implicitly, which would drop its gradient; build tensors from tensors with "
                f"ag.stack / ag.cat, or leave the graph explicitly with t.detach() (or t.numpy())")
        data = self.numpy()
        if dtype is not None and dtype != data.dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    def detach(self):
        """A new leaf sharing this tensor's data (and version counter), cut from the graph."""
        t = Tensor._wrap(self._writable())
        t._vc = self._counter()
        return t

    # Any one-element tensor converts, whatever its number of axes (as PyTorch's float(t)).
    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only a one-element integer tensor can be used as an index "
                            f"(this one: shape {shape_str(self.shape)}, dtype {self.dtype})")
        return int(self._data.item())

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
            extra.append(f"dtype={dtype}")
        if not self.is_leaf:
            extra.append(f"op={self._node.op.name}")
        elif self._node is not None:
            extra.append("requires_grad=True")
        if self._name:
            extra.append(f"name={self._name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a 0-d tensor as its number (as PyTorch does)."""
        if self.ndim == 0:
            return format(self.item(), spec)
        return super().__format__(spec)

    # ---- hooks -------------------------------------------------------------
    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        ``fn`` gets a Tensor and runs in normal grad mode; the replacement must
        keep the gradient's shape.  Returns a handle whose ``remove()`` unregisters it.
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
            self._data = backend.store(arr)
        self._bump_version()
        return self

    def _bump_version(self):
        """After an in-place write: count it on the counter this tensor shares with its
        views, so an op that saved this memory refuses to use the stale value."""
        self._counter().n += 1

    def __iadd__(self, other):
        return self._inplace("+=", other, lambda a, b: xp.add(a, b, out=a, casting="same_kind"))

    def __isub__(self, other):
        return self._inplace("-=", other, lambda a, b: xp.subtract(a, b, out=a, casting="same_kind"))

    def __imul__(self, other):
        return self._inplace("*=", other, lambda a, b: xp.multiply(a, b, out=a, casting="same_kind"))

    def __itruediv__(self, other):
        return self._inplace("/=", other, lambda a, b: xp.divide(a, b, out=a, casting="same_kind"))

    def __setitem__(self, index, value):
        index = index_arrays(index)
        return self._inplace("[...] =", value, lambda a, b: a.__setitem__(index, b))

    def fill_(self, value):
        """Set every element to ``value``, in place."""
        return self._inplace("fill_", value, lambda a, b: a.fill(b))

    def zero_(self):
        """Set every element to 0, in place."""
        return self.fill_(0)

    def copy_(self, src):
        """Copy ``src``'s values into this tensor, in place."""
        return self._inplace("copy_", src, lambda a, b: xp.copyto(a, b, casting="same_kind"))

    def add_(self, other, alpha=1):
        """``self += alpha * other``, in place (``p.add_(g, alpha=-lr)`` is an SGD step)."""
        return self._inplace("add_", _scaled(other, alpha), lambda a, b: xp.add(a, b, out=a, casting="same_kind"))

    def sub_(self, other, alpha=1):
        """``self -= alpha * other``, in place."""
        return self._inplace("sub_", _scaled(other, alpha),
                             lambda a, b: xp.subtract(a, b, out=a, casting="same_kind"))

    def mul_(self, other):
        """``self *= other``, in place."""
        return self.__imul__(other)

    def div_(self, other):
        """``self /= other``, in place."""
        return self.__itruediv__(other)


def _scaled(other, alpha):
    if alpha == 1:
        return other
    return (other._data if isinstance(other, Tensor) else xp.asarray(other)) * alpha


def array_from(data, dtype, requires_grad):
    """The ndarray a new Tensor holds, or a TypeError that says what was given."""
    if dtype is not None:
        dtype = backend.as_dtype(dtype)
    if isinstance(data, Tensor):       # a copy of the values, detached (as torch.tensor(t))
        return data._writable().copy() if dtype is None else data._writable().astype(dtype)
    if isinstance(data, (list, tuple)) and _holds_recording_tensor(data) and graph._state.grad_enabled:
        raise TypeError("tensor(): the data holds tensors that require grad; a new tensor made from "
                        "their values would drop their gradients: use ag.stack(...) (or ag.cat) to "
                        "combine them in the graph, or .detach() them first")
    if dtype is None and requires_grad and _python_numbers(data):
        dtype = backend.get_default_dtype()      # ag.tensor(2, requires_grad=True) works, as in PyTorch
    try:
        arr = backend.asarray(data, dtype)
    except (ValueError, TypeError) as err:
        raise TypeError(f"tensor(): cannot make a tensor from {_describe(data)}: {err}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"tensor(): expected numbers, nested lists of numbers or a numeric array, got "
                        f"{_describe(data)} (numpy would make an array of dtype {arr.dtype})")
    return arr


def _holds_recording_tensor(data):
    for item in data:
        if isinstance(item, Tensor):
            if item._node is not None:
                return True
        elif isinstance(item, (list, tuple)) and _holds_recording_tensor(item):
            return True
    return False


def _python_numbers(data):
    if isinstance(data, (bool, int, float)):
        return True
    return isinstance(data, (list, tuple)) and all(_python_numbers(d) for d in data)


def _describe(data):
    text = repr(data)
    return f"{type(data).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def index_arrays(index):
    """Normalise an index: Tensors and lists become arrays; everything else stays."""
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    if isinstance(index, Tensor):
        return index._writable()
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def wrap(value):
    """A Tensor around a value the engine already owns (no checks, no copy): every op's result."""
    t = _new(Tensor)
    t._data = value
    t._grad = t._node = t._vc = t._name = None
    return t


_new = object.__new__


class _HookHandle:
    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)
