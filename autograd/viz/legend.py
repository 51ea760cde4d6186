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


def legend_rows(layout):
    """The legend of a picture (its :class:`~autograd.viz.where.Layout`): one :class:`Row`
    for each kind of thing that appears in this picture, nothing else."""
    L, o = layout.legend, layout.options
    rows = []

    def row(swatch, text, color="white", ink=None):
        rows.append(Row(swatch, text, color, ink))

    if "param" in L:
        row("leaf", "tensor you made that requires grad (weights): .grad shown",
            fmt.ROLE_COLORS["param"])
    if "inner" in L:
        row("tensor", "made by an op", fmt.ROLE_COLORS["inner"])
    if "output" in L:
        row("output", "the tensor that was drawn", fmt.ROLE_COLORS["output"])
    if "const" in L:
        row("const", "constant: requires no grad, gets none", fmt.ROLE_COLORS["const"])
    if "op" in L and "backward" in L:
        row("op backward", "one VJP: turns the gradient of its output into its inputs'",
            fmt.OP_COLOR)
        row("→", "arrows point the way gradients flow, from the output to the leaves")
    elif "op" in L:
        row("op", "primitive op; arrows show the forward data flow, gradients flow back", fmt.OP_COLOR)
    if "accumulate" in L:
        row("accumulate", "leaf: gradients from all its uses are added into .grad",
            fmt.ROLE_COLORS["param"])
    if "composite" in L:
        row("composite", "a composite op drawn as one (expand_composites=True opens it)",
            fmt.OP_COLOR)
    if "module_box" in L:
        row("module", f"a module drawn as one box (depth={o['depth']})", fmt.GROUP_COLOR)
    if layout.clusters:
        row("frame", "ops recorded inside one module call (or composite op)")
    if "grad" in L or "no_grad" in L:
        row("grad", "d output / d tensor; a dashed box: not computed yet (a zero shows 0)")
    if "inner_hidden" in L and o["show_grads"]:
        row("inner grads", "record them: with ag.viz.record_grads(): loss.backward()")
    if "freed" in L:
        row("freed", "backward freed saved values; backward(retain_graph=True) keeps them")
    if o["show_values"] and ("inner" in L or "param" in L):
        row("data", f"values: all entries up to {o['max_values']}, else min/mean/max")
    if "formulas" in L:
        row("edge", "local derivative of the op w.r.t. that input (y: output)")
    if layout.stepping:
        row("red", "gradient sent back along this edge in this step", fmt.STEP_EDGE_COLOR, ink="white")
        row("current", "the op backward is at", fmt.CURRENT_COLOR)
    if o["color_by"]:
        what = "RMS of grad" if o["color_by"] == "grad" else "|grad| / |value|"
        rows.append(Row("", f"fill: {what}", heading=True))
        for text, color, meaning in fmt.scale_rows():
            row(text, meaning, color)
    if layout.omitted:
        row("note", f"{layout.omitted:,} ops beyond max_nodes={o['max_nodes']} not drawn",
            "#f8cecc")
    return rows


def legend_label(layout):
    """The legend rows as a Graphviz HTML-like label (a table), every text escaped."""
    cells = []
    for r in legend_rows(layout):
        if r.heading:
            cells.append(f'<TR><TD COLSPAN="2"><B>{dot_esc(r.text)}</B></TD></TR>')
            continue
        swatch = dot_esc(r.swatch) if r.ink is None else f'<FONT COLOR="{r.ink}">{dot_esc(r.swatch)}</FONT>'
        cells.append(f'<TR><TD BGCOLOR="{r.color}">{swatch}</TD><TD ALIGN="LEFT">{dot_esc(r.text)}</TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            '<TR><TD COLSPAN="2"><B>legend</B></TD></TR>' + "".join(cells) + "</TABLE>>")
