"""``draw``: the computation graph as a Graphviz picture that teaches.

Two views of the same recorded graph:

* ``view="dataflow"`` (default): boxes are tensors (name, shape, dtype, value,
  gradient), ellipses are ops; arrows go the way data flows in the forward
  pass, and gradients flow back against them.
* ``view="backward"``: what ``backward`` walks, as torchviz draws it: one box
  per op's backward, arrows from the output to the leaves (the way gradients
  flow), leaves as "accumulate into .grad" boxes.

Ops recorded inside ``ag.scope(...)`` are grouped: a module call becomes a
cluster labelled with its path in the model (``layers.0: Affine``), and a
composite op (``@ag.composite("cross_entropy")``) becomes one ellipse unless
``expand_composites=True``.  ``depth=k`` draws modules nested deeper than k as
single boxes with their input/output shapes and parameter count.

Every string a user wrote (names, titles, op and module names, a custom op's
formulas) is text in the picture: each label is an HTML-like label we build
from escaped parts (``fmt.dot_esc``), never the user's string itself, and names
are cut to ``fmt.LABEL_MAX`` characters (Graphviz refuses labels past 16 KB).
"""
import math

from ..errors import shape_str
from . import fmt
from .fmt import LABEL_MAX, dot_esc, text_label
from .groups import Grouping
from .where import Layout
from .legend import legend_label
from .record import grad_table
from .render import Picture
from .model import ModelView, parameter_count
from .walk import Walk, gc_paused, is_op, names

VIEWS = ("dataflow", "backward")
COLOR_BY = (None, "grad", "grad_ratio")
RANKDIRS = ("TB", "LR", "BT", "RL")


def draw(root, model=None, depth=None, show_values=True, show_grads=True, formulas=False,
         color_by=None, view="dataflow", expand_composites=False, max_nodes=200,
         name_map=None, grads=None, max_values=6, rankdir="TB", title=None, legend=True):
    """Draw the graph behind ``root`` (a Tensor or a list of them); returns a ``graphviz.Digraph``.

    - ``model``: a module; parameters get their names (``layers.0.weight``)
      and module calls are clustered under their paths (anything that offers
      ``modules_for_pictures()``, see :mod:`autograd.viz.model`; every
      ``nn.Module`` does).
    - ``depth``: draw modules nested deeper than ``depth`` as one box each
      (``depth=0``: the whole model is one box).  None: no collapsing.
    - ``show_values`` / ``show_grads``: a value row / a gradient row per tensor.
      Values appear in full up to ``max_values`` entries, else as min/mean/max.
      Inner tensors' gradients come from ``grads`` (a :class:`GradRecord` from
      ``with ag.viz.record_grads():``; None = the latest record, False = none).
    - ``formulas``: each edge into an op carries its local derivative (``tanh: 1 - y²``).
    - ``color_by``: ``"grad"`` fills tensors by the size (RMS) of their gradient,
      ``"grad_ratio"`` by |grad| / |value|, on a log scale shown in the legend.
    - ``view``: ``"dataflow"`` or ``"backward"`` (see the module docstring).
    - ``expand_composites``: draw the inside of composite ops as a cluster.
    - ``max_nodes``: draw at most this many ops (those nearest the output);
      one summary box stands for the rest.
    - ``name_map``: extra names, ``{"x": x}`` or ``{x: "x"}``.
    - ``title``: a line above the picture (text, cut to ``fmt.TITLE_MAX`` characters).
    - ``legend``: draw the legend box (the explorer shows it beside the picture instead).

    Example::

        x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
        y = (x * x).sum()
        y.backward()
        ag.viz.draw(y).svg()   # x shows data [1, 2] and grad [2, 4]
    """
    if view not in VIEWS:
        raise ValueError(f"draw: view must be one of {VIEWS}, not {view!r}")
    if color_by not in COLOR_BY:
        raise ValueError(f"draw: color_by must be one of {COLOR_BY}, not {color_by!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {RANKDIRS}, not {rankdir!r}")
    if depth is not None and depth < 0:
        raise ValueError(f"draw: depth must be None or >= 0, not {depth}")
    opts = dict(model=model, depth=depth, show_values=show_values, show_grads=show_grads,
                formulas=formulas, color_by=color_by, view=view,
                expand_composites=expand_composites, max_nodes=max_nodes, name_map=name_map,
                grads=grads, max_values=max_values, rankdir=rankdir, title=title, legend=legend)
    return layout(root, **opts).picture


def layout(root, **draw_opts):
    """The picture ``draw`` makes (same options) and where each part of the graph is in it:
    a :class:`~autograd.viz.where.Layout` (vertex ids per tensor and op, groups,
    clusters, module labels, names, what the legend lists).  ``layout(...).picture``
    is ``draw(...)``."""
    opts = options(**draw_opts)
    with gc_paused():
        return Builder(Walk(root, opts["max_nodes"]), opts).build()


def layout_of_walk(walk, **draw_opts):
    """As :func:`layout`, for a graph already walked (a page walks its graph once)."""
    opts = options(**draw_opts)
    with gc_paused():
        return Builder(walk.capped(opts["max_nodes"]), opts).build()


def frame_layout(walk, frame, **draw_opts):
    """The layout of one frame of ``backward_steps`` over ``walk`` (``frame``: a Step, whose
    gradients, current node and edge notes the picture shows)."""
    opts = options(**draw_opts)
    with gc_paused():
        return Builder(walk.capped(opts["max_nodes"]), opts, frame=frame).build()


def options(**overrides):
    """draw()'s defaults with ``overrides`` applied (for pictures made elsewhere, e.g. steps)."""
    import inspect
    opts = {k: p.default for k, p in inspect.signature(draw).parameters.items() if k != "root"}
    unknown = set(overrides) - set(opts)
    if unknown:
        raise TypeError(f"draw: unknown option(s) {', '.join(sorted(unknown))}")
    opts.update(overrides)
    return opts


class Builder(Grouping):
    """Builds one picture; :meth:`build` returns its :class:`Layout`, the only thing other
    modules read.  ``frame`` (used by ``backward_steps``) overrides the gradients,
    highlights the current node and labels the edges its gradient goes along."""

    def __init__(self, walk, opts, frame=None):
        self.o = opts
        self.frame = frame
        self.walk = walk
        self.model = ModelView(opts["model"])
        self.names = names(self.walk, self.model, opts["name_map"])
        self.paths = self.model.paths
        self.grads = grad_table(opts["grads"]) if frame is None else {}
        # Inner gradients are shown when some were recorded for this graph.
        self.inner_grads = frame is not None or any(n in self.grads for n in self.walk.nodes)
        self.ids = {}
        self.counters = {}
        self.stmts = {}          # cluster scope (or None = top level) -> node statements
        self.clusters = []       # cluster scopes in order of first use
        self.edges = []
        self.seen_edges = set()
        self.legend = {}         # what appeared, for the legend
        self._classify()
        self._place_leaves()

    # ---- ids and statements --------------------------------------------------------
    def vid(self, prefix, key):
        """Counter ids (t0, op0, g0...) in drawing order: deterministic, never id()."""
        v = self.ids.get((prefix, key))
        if v is None:
            n = self.counters.get(prefix, 0)
            self.counters[prefix] = n + 1
            v = self.ids[(prefix, key)] = f"{prefix}{n}"
        return v

    def add_vertex(self, cluster, name, **attrs):
        if cluster is not None and cluster not in self.stmts:
            for s in cluster.path():               # outer clusters first
                if s not in self.stmts:
                    self.stmts[s] = []
                    self.clusters.append(s)
        self.stmts.setdefault(cluster, []).append((name, attrs))

    def add_edge(self, src, dst, dedupe=False, **attrs):
        if dedupe:
            if (src, dst) in self.seen_edges:
                return
            self.seen_edges.add((src, dst))
        self.edges.append((src, dst, attrs))

    # ---- gradients ---------------------------------------------------------------------
    def grad_of(self, key):
        """(gradient array or None, note) for a key."""
        if self.frame is not None:
            return self.frame.grads.get(key, (None, ""))
        return self.walk.grad(key, self.grads), ""

    def fill_color(self, key, g):
        by = self.o["color_by"]
        if by is None or g is None:
            return "white"
        if by == "grad":
            return fmt.scale_color(fmt.rms(g))
        v = self.walk.value(key)
        if v is None or fmt.norm(v) == 0:
            return "white"
        return fmt.scale_color(fmt.norm(g) / fmt.norm(v))

    # ---- labels -------------------------------------------------------------------------
    def role(self, key):
        if key in self.walk.root_of:
            return "output"
        if is_op(key):
            return "inner"
        return "const" if self.walk.is_const(key) else "param"

    def tensor_vertex(self, key, cluster):
        """A box for a tensor: name and shape, value row, gradient row."""
        name = self.vid("t", key)
        role = self.role(key)
        self.legend[role] = True
        shape, dtype = self.walk.shape_dtype(key)
        label_name = self.names.get(key)
        value = self.walk.value(key)
        if role == "const" and (shape is None or value is not None and value.size == 1):
            # Small constants are just their number.
            text = "const" if value is None else fmt.num(value.reshape(()).item())
            if label_name:
                text = f"{fmt.clip(label_name)} = {text}"
            self.add_vertex(cluster, name, label=text_label(text, None), shape="plaintext",
                            fontcolor="#666666", fontsize="10")
            if value is None:
                self.legend["freed"] = True
            return name
        rows = []      # "data" and "grad" rows: a table of their own, so captions stay narrow
        head = f"<B>{dot_esc(label_name, LABEL_MAX)}</B> " if label_name else ""
        head = (f'<TR><TD BGCOLOR="{fmt.ROLE_COLORS[role]}">{head}'
                f'<FONT POINT-SIZE="9">{dot_esc(shape_str(shape))} {dot_esc(dtype)}</FONT></TD></TR>')
        if self.o["show_values"]:
            if value is None:
                self.legend["freed"] = True
                rows.append(_row("data", '<FONT COLOR="#888888"><I>freed</I></FONT>'))
            else:
                rows.append(_row("data", _lines(fmt.array_lines(value, self.o["max_values"]))))
        dashed = False
        g = None
        if role != "const" and (not is_op(key) or self.inner_grads):
            g, note = self.grad_of(key)
            if self.o["show_grads"]:
                if g is None:
                    dashed = True
                    self.legend["no_grad"] = True
                    rows.append(_row("grad", '<FONT COLOR="#888888"><I>not computed</I></FONT>'))
                else:
                    self.legend["grad"] = True
                    rows.append(_row("grad", _lines(fmt.array_lines(g, self.o["max_values"]))))
                    if note:
                        rows.append(_row("", f'<FONT POINT-SIZE="9" COLOR="#c00000">{dot_esc(note)}</FONT>'))
        elif is_op(key):
            self.legend["inner_hidden"] = True
        body = ('<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
                + "".join(rows) + "</TABLE></TD></TR>") if rows else ""
        label = ('<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
                 + head + body + "</TABLE>>")
        style = "rounded,filled" + (",dashed" if dashed else "")
        fill = self.fill_color(key, g)
        if self.frame is not None and self.frame.current is key:
            fill = fmt.CURRENT_COLOR
        attrs = dict(label=label, shape="box", style=style, fillcolor=fill, margin="0.05")
        if role == "output":
            attrs["penwidth"] = "2"
        self.add_vertex(cluster, name, **attrs)
        return name

    def op_label(self, node):
        extra = fmt.kwargs_text(node.options)
        sub = f'<BR/><FONT POINT-SIZE="9">{dot_esc(extra)}</FONT>' if extra else ""
        return f"<<B>{dot_esc(node.op.name, LABEL_MAX)}</B>{sub}>"

    def group_label(self, group):
        nodes = self.members[group]
        if group.kind != "module":
            return (f'<<B>{dot_esc(group.name, LABEL_MAX)}</B><BR/><FONT POINT-SIZE="9">composite of '
                    f'{len(nodes)} op{"s" if len(nodes) != 1 else ""}</FONT>>')
        ins, seen = [], set()
        for n in nodes:
            for _, key in self.walk.inputs[n]:
                if key is None or (is_op(key) and self.group_of.get(key) is group):
                    continue
                if self.absorbed.get(key) is group or key in seen:
                    continue
                seen.add(key)
                shape, _ = self.walk.shape_dtype(key)
                if shape != ():
                    ins.append("?" if shape is None else shape_str(shape))
        in_shapes = ", ".join(ins) or "()"
        out_shapes = ", ".join(shape_str(n.shape) for n in self.outputs[group]) or "()"
        n_params = parameter_count(group.obj) if group.obj is not None else None
        if n_params is None:        # not a module that says: count the parameters it hides
            n_params = sum(math.prod(k.shape) for k in self.group_params.get(group, ()))
        return (f'<<B>{dot_esc(self.scope_label(group), LABEL_MAX)}</B><BR/><FONT POINT-SIZE="9">'
                f'in {dot_esc(in_shapes)} → out {dot_esc(out_shapes)}<BR/>'
                f'{n_params:,} parameters, {len(nodes)} ops</FONT>>')

    def group_vertex(self, group, backward=False):
        name = self.ids.get(("g", group))
        if name is not None:
            return name
        name = self.vid("g", group)
        label = self.group_label(group)
        if backward:
            label = label[:-1] + '<BR/><FONT POINT-SIZE="9">(backward)</FONT>>'
        if group.kind == "module":
            self.legend["module_box"] = True
            self.add_vertex(self.cluster_of[group], name, label=label, shape="box3d",
                            style="filled", fillcolor=fmt.GROUP_COLOR)
        else:
            self.legend["composite"] = True
            self.add_vertex(self.cluster_of[group], name, label=label,
                            shape="box" if backward else "ellipse", peripheries="2",
                            style="filled", fillcolor=fmt.OP_COLOR)
        return name

    def summary_vertex(self):
        name = "more"
        if ("more", None) not in self.ids:
            self.ids[("more", None)] = name
            w = self.walk
            self.add_vertex(None, name, shape="note", style="filled", fillcolor="#f8cecc",
                            label=text_label(f"{w.omitted:,} more ops not drawn\n({w.total:,} in all, "
                                             f"max_nodes={self.o['max_nodes']});\n"
                                             "ag.viz.print_graph(root) lists all", None))
        return name

    # ---- the two views -------------------------------------------------------------------
    def build(self):
        """Lay the graph out; returns the :class:`Layout` (its ``picture`` is the Digraph)."""
        if self.o["view"] == "backward":
            self._build_backward()
        else:
            self._build_dataflow()
        g = self._emit()
        layout = self._layout(g)
        if self.o["legend"]:
            g.node("legend", label=legend_label(layout), shape="plaintext", fontsize="9")
        return layout

    def _layout(self, picture):
        by_prefix = {"t": {}, "op": {}, "g": {}}
        for (prefix, key), v in self.ids.items():
            if prefix in by_prefix:
                by_prefix[prefix][key] = v
        scopes = {}
        for scope in {n.scope for n in self.walk.nodes} | set(self.clusters) | set(self.members):
            for s in (scope.path() if scope is not None else ()):
                if s not in scopes:
                    scopes[s] = self.scope_label(s)
        return Layout(picture=picture, tensor_vertex=by_prefix["t"], op_vertex=by_prefix["op"],
                      group_vertex=by_prefix["g"], group_of=self.group_of, members=self.members,
                      cluster_of=self.cluster_of, clusters=tuple(self.clusters), scope_labels=scopes,
                      names=self.names, nodes=tuple(self.walk.nodes),
                      more_vertex=self.ids.get(("more", None)), omitted=self.walk.omitted,
                      legend=frozenset(k for k, v in self.legend.items() if v), options=self.o,
                      stepping=self.frame is not None)

    def _input_vertex(self, key, dst_group):
        """The vertex an input edge starts from, or None when the edge is inside a group."""
        if is_op(key):
            gk = self.group_of.get(key)
            if gk is not None and gk is dst_group:
                return None
            name = self.ids.get(("t", key))
            return name or self.tensor_vertex(key, self.cluster_of[gk if gk is not None else key])
        if key in self.absorbed:
            return None
        return self.ids.get(("t", key)) or self.tensor_vertex(key, self.cluster_of[key])

    def _build_dataflow(self):
        walk, frame = self.walk, self.frame
        for key in walk.leaves:
            if key in self.absorbed or walk.consumers[key]:
                continue
            self.tensor_vertex(key, None)                 # a root that is itself a leaf
        for node in walk.nodes:
            group = self.group_of.get(node)
            if group is None:
                dst = self.vid("op", node)
                current = frame is not None and frame.current is node
                self.add_vertex(self.cluster_of[node], dst, label=self.op_label(node),
                                shape="ellipse", style="filled",
                                fillcolor=fmt.CURRENT_COLOR if current else fmt.OP_COLOR,
                                penwidth="2.5" if current else "1")
                self.legend["op"] = True
            else:
                dst = self.group_vertex(group)
            n_in = len(node.parents)
            for i, key in walk.inputs[node]:
                if key is None:
                    self.add_edge(self.summary_vertex(), dst, dedupe=True, style="dashed")
                    continue
                src = self._input_vertex(key, group)
                if src is None:
                    continue
                attrs = {}
                if group is None and self.o["formulas"]:
                    attrs.update(label=text_label(fmt.edge_formula(node.op, i, n_in)), fontsize="9",
                                 fontcolor="#1f4e79")
                    self.legend["formulas"] = True
                if frame is not None and (node, i) in frame.edge_notes:
                    attrs.update(label=text_label(frame.edge_notes[(node, i)]), color=fmt.STEP_EDGE_COLOR,
                                 fontcolor=fmt.STEP_EDGE_COLOR, penwidth="2", dir="back", fontsize="10")
                self.add_edge(src, dst, dedupe=group is not None, **attrs)
            if group is None:
                out = self.tensor_vertex(node, self.cluster_of[node])
                self.add_edge(dst, out)
            elif node in self.outputs[group]:
                out = self.tensor_vertex(node, self.cluster_of[group])
                self.add_edge(dst, out)

    def _build_backward(self):
        walk = self.walk
        self.legend["backward"] = True
        for key, r in walk.root_of.items():
            rv = self.tensor_vertex(key, None)
            if is_op(key):
                group = self.group_of.get(key)
                self.add_edge(rv, self._backward_vertex(key, group))
        for node in walk.nodes:
            group = self.group_of.get(node)
            src = self._backward_vertex(node, group)
            n_in = len(node.parents)
            for i, key in walk.inputs[node]:
                if key is None:
                    self.add_edge(src, self.summary_vertex(), dedupe=True, style="dashed")
                    continue
                if is_op(key):
                    gk = self.group_of.get(key)
                    if gk is not None and gk is group:
                        continue
                    dst = self._backward_vertex(key, gk)
                elif walk.is_const(key) or key in self.absorbed:
                    continue
                else:
                    dst = self._accumulate_vertex(key)
                attrs = {}
                if group is None and self.o["formulas"]:
                    attrs.update(label=text_label(fmt.edge_formula(node.op, i, n_in)), fontsize="9",
                                 fontcolor="#1f4e79")
                    self.legend["formulas"] = True
                self.add_edge(src, dst, dedupe=group is not None, **attrs)

    def _backward_vertex(self, node, group):
        if group is not None:
            return self.group_vertex(group, backward=True)
        name = self.ids.get(("op", node))
        if name is not None:
            return name
        name = self.vid("op", node)
        lines = [f"<B>{dot_esc(node.op.name, LABEL_MAX)}</B> backward",
                 f'<FONT POINT-SIZE="9">grad {dot_esc(shape_str(node.shape))} {dot_esc(node.dtype)}</FONT>']
        if self.o["show_grads"] and self.inner_grads:
            g, _ = self.grad_of(node)
            if g is not None:
                lines.append(f'<FONT POINT-SIZE="9">{dot_esc(fmt.array_text(g, self.o["max_values"]))}</FONT>')
        if node.freed:
            self.legend["freed"] = True
            lines.append('<FONT POINT-SIZE="9" COLOR="#888888"><I>saved values freed</I></FONT>')
        self.legend["op"] = True
        self.add_vertex(self.cluster_of[node], name, label="<" + "<BR/>".join(lines) + ">",
                        shape="box", style="rounded,filled", fillcolor=fmt.OP_COLOR)
        return name

    def _accumulate_vertex(self, key):
        name = self.ids.get(("t", key))
        if name is not None:
            return name
        name = self.vid("t", key)
        self.legend["accumulate"] = True
        label_name = self.names.get(key) or "leaf"
        lines = [f"accumulate into <B>{dot_esc(label_name, LABEL_MAX)}</B>.grad",
                 f'<FONT POINT-SIZE="9">{dot_esc(shape_str(key.shape))} {dot_esc(key.dtype)}</FONT>']
        g = None
        if self.o["show_grads"]:
            g, _ = self.grad_of(key)
            lines.append(f'<FONT POINT-SIZE="9">{dot_esc(fmt.array_text(g, self.o["max_values"]))}</FONT>'
                         if g is not None else
                         '<FONT POINT-SIZE="9" COLOR="#888888"><I>grad not computed</I></FONT>')
        fill = self.fill_color(key, g) if self.o["color_by"] else fmt.ROLE_COLORS["param"]
        self.add_vertex(self.cluster_of[key], name, label="<" + "<BR/>".join(lines) + ">",
                        shape="box", style="filled", fillcolor=fill)
        return name

    # ---- legend and output --------------------------------------------------------------
    def _emit(self):
        o = self.o
        g = Picture(name="chaingrad", format="svg")
        g.attr(rankdir=o["rankdir"], fontname="Helvetica", fontsize="11", nodesep="0.25",
               ranksep="0.35")
        title = o["title"] if self.frame is None else self.frame.title
        if title:
            g.attr(label=text_label(title, fmt.TITLE_MAX), labelloc="t", fontsize="14")
        g.attr("node", fontname="Helvetica", fontsize="10")
        g.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.7")
        children = {}
        for s in self.clusters:
            children.setdefault(s.parent if s.parent in self.stmts else None, []).append(s)
        for name, attrs in self.stmts.get(None, ()):
            g.node(name, **attrs)
        # Nested clusters, outermost first, with an explicit stack (no recursion).
        cluster_no = {s: i for i, s in enumerate(self.clusters)}
        lines = []
        stack = [(s, 1) for s in reversed(children.get(None, []))]
        while stack:
            s, depth = stack.pop()
            if s is None:
                lines.append("\t" * depth + "}")
                continue
            ind = "\t" * (depth + 1)
            kind = "module" if s.kind == "module" else "composite"
            lines.append("\t" * depth + f"subgraph cluster_{cluster_no[s]} {{")
            lines.append(ind + f"label={text_label(self.scope_label(s))} style={'rounded' if kind == 'module' else 'dashed'}"
                         f" color=\"#7f7f7f\" fontcolor=\"#404040\" fontsize=11")
            for name, attrs in self.stmts.get(s, ()):
                lines.append(ind + name + _attr_text(attrs))
            stack.append((None, depth))
            for c in reversed(children.get(s, [])):
                stack.append((c, depth + 1))
        g.body.extend(line + "\n" for line in lines)
        for src, dst, attrs in self.edges:
            g.edge(src, dst, **attrs)
        return g


def _row(name, cell):
    """A label row: a grey caption ("data", "grad") and its content."""
    caption = f'<FONT COLOR="#666666">{name}</FONT>' if name else ""
    return (f'<TR><TD ALIGN="LEFT" VALIGN="TOP">{caption}</TD>'
            f'<TD ALIGN="LEFT" BALIGN="LEFT">{cell}</TD></TR>')


def _lines(lines):
    return "<BR/>".join(dot_esc(line) for line in lines)


def _quote(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attr_text(attrs):
    """DOT attributes; labels are ours, HTML-like (``text_label``), and go unquoted."""
    parts = []
    for k, v in attrs.items():
        v = str(v)
        parts.append(f"{k}={v}" if k == "label" else f"{k}={_quote(v)}")
    return " [" + " ".join(parts) + "]" if parts else ""
