"""What a picture is made of: an iterative walk from the output back to the leaves.

``Walk(roots)`` visits the recorded nodes breadth-first from the output (an
explicit queue, no recursion, so a chain of a million ops is fine), keeps the
``max_nodes`` nearest to the output, and lists for every kept node where each
input came from.  Everything is ordered by creation (``node.id``) and first use,
never by ``id()``, so the same code always gives the same picture.

Keys: a tensor that requires grad is represented by its graph vertex, its
:class:`~autograd.graph.Node` (an op's node, or a leaf's node); a constant (no
gradient flows there, so it has no vertex) by a :class:`Const`, the value an
op saved (one constant used by two ops is one key), or, once backward freed
the saved values, by a :class:`FreedConst`; a root that requires no grad by
the Tensor itself.  ``==`` on Tensors is elementwise, so never search lists of them.
"""
import gc
from collections import deque

import numpy as np

from ..graph import Node
from ..tensor import Tensor


class Const:
    """A constant input of ``node`` (position ``index``): the value the op saved.
    Two keys are equal when they hold the same value object (one constant, two uses)."""
    __slots__ = ("node", "index", "value")

    def __init__(self, node, index):
        self.node, self.index, self.value = node, index, node.saved[index]

    def __hash__(self):
        return id(self.value)

    def __eq__(self, other):
        return type(other) is Const and other.value is self.value

    @property
    def name(self):
        labels = self.node.labels
        return labels[self.index] if labels else None

    @property
    def shape(self):
        return np.shape(self.value)

    @property
    def dtype(self):
        return np.asarray(self.value).dtype

    @property
    def size(self):
        return np.size(self.value)

    def numpy(self):
        return np.asarray(self.value)


class FreedConst:
    """A constant input of ``node`` (position ``index``) whose value backward has freed."""
    __slots__ = ("node", "index")

    def __init__(self, node, index):
        self.node, self.index = node, index


def key_of(t):
    """The graph key of a Tensor: its node when it requires grad, else the tensor itself."""
    return t._node if t._node is not None else t


def is_op(key):
    """Is ``key`` the node of an op (not a leaf's node, not a constant)?"""
    return type(key) is Node and key.op is not None


def tensor_of(key):
    """The Tensor behind a leaf key or a root constant (None for ops, dead leaves, saved constants)."""
    if type(key) is Node:
        return key.receiver() if key.is_leaf and key.receiver is not None else None
    return key if isinstance(key, Tensor) else None


def as_roots(root):
    if isinstance(root, Tensor):
        return [root]
    roots = list(root)
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        raise TypeError("viz: expected a Tensor or a list of Tensors to draw")
    return roots


class gc_paused:
    """Pause the cycle collector while walking a big graph.

    A walk allocates many small containers; each allocation burst triggers
    collections that scan every node of the (large, cycle-free) graph.  The
    engine's backward pauses it for the same reason.
    """

    def __enter__(self):
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            gc.enable()
        return False


def bfs_order(root_keys):
    """The op nodes behind ``root_keys``, breadth first: nearest the output first.  The one
    traversal of the graph a picture or page makes (an explicit queue, no recursion)."""
    queue = deque()
    seen = set()
    for k in root_keys:
        if is_op(k) and k not in seen:
            seen.add(k)
            queue.append(k)
    order = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for p in node.parents:
            if is_op(p) and p not in seen:
                seen.add(p)
                queue.append(p)
    return order


class Walk:
    """The part of the graph behind ``roots`` that a picture shows.

    Attributes: ``nodes`` (kept nodes, creation order), ``omitted`` (how many
    nodes were cut by ``max_nodes``), ``inputs[node]`` (list of ``(i, key)``;
    key None when the input's node was cut), ``leaves`` (leaf and constant
    keys in first-use order), ``consumers[key]`` (list of ``(node, i)``),
    ``roots`` (the Tensors drawn) and ``root_of[key]`` (key -> root Tensor).
    One page draws and steps through the same graph: ``capped(max_nodes)``
    gives the picture's part of a whole walk without walking again.
    """

    def __init__(self, roots, max_nodes=None):
        self.roots = as_roots(roots)
        self.root_of = {}
        for r in self.roots:
            self.root_of.setdefault(key_of(r), r)
        self._order = bfs_order(self.root_of)
        self.total = len(self._order)
        self._keep(max_nodes)

    def capped(self, max_nodes):
        """This walk cut to the ``max_nodes`` ops nearest the output, without walking
        the graph again (the breadth-first order is kept); ``self`` when nothing is cut."""
        if max_nodes is None or (not self.omitted and max_nodes >= self.total):
            return self
        cut = object.__new__(Walk)                 # not Walk(...): __init__ would walk the graph again
        cut.roots, cut.root_of, cut._order, cut.total = self.roots, self.root_of, self._order, self.total
        cut._keep(max_nodes)
        return cut

    def _keep(self, max_nodes):
        """Keep the first ``max_nodes`` of the breadth-first order; list where inputs come from."""
        order = self._order
        if max_nodes is not None and len(order) > max_nodes:
            order = order[:max_nodes]
        kept = set(order)
        self.omitted = self.total - len(order)
        self.nodes = sorted(order, key=lambda n: n.id)
        self.inputs, self.consumers, self.leaves = {}, {}, []
        for k in self.root_of:
            if not is_op(k):
                self._use(k, None, None)
        for node in self.nodes:
            ins = []
            for i, p in enumerate(node.parents):
                if is_op(p):
                    key = p if p in kept else None
                elif p is not None:
                    key = p                        # a leaf's node
                elif node.saved is not None:
                    key = Const(node, i)           # a constant: its value is still saved
                else:
                    key = FreedConst(node, i)
                ins.append((i, key))
                if key is not None:
                    self._use(key, node, i)
            self.inputs[node] = ins

    def _use(self, key, node, i):
        uses = self.consumers.get(key)
        if uses is None:
            uses = self.consumers[key] = []
            if not is_op(key):
                self.leaves.append(key)
        if node is not None:
            uses.append((node, i))

    # ---- what each key shows ------------------------------------------------------
    def value(self, key):
        """The array behind ``key``, or None when backward freed it."""
        if key in self.root_of:
            return self.root_of[key].numpy()
        if is_op(key):
            return None if key.ans is None else np.asarray(key.ans)   # 0-d values may be numpy scalars
        if type(key) is Const:
            return key.numpy()
        t = tensor_of(key)
        return None if t is None else t.numpy()

    def grad(self, key, recorded):
        """The gradient known for ``key`` (ndarray or None): a leaf's ``.grad``, else the
        one ``recorded`` (a ``record.grad_table``) holds, else a drawn root's ``.grad``."""
        t = tensor_of(key)
        if t is not None and t.grad is not None:
            return t.grad.data
        if key in recorded:
            return recorded[key]
        r = self.root_of.get(key)
        return r.grad.data if r is not None and r.grad is not None else None

    def shape_dtype(self, key):
        if type(key) is Node:
            return key.shape, key.dtype
        if type(key) is FreedConst:
            return None, None
        return key.shape, key.dtype

    def is_const(self, key):
        return type(key) is not Node

    def freed(self):
        """True when backward has freed saved values of some drawn node."""
        return any(n.freed for n in self.nodes)


def names(walk, model=None, name_map=None):
    """Names for keys: ``name_map`` first, then the model's parameter names (``model``: a
    ``model.ModelView``), then ``t.name``."""
    out = {}
    for node in walk.nodes:                       # inner tensors that the user named
        if node.name:
            out[node] = node.name
    for key in walk.leaves:
        t = tensor_of(key)
        if t is not None and t.name:
            out[key] = t.name
        elif type(key) is Const and key.name:
            out[key] = key.name
    for key, r in walk.root_of.items():
        if r.name:
            out[key] = r.name
    if model is not None:
        out.update(model.param_names)
    if name_map:
        for a, b in name_map.items():
            name, t = (a, b) if isinstance(a, str) else (b, a)
            out[key_of(t)] = name
    return out


def labels(walk, named):
    """A printable name for every key: its name, else ``%k`` for the k-th op's output
    (creation order), ``leaf k`` / ``const k`` for unnamed leaves."""
    out = {}
    for k, node in enumerate(walk.nodes):
        out[node] = named.get(node) or f"%{k}"
    n_leaf = n_const = 0
    for key in walk.leaves:
        if key in named:
            out[key] = named[key]
        elif walk.is_const(key):
            out[key] = f"const{n_const}"
            n_const += 1
        else:
            out[key] = f"leaf{n_leaf}"
            n_leaf += 1
    return out
