"""Recording the graph: grad mode, naming scopes, primitives and the nodes they leave.

A *primitive* is a numpy function together with one vector-Jacobian product
(VJP) per differentiable argument.  Calling a primitive on Tensors runs the
numpy forward and, when any input requires grad (and grad mode is on), leaves
a :class:`Node` behind.  The node remembers the op, its input Tensors and its
output array: exactly what the VJPs need later.  ``backward`` (engine.py)
walks these nodes from the output back to the leaves.

Defining a new primitive is the same for users as for the built-in ops::

    import numpy as np
    from chaingrad import autograd as ag

    @ag.primitive
    def cube(x):
        return x ** 3

    # one VJP per argument: (upstream gradient g, output ans, *inputs) -> gradient
    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)

    x = ag.tensor(2.0, requires_grad=True)
    cube(x).backward()          # x.grad == 12

The forward receives and returns numpy arrays; the VJPs receive and return
Tensors, so that gradients are themselves differentiable (``create_graph``).
"""
import functools
import itertools
import threading
import traceback

from . import backend
from .backend import xp
from .errors import AnomalyError, ShapeError, is_user_file, shape_str, user_frame


class _State(threading.local):
    """Per-thread switches: grad mode, anomaly mode and the current naming scope."""
    grad_enabled = True
    anomaly = False
    scope = None


_state = _State()
_node_ids = itertools.count()   # creation order: stable ids for pictures and debugging


def is_grad_enabled():
    """True when new operations are recorded for backward (the default)."""
    return _state.grad_enabled


class set_grad_enabled:
    """Context manager and decorator that turns recording on or off in this thread."""

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self._saved = []

    def __enter__(self):
        self._saved.append(_state.grad_enabled)
        _state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._saved.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):   # a fresh context per call: re-entrant, thread-safe
                return fn(*args, **kwargs)
        return wrapper


class _FixedMode(set_grad_enabled):
    """``no_grad``/``enable_grad``: also usable as a bare decorator, ``@ag.no_grad`` (as PyTorch)."""
    _mode = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        if fn is None:
            return self
        self.__init__()
        return self(fn)         # @ag.no_grad without parentheses: decorate fn at once

    def __init__(self, fn=None):
        super().__init__(self._mode)


class no_grad(_FixedMode):
    """Do not record: ``with ag.no_grad(): ...`` or ``@ag.no_grad()`` on a function.

    Results computed inside do not require grad; use it for evaluation and for
    optimizer updates, which must stay outside the graph.
    """
    _mode = False


class enable_grad(_FixedMode):
    """Record again inside a ``no_grad`` region (context manager and decorator)."""
    _mode = True


class Scope:
    """A label for the ops recorded inside a ``with ag.scope(...)`` block.

    Modules open a scope named after their attribute path (``layers.0``) and
    composite ops open one named after themselves (``cross_entropy``), so the
    pictures can group anonymous arithmetic under the names users know.
    """
    __slots__ = ("name", "kind", "parent", "id", "obj")
    _ids = itertools.count()

    def __init__(self, name, kind, parent, obj=None):
        self.name, self.kind, self.parent, self.obj = name, kind, parent, obj
        self.id = next(Scope._ids)

    def path(self):
        """Scopes from the outermost to this one."""
        chain, s = [], self
        while s is not None:
            chain.append(s)
            s = s.parent
        return chain[::-1]

    def __repr__(self):
        return f"Scope({'/'.join(s.name for s in self.path())!r}, kind={self.kind!r})"


class scope:
    """Context manager: label every op recorded inside with ``name``.

    ``kind`` is ``"op"`` for a composite operation (softmax, a loss) and
    ``"module"`` for a network module; ``obj`` may hold the module itself.
    """

    def __init__(self, name, kind="op", obj=None):
        self.name, self.kind, self.obj = name, kind, obj

    def __enter__(self):
        self._outer = _state.scope
        _state.scope = Scope(self.name, self.kind, self._outer, self.obj)
        return _state.scope

    def __exit__(self, *exc):
        _state.scope = self._outer
        return False


def composite(name):
    """Decorator: record the function's ops inside ``scope(name)``, so it shows as one op."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with scope(name, "op"):
                return fn(*args, **kwargs)
        return wrapper
    return deco


class Node:
    """What one primitive call leaves in the graph.

    ``inputs`` and ``ans`` are the saved values the VJPs need; backward frees
    them (sets them to None) unless asked to retain the graph.  ``parents[i]``
    is where the gradient of input ``i`` goes: the input's own node, the input
    itself when it is a leaf that requires grad, or None.  After freeing, the
    structure (``op``, ``parents``, ``shape``, ``dtype``) stays for pictures.

    Nodes are created for every recorded op, so they hold as few Python
    containers as possible: fewer tracked objects make the garbage collector's
    full passes over a large graph cheaper.
    """
    __slots__ = ("op", "_x", "_y", "ans", "kwargs", "version", "_hooks", "scope", "id", "trace",
                 "_skeleton", "__weakref__")

    def __init__(self, op, inputs, ans, kwargs):
        self.op = op
        # The inputs are kept in two slots rather than in a tuple: a graph of n ops
        # then holds 2n objects instead of 3n for the cycle collector to scan.
        if len(inputs) == 2:
            self._x, self._y = inputs
        elif len(inputs) == 1:
            self._x, self._y = inputs[0], _UNARY
        else:
            self._x, self._y = inputs, _VARIADIC
        self.ans = ans
        self.kwargs = kwargs
        # Sum of the inputs' version counters when recorded.  Versions only grow,
        # so if the sum differs at backward, an input was modified in place and
        # its saved value is stale.  Linear ops never read input values.
        self.version = -1 if op.linear else _version_sum(inputs)
        self._hooks = None
        self.scope = _state.scope
        self.id = next(_node_ids)
        self.trace = traceback.extract_stack()[:-3] if _state.anomaly else None
        self._skeleton = None

    @property
    def inputs(self):
        """The input Tensors (saved values), or None once backward has freed them."""
        y = self._y
        if y is _UNARY:
            return (self._x,)
        if y is _VARIADIC:
            return self._x
        if y is None:
            return None
        return (self._x, y)

    @property
    def parents(self):
        inputs = self.inputs
        if inputs is None:
            return self._skeleton[0]
        return tuple([t._node if t._node is not None else (t if t._requires_grad else None)
                      for t in inputs])

    def free(self):
        """Drop the saved values, keeping parents, shape and dtype for pictures."""
        ans = self.ans
        if ans is not None:
            self._skeleton = (self.parents, ans.shape, ans.dtype)
        self._x = self._y = self.ans = None

    @property
    def freed(self):
        return self._y is None

    @property
    def shape(self):
        return self.ans.shape if self.ans is not None else self._skeleton[1]

    @property
    def dtype(self):
        return self.ans.dtype if self.ans is not None else self._skeleton[2]

    def __repr__(self):
        return f"<Node {self.op.name} #{self.id} {shape_str(self.shape)} {self.dtype}>"


_UNARY, _VARIADIC = object(), object()    # markers in Node._y


def _version_sum(inputs):
    total = 0
    for t in inputs:
        total += t._version
    return total


def where_created(node):
    """The user's line that recorded ``node`` (needs anomaly mode for the full stack)."""
    if node.trace:
        for fs in reversed(node.trace):
            if is_user_file(fs.filename):
                return f"{fs.filename}:{fs.lineno}"
        fs = node.trace[-1]
        return f"{fs.filename}:{fs.lineno}"
    return "(run under ag.detect_anomaly() to record where)"


class Primitive:
    """A numpy function with a VJP per argument.  See the module docstring.

    Tensor arguments are passed positionally; everything else (axis, shape,
    index) by keyword, and keywords are handed to the VJPs unchanged.

    ``linear=True`` says the VJPs do not read the input *values*, only their
    shapes (sum, reshape, indexing...): no in-place check is needed then.
    ``differentiable=False`` marks ops whose output never requires grad
    (comparisons, argmax).
    """

    def __init__(self, forward, name=None, linear=False, differentiable=True):
        functools.update_wrapper(self, forward)
        self.forward = forward
        self.name = name or forward.__name__
        self.linear = linear
        self.differentiable = differentiable
        self.vjps = ()

    def defvjp(self, *vjps):
        """Give one VJP per positional argument (None where there is no gradient)."""
        self.vjps = vjps
        return self

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *args, **kwargs):
        # This is the hot path of every forward computation: keep it lean.
        for a in args:
            if not isinstance(a, _Tensor):
                args = _as_tensors(args)
                break
        try:
            if len(args) == 2:
                out = self.forward(args[0]._data, args[1]._data, **kwargs)
            elif len(args) == 1:
                out = self.forward(args[0]._data, **kwargs)
            else:
                out = self.forward(*[t._data for t in args], **kwargs)
        except (ValueError, IndexError, TypeError) as err:
            raise _op_error(self, err, args) from err
        if not isinstance(out, _ARRAYS):
            out = xp.asarray(out)
        state = _state
        if state.anomaly:
            _check_finite(self, out, "output")
        result = _Tensor._wrap(out)
        if self.differentiable and state.grad_enabled:
            for t in args:
                if t._requires_grad:
                    result._requires_grad = True
                    result._node = Node(self, args, out, kwargs or _NO_KWARGS)
                    break
        return result


_NO_KWARGS = {}   # shared by the many nodes without options (never mutated): saves memory

# 0-d results stay numpy scalars (np.float64 arithmetic is ~8x faster than on 0-d arrays);
# Tensor.data turns them into 0-d arrays for users.
_ARRAYS = (xp.ndarray, xp.generic)


def _op_error(op, err, tensors):
    """Re-raise a numpy error with the op's name, the input shapes and the user's line."""
    shapes = " and ".join(shape_str(xp.shape(t._data)) for t in tensors)
    msg = f"{op.name}: {err} (input shape{'s' if len(tensors) > 1 else ''} {shapes}) at {user_frame()}"
    kind = type(err) if type(err) in (IndexError, TypeError) else ShapeError
    return kind(msg)


def primitive(fn=None, *, name=None, linear=False, differentiable=True):
    """Decorator making a numpy function into a :class:`Primitive` (see module docstring)."""
    if fn is None:
        return lambda f: Primitive(f, name=name, linear=linear, differentiable=differentiable)
    return Primitive(fn, name=name, linear=linear, differentiable=differentiable)


def _check_finite(op, arr, what):
    if arr.dtype.kind in "fc" and not xp.isfinite(arr).all():
        bad = "nan" if xp.isnan(arr).any() else "inf"
        raise AnomalyError(
            f"detect_anomaly: op '{op.name}' produced {bad} in its {what} at {user_frame()}")


def _as_tensors(args):
    """Tensors stay; numbers and arrays become constants.  Python numbers take the
    dtype of the first floating Tensor argument, so ``x32 * 2.0`` stays float32."""
    like = None
    for a in args:
        if isinstance(a, _Tensor):
            dtype = a._data.dtype
            if dtype.kind == "f":
                like = dtype
                break
    return tuple([a if isinstance(a, _Tensor) else _constant(a, like) for a in args])


def _constant(value, like):
    # Python (and numpy) numbers adapt to the tensor, as in PyTorch; bools do not (True * x).
    if like is not None and isinstance(value, (float, int)) and not isinstance(value, bool):
        return _Tensor._wrap(like.type(value))
    return _Tensor._wrap(backend.asarray(value))


_Tensor = None   # set by tensor.py (the Tensor class imports this module)
