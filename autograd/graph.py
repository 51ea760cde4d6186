"""Recording the graph: grad mode, naming scopes, primitives and the nodes they leave.

A *primitive* is a numpy function together with one vector-Jacobian product
(VJP) per differentiable argument.  Calling a primitive on Tensors runs the
numpy forward and, when any input requires grad (and grad mode is on), leaves
a :class:`Node` behind.  The node remembers the op, its input Tensors and its
output array: exactly what the VJPs need later.  ``backward`` (engine.py)
walks these nodes from the output back to the leaves.

Defining a new primitive is the same for users as for the built-in ops::

    import numpy as np
    import autograd as ag

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
from .errors import shape_str, user_frame


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


class no_grad(set_grad_enabled):
    """Do not record: ``with ag.no_grad(): ...`` or ``@ag.no_grad()`` on a function.

    Results computed inside do not require grad; use it for evaluation and for
    optimizer updates, which must stay outside the graph.
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record again inside a ``no_grad`` region (context manager and decorator)."""

    def __init__(self):
        super().__init__(True)


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

    ``parents[i]`` is where the gradient of input ``i`` goes: the input's own
    node, the input itself when it is a leaf that requires grad, or None.
    ``inputs`` and ``ans`` are the saved values; backward frees them (sets
    them to None) unless asked to retain the graph, while the structure
    (``op``, ``parents``, shapes) stays for pictures.
    """
    __slots__ = ("op", "inputs", "parents", "ans", "kwargs", "versions", "_hooks",
                 "scope", "id", "trace", "shape", "dtype", "__weakref__")

    def __init__(self, op, inputs, parents, ans, kwargs):
        self.op = op
        self.inputs = inputs
        self.parents = parents
        self.ans = ans
        self.kwargs = kwargs
        # Version of each saved input when recorded: an in-place change before
        # backward would make the saved value wrong, so backward checks these.
        self.versions = None if op.linear else tuple(t._version for t in inputs)
        self._hooks = None
        self.scope = _state.scope
        self.id = next(_node_ids)
        self.shape = ans.shape
        self.dtype = ans.dtype
        self.trace = traceback.extract_stack()[:-3] if _state.anomaly else None

    @property
    def freed(self):
        return self.inputs is None

    def __repr__(self):
        return f"<Node {self.op.name} #{self.id} {shape_str(self.shape)} {self.dtype}>"


def where_created(node):
    """The user's line that recorded ``node`` (needs anomaly mode for the full stack)."""
    if node.trace:
        for fs in reversed(node.trace):
            if "/autograd/" not in fs.filename and "/nn/" not in fs.filename and "/optim/" not in fs.filename:
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
        tensors = _as_tensors(args)
        datas = [t.data for t in tensors]
        try:
            out = self.forward(*datas, **kwargs)
        except (ValueError, IndexError, TypeError) as err:
            shapes = " and ".join(shape_str(d.shape) for d in datas)
            msg = f"{self.name}: {err} (input shape{'s' if len(datas) > 1 else ''} {shapes}) at {user_frame()}"
            raise type(err)(msg) if type(err) in (ValueError, IndexError, TypeError) else ValueError(msg) from err
        if type(out) is not xp.ndarray:
            out = xp.asarray(out)
        if _state.anomaly:
            _check_finite(self, out, "output")
        result = _Tensor._wrap(out)
        if self.differentiable and _state.grad_enabled:
            parents = tuple(t._node or (t if t._requires_grad else None) for t in tensors)
            if any(p is not None for p in parents):
                result._requires_grad = True
                result._node = Node(self, tensors, parents, out, kwargs)
        return result


def primitive(fn=None, *, name=None, linear=False, differentiable=True):
    """Decorator making a numpy function into a :class:`Primitive` (see module docstring)."""
    if fn is None:
        return lambda f: Primitive(f, name=name, linear=linear, differentiable=differentiable)
    return Primitive(fn, name=name, linear=linear, differentiable=differentiable)


def _check_finite(op, arr, what):
    if arr.dtype.kind in "fc" and not xp.isfinite(arr).all():
        bad = "nan" if xp.isnan(arr).any() else "inf"
        raise FloatingPointError(
            f"detect_anomaly: op '{op.name}' produced {bad} in its {what} at {user_frame()}")


def _as_tensors(args):
    """Tensors stay; numbers and arrays become constants.  Python numbers take the
    dtype of the first floating Tensor argument, so ``x32 * 2.0`` stays float32."""
    if all(type(a) is _Tensor or isinstance(a, _Tensor) for a in args):
        return args
    like = None
    for a in args:
        if isinstance(a, _Tensor) and a.data.dtype.kind == "f":
            like = a.data.dtype
            break
    out = []
    for a in args:
        if isinstance(a, _Tensor):
            out.append(a)
        elif isinstance(a, (int, float)) and not isinstance(a, bool) and like is not None:
            out.append(_Tensor._wrap(xp.asarray(a, dtype=like)))
        else:
            out.append(_Tensor._wrap(backend.asarray(a)))
    return tuple(out)


_Tensor = None   # set by tensor.py (the Tensor class imports this module)
