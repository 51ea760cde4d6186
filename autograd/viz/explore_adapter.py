"""The one place where the explorer reads the engine and the drawing code.

Everything the page shows beyond the public pieces (``draw`` and the
``backward_steps`` frames) comes through the functions below, so that a change
of the engine's internals touches this file only:

* :func:`walk` walks the graph once for the whole page; :func:`steps` (the
  frames of ``backward_steps``) and :func:`drawing` both read that one walk.
* :func:`drawing` draws the picture and keeps its public
  :class:`~autograd.viz.where.Layout`: which SVG vertex stands for which graph
  key (the picture's ids are counters like ``t0``, ``op3``), which op vertex a
  node sits under when it is collapsed into a group, and the module label of a
  scope.
* :func:`node_facts` reads a node's saved values, its op name, options,
  inputs and naming scope; :func:`leaf_facts` a leaf's.
* :func:`op_rules` reads the op's own formulas (``defvjp(inputs=, formulas=)``)
  and, for an op without them, its VJP's source text.
* :func:`short`, :func:`grad_color` and :func:`color_scale` reuse the
  pictures' number format and gradient colour scale.

Engine data read here: a graph key is a ``Node`` (one per tensor that requires
grad: an op's output, or a leaf with ``op`` None) or, for a constant, the
Tensor itself.  From an op's Node: ``id`` (creation order), ``op.name``,
``op.formula(i)``, ``op.input_names(n)``, ``op.vjps`` / ``op.vjp_all`` (for
the source text), ``kwargs``, ``parents``, ``inputs`` (the saved input
Tensors), ``ans`` (the saved output), ``shape``, ``dtype`` and ``scope``
(``.path()``); from a leaf's Node ``ans``, ``shape``, ``dtype``; from a
constant Tensor ``data``, ``shape``, ``dtype``.
"""
import numpy as np

from ..graph import Node
from .steps import walk_steps
from .walk import Const, Walk, gc_paused, is_op  # is_op: explore_data asks it here (eng.is_op)
from . import fmt
from .draw import layout_of_walk
from .legend import legend_rows


def creation_order(key):
    """The position of an op in the forward pass (nodes are numbered as they are made)."""
    return key.id


class Drawing:
    """The picture and where each graph key is in it (read from its public
    :class:`~autograd.viz.where.Layout`).

    ``svg`` is the rendered picture; ``tensor_vertex(key)`` the box of a tensor,
    ``op_vertex(node)`` the ellipse of an op (or the box of the group hiding it,
    or the "more ops" note when ``max_nodes`` cut it), ``module(key)`` the
    scope path as the picture labels it.  Unknown keys give None.
    """

    def __init__(self, layout):
        self.layout = layout
        self.keys = list(layout.tensor_vertex)

    def svg(self):
        return self.layout.picture.svg()

    def tensor_vertex(self, key):
        return self.layout.tensor_vertex.get(key)

    def op_vertex(self, node):
        return self.layout.vertex_of_op(node)

    def group_members(self):
        """{group vertex: member nodes} for ops drawn as one box."""
        lay = self.layout
        return {lay.group_vertex[g]: nodes for g, nodes in lay.members.items() if g in lay.group_vertex}

    def module(self, key):
        return self.layout.module_of(key)

    def names(self):
        return self.layout.names

    def legend_rows(self):
        """The picture's legend as rows ``[swatch, text, colour, ink, heading]`` (plain text)."""
        return [list(row) for row in legend_rows(self.layout)]


def walk(root):
    """The graph behind ``root``, walked once for the whole page (see ``walk.Walk``)."""
    with gc_paused():
        return Walk(root)


def steps(walked, **opts):
    """The frames of ``backward_steps`` (same options) over a walked graph."""
    return walk_steps(walked, **opts)


def drawing(walked, **draw_opts):
    """Draw a walked graph (options as for ``ag.viz.draw``) and keep its layout."""
    return Drawing(layout_of_walk(walked, **draw_opts))


def node_facts(node):
    """What the panel shows of an op's output: value, inputs (key or None for a
    constant, and its value), op name and options."""
    ins = node.saved
    parents = node.parents
    inputs = []
    for i, p in enumerate(parents):
        x = None if ins is None else ins[i]
        inputs.append(dict(key=p if p is not None else (None if x is None else Const(node, i)),
                           differentiable=p is not None, value=None if x is None else np.asarray(x)))
    value = None if node.ans is None else np.asarray(node.ans)
    return dict(op=node.op.name, options=fmt.kwargs_text(node.options), shape=tuple(node.shape),
                dtype=str(node.dtype), value=value, inputs=inputs)


def leaf_facts(key):
    """What the panel shows of a leaf (its Node) or a constant (its Tensor)."""
    if type(key) is Node:
        leaf = key.receiver()                  # the leaf tensor (None once it was deleted)
        return dict(shape=tuple(key.shape), dtype=str(key.dtype),
                    value=None if leaf is None else np.array(leaf.data), requires_grad=True)
    return dict(shape=tuple(key.shape), dtype=str(key.dtype), value=np.asarray(key.numpy()),
                requires_grad=False)


def op_rules(node):
    """Per input: (symbol, local derivative, VJP formula, VJP source or None), as the op
    states them where it is defined (``defvjp(..., inputs=, formulas=)``)."""
    op, n = node.op, len(node.parents)
    syms = op.input_names(n)
    out = []
    for i in range(n):
        rule = op.formula(i)
        if rule is None:
            fn = op.vjp_all if op.vjp_all is not None else op.vjps[i] if i < len(op.vjps) else None
            out.append((syms[i], None, None, fmt.source_text(fn)))
        else:
            out.append((syms[i], rule[0], rule[1], None))
    return out


def short(a):
    """An array as one short line: entries when few, else min/mean/max."""
    if a is None:
        return "(freed by backward)"
    return fmt.array_text(a, 4)


def grad_color(g):
    """The fill ``draw(color_by="grad")`` gives a tensor whose gradient is ``g``."""
    return fmt.scale_color(fmt.rms(g))


def color_scale():
    """Legend rows ``[range text, colour, meaning]`` of the gradient colour scale."""
    return [list(row) for row in fmt.scale_rows()]


