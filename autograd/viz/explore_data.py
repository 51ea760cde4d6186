"""The data an explorer page is built from: the picture, the frames and the node panels.

``page_data(root)`` returns one JSON-ready dict:

* ``svg``: the graph as ``draw`` pictures it (values shown; gradients are laid
  over it by the page as backward reaches them).
* ``frames``: forward first, one frame per op in the order the ops were made,
  then backward, one frame per :class:`~autograd.viz.steps.Step` of
  ``backward_steps`` (the engine's own visit order and its own VJP results).
  A frame has a caption (``text``), the vertices it lights up (``active``) and
  the edges it runs along (``edges``, each ``[from, to, n]``: the n-th edge
  between those vertices).  A backward frame of an op adds ``parts``: per
  input the edge, the box, what the VJP sends (``add``), the running sum at
  that box and which part of how many it is (fan-out: ``b = a + a`` sends two
  parts to ``a``); ``start`` marks the output's own gradient, ``leaf`` a leaf.
* ``vertices``: per SVG vertex, its panel and the forward frame it appears in.
* ``panels``: per tensor, what a click shows: name, shape, dtype, module,
  value, gradient, and for an op's output the op with its local derivatives and
  the VJP with this node's numbers.
* ``legend``: the picture's legend rows (the page draws them beside the picture,
  so they never cover it).

Names in captions are cut as in the picture (``fmt.clip``); a panel keeps the
full name.

Arrays are summarised by :func:`array_summary`: small ones in full, larger ones
as statistics, a histogram and (2-D and up) a heat map, so a 200-node page stays
well under a megabyte.
"""
import math
import re

import numpy as np

from . import explore_adapter as eng
from .fmt import clip, num

FULL_MAX = 36          # arrays with at most this many entries are shown entry by entry
HEAT_MAX = 16          # heat maps have at most HEAT_MAX x HEAT_MAX cells
HIST_BINS = 16
HEAT_LEVELS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 62 levels


# ---- arrays ------------------------------------------------------------------------

def _round(x):
    """A number for JSON: 4 significant digits; nan/inf as text (JSON has no such numbers)."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (complex, np.complexfloating)):
        return num(x)                  # JSON has no complex numbers: "1+2j" as text
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return float(f"{x:.4g}")


def _nested(a):
    if a.ndim == 0:
        return _round(a.item())
    return [_nested(row) for row in a]


def array_summary(a):
    """A JSON-ready summary of an array (None stays None).

    ``{"shape", "full"}`` (nested lists) when it has at most ``FULL_MAX`` entries;
    else ``{"shape", "text"}`` (one line) and ``"stats"`` (min, mean, max, rms of the finite
    entries and how many are not finite), ``"hist"`` (``lo``, ``hi``, ``counts``)
    and, for 2-D and up, ``"heat"``: the array as rows x last axis, averaged
    into at most ``HEAT_MAX`` x ``HEAT_MAX`` cells, each one character of
    ``HEAT_LEVELS`` on a scale symmetric around 0 (``-scale`` ... ``+scale``).
    """
    if a is None:
        return None
    a = np.asarray(a)
    if a.size <= FULL_MAX:
        return {"shape": list(a.shape), "full": _nested(a)}
    out = {"shape": list(a.shape), "text": eng.short(a)}
    if a.dtype.kind not in "fiu":
        return out                     # bool or complex: the text says enough
    x = a.astype(float)
    finite = x[np.isfinite(x)]
    with np.errstate(over="ignore", invalid="ignore"):   # a sum past float64's range: "inf"/"nan"
        out["stats"] = {"min": _round(finite.min()) if finite.size else None,
                        "mean": _round(finite.mean()) if finite.size else None,
                        "max": _round(finite.max()) if finite.size else None,
                        "rms": _round(np.sqrt(np.mean(finite * finite))) if finite.size else None,
                        "nonfinite": int(x.size - finite.size)}
    if finite.size:
        lo, hi, counts = _histogram(finite)
        out["hist"] = {"lo": _round(lo), "hi": _round(hi), "counts": counts.tolist()}
    if a.ndim >= 2:
        out["heat"] = _heat(np.where(np.isfinite(x), x, 0.0).reshape(-1, a.shape[-1]))
    return out


def _histogram(finite):
    """(lo, hi, counts) of ``HIST_BINS`` equal bins over the finite values.

    ``np.histogram`` refuses values too close for distinct bin edges (a constant
    1e17, where it widens the range by ±0.5, or only -0.0 and 1e-323); those get
    one bin.  Edges are mixtures ``lo·(1 - t) + hi·t``, as ``hi - lo`` overflows for ±1e308.
    """
    lo, hi = float(finite.min()), float(finite.max())
    t = np.arange(HIST_BINS + 1) / HIST_BINS
    edges = lo * (1 - t) + hi * t
    if np.all(np.diff(edges) > 0):
        return lo, hi, np.histogram(finite, bins=edges)[0]
    return lo, hi, np.array([finite.size])


def _heat(m):
    """Average a matrix into at most HEAT_MAX x HEAT_MAX blocks; encode each as one level."""
    rows = np.array_split(np.arange(m.shape[0]), min(HEAT_MAX, m.shape[0]))
    cols = np.array_split(np.arange(m.shape[1]), min(HEAT_MAX, m.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):
        cells = np.array([[m[np.ix_(r, c)].mean() for c in cols] for r in rows])
    big = np.finfo(float).max                 # a mean that overflowed counts as the largest value
    cells = np.clip(np.nan_to_num(cells, nan=0.0), -big, big)
    scale = float(np.abs(cells).max()) or 1.0
    top = len(HEAT_LEVELS) - 1
    idx = np.rint((cells / scale + 1) / 2 * top).astype(int)
    text = "".join(HEAT_LEVELS[i] for i in idx.ravel())
    return {"rows": len(rows), "cols": len(cols), "scale": _round(scale), "cells": text}


# ---- the picture ---------------------------------------------------------------------

_GEOMETRY = re.compile(r'\b(d|points|x|y|cx|cy|rx|ry)="([^"]*)"')
_DECIMAL = re.compile(r"-?\d+\.\d+")
_PATH = re.compile(r'<path ([^>]*?)d="(M[^"]*)"([^>]*)/>')
_PAIR = re.compile(r"(-?[\d.]+),(-?[\d.]+)")


def compact_svg(svg):
    """Graphviz's SVG, smaller and the same to the eye: no prologue or comments, rounded
    boxes as <rect> instead of 25-point paths, coordinates rounded to whole points, the
    font named once in the page's style instead of on every text."""
    svg = svg[svg.find("<svg"):]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = svg.replace(' font-family="Helvetica,sans-Serif"', "")
    svg = _PATH.sub(_rounded_box, svg)
    return _GEOMETRY.sub(lambda m: f'{m.group(1)}="{_DECIMAL.sub(_whole, m.group(2))}"', svg)


def _rounded_box(m):
    """Graphviz draws a rounded box as one path of 25 points (4 sides, 4 corner curves)."""
    pts = [(float(x), float(y)) for x, y in _PAIR.findall(m.group(2))]
    if len(pts) != 25 or "C" not in m.group(2):
        return m.group(0)                       # an edge: keep it
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    radius = abs(pts[6][0] - pts[3][0]) * 0.75  # the corner curve, as a circle looks
    return (f'<rect {m.group(1)}x="{min(xs):g}" y="{min(ys):g}" width="{max(xs) - min(xs):g}" '
            f'height="{max(ys) - min(ys):g}" rx="{radius:g}"{m.group(3)}/>')


def _whole(match):
    return str(round(float(match.group())))


# ---- the page data ---------------------------------------------------------------------

class _Page:
    """Collects panels, vertices and frames while walking the steps once."""

    def __init__(self, steps, drawing):
        self.d = drawing
        self.steps = steps
        self._facts = {}           # node -> its facts (see facts())
        self.grad = {}             # key -> its whole gradient (what backward gives it)
        self.parts_of = {}         # node -> {input index: contribution}
        self.label = {}            # key -> printable name
        for s in steps:
            self.grad[s.key] = s.upstream
            self.label[s.key] = s.name
            if s.kind == "op":
                self.parts_of[s.key] = {p.index: p.grad for p in s.parts}
        names = drawing.names()
        for key in drawing.keys:
            self.label.setdefault(key, names.get(key) or "constant")
        self.ops = sorted((s.key for s in steps if s.kind == "op"), key=eng.creation_order)
        self.order = {node: f for f, node in enumerate(self.ops)}
        # One panel per tensor box of the picture (and per group box: its last output).
        keys = list(drawing.keys) + [nodes[-1] for nodes in drawing.group_members().values()]
        self.panel_no = {}
        for key in keys:
            self.panel_no.setdefault(key, len(self.panel_no))
        self.panels = [self._make_panel(key) for key in self.panel_no]
        self.vertices = {}

    def _make_panel(self, key):
        p = {"name": self.label.get(key, "?"), "module": self.d.module(key),
             "grad": array_summary(self.grad.get(key)), "op": None}
        if eng.is_op(key):
            facts = self.facts(key)
            p.update(kind="op output", shape=list(facts["shape"]), dtype=facts["dtype"],
                     value=array_summary(facts["value"]))
            p["op"] = self._op_part(key, facts)
        else:
            facts = eng.leaf_facts(key)
            p.update(kind="leaf (requires grad)" if facts["requires_grad"] else "constant",
                     shape=list(facts["shape"]), dtype=facts["dtype"], value=array_summary(facts["value"]))
        return p

    def _op_part(self, node, facts):
        """The op that made ``node``: each input's local derivative and VJP, with numbers."""
        contributions = self.parts_of.get(node, {})
        inputs = []
        for i, (inp, rule) in enumerate(zip(facts["inputs"], eng.op_rules(node))):
            sym, deriv, vjp, source = rule
            key = inp["key"]
            panel = self.panel_no.get(key) if key is not None else None
            gi = contributions.get(i)
            inputs.append({
                "symbol": sym, "name": self.label.get(key, "constant") if key is not None else "constant",
                "panel": panel,
                # an input with a box of its own shows its value there; others (constants) here
                "value": None if panel is not None or inp["value"] is None else eng.short(inp["value"]),
                "differentiable": inp["differentiable"],
                "derivative": deriv, "vjp": vjp, "source": source,
                "grad": None if gi is None else eng.short(gi)})
        return {"name": facts["op"], "options": facts["options"], "inputs": inputs}

    # -- vertices --
    def vertex(self, v, panel, born):
        if v is None:
            return
        entry = self.vertices.get(v)
        if entry is None:
            self.vertices[v] = {"panel": panel, "born": born}
        elif entry["born"] > born:
            entry["born"] = born

    def edge(self, node, i, inputs):
        """``[from, to, n]`` for input ``i`` of ``node``: the n-th edge between the two vertices."""
        src = self.d.tensor_vertex(inputs[i])
        dst = self.d.op_vertex(node)
        if src is None or dst is None:
            return None
        n = sum(1 for j in range(i) if self.d.tensor_vertex(inputs[j]) == src)
        return [src, dst, n]

    def facts(self, node):
        """An op's facts (``eng.node_facts``), computed once per node for the whole page."""
        f = self._facts.get(node)
        if f is None:
            f = self._facts[node] = eng.node_facts(node)
        return f

    def inputs_of(self, node):
        return [inp["key"] for inp in self.facts(node)["inputs"]]

    # -- frames --
    def forward_frames(self):
        frames = []
        for f, node in enumerate(self.ops):
            op_v, out_v = self.d.op_vertex(node), self.d.tensor_vertex(node)
            panel = self.panel_no.get(node)
            self.vertex(op_v, panel, f)
            self.vertex(out_v, panel, f)
            ins = self.inputs_of(node)
            edges = [e for e in (self.edge(node, i, ins) for i in range(len(ins))) if e]
            if op_v is not None and out_v is not None:
                edges.append([op_v, out_v, 0])
            args = ", ".join(clip(self.label.get(k, "constant")) if k is not None else "constant" for k in ins)
            facts = self.facts(node)
            text = (f"forward {f + 1} of {len(self.ops)}: {clip(self.label[node])} = {clip(facts['op'])}({args}"
                    f"{', ' + facts['options'] if facts['options'] else ''}) = {eng.short(facts['value'])}")
            frames.append({"phase": "forward", "text": text, "active": [v for v in (op_v, out_v) if v],
                           "edges": edges})
        return frames

    def backward_frames(self):
        """One frame per engine step.  An op's frame lists its ``parts``: per input the edge,
        the box, the VJP's contribution (``add``), the running sum and which part of how many."""
        frames, seen = [], set()
        for s in self.steps:
            frame = {"phase": "backward"}
            if s.kind == "op":
                op_v, out_v = self.d.op_vertex(s.key), self.d.tensor_vertex(s.key)
                frame["active"] = [v for v in (op_v, out_v) if v]
                frame["edges"] = [[op_v, out_v, 0]] if op_v is not None and out_v is not None else []
                if s.key not in seen and out_v is not None:    # the output backward starts from
                    frame["start"] = {"v": out_v, "sum": eng.short(s.upstream), "color": eng.grad_color(s.upstream)}
                ins = self.inputs_of(s.key)
                frame["parts"] = []
                for p in s.parts:
                    key = ins[p.index]                         # the input this part goes to
                    seen.add(key)
                    frame["parts"].append({
                        "i": p.index, "name": clip(p.name), "e": self.edge(s.key, p.index, ins),
                        "v": self.d.tensor_vertex(key), "add": eng.short(p.grad), "sum": eng.short(p.total),
                        "r": p.received, "n": p.expected, "color": eng.grad_color(p.total)})
                text = f"{clip(s.op)} -> {clip(s.name)}, upstream gradient {eng.short(s.upstream)}"
            else:
                v = self.d.tensor_vertex(s.key)
                frame["active"] = [v] if v else []
                frame["edges"] = []
                frame["leaf"] = clip(s.name)
                text = f"leaf {clip(s.name)} receives {eng.short(s.upstream)}"
            seen.add(s.key)
            frame["text"] = f"backward {s.number} of {s.count}: {text}"
            frames.append(frame)
        return frames

    def finish(self):
        for key in self.d.keys:                  # leaves and constants: visible from the start
            if not eng.is_op(key):
                self.vertex(self.d.tensor_vertex(key), self.panel_no[key], -1)
        for gv, nodes in self.d.group_members().items():
            self.vertex(gv, self.panel_no[nodes[-1]], min(self.order.get(n, -1) for n in nodes))


def page_data(root, model=None, name_map=None, grad=None, title=None, max_nodes=200, depth=None,
              expand_composites=None, rankdir="TB", record=None):
    """Everything the explorer page shows, as a JSON-ready dict (see the module docstring)."""
    walk = eng.walk(root)                    # the page's one walk of the graph: steps and picture share it
    steps = list(eng.steps(walk, grad=grad, model=model, name_map=name_map, record=record))
    n_ops = sum(1 for s in steps if s.kind == "op")
    if expand_composites is None:
        # Within the node cap every op gets its own ellipse and frame; above it composites
        # collapse into one box each, as draw() shows them by default.
        expand_composites = n_ops <= max_nodes
    d = eng.drawing(walk, model=model, name_map=name_map, depth=depth, show_grads=False,
                    expand_composites=expand_composites, max_nodes=max_nodes, rankdir=rankdir,
                    title=title, legend=False)          # the page shows the legend beside the picture
    page = _Page(steps, d)
    frames = page.forward_frames() + page.backward_frames()
    page.finish()
    return {"title": title or "chaingrad explorer", "svg": compact_svg(d.svg()),
            "frames": frames, "forward": len(page.ops), "vertices": page.vertices,
            "panels": page.panels, "scale": eng.color_scale(), "ops": n_ops,
            "legend": d.legend_rows()}
