"""Graders of notebook 7's layer exercises (dropout, layer norm) and notebook 6's update rules.

A notebook's kernel runs in ``notebooks/``, so a grading cell imports them directly::

    from grade_layers import grade_adam
    grade_adam(adam)          # the cell's last value: the report prints itself

Every grader returns a :class:`Report` whose first line is
``"<grader>(<what>): correct (<details>)"`` or ``"<grader>(<what>): wrong: <the mistake>"``
(the convention of ``tests/test_notebooks.py``), and which is falsy when wrong.  A solution
that raises (the student version's ``NotImplementedError``) is reported as wrong, never as an
error of the cell.

How a mistake gets its name.  Each grader first compares the student's numbers with a
reference that does not share the student's code: chaingrad's ``optim`` run side by side for
the update rules, ``ag.check_vjp`` (central differences) for the VJPs, a formula in numpy for
the layer-norm forward.  When they differ, it runs the usual wrong answers, written out below
as "the right rule with one thing changed", on the same inputs; the first one whose numbers
equal the student's everywhere gives the mistake its name.  A mistake not in a catalogue is
still caught; the report then names where the numbers first differ (the step and the
quantity, or the element) with both values.
"""
import functools
import inspect
import warnings
from typing import NamedTuple

import numpy as np

from chaingrad import autograd as ag
from chaingrad import optim
from grading import Report

RTOL = 1e-9       # float64 throughout: allowed max |obtained - expected| / max |expected|


def _raised(err):
    """The words for a solution that raised, with a hint where the error is a usual one."""
    text = f"raised {type(err).__name__}: {err}"
    if isinstance(err, ValueError) and "broadcast" in str(err):
        text += " (a mean or sum over the last axis needs keepdims=True to broadcast against X)"
    return text


# ------------------------------------------------------------------ comparing arrays

def _same(expected, obtained, rtol=RTOL):
    """Equal shapes and values within rtol of the largest expected entry; NaN matches NaN."""
    e, o = np.asarray(expected, dtype=float), np.asarray(obtained, dtype=float)
    if e.shape != o.shape:
        return False
    nan_e, nan_o = ~np.isfinite(e), ~np.isfinite(o)
    if (nan_e != nan_o).any():
        return False
    if nan_e.all():
        return True
    scale = max(np.abs(e[~nan_e]).max(), 1e-300)
    return bool(np.abs(e[~nan_e] - o[~nan_e]).max() <= rtol * scale)


def _first_wrong(expected, obtained, rtol=RTOL):
    """'first wrong element [i, j]: expected a, obtained b' (or the two shapes)."""
    e, o = np.asarray(expected, dtype=float), np.asarray(obtained, dtype=float)
    if e.shape != o.shape:
        return f"shape {o.shape}, expected {e.shape}"
    scale = max(np.abs(e[np.isfinite(e)]).max(initial=0.0), 1e-300)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(e - o) <= rtol * scale)
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else ()
    where = "[" + ", ".join(map(str, index)) + "]" if e.ndim else ""
    return f"first wrong element {where}: expected {e[index]:.6g}, obtained {o[index]:.6g}"


def _quietly(fn, *args, **kwargs):
    """Call fn with numpy's warnings off: a wrong answer may divide by zero, and says so itself."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _named(catalogue, obtained, *args, **kwargs):
    """The description of the first wrong answer in ``catalogue`` whose result equals ``obtained``."""
    for description, wrong in catalogue.items():
        try:
            if _same(_quietly(wrong, *args, **kwargs), obtained):
                return description
        except Exception:         # a catalogue entry that does not apply to these inputs
            continue
    return None


# ================================================================== update rules

STEPS = 6              # steps 1-3 at lr, steps 4-6 at lr / 2: a scheduler's change, mid-run
LR_CHANGE_STEP = 4


def _gradients(shape=(2, 3), steps=STEPS, seed=231):
    """The gradients both sides get: a steady direction plus noise, so momentum matters."""
    rng = np.random.default_rng(seed)
    drift = rng.normal(size=shape)
    return [drift + 0.7 * rng.normal(size=shape) for _ in range(steps)]


def _learning_rates(lr, steps=STEPS):
    return [lr if k < LR_CHANGE_STEP else lr / 2 for k in range(1, steps + 1)]


class _Run(NamedTuple):
    """What both sides get: the start, the gradient and the lr of each step, the hyperparameters."""
    w0: np.ndarray
    grads: list
    lrs: list
    hyper: dict


def _trail_student(step_fn, run):
    """Run the student's rule; after each step record the state's numbers and the parameter.

    Raises _Wrong when the function raises or returns nothing usable.
    """
    state, w, trail = {}, run.w0.copy(), []
    for k, (g, lr) in enumerate(zip(run.grads, run.lrs), start=1):
        try:
            out = _quietly(step_fn, w.copy(), g.copy(), state, lr=lr, **run.hyper)
        except Exception as err:
            raise _Wrong(f"step {k}: the function {_raised(err)}") from None
        if out is None:
            raise _Wrong(f"step {k}: the function returned None; return the updated parameter")
        w = np.asarray(out, dtype=float)
        if w.shape != run.w0.shape:
            raise _Wrong(f"step {k}: the function returned shape {w.shape}; the parameter has {run.w0.shape}")
        record = {key: np.array(v, dtype=float) for key, v in state.items() if _is_number(v)}
        record["the parameter"] = w.copy()
        trail.append(record)
    return trail


def _is_number(v):
    try:
        np.array(v, dtype=float)
        return True
    except (TypeError, ValueError):
        return False


def _trail_library(make, run):
    """Run chaingrad's optimizer on the same start and gradients: the reference trail."""
    p = ag.tensor(run.w0.copy(), requires_grad=True)
    opt = make([p], lr=run.lrs[0], **run.hyper)
    trail = []
    for g, lr in zip(run.grads, run.lrs):
        opt.param_groups[0]["lr"] = lr             # as a scheduler would
        p.grad = ag.tensor(g.copy())
        opt.step()
        record = {key: np.array(v, dtype=float) for key, v in opt.state[p].items()}
        record["the parameter"] = p.data.copy()
        trail.append(record)
    return trail


class _Wrong(Exception):
    """A wrong answer found while running it (nothing to compare)."""


def _grade_rule(grader, step_fn, library, hyper, lr, catalogue):
    """Run ``step_fn`` and ``library`` side by side; name the first step and quantity that differ."""
    what = getattr(step_fn, "__name__", type(step_fn).__name__)
    run = _Run(np.random.default_rng(0).normal(size=(2, 3)), _gradients(), _learning_rates(lr), hyper)
    expected = _trail_library(library, run)
    try:
        obtained = _trail_student(step_fn, run)
    except _Wrong as err:
        return Report(grader, what, str(err))
    setting = ", ".join(f"{k}={v}" for k, v in hyper.items())
    checked = (f"{STEPS} steps against optim.{library.__name__}(lr={lr}, {setting}), lr halved at step "
               f"{LR_CHANGE_STEP}; compared: " + ", ".join(q for q in expected[0] if q in obtained[0]))
    for k, (exp, obt) in enumerate(zip(expected, obtained), start=1):
        for quantity in exp:                      # the state in the order it is updated, then p
            if quantity in obt and not _same(exp[quantity], obt[quantity]):
                headline, details = _rule_mistake(library.__name__, k, quantity, expected, obtained, run,
                                                  catalogue)
                return Report(grader, what, headline, details + [f"(run: {checked})"])
    return Report(grader, what, summary=checked)


def _rule_mistake(name, k, quantity, expected, obtained, run, catalogue):
    """(headline, details): the first step and quantity that differ, and the mistake when known.

    A catalogued mistake is named when its parameter equals the student's at every step.
    """
    params = [r["the parameter"] for r in obtained]
    mistake = None
    for description, wrong in catalogue.items():
        try:
            trail = _trail_student(wrong, run)
        except _Wrong:
            continue
        if all(_same(r["the parameter"], p) for r, p in zip(trail, params)):
            mistake = description
            break
    where = quantity if quantity == "the parameter" else f"state[{quantity!r}]"
    headline = f"step {k}, {where}: " + (mistake or f"differs from optim.{name}'s")
    details = [f"step {k}, {where}: {_first_wrong(expected[k - 1][quantity], obtained[k - 1][quantity])}"]
    if quantity != "the parameter":
        first_p = next((j for j, (r, p) in enumerate(zip(expected, params), start=1)
                        if not _same(r["the parameter"], p)), None)
        details.append("the parameter is right at every step; the state must hold what optim keeps"
                       if first_p is None else f"the parameter first differs at step {first_p}")
    return headline, details


def _denominator(v, eps, eps_inside=False, root=True):
    """optim's sqrt(v) + eps (RMSprop's and Adam's), or a mistake: sqrt(v + eps), or v + eps."""
    if eps_inside:
        return np.sqrt(v + eps)
    return (np.sqrt(v) if root else v) + eps


# ------------------------------------------------------------------ SGD with momentum

def _sgd_family(w, dw, state, lr, momentum, *, buffer_in_step=True, step_before_buffer=False,
                lr_in_buffer=False, average=False, zero_start=True, nesterov=False, sign=1.0):
    """optim.SGD's momentum rule (all flags at their defaults), or one mistake in it."""
    b = state.get("momentum_buffer")
    old = np.zeros_like(w) if b is None else b
    new = -lr * dw if lr_in_buffer else dw            # cs231n's velocity carries -lr
    if b is None and not zero_start:
        b = new.copy()                                # PyTorch's first step with dampening: b_1 = g_1
    else:
        b = momentum * old + ((1 - momentum) if average else 1.0) * new
    state["momentum_buffer"] = b
    if lr_in_buffer:                                  # cs231n: v = mu v - lr g; w = w + v
        return w + sign * b
    if nesterov:
        d = dw + momentum * b
    elif not buffer_in_step:
        d = dw
    else:
        d = old if step_before_buffer else b
    return w - sign * lr * d


SGD_MISTAKES = {
    # (a buffer that restarts at every call, b = g, gives the same steps)
    "plain gradient steps, w - lr * g: the momentum buffer does not reach the update, or it restarts "
    "at every call (keep it in state['momentum_buffer'])": functools.partial(_sgd_family, buffer_in_step=False),
    "the step uses the buffer of the previous step (update the buffer first, then w)":
        functools.partial(_sgd_family, step_before_buffer=True),
    "lr inside the buffer (cs231n's v = mu * v - lr * g, w = w + v): the same as optim.SGD while lr is "
    "constant, but optim.SGD keeps b = mu * b + g and multiplies all of it by the current lr, so the two "
    f"part when a scheduler changes lr (step {LR_CHANGE_STEP} here)":
        functools.partial(_sgd_family, lr_in_buffer=True),
    "a moving average, b = mu * b + (1 - mu) * g (the MIT notes' M_t, that is dampening = momentum); "
    "optim.SGD's default dampening = 0 adds the whole gradient: b = mu * b + g":
        functools.partial(_sgd_family, average=True),
    "a moving average started at b_1 = g_1, then b = mu * b + (1 - mu) * g (dampening = momentum); "
    "optim.SGD's default dampening = 0 adds the whole gradient: b = mu * b + g":
        functools.partial(_sgd_family, average=True, zero_start=False),
    "Nesterov's step, w - lr * (g + mu * b); this exercise is plain momentum (nesterov=False)":
        functools.partial(_sgd_family, nesterov=True),
    "the sign: the step goes uphill (w + lr * b)": functools.partial(_sgd_family, sign=-1.0),
}


def grade_sgd_momentum(sgd_momentum, lr=0.1, momentum=0.9):
    """Grade ``sgd_momentum(w, dw, state, lr, momentum) -> new w`` against ``optim.SGD``.

    optim.SGD's rule (PyTorch's, dampening 0): ``b_1 = g_1``, ``b_t = momentum * b_{t-1} + g_t``,
    ``w_t = w_{t-1} - lr * b_t``; the buffer lives in ``state["momentum_buffer"]``.
    """
    return _grade_rule("grade_sgd_momentum", sgd_momentum, optim.SGD, dict(momentum=momentum), lr,
                       SGD_MISTAKES)


# ------------------------------------------------------------------ RMSprop

def _rmsprop_family(w, dw, state, lr, alpha, eps, *, square=True, eps_inside=False, root=True,
                    swap_alpha=False, weight_new=True, bias_correct=False, keep_state=True, sign=1.0):
    """optim.RMSprop's rule (all flags at their defaults), or one mistake in it."""
    G = state.get("square_avg", np.zeros_like(w)) if keep_state else np.zeros_like(w)
    a = 1 - alpha if swap_alpha else alpha
    G = a * G + ((1 - a) if weight_new else 1.0) * (dw * dw if square else dw)
    state["square_avg"] = G
    if bias_correct:
        state["t"] = state.get("t", 0) + 1
        G = G / (1 - alpha ** state["t"])
    return w - sign * lr * dw / _denominator(G, eps, eps_inside, root)


RMSPROP_MISTAKES = {
    "the squared average is not squared: square_avg averages g, where optim.RMSprop averages g**2":
        functools.partial(_rmsprop_family, square=False),
    "eps inside the square root, g / sqrt(G + eps) (the MIT notes' form); optim.RMSprop divides by "
    "sqrt(G) + eps": functools.partial(_rmsprop_family, eps_inside=True),
    "no square root: g / (G + eps) divides by the squared scale": functools.partial(_rmsprop_family, root=False),
    "alpha and 1 - alpha swapped: G = (1 - alpha) * G + alpha * g**2 (alpha weighs the old average)":
        functools.partial(_rmsprop_family, swap_alpha=True),
    "the new g**2 is not weighted by 1 - alpha: G = alpha * G + g**2":
        functools.partial(_rmsprop_family, weight_new=False),
    "a bias correction G / (1 - alpha**t), which is Adam's; RMSprop has none":
        functools.partial(_rmsprop_family, bias_correct=True),
    "the average restarts at every call (keep it in state['square_avg'])":
        functools.partial(_rmsprop_family, keep_state=False),
    "the sign: the step goes uphill (w + lr * ...)": functools.partial(_rmsprop_family, sign=-1.0),
}


def grade_rmsprop(rmsprop, lr=0.01, alpha=0.9, eps=1e-3):
    """Grade ``rmsprop(w, dw, state, lr, alpha, eps) -> new w`` against ``optim.RMSprop``.

    ``G_t = alpha * G_{t-1} + (1 - alpha) * g_t**2`` (``state["square_avg"]``, from 0),
    ``w_t = w_{t-1} - lr * g_t / (sqrt(G_t) + eps)``.  The default eps is large on purpose:
    with 1e-8 the place of eps would not show in the numbers.
    """
    return _grade_rule("grade_rmsprop", rmsprop, optim.RMSprop, dict(alpha=alpha, eps=eps), lr,
                       RMSPROP_MISTAKES)


# ------------------------------------------------------------------ Adam

def _adam_family(w, dw, state, lr, betas, eps, *, t_offset=0, count=True, correct_m=True,
                 correct_v=True, eps_inside=False, eps_before_correction=False, square=True,
                 root=True, swap_betas=False, keep_state=True, sign=1.0):
    """optim.Adam's rule (all flags at their defaults), or one mistake in it."""
    b1, b2 = betas[::-1] if swap_betas else betas
    if not keep_state or "exp_avg" not in state:
        state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
    state["step"] += 1 if count else 0
    t = state["step"] + t_offset
    m = state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * dw
    v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * (dw * dw if square else dw)
    if eps_before_correction:     # the paper's faster form: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
        return w - sign * lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    m_hat = m / (1 - b1 ** t) if correct_m else m
    v_hat = v / (1 - b2 ** t) if correct_v else v
    return w - sign * lr * m_hat / _denominator(v_hat, eps, eps_inside, root)


ADAM_MISTAKES = {
    "no bias correction: m / (sqrt(v) + eps); optim.Adam divides m by 1 - beta1**t and v by 1 - beta2**t":
        functools.partial(_adam_family, correct_m=False, correct_v=False),
    "bias correction with t starting at 0: the first step divides by 1 - beta**0 = 0 (nan); "
    "increase the step count before using it, so t = 1 at the first step":
        functools.partial(_adam_family, t_offset=-1),
    "t never grows: the bias correction must use t = 1, 2, 3, ... (state['step'] += 1 at every call)":
        functools.partial(_adam_family, count=False, t_offset=1),
    "only m is bias-corrected; v needs v / (1 - beta2**t) too":
        functools.partial(_adam_family, correct_v=False),
    "only v is bias-corrected; m needs m / (1 - beta1**t) too":
        functools.partial(_adam_family, correct_m=False),
    "eps inside the square root, sqrt(v_hat + eps); optim.Adam divides by sqrt(v_hat) + eps":
        functools.partial(_adam_family, eps_inside=True),
    "eps added to sqrt(v) before the bias correction (the paper's faster form with its epsilon-hat); "
    "optim.Adam adds eps to sqrt(v_hat)": functools.partial(_adam_family, eps_before_correction=True),
    "v averages g, not g**2": functools.partial(_adam_family, square=False),
    "no square root: m_hat / (v_hat + eps)": functools.partial(_adam_family, root=False),
    "betas swapped: m is averaged with beta2 and v with beta1":
        functools.partial(_adam_family, swap_betas=True),
    "the averages restart at every call (keep them in state)":
        functools.partial(_adam_family, keep_state=False),
    "the sign: the step goes uphill (w + lr * ...)": functools.partial(_adam_family, sign=-1.0),
}


def grade_adam(adam, lr=0.1, betas=(0.9, 0.999), eps=1e-3):
    """Grade ``adam(w, dw, state, lr, betas, eps) -> new w`` against ``optim.Adam``.

    ``m_t = b1 m + (1 - b1) g``, ``v_t = b2 v + (1 - b2) g**2`` (``state["exp_avg"]``,
    ``state["exp_avg_sq"]``, from 0), ``m^ = m_t / (1 - b1**t)``, ``v^ = v_t / (1 - b2**t)`` with
    ``t = state["step"]`` = 1 at the first step, ``w_t = w_{t-1} - lr * m^ / (sqrt(v^) + eps)``.
    The default eps is large on purpose, so that its place shows in the numbers.
    """
    return _grade_rule("grade_adam", adam, optim.Adam, dict(betas=betas, eps=eps), lr, ADAM_MISTAKES)


# ================================================================== dropout's backward

def _dropout_inputs(p):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4))
    keep = rng.random((3, 4)) >= p
    keep[0, :2] = (True, False)                   # at least one kept and one dropped entry
    return x, keep, rng.normal(size=(3, 4))


DROPOUT_MISTAKES = {
    "not scaled by 1 / (1 - p): the forward divides the kept entries by 1 - p, so their gradient "
    "is g / (1 - p)": lambda g, x, keep, p, ans: g * keep,
    "scaled by 1 / p, the drop probability; the forward divides by the keep probability 1 - p":
        lambda g, x, keep, p, ans: g * keep / p,
    "multiplied by 1 - p where the forward divides by it": lambda g, x, keep, p, ans: g * keep * (1 - p),
    "the mask inverted: the gradient flows through the dropped entries (keep False) instead of the kept ones":
        lambda g, x, keep, p, ans: g * ~keep / (1 - p),
    "g * ans uses the output: the derivative of keep * x / (1 - p) is keep / (1 - p), without x":
        lambda g, x, keep, p, ans: g * ans,
    "forgot the upstream gradient g: keep / (1 - p) is the gradient for g = 1":
        lambda g, x, keep, p, ans: keep / (1 - p) + 0 * g,
}


def grade_dropout_backward(dropout, p=0.25):
    """Grade the VJP for ``x`` of the primitive ``dropout(x, keep, p)`` (inverted dropout).

    The forward is ``keep * x / (1 - p)`` with ``keep`` the boolean mask the forward drew; the
    VJP must reuse that mask: ``g * keep / (1 - p)``.  ``ag.check_vjp`` grades it (central
    differences, float32, broadcast shapes); when it is wrong, the usual mistakes are tried
    (p = 0.25, so that 1 - p, p and their inverses are all different numbers).
    """
    x, keep, g = _dropout_inputs(p)
    report = ag.check_vjp(dropout, x, keep, kwargs={"p": p})
    return _vjp_report("grade_dropout_backward", dropout, report, DROPOUT_MISTAKES, x, keep,
                       g=g, p=p, pattern=keep)


# ================================================================== layer norm

def _layernorm_np(X, gamma, beta, eps, axis=-1, ddof=0, eps_outside=False, root=True, centred=True):
    """Layer norm in numpy (all options at their defaults), or one mistake in it."""
    mu = X.mean(axis=axis, keepdims=True)
    var = ((X - mu) ** 2 if centred else X ** 2).sum(axis=axis, keepdims=True) / (
        (X.size if axis is None else X.shape[axis]) - ddof)
    if eps_outside:
        scale = np.sqrt(var) + eps
    else:
        scale = np.sqrt(var + eps) if root else var + eps
    return (X - mu) / scale * gamma + beta


def _layernorm_grads(X, gamma, beta, eps, g):
    """The closed form: (dX, dgamma, dbeta) of sum(g * layernorm(X)), normalizing the last axis."""
    D = X.shape[-1]
    s = np.sqrt(X.var(axis=-1, keepdims=True) + eps)
    Xhat = (X - X.mean(axis=-1, keepdims=True)) / s
    gh = g * gamma                                   # the gradient reaching Xhat
    dX = (D * gh - gh.sum(axis=-1, keepdims=True) - Xhat * (gh * Xhat).sum(axis=-1, keepdims=True)) / (D * s)
    lead = tuple(range(X.ndim - 1))
    return dX, (g * Xhat).sum(axis=lead), g.sum(axis=lead)


LAYERNORM_FORWARD_MISTAKES = {
    "normalized over axis 0 (each feature over the batch: that is batch norm); layer norm normalizes "
    "each row over its features, the last axis": functools.partial(_layernorm_np, axis=0),
    "normalized over axis 1 instead of the last axis: for a (batch, tokens, features) input layer norm "
    "normalizes the features, axis -1": functools.partial(_layernorm_np, axis=1),
    "mean and variance over all entries (no axis given); layer norm takes them per row, over the last axis":
        functools.partial(_layernorm_np, axis=None),
    "unbiased variance (divided by D - 1, ddof=1); layer norm divides by D (ddof=0, numpy's default)":
        functools.partial(_layernorm_np, ddof=1),
    "eps outside the square root, sqrt(var) + eps; the formula is sqrt(var + eps)":
        functools.partial(_layernorm_np, eps_outside=True),
    "eps left out: the formula is (X - mean) / sqrt(var + eps) (use the eps argument)":
        lambda X, gamma, beta, eps: _layernorm_np(X, gamma, beta, 0.0),
    "no square root: divided by var + eps, the squared scale": functools.partial(_layernorm_np, root=False),
    "the variance is not centred: mean(X**2) where the formula has mean((X - mean)**2)":
        functools.partial(_layernorm_np, centred=False),
    "gamma and beta swapped: the output is Xhat * gamma + beta":
        lambda X, gamma, beta, eps: _layernorm_np(X, beta, gamma, eps),
    "gamma and beta left out: the output is Xhat * gamma + beta":
        lambda X, gamma, beta, eps: _layernorm_np(X, 1.0, 0.0, eps),
}


def _layernorm_inputs(shape, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=shape[:-1] + (1,)) + rng.normal(size=shape[:-1] + (1,))
    D = shape[-1]
    return X, rng.normal(1.0, 0.5, size=D), rng.normal(0.0, 0.5, size=D), rng.normal(size=shape)


def grade_layernorm_forward(layernorm, eps=0.1):
    """Grade ``layernorm(X, gamma, beta, eps) -> Tensor`` written with engine ops.

    Layer norm (Ba, Kiros and Hinton, 2016) normalizes each example over its features, the
    last axis: ``(X - mean) / sqrt(var + eps) * gamma + beta`` with the biased variance.  The
    grader checks the values on a (4, 5) and a (2, 3, 5) input (eps = 0.1, large, so that its
    place shows), then that backward through the student's ops gives the closed-form
    gradients of X, gamma and beta: the forward must be a composition of engine ops.
    """
    grader, what = "grade_layernorm_forward", getattr(layernorm, "__name__", "layernorm")
    for shape, seed in (((4, 5), 0), ((2, 3, 5), 1)):
        X, gamma, beta, g = _layernorm_inputs(shape, seed)
        ts = [ag.tensor(a, requires_grad=True) for a in (X, gamma, beta)]
        try:
            out = _quietly(layernorm, *ts, eps=eps)
        except Exception as err:
            return Report(grader, what, f"on a {shape} input, the function {_raised(err)}")
        if not isinstance(out, ag.Tensor):
            return Report(grader, what, f"returned {type(out).__name__}, not a Tensor: build the "
                          "result from engine ops on the Tensors X, gamma and beta, so backward can run")
        expected = _layernorm_np(X, gamma, beta, eps)
        if not _same(expected, out.numpy()):
            mistake = _named(LAYERNORM_FORWARD_MISTAKES, out.numpy(), X, gamma, beta, eps)
            return Report(grader, what, f"on a {shape} input: " + (mistake or "the values differ"),
                          [_first_wrong(expected, out.numpy()), f"(eps={eps})"])
        wrong = _layernorm_backward_through(grader, what, shape, out, ts, X, gamma, beta, eps, g)
        if wrong is not None:
            return wrong
    return Report(grader, what, summary=f"values and the gradients of X, gamma, beta through your ops, "
                                        f"on a (4, 5) and a (2, 3, 5) input, eps={eps}")


def _layernorm_backward_through(grader, what, shape, out, ts, X, gamma, beta, eps, g):
    """None when backward through the student's ops gives the closed-form gradients; else a Report."""
    if not out.requires_grad:
        return Report(grader, what, f"on a {shape} input the values are right but the result does not "
                      "require grad: it was computed outside the graph (numpy, .numpy(), .data or detach)")
    try:
        got = ag.grad(out, ts, grad_outputs=ag.tensor(g), allow_unused=True)
    except Exception as err:
        return Report(grader, what, f"on a {shape} input, backward through your ops {_raised(err)}")
    names = ("X", "gamma", "beta")
    for name, t, e in zip(names, got, _layernorm_grads(X, gamma, beta, eps, g)):
        if t is None:
            return Report(grader, what, f"on a {shape} input the values are right but no gradient "
                          f"reaches {name}: it enters the result outside the graph (numpy, .numpy(), .data)")
        if not _same(e, t.numpy(), rtol=1e-7):
            constant = _constant_statistic(t.numpy(), X, gamma, beta, eps, g) if name == "X" else None
            return Report(grader, what, f"on a {shape} input the values are right but the gradient of "
                          f"{name} is not: " + (constant or "part of the result is outside the graph"),
                          [_first_wrong(e, t.numpy(), rtol=1e-7)])
    return None


def _constant_statistic(obtained, X, gamma, beta, eps, g):
    """Which statistic the engine saw as a constant, if that explains the gradient of X."""
    for label, detach in (("the mean", {"mean"}), ("the variance", {"var"}),
                          ("the mean and the variance", {"mean", "var"})):
        Xt = ag.tensor(X, requires_grad=True)
        mu = Xt.mean(axis=-1, keepdims=True)
        mu = mu.detach() if "mean" in detach else mu
        var = ((Xt - mu) ** 2).mean(axis=-1, keepdims=True)
        var = var.detach() if "var" in detach else var
        (gx,) = ag.grad((Xt - mu) / ag.sqrt(var + eps) * gamma + beta, [Xt], grad_outputs=ag.tensor(g))
        if _same(gx.numpy(), obtained, rtol=1e-7):
            verb = "were" if "and" in label else "was"
            return (f"{label} {verb} computed outside the graph (numpy on X.numpy() or .data), so the engine "
                    "treats it as a constant and its share of the gradient is missing")
    return None


def _dX(fn):
    """A catalogue entry for the VJP of X written as fn(D, s, Xhat, gh, g, gamma)."""
    def wrong(g, X, gamma, beta, eps, ans):
        D = X.shape[-1]
        s = np.sqrt(X.var(axis=-1, keepdims=True) + eps)
        Xhat = (X - X.mean(axis=-1, keepdims=True)) / s
        return fn(D, s, Xhat, g * gamma, g, gamma)
    return wrong


LAYERNORM_BACKWARD_MISTAKES = {
    "gamma taken out of the sums (batch norm's closed form copied: there gamma is constant along the "
    "summed axis 0; here it varies along the summed features, so the sums must take g * gamma)":
        _dX(lambda D, s, Xh, gh, g, gamma: gamma * (D * g - g.sum(-1, keepdims=True)
                                                    - Xh * (g * Xh).sum(-1, keepdims=True)) / (D * s)),
    "gamma left out: the gradient reaching Xhat is g * gamma":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * g - g.sum(-1, keepdims=True)
                                            - Xh * (g * Xh).sum(-1, keepdims=True)) / (D * s)),
    "sums over axis 0 (the batch, as in batch norm); layer norm's mean and variance run over the "
    "features, so its sums do too (axis -1)":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - gh.sum(0, keepdims=True)
                                            - Xh * (gh * Xh).sum(0, keepdims=True)) / (D * s)),
    "the term from the mean is missing (- sum of g * gamma over the features)":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - Xh * (gh * Xh).sum(-1, keepdims=True)) / (D * s)),
    "the term from the variance is missing (- Xhat * sum of g * gamma * Xhat over the features)":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - gh.sum(-1, keepdims=True)) / (D * s)),
    "the 1/D of the mean and the variance is missing: the result is D times too large":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - gh.sum(-1, keepdims=True)
                                            - Xh * (gh * Xh).sum(-1, keepdims=True)) / s),
    "means where the closed form has sums (or 1/D twice)":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - gh.mean(-1, keepdims=True)
                                            - Xh * (gh * Xh).mean(-1, keepdims=True)) / (D * s)),
    "divided by s**2 (the variance) where the closed form divides by s":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - gh.sum(-1, keepdims=True)
                                            - Xh * (gh * Xh).sum(-1, keepdims=True)) / (D * s ** 2)),
    "the variance term has the wrong sign: it is subtracted, - Xhat * sum of g * gamma * Xhat":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gh - gh.sum(-1, keepdims=True)
                                            + Xh * (gh * Xh).sum(-1, keepdims=True)) / (D * s)),
    "forgot the upstream gradient g: that is the gradient for g = 1":
        _dX(lambda D, s, Xh, gh, g, gamma: (D * gamma - gamma.sum(-1, keepdims=True)
                                            - Xh * (gamma * Xh).sum(-1, keepdims=True)) / (D * s) + 0 * g),
}


def grade_layernorm_backward(layernorm, eps=0.01):
    """Grade the VJP for ``X`` of the primitive ``layernorm(X, gamma, beta, eps)`` (closed form).

    ``ag.check_vjp`` grades all three VJPs (central differences, float32, broadcast shapes);
    when the one for X is wrong, the usual mistakes of the closed form are tried.  X is (4, 5):
    not square, so a sum over the wrong axis cannot broadcast by accident.
    """
    X, gamma, beta, g = _layernorm_inputs((4, 5), 0)
    report = ag.check_vjp(layernorm, X, gamma, beta, kwargs={"eps": eps})
    return _vjp_report("grade_layernorm_backward", layernorm, report, LAYERNORM_BACKWARD_MISTAKES,
                       X, gamma, beta, g=g, eps=eps)


# ------------------------------------------------------------------ a check_vjp report, named

def _vjp_report(grader, op, report, catalogue, *xs, g, pattern=None, **kwargs):
    """check_vjp's verdict; when the first input's VJP is wrong, with the mistake named if known.

    ``pattern``: for dropout, the boolean mask: a gradient that is zero where the mask keeps an
    entry, or not zero where it drops one, used some other mask.
    """
    what = getattr(op, "name", getattr(op, "__name__", "op"))
    lines = str(report).splitlines()
    if report:
        return Report(grader, what, details=lines[1:],
                      summary="check_vjp: " + report.verdict.split(": correct (", 1)[1][:-1])
    headline = report.verdict.split(": wrong: ", 1)[1]
    first = getattr(op, "vjps", (None,))[0]
    if report.argument == _argument_names(op)[0] and first is not None:
        try:
            ans = np.asarray(op.forward(*xs, **kwargs))
            obtained = np.asarray(_quietly(first, g, ans, *xs, **kwargs), dtype=float)
        except Exception:
            obtained = None
        if obtained is not None:
            mistake = _named(catalogue, obtained, g, *xs, ans=ans, **kwargs)
            if mistake is None and pattern is not None and obtained.shape == pattern.shape:
                mistake = _other_mask(obtained, pattern, g)
            if mistake is not None:
                headline = f"argument {report.argument}: {mistake}"
    return Report(grader, what, headline, ["check_vjp said: " + lines[0]] + lines[1:])


def _argument_names(op):
    try:
        return [p.name for p in inspect.signature(op.forward).parameters.values()]
    except (TypeError, ValueError, AttributeError):
        return [None]


def _other_mask(obtained, keep, g):
    """For dropout: name a gradient whose zeros are not the forward's dropped entries."""
    through_dropped = int(((obtained != 0) & ~keep).sum())
    blocked_kept = int(((obtained == 0) & keep & (g != 0)).sum())
    if through_dropped or blocked_kept:
        return (f"the mask is not the forward's: the gradient is nonzero at {_entries(through_dropped)} the "
                f"forward dropped and zero at {_entries(blocked_kept)} it kept; reuse the forward's mask "
                "`keep` (a new random draw is another mask)")
    return None


def _entries(n):
    return f"{n} entr{'y' if n == 1 else 'ies'}"
