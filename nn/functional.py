"""The math of every layer, activation and loss, as functions of Tensors.

Nothing here has a backward of its own: each function is a composition of
engine primitives (``ag.exp``, ``ag.where``, ``@``, ``ag.log_softmax``...),
and the engine derives its gradient.  Where the obvious formula overflows,
an equal but stable composition is used instead, and the docstring says
why.  Functions that users think of as one operation are wrapped in
``ag.composite(name)``, so the graph pictures show them as one named box.

    from chaingrad.nn import functional as F
    logits = ag.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(logits, [0, 2, 1, 1])
    loss.backward()          # logits.grad == (softmax(logits) - one_hot(y)) / 4
"""
import numpy as np

from chaingrad import autograd as ag


def _t(x):
    """Accept arrays and lists where a Tensor is expected."""
    return x if isinstance(x, ag.Tensor) else ag.tensor(x)


def _const(arr):
    """A constant (no gradient) Tensor for masks, scales and statistics."""
    return ag.Tensor(arr)


# ---------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------
def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as PyTorch's.

    A batch of rows X (N, in) gives Z = X Wᵀ + b of shape (N, out): KTH's
    z = W x + b for each row x, and MIT's and Sayed's z = Wᵀ x + w0 with
    their W of shape (in, out) being our Wᵀ.
    """
    return ag.linear(_t(x), weight, bias)        # one engine op: X Wᵀ + b


@ag.composite("dropout")
def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    The scaling keeps E[output] = x, so nothing changes at evaluation time,
    where dropout is the identity (``training=False``).  The mask is drawn
    from ``ag.get_rng()`` (seed it with ``ag.manual_seed``).  The gradient
    is the same mask times the same scale: d(m x / (1-p))/dx = m / (1-p).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = _t(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = ag.get_rng().random(x.shape) >= p
    return x * _const((keep / (1.0 - p)).astype(x.dtype))


def _bn_layout(x, name):
    if x.ndim == 2:
        return (0,), (1, x.shape[1])
    if x.ndim == 3:
        return (0, 2), (1, x.shape[1], 1)
    raise ValueError(f"{name}: expected input of shape (N, C) or (N, C, L), got {x.shape}")


@ag.composite("batch_norm")
def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training=False, momentum=0.1, eps=1e-5):
    """Batch normalization of the features (columns) of ``x``, shape (N, C) or (N, C, L).

    Training (or no running statistics given): with the batch mean mu and
    the *biased* batch variance s^2 of each feature,

        x_hat = (x - mu) / sqrt(s^2 + eps),    out = weight * x_hat + bias

    and, outside the graph, the running statistics move towards the batch's:
    ``running = (1 - momentum) * running + momentum * batch`` (PyTorch's
    meaning of momentum), with the *unbiased* variance s^2 n/(n-1) for
    ``running_var``.  Evaluation: the running statistics replace mu and s^2.

    Every step is an engine op, so the gradient through mu and s^2 (the long
    formula of MIT 6.036 notes, sec. 7.8.3) is derived, not written.
    """
    x = _t(x)
    axes, shape = _bn_layout(x, "batch_norm")
    if training or running_mean is None:
        n = int(np.prod([x.shape[a] for a in axes]))
        if n < 2:
            raise ValueError(f"batch_norm: training needs more than one value per feature, got input "
                             f"of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        d = x - mean
        var = (d * d).mean(axis=axes, keepdims=True)       # biased: divide by n
        x_hat = d / ag.sqrt(var + eps)
        if training and running_mean is not None:
            with ag.no_grad():
                running_mean.copy_((1 - momentum) * running_mean.data + momentum * mean.data.reshape(-1))
                unbiased = var.data.reshape(-1) * (n / (n - 1))
                running_var.copy_((1 - momentum) * running_var.data + momentum * unbiased)
    else:
        mean = _const(running_mean.data.reshape(shape).astype(x.dtype))
        var = _const(running_var.data.reshape(shape).astype(x.dtype))
        x_hat = (x - mean) / ag.sqrt(var + eps)
    if weight is not None:
        x_hat = x_hat * weight.reshape(shape)
    if bias is not None:
        x_hat = x_hat + bias.reshape(shape)
    return x_hat


# ---------------------------------------------------------------------------
# Activations (Sayed, Table 65.1; MIT 6.036 notes, sec. 7.3)
# ---------------------------------------------------------------------------
def identity(x):
    """f(z) = z."""
    return _t(x)


def relu(x):
    """max(0, z); its derivative is taken as 0 at z = 0 (Sayed, eq. 65.11)."""
    return ag.relu(_t(x))


def sigmoid(x):
    """1 / (1 + e^-z), an engine primitive (computed without overflow)."""
    return ag.sigmoid(_t(x))


def tanh(x):
    """tanh(z), an engine primitive."""
    return ag.tanh(_t(x))


@ag.composite("leaky_relu")
def leaky_relu(x, negative_slope=0.01):
    """z for z > 0, else ``negative_slope`` * z.  Derivative 1 or ``negative_slope`` (at 0 too, as PyTorch)."""
    x = _t(x)
    return ag.where(x > 0, x, x * negative_slope)


@ag.composite("elu")
def elu(x, alpha=1.0):
    """z for z > 0, else alpha (e^z - 1).

    ``exp`` is applied to min(z, 0) only: exp of a large positive z would be
    inf in the branch ``where`` discards, and its gradient 0 * inf = nan.
    """
    x = _t(x)
    negative = alpha * (ag.exp(x.clip(hi=0.0)) - 1.0)
    return ag.where(x > 0, x, negative)


@ag.composite("scaled_tanh")
def scaled_tanh(x, a=1.7159, b=2 / 3):
    """a tanh(b z); with the defaults f(+-1) = +-1 (Sayed, eq. 65.10)."""
    return a * ag.tanh(_t(x) * b)


@ag.composite("softplus")
def softplus(x):
    """ln(1 + e^z), a smooth ReLU; its derivative is sigmoid(z).

    Computed as max(z, 0) + ln(1 + e^-|z|): equal for every z, and e^-|z|
    is at most 1, so nothing overflows (the naive form is inf from z ~ 710).
    """
    x = _t(x)
    return ag.maximum(x, 0.0) + ag.log1p(ag.exp(-ag.abs(x)))


def softmax(x, axis=-1, *, dim=None):
    """e^z_i / sum_j e^z_j along ``axis`` (or PyTorch's ``dim``; an engine primitive, stable for any finite z)."""
    return ag.softmax(_t(x), axis, dim=dim)


def log_softmax(x, axis=-1, *, dim=None):
    """z_i - log sum_j e^z_j along ``axis`` (or PyTorch's ``dim``; an engine primitive, stable for any finite z)."""
    return ag.log_softmax(_t(x), axis, dim=dim)


@ag.composite("step")
def step(x):
    """The step function: 0 for z < 0, 1 otherwise (MIT 6.036 notes, sec. 7.3).

    Its derivative is zero everywhere (undefined at 0): the reason gradient
    descent cannot train step networks.  Computed as 0 * z + step(z), so the
    zero gradient still flows back to earlier layers instead of cutting the
    graph.  (For z = +-inf the 0 * z term is nan.)
    """
    x = _t(x)
    return x * 0.0 + _const((x.data >= 0).astype(x.dtype))


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _float_target(target, like):
    """The target as a Tensor of the input's float dtype (it may itself require grad)."""
    if isinstance(target, ag.Tensor):
        if target.dtype == like.dtype or target.requires_grad:
            return target
        return ag.Tensor(target.data.astype(like.dtype))
    return ag.Tensor(np.asarray(target, dtype=like.dtype))


def _pair(name, input, target, reduction):
    """Validate a regression-style (input, target) pair of equal shapes."""
    _check_reduction(name, reduction)
    input = _t(input)
    target = _float_target(target, input)
    if input.shape != target.shape:
        # Broadcasting (N, 1) against (N,) would silently give an (N, N) loss.
        raise ValueError(f"{name}: input shape {input.shape} and target shape {target.shape} differ; "
                         f"reshape one of them (e.g. y.reshape(-1, 1))")
    return input, target


def _labels(name, target, n_classes):
    """Integer class labels as an ndarray, checked against the number of classes."""
    arr = np.asarray(target.data if isinstance(target, ag.Tensor) else target)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: class labels must be integers, got dtype {arr.dtype} "
                        f"(use y.astype(int); probability rows go to cross_entropy)")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise IndexError(f"{name}: labels must lie in [0, {n_classes}), got values from "
                         f"{arr.min()} to {arr.max()}")
    return arr


@ag.composite("mse_loss")
def mse_loss(input, target, reduction="mean"):
    """Squared error (input - target)^2, averaged (or summed) over all elements."""
    input, target = _pair("mse_loss", input, target, reduction)
    d = input - target
    return _reduce(d * d, reduction)


@ag.composite("l1_loss")
def l1_loss(input, target, reduction="mean"):
    """Absolute error |input - target|; its derivative is sign(input - target)."""
    input, target = _pair("l1_loss", input, target, reduction)
    return _reduce(ag.abs(input - target), reduction)


@ag.composite("huber_loss")
def huber_loss(input, target, reduction="mean", delta=1.0):
    """Quadratic near zero, linear beyond ``delta`` (Sayed, ch. 65 problems):

        0.5 d^2                  if |d| < delta
        delta (|d| - 0.5 delta)  otherwise,        d = input - target

    (Arguments in PyTorch's order: ``reduction`` before ``delta``.)
    """
    input, target = _pair("huber_loss", input, target, reduction)
    d = input - target
    a = ag.abs(d)
    return _reduce(ag.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


@ag.composite("hinge_loss")
def hinge_loss(input, target, reduction="mean"):
    """max(0, 1 - y z) for labels y in {-1, +1} and scores z (MIT notes, earlier ed., ch. 8)."""
    input, target = _pair("hinge_loss", input, target, reduction)
    if not np.isin(target.data, (-1, 1)).all():
        raise ValueError("hinge_loss: labels must be -1 or +1 (for 0/1 labels use 2 * y - 1)")
    return _reduce(ag.relu(1.0 - target * input), reduction)


_LOG_FLOOR = float(np.exp(-100.0))   # PyTorch clamps BCE's logs at -100


@ag.composite("binary_cross_entropy")
def binary_cross_entropy(input, target, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities p = ``input`` and targets y in [0, 1].

    p and 1 - p are floored at e^-100 before the log, so a saturated p of
    exactly 0 or 1 costs at most 100 and gives a finite gradient, as in
    PyTorch.  From logits, ``binary_cross_entropy_with_logits`` is exact.
    """
    p, y = _pair("binary_cross_entropy", input, target, reduction)
    log_p = ag.log(p.clip(lo=_LOG_FLOOR))
    log_q = ag.log((1.0 - p).clip(lo=_LOG_FLOOR))
    return _reduce(-(y * log_p + (1.0 - y) * log_q), reduction)


@ag.composite("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """BCE of sigmoid(z) against y, computed from the logit z without forming sigmoid(z):

        -(y log s(z) + (1 - y) log(1 - s(z))) = softplus(z) - y z
                                              = max(z, 0) - y z + ln(1 + e^-|z|)

    which is finite for any finite z; its gradient is sigmoid(z) - y.
    """
    z, y = _pair("binary_cross_entropy_with_logits", input, target, reduction)
    return _reduce(ag.maximum(z, 0.0) - y * z + ag.log1p(ag.exp(-ag.abs(z))), reduction)


def _nll(log_probs, target, reduction, name):
    _check_reduction(name, reduction)
    log_probs = _t(log_probs)
    if log_probs.ndim not in (1, 2):
        raise ValueError(f"{name}: expected input of shape (N, C) or (C,), got {log_probs.shape}")
    labels = _labels(name, target, log_probs.shape[-1])
    if log_probs.ndim == 1:
        if labels.ndim != 0:
            raise ValueError(f"{name}: a single row of shape {log_probs.shape} needs one label, got {labels.shape}")
        return -log_probs[int(labels)]
    if labels.shape != log_probs.shape[:1]:
        raise ValueError(f"{name}: input of shape {log_probs.shape} needs labels of shape "
                         f"({log_probs.shape[0]},), got {labels.shape}")
    # Pick log p(y_i | x_i) from each row; the engine's VJP scatters the gradient back.
    picked = log_probs[np.arange(len(labels)), labels]
    return _reduce(-picked, reduction)


@ag.composite("nll_loss")
def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood -log p_y, for log-probabilities ``input`` (N, C) and integer labels (N,)."""
    return _nll(input, target, reduction, "nll_loss")


@ag.composite("cross_entropy")
def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy of softmax(``input``) (logits, shape (N, C)) against the targets.

    ``target`` is either integer labels (N,): loss_i = -log softmax(z_i)[y_i]
    (= nll_loss(log_softmax(z), y)), or probability rows (N, C):
    loss_i = -sum_c t_ic log softmax(z_i)_c.  Built on the engine's stable
    log_softmax, so logits of +-1e4 are fine.  The gradient with respect to
    the logits is softmax(z) - one_hot(y) per row (Sayed, Example 65.1).
    """
    _check_reduction("cross_entropy", reduction)
    z = _t(input)
    log_p = ag.log_softmax(z, -1)
    t = target.data if isinstance(target, ag.Tensor) else np.asarray(target)
    if t.dtype.kind == "f" and t.shape == z.shape:
        return _reduce(-(_float_target(target, z) * log_p).sum(axis=-1), reduction)
    return _nll(log_p, target, reduction, "cross_entropy")


def one_hot(labels, num_classes=None, dtype=None):
    """Rows e_y: ``one_hot([2, 0], 3)`` is [[0, 0, 1], [1, 0, 0]], int64 as in PyTorch
    (``dtype=`` for another, e.g. float targets).

    ``num_classes`` None (or -1, PyTorch's spelling) means ``max(labels) + 1``.
    """
    y = np.asarray(labels.data if isinstance(labels, ag.Tensor) else labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    k = int(y.max()) + 1 if num_classes is None or num_classes == -1 else int(num_classes)
    _labels("one_hot", y, k)
    out = np.zeros(y.shape + (k,), dtype=np.int64 if dtype is None else ag.backend.as_dtype(dtype))
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return ag.Tensor(out)


def _params(params):
    # Accept a Module (anything with .parameters()) as well as an iterable of Tensors.
    return list(params.parameters()) if hasattr(params, "parameters") else list(params)


@ag.composite("l1_penalty")
def l1_penalty(params):
    """sum over the tensors of sum |w|: add ``lam * l1_penalty(ws)`` to a loss for sparsity."""
    terms = [ag.abs(p).sum() for p in _params(params)]
    return sum(terms[1:], terms[0]) if terms else ag.tensor(0.0)


@ag.composite("l2_penalty")
def l2_penalty(params):
    """sum over the tensors of ||w||^2 (no 1/2): the weight-decay term rho ||w||^2 of Sayed, eq. 65.47."""
    terms = [(p * p).sum() for p in _params(params)]
    return sum(terms[1:], terms[0]) if terms else ag.tensor(0.0)
