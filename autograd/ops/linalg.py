"""Matrix products, with numpy's rules for 1-D and batched (stacked) operands."""
from ..backend import xp
from ..primitive import primitive
from ..tensor import Tensor
from .shape import _transpose, squeeze, unsqueeze


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


@primitive(name="linear", promotes=True)
def _linear(x, w, b):
    out = xp.matmul(x, w)
    out += b          # in place: one array for the layer's output instead of two
    return out
# Z = X W + b:  dL/dX = G W^T,  dL/dW = X^T G,  dL/db = G summed over the batch (by the engine)
_linear.defvjp(lambda g, ans, x, w, b: _matmul_vjp_x(g, ans, x, w),
               lambda g, ans, x, w, b: _matmul_vjp_y(g, ans, x, w),
               lambda g, ans, x, w, b: g,
               inputs=('X', 'W', 'b'),
               formulas=[('g·Wᵀ', 'g @ Wᵀ'), ('Xᵀ·g', 'Xᵀ @ g'), ('1', 'g summed over the batch')])


def linear(x, w, b=None):
    """The affine map ``x @ w + b`` as one op (a layer's pre-activation).

    The same as ``x @ w + b``, but one node and one output array instead of
    two, as PyTorch's addmm.  ``w`` has shape (in_features, out_features).
    """
    if b is None:
        return matmul(x, w)
    fused = (all(isinstance(t, Tensor) for t in (x, w, b)) and w.ndim == 2 and b.ndim <= 1
             and x.dtype == w.dtype == b.dtype)     # else out += b could not hold the result
    return _linear(x, w, b) if fused else matmul(x, w) + b
