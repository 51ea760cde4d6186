"""The legend of a picture: only the rows for what this picture shows.

:func:`legend_rows` says what the rows are (plain text); :func:`legend_label`
draws them as a table inside the picture, and the explorer page draws the same
rows beside its picture (so the legend never covers the graph).
"""
from collections import namedtuple

from . import fmt
from .fmt import dot_esc

# swatch: the word in the coloured cell; text: what it means; color: the cell's fill;
# ink: the swatch's text colour (None: black); heading: a row across both columns.
Row = namedtuple("Row", "swatch text color ink heading", defaults=("white", None, False))


def legend_rows(b):
    """The legend of the picture ``b`` (a Builder) builds: one :class:`Row` for each kind
    of thing that appears in this picture, nothing else."""
    L = b.legend
    rows = []

    def row(swatch, text, color="white", ink=None):
        rows.append(Row(swatch, text, color, ink))

    if L.get("param"):
        row("leaf", "tensor you made that requires grad (weights): .grad shown",
            fmt.ROLE_COLORS["param"])
    if L.get("inner"):
        row("tensor", "made by an op", fmt.ROLE_COLORS["inner"])
    if L.get("output"):
        row("output", "the tensor that was drawn", fmt.ROLE_COLORS["output"])
    if L.get("const"):
        row("const", "constant: requires no grad, gets none", fmt.ROLE_COLORS["const"])
    if L.get("op") and L.get("backward"):
        row("op backward", "one VJP: turns the gradient of its output into its inputs'",
            fmt.OP_COLOR)
        row("→", "arrows point the way gradients flow, from the output to the leaves")
    elif L.get("op"):
        row("op", "primitive op; arrows show the forward data flow, gradients flow back", fmt.OP_COLOR)
    if L.get("accumulate"):
        row("accumulate", "leaf: gradients from all its uses are added into .grad",
            fmt.ROLE_COLORS["param"])
    if L.get("composite"):
        row("composite", "a composite op drawn as one (expand_composites=True opens it)",
            fmt.OP_COLOR)
    if L.get("module_box"):
        row("module", f"a module drawn as one box (depth={b.o['depth']})", fmt.GROUP_COLOR)
    if b.clusters:
        row("frame", "ops recorded inside one module call (or composite op)")
    if L.get("grad") or L.get("no_grad"):
        row("grad", "d output / d tensor; a dashed box: not computed yet (a zero shows 0)")
    if L.get("inner_hidden") and b.o["show_grads"]:
        row("inner grads", "record them: with ag.viz.record_grads(): loss.backward()")
    if L.get("freed"):
        row("freed", "backward freed saved values; backward(retain_graph=True) keeps them")
    if b.o["show_values"] and (L.get("inner") or L.get("param")):
        row("data", f"values: all entries up to {b.o['max_values']}, else min/mean/max")
    if L.get("formulas"):
        row("edge", "local derivative of the op w.r.t. that input (y: output)")
    if b.frame is not None:
        row("red", "gradient sent back along this edge in this step", fmt.STEP_EDGE_COLOR, ink="white")
        row("current", "the op backward is at", fmt.CURRENT_COLOR)
    if b.o["color_by"]:
        what = "RMS of grad" if b.o["color_by"] == "grad" else "|grad| / |value|"
        rows.append(Row("", f"fill: {what}", heading=True))
        for text, color, meaning in fmt.scale_rows():
            row(text, meaning, color)
    if b.walk.omitted:
        row("note", f"{b.walk.omitted:,} ops beyond max_nodes={b.o['max_nodes']} not drawn",
            "#f8cecc")
    return rows


def legend_label(b):
    """The legend rows as a Graphviz HTML-like label (a table), every text escaped."""
    cells = []
    for r in legend_rows(b):
        if r.heading:
            cells.append(f'<TR><TD COLSPAN="2"><B>{dot_esc(r.text)}</B></TD></TR>')
            continue
        swatch = dot_esc(r.swatch) if r.ink is None else f'<FONT COLOR="{r.ink}">{dot_esc(r.swatch)}</FONT>'
        cells.append(f'<TR><TD BGCOLOR="{r.color}">{swatch}</TD><TD ALIGN="LEFT">{dot_esc(r.text)}</TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            '<TR><TD COLSPAN="2"><B>legend</B></TD></TR>' + "".join(cells) + "</TABLE>>")
