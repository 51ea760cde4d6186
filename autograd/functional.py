"""Derivatives as functions: ``vjp``, ``jacobian`` and ``hessian`` of a function of Tensors."""
from .backend import xp
from .engine import grad
from .graph import enable_grad
from .ops import stack
from .tensor import Tensor


def _leaf(x):
    """A fresh leaf that requires grad, holding x's values (x itself is not touched)."""
    data = x.data if isinstance(x, Tensor) else xp.asarray(x, dtype=float)
    return Tensor._wrap(data).requires_grad_(True)


def vjp(f, *xs, v=None):
    """Return ``(f(*xs), v^T J)``: the output and the vector-Jacobian product for each input.

    ``v`` defaults to ones (needed only when the output is not a scalar).  The
    second item is a Tensor for one input, a tuple of Tensors for several.
    """
    leaves = [_leaf(x) for x in xs]
    with enable_grad():
        out = f(*leaves)
    if v is None:
        v = xp.ones_like(out.data)
    if out.requires_grad:
        gs = grad(out, leaves, grad_outputs=v if isinstance(v, Tensor) else Tensor(v, dtype=out.dtype),
                  allow_unused=True)
    else:
        gs = [None] * len(leaves)      # f ignores its inputs: every derivative is 0 (as torch)
    gs = tuple(Tensor(xp.zeros_like(x.data)) if g is None else g.detach() for g, x in zip(gs, leaves))
    return out.detach(), (gs[0] if len(gs) == 1 else gs)


def jacobian(f, x, create_graph=False):
    """The Jacobian of ``f`` at ``x``: shape ``f(x).shape + x.shape``, one backward per output element."""
    x = x if create_graph and isinstance(x, Tensor) and x.requires_grad else _leaf(x)
    with enable_grad():
        out = f(x)
    rows = []
    for i in range(out.size if out.requires_grad else 0):   # a constant f has Jacobian 0
        seed = xp.zeros(out.size, dtype=out.dtype)
        seed[i] = 1
        (g,) = grad(out, x, grad_outputs=Tensor._wrap(seed.reshape(out.shape)),
                    retain_graph=True, create_graph=create_graph, allow_unused=True)
        rows.append(Tensor(xp.zeros_like(x.data)) if g is None else g)
    if not rows:
        return Tensor(xp.zeros(out.shape + x.shape, dtype=x.dtype))
    jac = stack(rows, axis=0).reshape(*(out.shape + x.shape))
    return jac if create_graph else jac.detach()


def hessian(f, x):
    """The Hessian of a scalar function ``f`` at ``x``: shape ``x.shape + x.shape``.

    Computed as the Jacobian of the gradient, whose graph is recorded
    (``create_graph=True``) so that it can be differentiated again.
    """
    x = _leaf(x)

    def gradient(z):
        out = f(z)
        if out.size != 1:
            raise ValueError(f"hessian: f must return a scalar, got shape {out.shape}")
        if not out.requires_grad:             # f is constant: gradient (and Hessian) 0
            return Tensor(xp.zeros_like(z.data))
        (g,) = grad(out, z, create_graph=True, allow_unused=True)
        return Tensor(xp.zeros_like(z.data)) if g is None else g

    return jacobian(gradient, x, create_graph=False)
