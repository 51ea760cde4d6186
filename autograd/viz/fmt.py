"""Words, numbers and colours for the pictures: value formatting, the local-derivative
table behind ``formulas=True`` and ``explain``, and the gradient colour scale."""
import html
import inspect
import math
import re

import numpy as np

from ..errors import shape_str

# ---- numbers ------------------------------------------------------------------


def num(x):
    """One number, short: 4 significant digits, ``-0`` shown as ``0``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return f"{complex(x):.4g}".strip("()")      # a complex constant: 1+2j
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _nested(a):
    """A small array as nested brackets, e.g. ``[[1, 2], [3, 4]]``."""
    if a.ndim == 0:
        return num(a.item())
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def array_lines(a, max_full=6):
    """Lines describing an array: every entry when ``a.size <= max_full``, else min/mean/max.

    2-D arrays shown in full get one line per row, so a picture shows a matrix as one.
    """
    a = np.asarray(a)
    if a.size == 0:
        return ["[] (empty)"]
    if a.size <= max_full:
        if a.ndim == 2 and a.shape[0] > 1:
            return [_nested(row) for row in a]
        return [_nested(a)]
    if a.dtype.kind not in "fciu":
        return [f"{int(np.count_nonzero(a))} of {a.size} true"]
    real = a.real if a.dtype.kind == "c" else a
    finite = real[np.isfinite(real)]
    bad = a.size - finite.size
    if finite.size == 0:
        return [f"all {a.size} non-finite"]
    with np.errstate(over="ignore", invalid="ignore"):    # a mean past float64's range: inf/nan
        mean = finite.mean()
    line = f"min {num(finite.min())}, mean {num(mean)}, max {num(finite.max())}"
    return [line] + ([f"{bad} nan/inf!"] if bad else [])


def array_text(a, max_full=6):
    """One line (for text output): nested brackets when small, else as ``array_lines``."""
    a = np.asarray(a)
    if 0 < a.size <= max_full:
        return _nested(a)
    return "; ".join(array_lines(a, max_full))


_DTYPE_TEXT = {}


def dtype_text(dtype):
    """``float64``; cached, as numpy's dtype-to-text is slow for a 100,000-line listing."""
    text = _DTYPE_TEXT.get(dtype)
    if text is None:
        text = _DTYPE_TEXT[dtype] = str(dtype)
    return text


LABEL_MAX = 60       # characters of a name, an op or a module in a picture (the explorer's panel has all)
TITLE_MAX = 120      # characters of a picture's title

# What an XML parser (Graphviz's labels) refuses, and what UTF-8 cannot encode: control
# characters, lone surrogates (os.listdir's stand-ins for undecodable bytes), U+FFFE/U+FFFF.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain(s):
    """``str(s)`` with every character no picture or page can carry written as its escape
    (``\\x01``, ``\\udcff``), so a user's name never breaks the encoder or Graphviz."""
    return _UNSHOWABLE.sub(lambda m: ascii(m.group())[1:-1], str(s))


def clip(s, limit=LABEL_MAX):
    """``s`` cut to ``limit`` characters, an ellipsis marking the cut (None: no limit)."""
    s = plain(s)
    return s if limit is None or len(s) <= limit else s[:limit - 1] + "…"


def esc(s, limit=None):
    """Text for HTML: escaped (``<`` ``>`` ``&`` and quotes become entities, so a user's
    string is never markup), cut to ``limit`` characters when given."""
    return html.escape(clip(s, limit), quote=True)


def dot_esc(s, limit=None):
    """Text for a Graphviz HTML-like label: as :func:`esc`, and each backslash doubled,
    since Graphviz expands ``\\N``, ``\\G``, ``\\L``... (node name, graph name, a line
    break) even there, and an entity (``&#92;``) does not stop it."""
    return esc(s, limit).replace("\\", "\\\\")


def text_label(s, limit=LABEL_MAX):
    """A whole Graphviz label that shows ``s`` as text, lines kept.  We always pass our own
    HTML-like label (``<...>``): a plain string shaped ``<...>`` would be taken as markup,
    and in a quoted one backslashes are escapes (``\\N``, or ``C:\\`` eating the quote)."""
    return "<" + "<BR/>".join(dot_esc(line, limit) for line in str(s).split("\n")) + ">"


def _sizes(a):
    """The entries' magnitudes as floats (a complex entry's is its absolute value)."""
    a = np.asarray(a)
    return np.abs(a) if a.dtype.kind == "c" else a.astype(float)


def rms(a):
    """Root mean square, the size of a typical entry (0 for an empty array)."""
    a = _sizes(a)
    return float(np.sqrt(np.mean(a * a))) if a.size else 0.0


def norm(a):
    a = _sizes(a)
    return float(np.sqrt(np.sum(a * a)))


# ---- op labels -------------------------------------------------------------------

_SHOWN_KWARGS = ("axis", "axes", "keepdims", "ddof", "shape", "lo", "hi", "dtype", "pad_width")


def kwargs_text(kwargs):
    """The options an op was called with, as the user wrote them (``axis=1``)."""
    parts = []
    for k in _SHOWN_KWARGS:
        if k in kwargs and kwargs[k] is not None and not (k == "keepdims" and not kwargs[k]):
            v = kwargs[k]
            parts.append(f"{k}={np.dtype(v).name if k == 'dtype' else v}")
    if "index" in kwargs:
        parts.append("[" + _index_text(kwargs["index"]) + "]")
    text = ", ".join(parts)
    return text if len(text) <= 40 else text[:37] + "..."


def _index_text(index):
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, slice):
            out.append(("" if i.start is None else str(i.start)) + ":" +
                       ("" if i.stop is None else str(i.stop)) +
                       ("" if i.step is None else ":" + str(i.step)))
        elif i is None:
            out.append("None")
        elif i is Ellipsis:
            out.append("...")
        elif isinstance(i, np.ndarray):
            out.append(f"{i.dtype.kind == 'b' and 'mask' or 'array'}{shape_str(i.shape)}")
        else:
            out.append(str(i))
    return ", ".join(out)


def source_text(fn, limit=None):
    """The source of a VJP (a user's own primitive has no formula to show), cut to ``limit``
    characters when given; ``repr(fn)`` when Python cannot find it (a builtin, a lambda typed
    at the prompt)."""
    try:
        src = inspect.getsource(fn).strip()
    except (OSError, TypeError):
        return repr(fn)
    return src if limit is None or len(src) < limit else src[:limit - 3] + "..."


# ---- the local derivatives ------------------------------------------------------------
# Each op states its derivative once, where it is defined (Primitive.defvjp's
# inputs= and formulas=); the pictures only read it from there.

def edge_formula(op, i, n_inputs):
    """The text on the edge from input ``i`` into the op: ``tanh: 1 - y²``, ``mul ∂/∂a: b``."""
    f = op.formula(i)
    if f is None:
        return f"{op.name}: vjp {i}"
    if n_inputs == 1:
        return f"{op.name}: {f[0]}"
    return f"{op.name} ∂/∂{op.input_names(n_inputs)[i]}: {f[0]}"


# ---- colours -------------------------------------------------------------------------

ROLE_COLORS = {
    "param": "#dae8fc",      # a leaf that requires grad (weights, variables)
    "inner": "#f5f5f5",      # made by an op
    "output": "#d5e8d4",     # what draw() was called on
    "const": "#eeeeee",      # no gradient flows here
}
OP_COLOR = "#fff2cc"
GROUP_COLOR = "#e1d5e7"
CURRENT_COLOR = "#ffd966"
STEP_EDGE_COLOR = "#c00000"

# Log-scale bins: (upper bound, colour, meaning).  Blue = tiny, red = huge.
SCALE = [
    (1e-6, "#4575b4", "vanishing"),
    (1e-4, "#91bfdb", ""),
    (1e-2, "#e0f3f8", ""),
    (1e0, "#ffffbf", ""),
    (1e2, "#fc8d59", ""),
    (math.inf, "#d73027", "exploding"),
]
ZERO_COLOR = "#bdbdbd"


def scale_color(v):
    """Colour for a non-negative magnitude ``v`` (exact zero has its own grey)."""
    if v == 0:
        return ZERO_COLOR
    if not math.isfinite(v):
        return SCALE[-1][1]
    for bound, color, _ in SCALE:
        if v < bound:
            return color
    return SCALE[-1][1]


def scale_rows():
    """Legend rows (range text, colour, meaning) for the colour scale."""
    rows, lo = [], None
    for bound, color, meaning in SCALE:
        if lo is None:
            text = f"< {num(bound)}"
        elif math.isinf(bound):
            text = f"≥ {num(lo)}"
        else:
            text = f"{num(lo)} … {num(bound)}"
        rows.append((text, color, meaning))
        lo = bound
    rows.append(("exactly 0", ZERO_COLOR, ""))
    return rows
