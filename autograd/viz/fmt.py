"""Words, numbers and colours for the pictures: value formatting, the local-derivative
table behind ``formulas=True`` and ``explain``, and the gradient colour scale."""
import html
import math

import numpy as np

# ---- numbers ------------------------------------------------------------------


def num(x):
    """One number, short: 4 significant digits, ``-0`` shown as ``0``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
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
    line = f"min {num(finite.min())}, mean {num(finite.mean())}, max {num(finite.max())}"
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


def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def esc(s):
    """Escape text for a Graphviz HTML-like label."""
    return html.escape(str(s), quote=True)


def rms(a):
    """Root mean square, the size of a typical entry (0 for an empty array)."""
    a = np.asarray(a, dtype=float)
    return float(np.sqrt(np.mean(a * a))) if a.size else 0.0


def norm(a):
    a = np.asarray(a, dtype=float)
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
            out.append(f"{i.dtype.kind == 'b' and 'mask' or 'array'}{shape_text(i.shape)}")
        else:
            out.append(str(i))
    return ", ".join(out)


# ---- the local derivatives --------------------------------------------------------
# For each primitive: the names of its inputs (the output is y, the upstream
# gradient g) and, per input, (local derivative, VJP).  The VJP is what backward
# computes: the upstream gradient g pulled back through the op.  For ops whose
# Jacobian is not diagonal (matmul, softmax, reductions) the VJP is the readable part.

_U = ("x",)
_B = ("a", "b")
FORMULAS = {
    "neg": (_U, [("-1", "-g")]),
    "exp": (_U, [("eˣ = y", "g·y")]),
    "log": (_U, [("1/x", "g / x")]),
    "log1p": (_U, [("1/(1+x)", "g / (1 + x)")]),
    "sqrt": (_U, [("1/(2y)", "g / (2y)")]),
    "abs": (_U, [("sign(x)", "g·sign(x)")]),
    "sin": (_U, [("cos x", "g·cos x")]),
    "cos": (_U, [("-sin x", "-g·sin x")]),
    "tanh": (_U, [("1 - y²", "g·(1 - y²)")]),
    "sigmoid": (_U, [("y(1 - y)", "g·y·(1 - y)")]),
    "relu": (_U, [("[x > 0]", "g·[x > 0]")]),
    "clip": (_U, [("[lo ≤ x ≤ hi]", "g·[lo ≤ x ≤ hi]")]),
    "astype": (_U, [("1", "g cast to x's dtype")]),
    "add": (_B, [("1", "g"), ("1", "g")]),
    "sub": (_B, [("1", "g"), ("-1", "-g")]),
    "mul": (_B, [("b", "g·b"), ("a", "g·a")]),
    "div": (_B, [("1/b", "g / b"), ("-a/b²", "-g·a / b²")]),
    "pow": (_B, [("b·a^(b-1)", "g·b·a^(b-1)"), ("y·log a", "g·y·log a")]),
    "maximum": (_B, [("[a > b] (½ at ties)", "g·[a > b]"), ("[b > a] (½ at ties)", "g·[b > a]")]),
    "minimum": (_B, [("[a < b] (½ at ties)", "g·[a < b]"), ("[b < a] (½ at ties)", "g·[b < a]")]),
    "where": (("c", "a", "b"), [None, ("[c]", "g where c, else 0"), ("[not c]", "g where not c, else 0")]),
    "matmul": (("A", "B"), [("g·Bᵀ", "g @ Bᵀ"), ("Aᵀ·g", "Aᵀ @ g")]),
    "sum": (_U, [("1", "g spread over the summed axes")]),
    "mean": (_U, [("1/n", "g spread over the averaged axes, / n")]),
    "max": (_U, [("[x = y] (ties share)", "g to the largest entries")]),
    "min": (_U, [("[x = y] (ties share)", "g to the smallest entries")]),
    "var": (_U, [("2(x - x̄)/(n - ddof)", "g·2(x - x̄)/(n - ddof)")]),
    "std": (_U, [("(x - x̄)/((n - ddof)·y)", "g·(x - x̄)/((n - ddof)·y)")]),
    "logsumexp": (_U, [("softmax(x)", "g·softmax(x)")]),
    "softmax": (_U, [("diag(y) - y yᵀ", "y·(g - Σ g·y)")]),
    "log_softmax": (_U, [("I - softmax(x)", "g - eʸ·Σ g")]),
    "reshape": (_U, [("1 (moved)", "g reshaped back")]),
    "transpose": (_U, [("1 (moved)", "g transposed back")]),
    "broadcast_to": (_U, [("1 (copied)", "g summed over the copies")]),
    "getitem": (_U, [("1 at index", "g scattered into zeros at index")]),
    "scatter_add": (_U, [("1 at index", "g[index]")]),
    "pad": (_U, [("1 inside", "g cropped")]),
    "flip": (_U, [("1 (moved)", "g flipped back")]),
    "cat": (None, "1 on its slice", "g sliced back"),
    "stack": (None, "1 on its slice", "g[i] along the new axis"),
}


def symbols(op_name, n_inputs):
    """Names for the inputs of an op in formulas: x, or a and b, or A and B..."""
    entry = FORMULAS.get(op_name)
    if entry is not None and entry[0] is not None and len(entry[0]) == n_inputs:
        return entry[0]
    if n_inputs == 1:
        return _U
    return tuple(f"x{i}" for i in range(n_inputs))


def formula(op_name, i, n_inputs):
    """(local derivative, VJP) of input ``i`` as text, or None when the op is not in the table."""
    entry = FORMULAS.get(op_name)
    if entry is None:
        return None
    if entry[0] is None:                     # cat/stack: any number of inputs, one rule
        return entry[1], entry[2]
    rules = entry[1]
    return rules[i] if i < len(rules) else None


def edge_formula(op_name, i, n_inputs):
    """The text on the edge from input ``i`` into the op: ``tanh: 1 - y²``, ``mul ∂/∂a: b``."""
    f = formula(op_name, i, n_inputs)
    if f is None:
        return f"{op_name}: vjp {i}"
    if n_inputs == 1:
        return f"{op_name}: {f[0]}"
    return f"{op_name} ∂/∂{symbols(op_name, n_inputs)[i]}: {f[0]}"


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
