"""Reverse mode: send the gradient from an output back through the recorded nodes.

The whole algorithm, in four steps:

1. *Count.*  Walk the graph from the output once (with an explicit stack, so
   a chain of a million ops is fine) and count, for every node, how many
   consumers will send it a gradient.
2. *Order.*  A node is ready when all its consumers have sent theirs
   (Kahn's algorithm).  Start from the output, whose gradient is the seed
   (1 for a scalar).  This gives a reverse topological order, deterministic
   because parents are kept in argument order.
3. *Apply the chain rule.*  For a ready node, call the VJP of each input:
   ``g_input = vjp(g_output, ans, *inputs)``; where an op broadcast an input,
   sum the gradient back to the input's shape (``unbroadcast``, the one place
   that does this).  Gradients from several consumers of the same tensor
   ADD (fan-out: a tensor used twice influences the output along two paths).
4. *Deliver.*  Leaves that require grad accumulate into ``.grad``; saved
   values are released unless ``retain_graph=True``.

VJPs are ordinary Tensor code.  Normally they run with grad mode off; with
``create_graph=True`` they are recorded like any forward computation, so the
gradient can be differentiated again.
"""
import gc
import sys

from . import graph
from .backend import xp
from .errors import shape_str
from .graph import Node, _check_finite, _state, _version_sum, where_created

# Callbacks ``fn(key, grad)`` told about every gradient backward computes;
# key is a Node (inner tensor) or a leaf Tensor.  Used by ag.viz.record_grads.
grad_observers = []


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
    _run([root], [grad], retain_graph, create_graph, None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple of Tensors, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are differentiable again, which
    is how higher derivatives are taken::

        x = ag.tensor(2.0, requires_grad=True)
        (dy,) = ag.grad(x ** 3, x, create_graph=True)     # 3x^2 = 12
        (d2y,) = ag.grad(dy, x)                           # 6x = 12
    """
    single = not isinstance(outputs, (list, tuple))
    outputs = [outputs] if single else list(outputs)
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it is not part of any graph")
    captured = {(t._node if t._node is not None else t): None for t in inputs}
    _run(outputs, grad_outputs, retain_graph, create_graph, captured)
    results = []
    for i, t in enumerate(inputs):
        g = captured[t._node if t._node is not None else t]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {shape_str(t.shape)}) was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it")
        results.append(g)
    return tuple(results)


def _seed(root, g):
    if g is None:
        if root.size != 1:
            raise RuntimeError(
                f"backward: the output has shape {shape_str(root.shape)}; a gradient can only be "
                f"implied for a scalar output, so pass grad= (a tensor of the same shape)")
        data = root._data
        one = data.dtype.type(1) if data.ndim == 0 else xp.ones_like(data)   # d root / d root
        return graph._Tensor._wrap(one)
    if not isinstance(g, graph._Tensor):
        g = graph._Tensor(g, dtype=root.dtype)
    elif g.dtype != root.dtype:
        g = g.astype(root.dtype)     # the gradient takes the output's dtype, as in PyTorch
    if g.shape != root.shape:
        raise RuntimeError(
            f"backward: grad has shape {shape_str(g.shape)} but the output has shape {shape_str(root.shape)}")
    return g


def _count_consumers(roots):
    """Step 1: for every node reachable from ``roots``, how many gradients will arrive."""
    pending = {}
    stack = [r for r in roots if type(r) is Node]
    while stack:
        node = stack.pop()
        inputs = node.inputs
        if inputs is None:
            raise RuntimeError(
                f"backward through the graph a second time: the saved values of op "
                f"'{node.op.name}' were freed by the first backward. Pass retain_graph=True to "
                f"the first backward() (or ag.grad) if you need to go through the graph again.")
        if node.version >= 0 and _version_sum(inputs) != node.version:
            _stale_input_error(node)
        for t in inputs:
            p = t._node
            if p is not None:
                if p in pending:
                    pending[p] += 1
                else:
                    pending[p] = 1
                    stack.append(p)
    return pending


def _stale_input_error(node):
    shapes = ", ".join(shape_str(t.shape) + f" (version {t._version})" for t in node.inputs)
    raise RuntimeError(
        f"backward: an input of op '{node.op.name}' was modified in place after the op used it, "
        f"so its saved value is stale and the gradient would be wrong. Inputs: {shapes}. "
        f"Op created at {where_created(node)}. Use an out-of-place operation, or clone "
        f"(t.detach() * 1) the tensor before modifying it.")


def _run(roots, seeds, retain_graph, create_graph, captured):
    if retain_graph is None:
        retain_graph = create_graph
    keys, grads = {}, {}     # dicts: ordered, and keyed by identity (Tensor's == is elementwise)
    for root, g in zip(roots, seeds):
        if not root._requires_grad:
            raise RuntimeError(
                "backward: the output does not require grad: no input of the computation "
                "requires grad, or it was computed under ag.no_grad()")
        key = root._node if root._node is not None else root
        g = _seed(root, g)
        grads[key] = grads[key] + g if key in grads else g
        keys[key] = None
    pending = _count_consumers(keys)
    ready = [k for k in keys if type(k) is Node and k not in pending]
    leaf_grads = {k: grads[k] for k in keys if type(k) is not Node}
    state = _state
    anomaly, recording = state.anomaly, state.grad_enabled
    # The engine creates no reference cycles, so the cycle collector has nothing
    # to find during backward; pausing it saves its repeated scans of a large graph.
    collecting = gc.isenabled()
    gc.disable()
    # Under detect_anomaly, a non-finite gradient is reported as coming from the VJP
    # of the forward op that owns it, not from the arithmetic inside that VJP.
    state.anomaly = False
    state.grad_enabled = create_graph      # VJPs are recorded only for higher derivatives
    try:
        _propagate(ready, grads, leaf_grads, pending, captured, grad_observers, anomaly,
                   retain_graph, create_graph)
    finally:
        state.anomaly, state.grad_enabled = anomaly, recording
        if collecting:
            gc.enable()


def _propagate(ready, grads, leaf_grads, pending, captured, observers, anomaly, retain_graph,
               create_graph):
    """Steps 2 and 3 of the module docstring, then step 4 for the leaves."""
    while ready:
        node = ready.pop()
        g = grads.pop(node)
        if node._hooks:
            for hook in node._hooks:
                new = hook(g)
                if new is not None:
                    g = new
        if captured is not None and node in captured:
            captured[node] = g
        for obs in observers:
            obs(node, g)
        inputs, op = node.inputs, node.op
        ans = graph._Tensor._wrap(node.ans)
        if create_graph:
            # The output, reconnected to its node, so VJPs that use it stay differentiable.
            ans._node, ans._requires_grad = node, True
        for i, x in enumerate(inputs):
            parent = x._node
            if parent is None:
                if not x._requires_grad:
                    continue
                parent = x
            gi = op.vjps[i](g, ans, *inputs, **node.kwargs)
            # (no local names for the arrays: a lingering reference would make
            # _accumulate copy a gradient it could have taken over)
            if gi._data.shape != x._data.shape:
                gi = unbroadcast(gi, x._data.shape)
            if gi._data.dtype != x._data.dtype:
                gi = gi.astype(x._data.dtype)
            if anomaly:
                _check_finite(op, gi._data, f"gradient for input {i} (op created at {where_created(node)})")
            # += : a tensor used by several ops gets the sum of their gradients (fan-out).
            if type(parent) is Node:
                grads[parent] = _add(grads[parent], gi, create_graph) if parent in grads else gi
                pending[parent] -= 1
                if pending[parent] == 0:
                    ready.append(parent)
            else:
                leaf_grads[parent] = _add(leaf_grads[parent], gi, create_graph) if parent in leaf_grads else gi
        if not retain_graph:
            node.free()     # release the saved values as soon as they are used
    # Leaves get their total gradient once, after every path has contributed.
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            for hook in leaf._hooks:
                new = hook(g)
                if new is not None:
                    g = new
        for obs in observers:
            obs(leaf, g)
        if captured is not None:
            if leaf in captured:
                captured[leaf] = g
            continue
        _accumulate(leaf, g, create_graph)


def _add(a, b, create_graph):
    """a + b for two gradients; recorded only when the backward pass itself is."""
    if create_graph:
        return a + b
    return graph._Tensor._wrap(a._data + b._data)    # a fresh array: never in place on a shared one


def _accumulate(leaf, g, create_graph):
    """Add ``g`` into ``leaf.grad``: gradients accumulate across backward calls, as in PyTorch."""
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        data = g._data
        if type(data) is xp.ndarray and not (data.base is None and sys.getrefcount(data) <= 3
                                             and data.dtype == leaf._data.dtype):
            # g's array may be shared (add passes g through to both inputs; views of
            # the upstream gradient), so .grad gets a private copy.  A fresh array
            # that nothing else references (g's slot, `data`, getrefcount's argument)
            # is simply taken over: no copy of a large weight gradient.  (A 0-d
            # gradient is a numpy scalar: immutable, so it is never copied.)
            data = xp.array(data, dtype=leaf._data.dtype)
        leaf.grad = graph._Tensor._wrap(data)
    elif leaf.grad._node is not None or leaf.grad.shape != leaf.shape or leaf.grad.ndim == 0:
        leaf.grad = graph._Tensor._wrap(leaf.grad._data + g._data)
    else:
        leaf.grad._data += g._data     # we own this array (see above), so in place is safe
