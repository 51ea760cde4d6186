"""Text views: ``print_graph`` (the graph as a listing), ``explain`` (one op's VJP with
numbers) and ``grad_report`` (gradient health per layer).  None of them needs Graphviz."""
import sys

import numpy as np

from .. import engine
from ..errors import shape_str
from . import fmt
from .record import dead_units, grad_table, last_record
from .model import ModelView
from .walk import Walk, gc_paused, key_of, labels, names


def _scope_text(node, paths):
    if node.scope is None:
        return ""
    parts = []
    for s in node.scope.path():
        path = paths.get(id(s.obj)) if s.obj is not None else None
        parts.append(f"{path}: {s.name}" if path else s.name)
    return "  [" + " / ".join(parts) + "]"


def print_graph(root, model=None, name_map=None, grads=None, show_values=True, show_grads=True,
                max_values=6, max_nodes=None, file=None):
    """Print the graph behind ``root`` as a listing, one line per tensor, in creation order.

    Leaves first, then ``%k = op(inputs)`` for every op, with shape, dtype, the
    scope it was recorded in, value and gradient (where known).  A text
    fallback for ``draw`` that needs no Graphviz::

        %0 = mul(x, x)       (2,) float64  data [1, 4]
        %1 = sum(%0)         () float64    data 5  grad 1
    """
    with gc_paused():
        text = _listing(root, model, name_map, grads, show_values, show_grads, max_values, max_nodes)
    print(text, file=sys.stdout if file is None else file)


def _listing(root, model, name_map, grads, show_values, show_grads, max_values, max_nodes):
    walk = Walk(root, max_nodes)
    view = ModelView(model, "print_graph")
    named = names(walk, view, name_map)
    label = labels(walk, named)
    paths = view.paths
    table = grad_table(grads)

    def extra(key):
        out = ""
        if show_values and walk.shape_dtype(key)[0] is not None:
            v = walk.value(key)
            out += "  data " + (fmt.array_text(v, max_values) if v is not None else "(freed)")
        if show_grads and not walk.is_const(key):
            g = walk.grad(key, table)
            if g is not None:
                out += "  grad " + fmt.array_text(g, max_values)
        return out

    lines = [f"graph of {named.get(key_of(walk.roots[0]), 'the output')}: {walk.total} op"
             f"{'s' if walk.total != 1 else ''}, {len(walk.leaves)} leaves/constants"]
    for key in walk.leaves:
        shape, dtype = walk.shape_dtype(key)
        kind = "constant" if walk.is_const(key) else "leaf (requires grad)"
        desc = f"{shape_str(shape)} {fmt.dtype_text(dtype)}" if shape is not None else "(freed)"
        lines.append(f"  {label[key]:<16} {kind:<21} {desc}{extra(key)}")
    scope_texts = {}            # many ops share a scope: describe each scope once
    for node in walk.nodes:
        args = ", ".join(label.get(k, "...") if k is not None else "..." for _, k in walk.inputs[node])
        kw = fmt.kwargs_text(node.options)
        head = f"{label[node]} = {node.op.name}({args}{', ' + kw if kw else ''})"
        where = scope_texts.get(node.scope)
        if where is None:
            where = scope_texts[node.scope] = _scope_text(node, paths)
        root_mark = "  <- output" if node in walk.root_of else ""
        lines.append(f"  {head:<40} {shape_str(node.shape)} {fmt.dtype_text(node.dtype)}{where}{extra(node)}{root_mark}")
    if walk.omitted:
        lines.append(f"  ... {walk.omitted} more ops (max_nodes={max_nodes})")
    return "\n".join(lines)


def explain(t, grad=None, file=None):
    """Print the VJP of the op that made ``t``, with the numbers filled in.

    ``grad`` is the upstream gradient g = d loss / d t; by default the one
    recorded by ``record_grads`` (else ones, and it says so).  For tanh::

        y = tanh(x)    output (2,) float64
          ∂y/∂x = 1 - y²                 VJP: grad_x = g·(1 - y²)
          g = dloss/dy (given) = [1, 1]
          x = [0.5, 1]    (x, leaf)
          y = [0.4621, 0.7616]
          grad_x = [0.7864, 0.42]
    """
    print(explanation(t, grad), file=sys.stdout if file is None else file)


def explanation(t, grad=None):
    """The text ``explain`` prints."""
    node = t._node
    if node is None:
        tname = t.name or "this tensor"
        what = "requires grad" if t.requires_grad else "does not require grad"
        return (f"{tname} is a leaf (made by you, not by an op; it {what}): backward adds the "
                f"gradients of all its uses into its .grad, there is no VJP to apply.")
    if node.is_leaf:
        return (f"{t.name or 'this tensor'} is a leaf (made by you, not by an op; it requires grad): "
                f"backward adds the gradients of all its uses into its .grad, there is no VJP to apply.")
    op, n_in = node.op.name, len(node.parents)
    syms = node.op.input_names(n_in)     # formulas call the inputs x (or a, b...) and the output y
    kw = fmt.kwargs_text(node.options)
    lines = [f"y = {op}({', '.join(syms)}{', ' + kw if kw else ''})    "
             f"output{' ' + t.name if t.name else ''} {shape_str(node.shape)} {node.dtype}"]
    for i in range(n_in):
        f = node.op.formula(i)
        if node.parents[i] is None:
            lines.append(f"  {syms[i]}: a constant, gets no gradient")
        elif f is not None:
            lines.append(f"  ∂y/∂{syms[i]} = {f[0]:<22} VJP: grad_{syms[i]} = {f[1]}")
        else:
            lines.append(f"  grad_{syms[i]} = {fmt.source_text(node.op.vjps[i], 200)}")
    if node.freed:
        lines.append("  (backward freed the saved values, so no numbers: rebuild the graph, or "
                     "use backward(retain_graph=True))")
        return "\n".join(lines)
    if grad is None:
        rec = last_record()
        if rec is not None and node in rec.grads:
            g, source = rec.grads[node], "recorded by record_grads"
        else:
            g, source = np.ones(node.shape, dtype=node.dtype), "ones: pass grad= or use record_grads"
    else:
        g, source = np.asarray(getattr(grad, "data", grad), dtype=node.dtype), "given"
    lines.append(f"  g = dloss/dy ({source}) = {fmt.array_text(g)}")
    for i, x in enumerate(node.saved):
        lines.append(f"  {syms[i]} = {fmt.array_text(np.asarray(x))}    ({_describe(node, i)})")
    lines.append(f"  y = {fmt.array_text(node.ans)}")
    # The numbers come from the engine's own chain-rule step at this node.
    for i, _, gi in engine.chain_rule(node, np.asarray(g, dtype=node.dtype)):
        lines.append(f"  grad_{syms[i]} = {fmt.array_text(gi)}")
    return "\n".join(lines)


def _describe(node, i):
    """Where input ``i`` of ``node`` came from, in words."""
    parent = node.parents[i]
    if parent is None:
        name, what = (node.labels[i] if node.labels else None), "constant"
    elif parent.is_leaf:
        leaf = parent.receiver() if parent.receiver is not None else None
        name, what = (leaf.name if leaf is not None else None), "leaf"
    else:
        name, what = parent.name, f"output of {parent.op.name}"
    return f"{name}, {what}" if name else what


# ---- gradient health per layer ---------------------------------------------------------------

class GradReport:
    """Rows per layer: ``layer``, ``type``, ``params``, ``grad_norm``, ``ratio``
    (|grad| / |weights|), ``dead_relu`` (fraction of units a relu op left dead on the batch, or
    None) and ``flag``.  Prints as a table; displays as HTML in a notebook."""

    COLUMNS = ("layer", "type", "params", "grad_norm", "ratio", "dead_relu", "flag")

    def __init__(self, rows):
        self.rows = rows

    def __getitem__(self, layer):
        for r in self.rows:
            if r["layer"] == layer:
                return r
        raise KeyError(layer)

    def _cells(self):
        def cell(v, col):
            if v is None:
                return "-"
            if col == "dead_relu":
                return f"{v:.0%}"
            if isinstance(v, float):
                return f"{v:.3g}"
            return str(v)
        return [[cell(r[c], c) for c in self.COLUMNS] for r in self.rows]

    def __str__(self):
        cells = [list(self.COLUMNS)] + self._cells()
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.COLUMNS))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)

    __repr__ = __str__

    def _repr_html_(self):
        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{fmt.esc(v)}</td>" for v in row) + "</tr>"
                       for row in self._cells())
        return f"<table><tr>{head}</tr>{body}</table>"


VANISHING, EXPLODING, DEAD = 1e-5, 10.0, 0.5


def grad_report(model, grads=None, root=None):
    """Gradient health per layer of ``model`` (after backward).

    For every module with parameters of its own: the gradient norm, the ratio
    |grad| / |weights| (an SGD step changes the weights by lr times this), and
    for every module whose ops include the ``relu`` op, the fraction of *dead* units: units
    whose output was 0 for every example of the batch, so no gradient reached
    their weights.  Dead units are counted from the relu outputs that
    ``record_grads`` saw during backward (or from the graph of ``root`` while it
    still holds its values).  Flags: ``vanishing`` (ratio < 1e-5 or a zero
    gradient), ``exploding`` (ratio > 10), ``dead`` (more than half the units),
    ``no grad`` (backward has not reached a parameter).
    """
    view = ModelView(model, "grad_report")
    paths = view.paths
    relu = {}
    for node, (dead, units) in _relu_stats(grads, root).items():
        path = "(outside modules)"
        for s in (node.scope.path() if node.scope is not None else ()):
            if s.kind == "module" and s.obj is not None and id(s.obj) in paths:
                path = paths[id(s.obj)]
        d, u = relu.get(path, (0, 0))
        relu[path] = (d + dead, u + units)
    rows = []
    mods = list(view.parts)
    if "(outside modules)" in relu:
        mods.append(("(outside modules)", None, []))
    for path, m, own in mods:
        ps = [p for _, p in own]
        if not ps and path not in relu:
            continue
        missing = any(p.grad is None for p in ps)
        gsq = sum(float(np.sum(np.square(p.grad.data, dtype=float))) for p in ps if p.grad is not None)
        wsq = sum(float(np.sum(np.square(p.data, dtype=float))) for p in ps)
        gn = np.sqrt(gsq) if ps and not missing else None
        ratio = gn / np.sqrt(wsq) if gn is not None and wsq > 0 else None
        dead = relu[path][0] / relu[path][1] if path in relu and relu[path][1] else None
        flags = []
        if missing:
            flags.append("no grad")
        elif ps and (gn == 0 or ratio is not None and ratio < VANISHING):
            flags.append("vanishing")
        elif ratio is not None and ratio > EXPLODING:
            flags.append("exploding")
        if dead is not None and dead > DEAD:
            flags.append("dead")
        rows.append(dict(layer=path or "(model)", type=type(m).__name__ if m is not None else "-",
                         params=sum(int(p.size) for p in ps),
                         grad_norm=float(gn) if gn is not None else None,
                         ratio=float(ratio) if ratio is not None else None,
                         dead_relu=dead, flag=", ".join(flags)))
    return GradReport(rows)


def _relu_stats(grads, root):
    """relu node -> (dead units, units), from the graph of ``root`` or a record."""
    stats = {}
    if root is not None:
        for node in Walk(root).nodes:
            if node.op.name == "relu" and node.ans is not None:
                stats[node] = dead_units(node.ans)
    rec = last_record() if grads is None else grads
    if rec is not None and rec is not False and hasattr(rec, "dead_relus"):
        for node, v in rec.dead_relus.items():
            stats.setdefault(node, v)
    return stats
