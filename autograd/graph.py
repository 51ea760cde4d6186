"""Recording the graph: grad mode, naming scopes, and the vertex type, :class:`Node`.

Every tensor that requires grad has one Node: a leaf's node receives its
gradient into ``.grad``; an op's node (left by a primitive call, see
``primitive.py``) sends the gradient on to its inputs' nodes through the op's
VJPs.  ``engine.py`` walks these nodes from the output back to the leaves.
"""
import functools
import itertools
import threading
import traceback
import weakref

from .errors import is_user_file, shape_str


class _State(threading.local):
    """Per-thread switches: grad mode, anomaly mode and the current naming scope."""
    grad_enabled = True
    anomaly = False         # check every value for NaN/Inf (ag.detect_anomaly)
    tracing = False         # record where each node was created (ag.detect_anomaly)
    arrays = False          # a backward without create_graph: primitives given arrays return arrays
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

    A node made by a primitive call remembers what its VJPs need: the op, the
    input Tensors (``inputs``, the saved values), the output array (``ans``)
    and the op's keyword options.  A *leaf* node (``op`` is None) stands for a
    tensor the user created with ``requires_grad=True``; its chain-rule step is
    "accumulate into ``.grad``", like PyTorch's AccumulateGrad.

    ``parents[i]`` is the node of input ``i`` (None when that input does not
    require grad): the edges backward follows, read off the saved inputs.
    ``backward`` frees the saved values (``inputs`` and ``ans`` become None)
    unless asked to retain the graph; ``parents``, ``shape`` and ``dtype`` are
    kept then (``_structure``) for pictures.  (A node holds as few Python
    objects as it can: each one is scanned again and again by the cycle
    collector while a large graph is built.)

    ``receiver`` is a weak reference to the tensor whose ``.grad`` this node
    fills: the leaf itself, or an inner tensor after ``retain_grad()``.
    """
    __slots__ = ("op", "inputs", "ans", "kwargs", "_structure", "version",
                 "output_modified", "hooks", "receiver", "scope", "id", "trace", "__weakref__")

    def __init__(self, op, inputs, ans, kwargs):
        self.op = op
        self.inputs = inputs
        self.ans = ans
        self.kwargs = kwargs
        self._structure = None
        # The inputs' versions when recorded (their sum: versions only grow).  If the
        # sum differs at backward, an input was modified in place and its saved
        # value is stale.  Linear ops never read input values, so they skip it.
        self.version = -1 if op is None or op.linear else versions_sum(inputs)
        # Set when the output itself is modified in place (see Tensor._inplace).
        self.output_modified = False
        self.hooks = None
        self.receiver = None
        self.scope = _state.scope
        self.id = next(_node_ids)
        self.trace = traceback.extract_stack()[:-3] if _state.tracing else None

    @classmethod
    def leaf(cls, tensor):
        """The vertex of a leaf tensor that requires grad: it receives, nothing sends past it."""
        node = cls(None, (), None, _NO_KWARGS)     # a leaf saves nothing
        node._structure = ((), tensor.shape, tensor.dtype)
        node.receiver = weakref.ref(tensor)
        return node

    @property
    def is_leaf(self):
        return self.op is None

    @property
    def freed(self):
        return self.inputs is None

    @property
    def parents(self):
        if self._structure is not None:
            return self._structure[0]
        return tuple([t._node for t in self.inputs])

    @property
    def shape(self):
        return self.ans.shape if self._structure is None else self._structure[1]

    @property
    def dtype(self):
        return self.ans.dtype if self._structure is None else self._structure[2]

    def free(self):
        """Drop the saved values; the structure (op, parents, shape, dtype) stays."""
        if self.op is not None and self.inputs is not None:
            self._structure = (self.parents, self.ans.shape, self.ans.dtype)
            self.inputs = self.ans = None

    def __repr__(self):
        what = "leaf" if self.op is None else self.op.name
        return f"<Node {what} #{self.id} {shape_str(self.shape)} {self.dtype}>"


def versions_sum(tensors):
    """The sum of the tensors' versions (a view counts its base's, which it shares)."""
    total = 0
    for t in tensors:
        total += t._version if t._base is None else t._base._version
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


_NO_KWARGS = {}   # shared by the many nodes without options (never mutated): saves memory
