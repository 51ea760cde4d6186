"""Gradient clipping by the global norm."""
import numpy as np

from chaingrad import autograd as ag


def clip_grad_norm_(params, max_norm, norm_type=2.0):
    r"""Scale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is taken over all gradients as if they were one long vector::

        N = ( sum_p ||g_p||^q )^(1/q)          q = norm_type (inf: the largest |entry|)
        g_p <- g_p * min(1, max_norm / (N + 1e-6))

    Every gradient is scaled by the same factor, so the update keeps its
    direction; only its length is capped (the 1e-6 guards against N = 0).
    Gradients that are None are skipped.  Returns ``N``, the norm *before*
    clipping, as a 0-d Tensor (like PyTorch); log it to watch for explosions.

    Example::

        loss.backward()
        optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
    """
    if isinstance(params, ag.Tensor):
        params = [params]
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return ag.tensor(0.0)
    if norm_type == np.inf:
        total = max(float(np.max(np.abs(g.data))) if g.size else 0.0 for g in grads)
    else:
        norms = [np.linalg.norm(g.data.ravel(), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.array(norms, dtype=np.float64), ord=norm_type))
    coef = min(1.0, max_norm / (total + 1e-6))
    if coef < 1.0:
        for g in grads:
            # a new array rather than *=: the grad's array may be shared with other tensors
            g.data = g.data * coef
    return ag.tensor(total, dtype=grads[0].dtype)
