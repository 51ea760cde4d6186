"""Matrix products, with numpy's rules for 1-D and batched (stacked) operands."""
from ..backend import xp
from ..graph import primitive
from .shape import _transpose


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
        return (g.unsqueeze(-2) @ _mT(y)).squeeze(-2)
    if y.ndim == 1:                           # (..., n, k) @ (k,) -> (..., n)
        return g.unsqueeze(-1) @ y.unsqueeze(0)
    return g @ _mT(y)                         # dL/dX = G Y^T


def _matmul_vjp_y(g, ans, x, y):
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:
        return x.unsqueeze(-1) @ g.unsqueeze(-2)
    if y.ndim == 1:
        return (_mT(x) @ g.unsqueeze(-1)).squeeze(-1)
    return _mT(x) @ g                         # dL/dY = X^T G


@primitive
def matmul(x, y):
    """``x @ y``.  For 2-D, dL/dX = G Y^T and dL/dY = X^T G; batch axes broadcast."""
    return xp.matmul(x, y)
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y)
