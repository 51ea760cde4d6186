"""Reverse mode: send the gradient from an output back through the graph's nodes.

Every tensor that requires grad has one vertex, a :class:`~.graph.Node`:
the node of the op that made it, or a leaf node for a tensor the user created.
The whole algorithm, in four steps:

1. *Count.*  Walk the graph from the outputs once (an explicit stack, so a
   chain of a million ops is fine) and count, for every node, how many
   consumers will send it a gradient.
2. *Order.*  A node is ready when all its consumers have sent theirs (Kahn's
   algorithm).  Start from the outputs, whose gradient is the seed (1 for a
   scalar).  This gives a reverse topological order, deterministic because
   parents are kept in argument order.
3. *Step.*  At a ready node, apply the chain rule once (:meth:`Backward.step`):
   run its hooks, then for every input that requires grad call the op's VJP,
   ``g_input = vjp(g, ans, *inputs)``; where the op broadcast an input, sum
   the gradient back to the input's shape (``unbroadcast``, the one place
   that does this), and cast it to the input's dtype.  Gradients from several
   consumers of one tensor ADD (fan-out: a tensor used twice influences the
   output along two paths).
4. *Deliver.*  A leaf's node (and a tensor that asked for ``retain_grad``)
   accumulates its total into ``.grad``; saved values are released unless
   ``retain_graph=True``.

The VJPs are written once and run in two modes.  In an ordinary backward they
get numpy arrays and do plain numpy arithmetic; with ``create_graph=True``
they get Tensors and are recorded like any forward computation, so the
gradient can be differentiated again.
"""
import contextlib
import gc
import threading

from .backend import xp
from .errors import shape_str
from .graph import _state, versions_sum, where_created
from .primitive import check_finite
from .tensor import Tensor

# Callbacks ``fn(node, g, sends)`` told about every step backward takes: the node,
# its gradient (after hooks) and the list of ``(input index, parent node, gradient)``
# it sends.  ``ag.viz`` uses them to show backward as it happens.
step_observers = []


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``.

    ``x + b`` with x of shape (n, m) and b of shape (m,) uses b n times, so
    b's gradient is the sum of the n rows of the upstream gradient.
    """
    extra = g.ndim - len(shape)
    stretched = tuple(i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    if not stretched:                     # only leading axes were added (a bias): one sum
        return g.sum(axis=tuple(range(extra))) if extra else g.reshape(shape)
    g = g.sum(axis=tuple(range(extra)) + stretched, keepdims=True)
    return g.reshape(shape)


def backward(root, grad=None, retain_graph=None, create_graph=False):
    """Accumulate d(root)/d(leaf) into ``.grad`` of every leaf that requires grad.

    ``grad`` is the upstream gradient (needed when root is not a scalar).
    Leaf gradients ADD to what is already there: call ``zero_grad`` (or set
    ``.grad = None``) between steps.  The graph's saved values are freed
    afterwards unless ``retain_graph=True``; ``create_graph=True`` records the
    backward computation so the gradients can be differentiated again (and
    implies ``retain_graph``).
    """
    Backward([root], [grad], retain_graph, create_graph).run()


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
    pass_ = Backward(outputs, grad_outputs, retain_graph, create_graph, capture=[t._node for t in inputs])
    pass_.run()
    results = []
    for i, t in enumerate(inputs):
        g = pass_.captured[t._node]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {shape_str(t.shape)}) was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class Backward:
    """One backward pass: the gradients in flight and the nodes still waiting for some.

    ``grads[node]`` is the gradient summed so far (an ndarray, or a Tensor under
    ``create_graph``); ``pending[node]`` how many consumers have yet to send
    theirs; ``borrowed`` the nodes whose gradient array this pass did not create
    itself and may be shared (an upstream gradient passed through unchanged,
    the caller's seed, a hook's result): a leaf's ``.grad`` gets a copy of
    those, and takes any other array over without copying.  With ``capture``
    (``ag.grad``), the gradients of those nodes are kept in ``captured`` and
    no ``.grad`` is touched.
    """

    def __init__(self, roots, seeds, retain_graph=None, create_graph=False, capture=None):
        self.retain_graph = create_graph if retain_graph is None else retain_graph
        self.create_graph = create_graph
        self.anomaly = _state.anomaly
        self.captured = None if capture is None else dict.fromkeys(capture)
        self.checks = create_graph or self.anomaly     # the VJPs' results need more than a look
        self.grads, self.borrowed = {}, set()
        for root, seed in zip(roots, seeds):
            if root._node is None:
                raise RuntimeError(
                    "backward: the output does not require grad: no input of the computation "
                    "requires grad, or it was computed under ag.no_grad()")
            node = root._node
            seed = self._seed(root, seed)
            self.grads[node] = self.grads[node] + seed if node in self.grads else seed
            self.borrowed.add(node)
        self.pending = self.count(self.grads)

    def run(self):
        """Steps 2 to 4: take ready nodes until none is left."""
        ready = [node for node in self.grads if node not in self.pending]
        with collector_paused, self.vjp_mode():
            while ready:
                self.step(ready.pop(), ready)

    @contextlib.contextmanager
    def vjp_mode(self):
        """The thread's modes while VJPs run: recorded only for higher derivatives,
        otherwise on plain arrays.  Under detect_anomaly a non-finite gradient is
        reported by the step, naming the forward op whose VJP made it, and the nodes
        a create_graph backward records keep their creation stack for the next report."""
        saved = _state.anomaly, _state.tracing, _state.grad_enabled, _state.arrays
        _state.grad_enabled, _state.arrays = self.create_graph, not self.create_graph
        _state.anomaly, _state.tracing = False, self.anomaly and self.create_graph
        try:
            yield
        finally:
            _state.anomaly, _state.tracing, _state.grad_enabled, _state.arrays = saved

    # ---- 1. count ------------------------------------------------------------------
    @staticmethod
    def count(roots):
        """For every node reachable from ``roots``, how many gradients will arrive."""
        pending = {}
        stack = list(roots)
        while stack:
            node = stack.pop()
            _check_saved_values(node)
            for t in node.inputs:
                parent = t._node
                if parent is None:
                    continue
                if parent in pending:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    stack.append(parent)
        return pending

    # ---- 3. the chain rule at one node ----------------------------------------------
    def step(self, node, ready):
        """Apply the chain rule at ``node``: hooks, delivery, VJPs, and the fan-out sum."""
        g = self.grads.pop(node)
        shared = node in self.borrowed
        if node.hooks:
            g, shared = self._run_hooks(node, g), True
        if self.captured is not None:
            if node in self.captured:
                self.captured[node] = self._as_tensor(g)
        elif node.receiver is not None:
            self._deliver(node, g, shared)
        sends = self.vjps(node, g) if node.op is not None else ()   # a leaf sends nothing
        grads, pending = self.grads, self.pending
        for i, parent, gi, fresh in sends:
            # += : a tensor used by several ops gets the sum of their gradients (fan-out).
            if parent in grads:
                grads[parent] = grads[parent] + gi      # a new array: never in place on a shared one
                self.borrowed.discard(parent)
            else:
                grads[parent] = gi
                if not fresh:
                    self.borrowed.add(parent)
            pending[parent] -= 1
            if pending[parent] == 0:
                ready.append(parent)
        for observe in step_observers:
            observe(node, g, sends)
        if not self.retain_graph:
            node.free()     # release the saved values as soon as they are used

    def vjps(self, node, g):
        """``(i, parent, gradient, fresh)`` for every input ``i`` of an op's node that requires grad."""
        op, kwargs = node.op, node.kwargs
        if self.create_graph:            # Tensors, so that the VJPs are recorded
            ans, inputs = node_output(node), node.inputs
        else:
            ans, inputs = node.ans, [t._data for t in node.inputs]
        together = op.vjp_all(g, ans, *inputs, **kwargs) if op.vjp_all is not None else None
        sends = []
        for i, saved in enumerate(node.inputs):
            parent = saved._node
            if parent is None:
                continue
            gi = op.vjps[i](g, ans, *inputs, **kwargs) if together is None else together[i]
            x = inputs[i]
            if self.checks or not _fits(gi, x):
                gi = self._fit(gi, x, node, i)
            sends.append((i, parent, gi, _is_fresh(gi, g, ans, inputs)))
        return sends

    def _fit(self, gi, x, node, i):
        """The VJP's result as the gradient of input ``x``: its type, shape and dtype."""
        if isinstance(gi, Tensor):
            if not self.create_graph:
                gi = gi._data
        elif self.create_graph:
            gi = Tensor._wrap(xp.asarray(gi))
        elif not hasattr(gi, "shape"):   # a Python number
            gi = xp.asarray(gi)
        try:
            if gi.shape != x.shape:
                gi = unbroadcast(gi, x.shape)
        except ValueError:
            raise ValueError(
                f"backward: the VJP of op '{node.op.name}' for input {i} returned shape "
                f"{shape_str(gi.shape)}, which does not reduce to the input's shape {shape_str(x.shape)} "
                f"(op created at {where_created(node)})") from None
        if gi.dtype != x.dtype:
            gi = gi.astype(x.dtype)      # the gradient takes its input's dtype, as in PyTorch
        if self.anomaly:
            check_finite(node.op, _array(gi), f"gradient for input {i} (op created at {where_created(node)})")
        return gi

    # ---- hooks, delivery -------------------------------------------------------------

    def _run_hooks(self, node, g):
        """Each hook sees the gradient (a Tensor) and may return a replacement of the same shape."""
        for hook in node.hooks:
            new = hook(self._as_tensor(g))
            if new is None:
                continue
            if not isinstance(new, Tensor):
                new = Tensor(new, dtype=node.dtype)
            if new.shape != node.shape:
                raise RuntimeError(
                    f"backward: a hook changed the size of the gradient of {_what(node)}: expected shape "
                    f"{shape_str(node.shape)}, the hook returned {shape_str(new.shape)}")
            g = new if self.create_graph else new._data
        return g

    def _deliver(self, node, g, shared):
        """Accumulate ``g`` into ``.grad`` of the tensor the node fills, as PyTorch does."""
        t = node.receiver()
        if t is None:
            return
        if self.create_graph:
            g = self._as_tensor(g)
            t._grad, t._owns_grad = (g if t._grad is None else t._grad + g), False
        elif t._grad is None:
            # A numpy scalar is immutable, so never shared; a shared array is copied.
            t._grad, t._owns_grad = Tensor._wrap(xp.array(g) if shared and type(g) is xp.ndarray else g), True
        elif t._owns_grad and t._grad.shape == g.shape and type(t._grad._data) is xp.ndarray:
            t._grad._data += g           # our own array: adding in place saves a copy
            t._grad._mark_modified()
        else:
            t._grad, t._owns_grad = Tensor._wrap(t._grad._data + g), True

    def _as_tensor(self, g):
        return g if isinstance(g, Tensor) else Tensor._wrap(g)

    def _seed(self, root, g):
        """The gradient backward starts from: 1 for a scalar root, else the caller's."""
        if g is None:
            if root.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {shape_str(root.shape)}; a gradient can only be "
                    f"implied for a scalar output, so pass grad= (a tensor of the same shape)")
            data = root._data
            g = data.dtype.type(1) if data.ndim == 0 else xp.ones_like(data)   # d root / d root
            return Tensor._wrap(g) if self.create_graph else g
        if not isinstance(g, Tensor):
            g = Tensor(g, dtype=root.dtype)
        elif g.dtype != root.dtype:
            g = g.astype(root.dtype)     # the gradient takes the output's dtype, as in PyTorch
        if g.shape != root.shape:
            raise RuntimeError(
                f"backward: grad has shape {shape_str(g.shape)} but the output has shape {shape_str(root.shape)}")
        return g if self.create_graph else g._data


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


def node_output(node):
    """The op's output as a Tensor connected to ``node``, for VJPs recorded under create_graph."""
    ans = Tensor._wrap(node.ans)
    ans._node = node
    return ans


def _check_saved_values(node):
    """Refuse to go through a node whose saved values are gone or stale."""
    if node.op is None:
        return
    if node.inputs is None:
        raise RuntimeError(
            f"backward through the graph a second time: the saved values of op "
            f"'{node.op.name}' were freed by the first backward. Pass retain_graph=True to "
            f"the first backward() (or ag.grad) if you need to go through the graph again.")
    if node.op.linear:
        return
    if node.output_modified:
        raise RuntimeError(
            f"backward: the output of op '{node.op.name}' (shape {shape_str(node.shape)}) was modified "
            f"in place after the op made it; its VJP needs that output, so the gradient would be wrong. "
            f"Op created at {where_created(node)}. Modify a copy (t.clone() or t * 1) instead.")
    if versions_sum(node.inputs) != node.version:
        shapes = ", ".join(shape_str(t.shape) + f" (version {t._version_owner()._version})" for t in node.inputs)
        raise RuntimeError(
            f"backward: an input of op '{node.op.name}' was modified in place after the op used it, "
            f"so its saved value is stale and the gradient would be wrong. Inputs: {shapes}. "
            f"Op created at {where_created(node)}. Use an out-of-place operation, or modify a copy "
            f"(t.clone() or t * 1) of the tensor.")


def _fits(gi, x):
    """Is ``gi`` already a gradient for input ``x``: an array of x's type, shape and dtype?
    (Two numpy scalars of one type are: comparing their dtypes costs more than the VJP.)"""
    if type(gi) is not type(x):
        return False
    return type(gi) is not xp.ndarray or (gi.shape == x.shape and gi.dtype == x.dtype)


def _is_fresh(gi, g, ans, inputs):
    """Did the VJP make ``gi`` as a new array, shared with nothing?  (Not the upstream
    gradient passed through, not a view, not a saved value.)  Numpy scalars are
    immutable, and Tensors (create_graph) are never added into in place: both count."""
    if type(gi) is not xp.ndarray:
        return True
    if gi.base is not None or gi is g or gi is ans:
        return False
    for x in inputs:
        if gi is x:
            return False
    return True


def _array(g):
    return g._data if isinstance(g, Tensor) else g


def _what(node):
    return "a leaf tensor" if node.op is None else f"the output of op '{node.op.name}'"
