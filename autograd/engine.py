"""Reverse mode: send the gradient from an output back through the graph's nodes.

Every tensor that requires grad has one vertex, a :class:`~.graph.Node`:
the node of the op that made it, or a leaf node for a tensor the user created.
The whole algorithm, in four steps (``run_backward``):

1. *Count.*  Walk the graph from the outputs once (an explicit stack, so a
   chain of a million ops is fine) and count, for every node, how many
   consumers will send it a gradient.
2. *Order.*  A node is ready when all its consumers have sent theirs (Kahn's
   algorithm).  Start from the outputs, whose gradient is the seed (1 for a
   scalar).  This gives a reverse topological order, deterministic because
   parents are kept in argument order.
3. *Step.*  At a ready node, run its hooks, then apply the chain rule once
   (:func:`chain_rule`): for every input that requires grad call the op's VJP,
   ``g_input = vjp(g, ans, *inputs)``; where the op broadcast an input, sum
   the gradient back to the input's shape (``unbroadcast``, the one place
   that does this), and cast it to the input's dtype.  Gradients from several
   consumers of one tensor ADD (fan-out: a tensor used twice influences the
   output along two paths).
4. *Deliver.*  A leaf's node (and a tensor that asked for ``retain_grad``)
   accumulates its total into ``.grad`` (``ag.grad`` collects it instead);
   saved values are released unless ``retain_graph=True``.

The VJPs are written once and run in two modes.  In an ordinary backward they
get the saved numpy values and do plain numpy arithmetic; with
``create_graph=True`` they get Tensors connected to the graph and are recorded
like any forward computation, so the gradient can be differentiated again.
"""
import contextlib
import gc
import threading

from .anomaly import check_finite
from .backend import store, xp
from .errors import ShapeError, shape_str
from .graph import _state, where_created
from .tensor import Tensor

_NDARRAY = xp.ndarray


# ---- the public entry points ------------------------------------------------------------
def backward(root, grad=None, retain_graph=None, create_graph=False):
    """Accumulate d(root)/d(leaf) into ``.grad`` of every leaf that requires grad.

    ``grad`` is the upstream gradient (needed when root is not a scalar).
    Leaf gradients ADD to what is already there: call ``zero_grad`` (or set
    ``.grad = None``) between steps.  The graph's saved values are freed
    afterwards unless ``retain_graph=True``; ``create_graph=True`` records the
    backward computation so the gradients can be differentiated again (and
    implies ``retain_graph``).
    """
    run_backward([root], [grad], retain_graph, create_graph, _deliver_to_grad)


def _tensor_backward(self, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.  See ``ag.backward``.

    ``create_graph=True`` keeps the graph too: the recorded gradient refers to it.
    """
    run_backward([self], [grad], retain_graph or create_graph, create_graph, _deliver_to_grad)


Tensor.backward = _tensor_backward


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple of Tensors, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are differentiable again, which
    is how higher derivatives are taken::

        x = ag.tensor(2.0, requires_grad=True)
        (dy,) = ag.grad(x ** 3, x, create_graph=True)     # 3x^2 = 12
        (d2y,) = ag.grad(dy, x)                           # 6x = 12
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; "
                         f"give one gradient (or None) per output")
    for i, t in enumerate(inputs):
        if t._node is None:
            raise RuntimeError(f"grad: input {i} does not require grad, so it is not part of any graph")
    captured = dict.fromkeys(t._node for t in inputs)

    def capture(node, g, owned):
        if node in captured:
            captured[node] = g if isinstance(g, Tensor) else Tensor._wrap(g if owned else _copy(g))
    run_backward(outputs, grad_outputs, retain_graph, create_graph, capture)
    results = []
    for i, t in enumerate(inputs):
        g = captured[t._node]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {shape_str(t.shape)}) was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def chain_rule(node, g):
    """The chain rule at one node: ``[(input index, parent node, gradient), ...]``.

    For every input of ``node``'s op that requires grad, the gradient it
    receives when ``g`` arrives at the op's output: the op's VJP, summed back
    over broadcast axes and cast to the input's dtype.  ``g`` a numpy array
    runs the VJPs on plain arrays; ``g`` a Tensor records them (higher order).
    This is the step ``backward`` takes at every node, and what the pictures,
    ``explain`` and ``check_vjp`` show.  A leaf's node sends nothing: ``[]``.
    """
    if node.op is None:
        return []
    recorded = isinstance(g, Tensor)
    if not recorded:
        g = store(xp.asarray(g, dtype=node.dtype))
    with _vjp_mode(recorded):
        return [(i, parent, gi) for i, parent, gi, _ in _step(node, g, recorded)]


# ---- one pass: count, order, step, deliver ------------------------------------------------
def run_backward(roots, seeds, retain_graph, create_graph, deliver):
    """Send the seeds back from ``roots``; ``deliver(node, g, owned)`` gets every node's total."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    grads, owned = _seeds(roots, seeds, create_graph), set()
    pending = _count(grads)                                   # 1. count
    ready = [node for node in grads if node not in pending]   # 2. order: the outputs first
    observers = _state.observers
    every_node = deliver is not _deliver_to_grad              # ag.grad looks at inner nodes too
    with collector_paused, _vjp_mode(create_graph):
        while ready:
            node = ready.pop()
            g = grads.pop(node)
            if node.hooks:
                g = _run_hooks(node, g, create_graph)
                owned.discard(node)
            if every_node or node.receiver is not None:
                deliver(node, g, node in owned)                # 4. deliver (leaves, retain_grad)
            sends = _step(node, g, create_graph) if node.op is not None else ()   # 3. the chain rule
            for i, parent, gi, fresh in sends:
                # += : a tensor used by several ops gets the sum of their gradients (fan-out).
                if parent in grads:
                    total = grads[parent] = grads[parent] + gi     # a new array: never in place on a shared one
                    if type(total) is _NDARRAY:
                        owned.add(parent)
                else:
                    grads[parent] = gi
                    if fresh:
                        owned.add(parent)
                pending[parent] -= 1
                if pending[parent] == 0:
                    ready.append(parent)
            if observers:
                _notify(observers, node, g, sends)
            if not retain_graph:
                node.free()     # release the saved values as soon as they are used


def _count(roots):
    """For every node reachable from ``roots``, how many gradients will arrive."""
    pending = {}
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node.op is not None and node.saved is None:
            raise _freed_error(node)
        for parent in node.parents:
            if parent is None:
                continue
            if parent in pending:
                pending[parent] += 1
            else:
                pending[parent] = 1
                stack.append(parent)
    return pending


def _step(node, g, recorded):
    """``(i, parent, gradient, fresh)`` for every input ``i`` of an op's node that requires
    grad; ``fresh`` says the gradient array was made here and is shared with nothing."""
    if node.saved is None or node.counters is not None:
        _check_saved_values(node)      # here, after the hooks: a hook may have written into them
    op, options, saved = node.op, node.options, node.saved
    if recorded:                       # Tensors on the graph, so that the VJPs are recorded
        ans = _output_tensor(node)
        inputs = [_input_tensor(node, i) for i in range(len(saved))]
    else:
        ans, inputs = node.ans, saved
    together = op.vjp_all(g, ans, *inputs, **options) if op.vjp_all is not None else None
    checks = recorded or _state.checks
    sends = []
    for i, parent in enumerate(node.parents):
        if parent is None:
            continue
        if together is not None:
            gi = together[i]
        elif options:
            gi = op.vjps[i](g, ans, *inputs, **options)
        else:                               # (most ops have no options: no empty dict to unpack)
            gi = op.vjps[i](g, ans, *inputs)
        x = saved[i]
        kind = type(gi)
        # _fits(gi, x), inlined for the common case of a numpy scalar (a scalar graph's every step)
        if checks or kind is not type(x) or kind is _NDARRAY and not _fits(gi, x):
            gi = _fit(gi, x, node, i, recorded)
        # only an ndarray can be aliased: a Tensor (recorded) or numpy scalar needs no bookkeeping
        sends.append((i, parent, gi, type(gi) is _NDARRAY and _fresh(gi, g, ans, saved)))
    return sends


# ---- the small named places: modes, shapes, aliasing, versions, hooks, observers ---------------
@contextlib.contextmanager
def _vjp_mode(recorded):
    """The thread's modes while VJPs run: recorded only for higher derivatives,
    otherwise on plain arrays.  Under detect_anomaly a non-finite gradient is
    reported by the step, naming the forward op whose VJP made it, and the nodes
    a create_graph backward records keep their creation stack for the next report."""
    saved = _state.anomaly, _state.tracing, _state.grad_enabled, _state.arrays, _state.checks
    _state.checks = _state.anomaly
    _state.grad_enabled, _state.arrays = recorded, not recorded
    _state.anomaly, _state.tracing = False, _state.checks and recorded
    try:
        yield
    finally:
        _state.anomaly, _state.tracing, _state.grad_enabled, _state.arrays, _state.checks = saved


@contextlib.contextmanager
def _user_mode():
    """Hooks and observers are user code: primitives give Tensors there, as everywhere else."""
    saved = _state.arrays
    _state.arrays = False
    try:
        yield
    finally:
        _state.arrays = saved


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``.

    ``x + b`` with x of shape (n, m) and b of shape (m,) uses b n times, so
    b's gradient is the sum of the n rows of the upstream gradient.  Any other
    difference of shapes is not broadcasting: ValueError.
    """
    extra = g.ndim - len(shape)
    if extra < 0 or any(n != 1 and g.shape[i + extra] != n for i, n in enumerate(shape)):
        raise ValueError(f"a gradient of shape {shape_str(g.shape)} is not a broadcast of shape {shape_str(shape)}")
    stretched = tuple(i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    if not stretched:                     # only leading axes were added (a bias): one sum
        return g.sum(axis=tuple(range(extra))) if extra else g.reshape(shape)
    g = g.sum(axis=tuple(range(extra)) + stretched, keepdims=True)
    return g.reshape(shape)


def _fit(gi, x, node, i, recorded):
    """The VJP's result as the gradient of input ``x``: its type, shape and dtype."""
    if isinstance(gi, Tensor):
        if not recorded:
            gi = gi._data
    elif recorded:
        gi = Tensor._wrap(xp.asarray(gi))
    elif not hasattr(gi, "shape"):   # a Python number
        gi = xp.asarray(gi)
    shape = xp.shape(x)
    if gi.shape != shape:
        try:
            gi = unbroadcast(gi, shape)
        except ValueError:
            raise ShapeError(
                f"backward: the VJP of op '{node.op.name}' for input {i} returned a gradient of shape "
                f"{shape_str(gi.shape)} for an input of shape {shape_str(shape)}; a VJP returns the "
                f"input's shape (or a broadcast of it, which the engine sums back) "
                f"(op created at {where_created(node)})") from None
    dtype = x.dtype
    if gi.dtype != dtype:
        gi = gi.astype(dtype)      # the gradient takes its input's dtype, as in PyTorch
    if _state.checks:
        check_finite(node.op, gi._data if isinstance(gi, Tensor) else gi,
                     f"gradient for input {i} (op created at {where_created(node)})")
    return gi


def _fits(gi, x):
    """Is ``gi`` already a gradient for input ``x``: an array of x's type, shape and dtype?
    (Two numpy scalars of one type are: comparing their dtypes costs more than the VJP.)"""
    if type(gi) is not type(x):
        return False
    return type(gi) is not xp.ndarray or (gi.shape == x.shape and gi.dtype == x.dtype)


def _fresh(gi, g, ans, inputs):
    """Did the VJP make ``gi`` as a new array, shared with nothing?  (Not the upstream
    gradient passed through, not a view, not a saved value.)  Numpy scalars are
    immutable: they count as fresh.  A ``.grad`` takes a fresh array over, copies others."""
    if type(gi) is not xp.ndarray:
        return True
    if gi.base is not None or gi is g or gi is ans:
        return False
    for x in inputs:
        if gi is x:
            return False
    return True


def _copy(g):
    return xp.array(g) if type(g) is xp.ndarray else g


def _check_saved_values(node):
    """Refuse to use a node whose saved values are gone or were written in place."""
    if node.saved is None:
        raise _freed_error(node)
    if node.stale():
        raise RuntimeError(
            f"backward: a value saved by op '{node.op.name}' (its input or output, shape "
            f"{shape_str(node.shape)} out) was modified in place after the op used it, so its saved "
            f"value is stale and the gradient would be wrong. Op created at {where_created(node)}. "
            f"Use an out-of-place operation, or modify a copy (t.clone() or t * 1) of the tensor.")


def _freed_error(node):
    return RuntimeError(
        f"backward through the graph a second time: the saved values of op '{node.op.name}' were "
        f"freed by the first backward. Pass retain_graph=True to the first backward() (or ag.grad) "
        f"if you need to go through the graph again.")


def _output_tensor(node):
    """The op's output as a Tensor connected to ``node``, for VJPs recorded under create_graph."""
    ans = Tensor._wrap(node.ans)
    ans._node = node
    return ans


def _input_tensor(node, i):
    """Input ``i`` as a Tensor connected to its own node (None for a constant)."""
    t = Tensor._wrap(node.saved[i])
    t._node = node.parents[i]
    return t


def _run_hooks(node, g, recorded):
    """Each hook sees the gradient (a Tensor) and may return a replacement of the same shape."""
    with _user_mode():
        for hook in list(node.hooks):
            new = hook(g if isinstance(g, Tensor) else Tensor._wrap(g))
            if new is None:
                continue
            if not isinstance(new, Tensor):
                new = Tensor(new, dtype=node.dtype)
            if new.shape != node.shape:
                raise RuntimeError(
                    f"backward: a hook changed the size of the gradient of {_what(node)}: expected shape "
                    f"{shape_str(node.shape)}, the hook returned {shape_str(new.shape)}")
            if new.dtype != node.dtype:
                raise RuntimeError(
                    f"backward: a hook changed the dtype of the gradient of {_what(node)}: expected "
                    f"{node.dtype}, the hook returned {new.dtype}")
            g = new if recorded else new._data
    return g


def _deliver_to_grad(node, g, owned):
    """Accumulate ``g`` into ``.grad`` of the tensor the node fills, as PyTorch does."""
    if node.receiver is None:
        return
    t = node.receiver()
    if t is None:
        return
    if isinstance(g, Tensor):                                 # create_graph: stay on the graph
        t._grad = g if t._grad is None else t._grad + g
    elif t._grad is None:
        t._grad = Tensor._wrap(g if owned else _copy(g))      # never alias an array someone else holds
    else:
        t._grad = Tensor._wrap(t._grad._data + g)


def _seeds(roots, seeds, create_graph):
    """The gradient backward starts from at each root: 1 for a scalar root, else the caller's."""
    grads = {}
    for root, g in zip(roots, seeds):
        node = root._node
        if node is None:
            raise RuntimeError(
                "backward: the output does not require grad: no input of the computation "
                "requires grad, or it was computed under ag.no_grad()")
        if g is None:
            if root.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {shape_str(root.shape)}; a gradient can only be "
                    f"implied for a scalar output, so pass grad= (a tensor of the same shape)")
            data = root._data
            g = store(xp.ones_like(data))                                      # d root / d root
            g = Tensor._wrap(g) if create_graph else g
        else:
            if not isinstance(g, Tensor):
                g = Tensor(g, dtype=root.dtype)
            elif g.dtype != root.dtype:
                g = g.astype(root.dtype)     # the gradient takes the output's dtype, as in PyTorch
            if g.shape != root.shape:
                raise RuntimeError(f"backward: grad has shape {shape_str(g.shape)} but the output has "
                                   f"shape {shape_str(root.shape)}")
            g = g if create_graph else g._data
        grads[node] = grads[node] + g if node in grads else g
    return grads


def _what(node):
    return "a leaf tensor" if node.op is None else f"the output of op '{node.op.name}'"


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


# ---- watching backward (the pictures use it) ------------------------------------------------
class observe:
    """Context manager: call ``fn(node, g, sends)`` at every step of the backward passes
    that THIS thread runs inside the block: the node, its gradient (after hooks) and the
    list of ``(input index, parent node, gradient, fresh)`` it sends.  Other threads'
    passes are not seen."""

    def __init__(self, fn):
        self.fn = fn

    def __enter__(self):
        _state.observers = _state.observers + (self.fn,)
        return self

    def __exit__(self, *exc):
        _state.observers = tuple(f for f in _state.observers if f is not self.fn)
        return False


def _notify(observers, node, g, sends):
    with _user_mode():
        for fn in observers:
            fn(node, g, sends)


class _CollectorPause:
    """Pause Python's cycle collector while any thread runs a backward pass.

    Backward creates no reference cycles, yet the collector, triggered by the
    many small objects a pass allocates, scans the whole (large) graph again
    and again.  Measured on workload 1 (65,077 scalar nodes): backward takes
    about a third less time with it paused.  The switch is process-wide, so it
    is counted: the collector is re-enabled when the last running backward
    ends, and only if it was enabled when the first one began.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    def __enter__(self):
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1

    def __exit__(self, *exc):
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._was_enabled:
                gc.enable()
        return False


collector_paused = _CollectorPause()
