"""The layout of one picture: what ``draw`` put where, for code that works beside the picture.

``ag.viz.layout(root, ...)`` (the options of ``draw``) returns a :class:`Layout`;
``draw`` returns its ``picture``.  The legend (``legend.py``), the explorer
(``explore_adapter.py``) and anything else that lights up, labels or explains
parts of a picture read this object, never the builder that made it, so the
builder can change freely as long as it fills these fields.
"""
from dataclasses import dataclass

from ..tensor import Tensor
from .walk import is_op, key_of


@dataclass(eq=False)
class Layout:
    """Where everything is in one picture.  Fields:

    - ``picture``: the :class:`~autograd.viz.render.Picture` (a ``graphviz.Digraph``).
    - ``tensor_vertex``: ``{key: vertex id}``, the box of every tensor drawn
      (leaf, constant, op output; an "accumulate into .grad" box in the
      backward view).  A *key* is a graph vertex as ``walk.py`` defines it:
      the ``Node`` of a tensor that requires grad, a ``Const`` for a constant.
      Vertex ids are the SVG's ``<title>`` of the vertex: counters in drawing
      order (``t0``, ``op3``, ``g1``), never ``id()``.
    - ``op_vertex``: ``{node: vertex id}``, the ellipse (backward view: the
      box) of every op drawn on its own.
    - ``group_vertex``: ``{scope: vertex id}``, the one box of a collapsed
      module (``depth=``) or composite op.
    - ``group_of``: ``{node: scope}`` for the ops hidden in such a box, and
      ``members``: ``{scope: [nodes]}`` the other way round (creation order).
    - ``cluster_of``: ``{key or scope: innermost cluster scope or None}``,
      the frame (module call, opened composite) a box sits in.
    - ``clusters``: the cluster scopes drawn, outermost first.
    - ``scope_labels``: ``{scope: text}`` for every scope an op drawn was
      recorded in, as the picture labels it (``layers.0: Affine``, ``(call 2)``
      for a module called again).
    - ``names``: ``{key: name}`` of the tensors that have one (``name_map``,
      the model's parameter names, ``t.name``).
    - ``nodes``: the op nodes the picture stands for (creation order); an op
      not among them was cut by ``max_nodes`` and sits behind ``more_vertex``
      (the "more ops not drawn" note, None when nothing was cut).
    - ``omitted``: how many ops ``max_nodes`` cut.
    - ``legend``: the names of the kinds of things that appeared (``"param"``,
      ``"op"``, ``"grad"``, ``"freed"``...; see ``legend.legend_rows``), so a
      legend lists only what this picture shows.
    - ``options``: the options it was drawn with (``draw``'s keywords).
    - ``stepping``: True for a frame of ``backward_steps`` (current node and
      the edges of this step highlighted).
    """
    picture: object
    tensor_vertex: dict
    op_vertex: dict
    group_vertex: dict
    group_of: dict
    members: dict
    cluster_of: dict
    clusters: tuple
    scope_labels: dict
    names: dict
    nodes: tuple
    more_vertex: object
    omitted: int
    legend: frozenset
    options: dict
    stepping: bool

    def __post_init__(self):
        self._drawn = frozenset(self.nodes)      # for membership tests

    def box_of(self, t):
        """The vertex id of the box of Tensor ``t`` (or of a key); None when not drawn."""
        return self.tensor_vertex.get(key_of(t) if isinstance(t, Tensor) else t)

    def vertex_of_op(self, node):
        """The vertex that stands for op ``node``: its own, its group's box, the
        "more ops" note when ``max_nodes`` cut it; None when the picture has none."""
        v = self.op_vertex.get(node)
        if v is None and node in self.group_of:
            v = self.group_vertex.get(self.group_of[node])
        if v is None and node not in self._drawn:
            v = self.more_vertex
        return v

    def module_of(self, key):
        """The module path of a tensor box as the picture labels it (``net / layers.0: Affine``);
        "" outside modules.  An op's output is where its op ran; another box, in its cluster."""
        if is_op(key):
            chain = key.scope.path() if key.scope is not None else []
        else:
            s = self.cluster_of.get(key)
            chain = s.path() if s is not None else []
        return " / ".join(self.scope_labels.get(s, s.name) for s in chain)
