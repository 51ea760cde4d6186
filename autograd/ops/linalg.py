"""Matrix products, with numpy's rules for 1-D and batched (stacked) operands, and einsum."""
from ..backend import xp
from ..errors import ShapeError, shape_str
from ..primitive import primitive
from ..dialects import function
from ..tensor import Tensor
from .shape import _transpose, broadcast_to, squeeze, unsqueeze


def _mT(t):
    """Swap the last two axes."""
    if t.ndim == 2:
        return _transpose(t, axes=None)
    axes = list(range(t.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return _transpose(t, axes=tuple(axes))


def _matmul_vjp_x(g, ans, x, y):
    if x.ndim == 1 and y.ndim == 1:           # dot product: ans = sum x_k y_k
        return g * y
    if x.ndim == 1:                           # (k,) @ (..., k, m) -> (..., m)
        return squeeze(unsqueeze(g, -2) @ _mT(y), -2)
    if y.ndim == 1:                           # (..., n, k) @ (k,) -> (..., n)
        return unsqueeze(g, -1) @ unsqueeze(y, 0)
    return g @ _mT(y)                         # dL/dX = G Y^T


def _matmul_vjp_y(g, ans, x, y):
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:
        return unsqueeze(x, -1) @ unsqueeze(g, -2)
    if y.ndim == 1:
        return squeeze(_mT(x) @ unsqueeze(g, -1), -1)
    return _mT(x) @ g                         # dL/dY = X^T G


@primitive(promotes=True, method="matmul", operators=("__matmul__", "__rmatmul__"), numpy=[xp.matmul])
def matmul(x, y):
    """``x @ y``.  For 2-D, dL/dX = G Y^T and dL/dY = X^T G; batch axes broadcast."""
    return xp.matmul(x, y)
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y,
              inputs=('A', 'B'),
              formulas=[('g·Bᵀ', 'g @ Bᵀ'), ('Aᵀ·g', 'Aᵀ @ g')])


# ---- linear: a layer's pre-activation x @ W.T + b, PyTorch's layout --------------------------
# W has shape (out_features, in_features), as in PyTorch and KTH's lecture (z = W x + b for a
# column x); a batch of rows X (..., in) gives X @ W.T + b of shape (..., out).  With G the
# upstream gradient (..., out):
#   dL/dX = G W                                   (..., in)
#   dL/dW = G^T X, summed over the batch axes     (out, in)
#   dL/db = G, which the engine sums over the batch axes to b's shape
# Written with ops that follow their arguments (reshape, .T, @), so the same VJPs run on
# arrays in a plain backward and are recorded under create_graph=True (second order).

def _linear_vjp_x(g, ans, x, w, b=None):
    return g @ w


def _linear_vjp_w(g, ans, x, w, b=None):
    out_features, in_features = w.shape
    # One matrix product over all batch rows at once; a 1-D x is a batch of one row.
    return g.reshape(-1, out_features).T @ x.reshape(-1, in_features)


def _linear_vjp_b(g, ans, x, w, b):
    return g


_FORMULAS = [('g·W', 'g @ W'), ('gᵀ·X', 'gᵀ @ X'), ('1', 'g summed over the batch')]


@primitive(name="linear", promotes=True)
def _linear(x, w, b):
    out = xp.matmul(x, w.T)
    out += b          # in place: one array for the layer's output instead of two (b is (out,) or 0-d)
    return out
_linear.defvjp(_linear_vjp_x, _linear_vjp_w, _linear_vjp_b,
               inputs=('X', 'W', 'b'), formulas=_FORMULAS)


# Without a bias the op has two inputs, so it is declared a second time under the same name,
# with the same VJPs: a picture shows one "linear" node either way, and no zero bias is made up.
@primitive(name="linear", promotes=True)
def _linear_no_bias(x, w):
    return xp.matmul(x, w.T)
_linear_no_bias.defvjp(_linear_vjp_x, _linear_vjp_w, inputs=('X', 'W'), formulas=_FORMULAS[:2])


def _check_linear_shapes(x, w, b):
    """PyTorch's rules for F.linear, with messages that say which layout is expected."""
    x_shape, w_shape = xp.shape(getattr(x, "data", x)), xp.shape(getattr(w, "data", w))
    if len(w_shape) != 2:
        raise ShapeError(f"linear: weight must be 2-D, (out_features, in_features), got shape "
                         f"{shape_str(w_shape)}")
    if len(x_shape) == 0:
        raise ShapeError("linear: x must have at least one dimension, (..., in_features), got a 0-d tensor")
    out_features, in_features = w_shape
    if x_shape[-1] != in_features:
        hint = ""
        if x_shape[-1] == out_features:
            hint = ("; the weight is (out_features, in_features), as in PyTorch: if yours is in the "
                    "(in, out) layout of chaingrad 0.1, pass its transpose (weight.T)")
        raise ShapeError(f"linear: x has {x_shape[-1]} features (shape {shape_str(x_shape)}) but the weight "
                         f"{shape_str(w_shape)} takes in_features={in_features}{hint}")
    if b is not None:
        b_shape = xp.shape(getattr(b, "data", b))
        if b_shape not in ((), (1,), (out_features,)):
            raise ShapeError(f"linear: bias must have shape ({out_features},) (out_features), got "
                             f"{shape_str(b_shape)}")


def linear(x, weight, bias=None):
    """The affine map ``x @ weight.T + bias`` as one op, as ``torch.nn.functional.linear``.

    ``x``: (..., in_features) or (in_features,); ``weight``: (out_features,
    in_features), PyTorch's layout (z = W x + b for one column x, KTH's
    notation); ``bias``: (out_features,) or None.  The result has shape
    (..., out_features).  One node and one output array instead of three
    (transpose, matmul, add), as PyTorch's addmm.  Gradients: dL/dx = G W,
    dL/dW = Gᵀ X (summed over the batch), dL/db = G summed over the batch.
    """
    _check_linear_shapes(x, weight, bias)
    if bias is None:
        return _linear_no_bias(x, weight)
    return _linear(x, weight, bias)


# ---- einsum ----------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ELLIPSIS_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"      # what '...' stands for, right-aligned


def _interleaved(args):
    """numpy's other form, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, as a subscripts string."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sublist)
    operands, subs = list(args[0::2]), [letters(s) for s in args[1::2]]
    output = None
    if len(subs) < len(operands):               # the last item is the output's sublist
        output = letters(operands.pop())
    return ",".join(subs) + ("" if output is None else "->" + output), operands


def _explicit(subscripts, ndims):
    """The subscripts with the output spelled out and every '...' replaced by letters:
    numpy's implicit output is the letters used once, in alphabetical order (after '...')."""
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    ins = inputs.split(",")
    if len(ins) != len(ndims):
        raise ValueError(f"einsum({subscripts!r}): {len(ins)} operand subscripts but {len(ndims)} operands")
    widest = 0
    for i, (sub, ndim) in enumerate(zip(ins, ndims)):
        if "..." in sub:
            k = ndim - (len(sub) - 3)
            if k < 0:
                raise ValueError(f"einsum({subscripts!r}): operand {i} has {ndim} axes, fewer than its letters")
            ins[i] = sub.replace("...", _ELLIPSIS_LETTERS[len(_ELLIPSIS_LETTERS) - k:] if k else "")
            widest = max(widest, k)
    broadcast = _ELLIPSIS_LETTERS[len(_ELLIPSIS_LETTERS) - widest:] if widest else ""
    if arrow:
        output = output.replace("...", broadcast)
    else:
        letters = "".join(ins)
        output = broadcast + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in broadcast))
    for s in ins + [output]:
        if s and not s.isalpha():
            raise ValueError(f"einsum({subscripts!r}): subscripts must be letters (and '...')")
        if len(set(s)) != len(s):
            raise ValueError(f"einsum({subscripts!r}): the letter repeated in {s!r} (a diagonal) is "
                             f"not supported; take the diagonal with np.diagonal first")
    return ins, output


@primitive(name="einsum", promotes=True)
def _einsum(*xs, spec):
    return xp.einsum(spec, *xs)


def _einsum_vjp_all(g, ans, *xs, spec):
    """Each operand's gradient is an einsum too: the upstream ``g`` (subscripts of the
    output) with the other operands, written to this operand's subscripts.  Letters that
    appear only in this operand were summed away: the gradient is copied along them.
    An axis of length 1 that einsum broadcast gets a stretched gradient, which the
    engine sums back (as for any broadcasting op)."""
    ins, out = spec.split("->")[0].split(","), spec.split("->")[1]
    grads = []
    for i, (sub, x) in enumerate(zip(ins, xs)):
        others = [k for k in range(len(xs)) if k != i]
        seen = set(out).union(*[ins[k] for k in others])
        target = "".join(c for c in sub if c in seen)
        spec_i = ",".join([out] + [ins[k] for k in others]) + "->" + target
        gi = _einsum((g, *[xs[k] for k in others]), spec=spec_i)
        if target != sub:
            sizes = iter(gi.shape)
            kept = tuple(next(sizes) if c in seen else 1 for c in sub)
            gi = broadcast_to(gi.reshape(kept), xp.broadcast_shapes(kept, x.shape))
        grads.append(gi)
    return grads


_einsum.defvjp_all(_einsum_vjp_all, formula=('the other operands', 'einsum of g with the other operands'))


@function(Tensor)
def einsum(subscripts, *operands):
    """numpy's (and PyTorch's) ``einsum``, e.g. ``ag.einsum("ij,jk->ik", a, b)``.

    Letters name axes: shared letters multiply, letters left out of the output
    are summed; ``...`` stands for the leading axes (broadcast).  numpy's
    interleaved form ``einsum(a, [0, 1], b, [1, 2])`` works too.  The gradient of
    each operand is again an einsum (of the upstream gradient with the other
    operands).  Not supported (a clear error): a letter repeated within one
    operand (a diagonal, ``"ii->i"``).
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])          # PyTorch also takes the operands as one list
    if not operands:
        raise TypeError("einsum: expected at least one operand after the subscripts")
    ins, out = _explicit(subscripts, [xp.ndim(o.data if isinstance(o, Tensor) else o) for o in operands])
    return _einsum(tuple(operands), ",".join(ins) + "->" + out)
