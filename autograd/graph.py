"""Recording the graph: grad mode, naming scopes, and the vertex type, :class:`Node`.

Every tensor that requires grad has one Node: a leaf's node receives its
gradient into ``.grad``; an op's node (left by a primitive call, see
``primitive.py``) sends the gradient on to its inputs' nodes through the op's
VJPs.  ``engine.py`` walks these nodes from the output back to the leaves.

This module is the bottom of the engine: it imports nothing of chaingrad but
``errors`` and ``backend``, knows nothing of Tensors, and of numpy only the
ndarray type (a node frees saved arrays and keeps numpy scalars).
"""
import functools
import itertools
import threading
import traceback
import weakref

from .backend import ndarray as _NDARRAY
from .errors import is_user_file, shape_str


class _State(threading.local):
    """Per-thread switches: grad mode, anomaly mode and the current naming scope."""
    grad_enabled = True
    anomaly = False         # check every value for NaN/Inf (ag.detect_anomaly)
    tracing = False         # record where each node was created (ag.detect_anomaly)
    arrays = False          # VJPs running in a plain backward: primitives given arrays return arrays
    scope = None
    checks = False          # VJP results get every check (anomaly mode)
    observers = ()          # functions told about every backward step (engine.observe)


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

    Modules open a scope named after their class (``Linear``), holding the
    module itself in ``obj``, so a picture given the model can name the scope by
    its attribute path (``layers.0``); composite ops open one named after
    themselves (``cross_entropy``).  The pictures group anonymous arithmetic
    under the names users know.
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
    """A vertex of the graph: one for every tensor that requires grad.

    The node of an op (made by a primitive call, see ``primitive.py``) holds
    all its VJPs need, and nothing that would keep the user's Tensors alive:

    - ``op``: the primitive, with its VJPs;
    - ``parents``: per input, the input's node, or None for a constant (the
      edges backward follows);
    - ``saved``: per input, its value (an ndarray or a numpy scalar);
    - ``ans``: the output's value; ``options``: the op's options (axis, shape...);
    - ``counters``/``version``: the version counters of the saved ndarrays and
      their sum when recorded, for ops that read values (see ``Version``).

    A *leaf* node (``op`` is None) stands for a tensor the user created with
    ``requires_grad=True``; its chain-rule step is "accumulate into ``.grad``",
    like PyTorch's AccumulateGrad.  ``receiver`` is a weak reference to the
    tensor whose ``.grad`` this node fills: the leaf itself, or an inner tensor
    after ``retain_grad()``.

    Backward frees the saved values (``saved`` and ``ans`` become None) unless
    asked to retain the graph; ``parents``, ``shape`` and ``dtype`` stay for
    pictures.  A recorded op leaves this one object and its ``parents`` tuple
    for the cycle collector to scan: intermediate Tensors die as soon as the
    user drops them.
    """
    __slots__ = ("op", "parents", "saved", "ans", "options", "counters", "version",
                 "hooks", "receiver", "scope", "id", "trace", "name", "labels", "_meta", "__weakref__")

    def __init__(self, op, parents, saved, ans, options, counters=None, version=0):
        self.op = op
        self.parents = parents
        self.saved = saved
        self.ans = ans
        self.options = options
        self.counters = counters
        self.version = version
        self.hooks = None
        self.receiver = None
        self.scope = _state.scope
        self.id = next(_node_ids)
        self.trace = traceback.extract_stack()[:-3] if _state.tracing else None
        self.name = None            # the output tensor's name, when the user gives one
        self.labels = None          # the names of named constant inputs, for pictures
        self._meta = None

    @classmethod
    def leaf(cls, tensor):
        """The vertex of a leaf tensor that requires grad: it receives, nothing sends past it."""
        node = cls(None, (), None, None, NO_OPTIONS)
        node._meta = (tensor.shape, tensor.dtype)
        node.receiver = weakref.ref(tensor)
        return node

    @property
    def is_leaf(self):
        return self.op is None

    @property
    def freed(self):
        """True once backward released the saved values (a leaf never has any)."""
        return self.op is not None and self.saved is None

    @property
    def shape(self):
        return self.ans.shape if self._meta is None else self._meta[0]

    @property
    def dtype(self):
        return self.ans.dtype if self._meta is None else self._meta[1]

    def free(self):
        """Drop the saved values; the structure (op, parents, shape, dtype) stays.  A numpy
        scalar output stays too: it is as small as its shape and dtype would be, and asking
        a numpy scalar for them costs more than the rest of a scalar node's backward step."""
        if self.saved is not None:
            self.saved = self.counters = None
            if type(self.ans) is _NDARRAY:
                self._meta = (self.ans.shape, self.ans.dtype)
                self.ans = None

    def stale(self):
        """Has a saved ndarray been written in place since the op was recorded?"""
        if self.counters is None:
            return False
        total = 0
        for c in self.counters:
            total += c.n
        return total != self.version

    def __repr__(self):
        what = "leaf" if self.op is None else self.op.name
        return f"<Node {what} #{self.id} {shape_str(self.shape)} {self.dtype}>"


class Version:
    """How many times an ndarray's memory was written in place (a tensor and its
    views share one).  Only mutable ndarrays get one: a 0-d value held as a
    numpy scalar cannot change, so a scalar graph allocates no counters."""
    __slots__ = ("n",)

    def __init__(self):
        self.n = 0


def where_created(node):
    """The user's line that recorded ``node`` (needs anomaly mode for the full stack)."""
    if node.trace:
        for fs in reversed(node.trace):
            if is_user_file(fs.filename):
                return f"{fs.filename}:{fs.lineno}"
        fs = node.trace[-1]
        return f"{fs.filename}:{fs.lineno}"
    return "(run under ag.detect_anomaly() to record where)"


NO_OPTIONS = {}   # shared by the many nodes without options (never mutated): saves memory
