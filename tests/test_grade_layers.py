"""notebooks/grade_layers.py: each grader passes the reference solution and names the usual mistakes.

For every grader: the solution the notebook carries (read from its build script by
``notebooks/solutions.py``) is graded correct; the student version's blank (``raise
NotImplementedError``) and wrong answers written as a student would write them are graded wrong,
each with its mistake named in the verdict line; and every entry of the grader's catalogue of
mistakes is told apart from the right answer and named as itself.
"""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.autograd.check_vjp import difference_quotients

ROOT = Path(__file__).resolve().parents[1]


def _load(name, as_name):
    # by path: notebooks/ is not a package; on sys.path while it runs, for `from grading import Report`
    spec = importlib.util.spec_from_file_location(as_name, ROOT / "notebooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "notebooks"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "notebooks"))
    return module


gl = _load("grade_layers", "grade_layers")
_solutions = _load("solutions", "notebook_solutions")
optimizers = _solutions.reference("nb06_optimizers", {"np": np, "ag": ag})        # the notebooks' solutions
regularization = _solutions.reference("nb07_regularization", {"np": np, "ag": ag})


def blank(*args, **kwargs):
    raise NotImplementedError("exercise: write this part")


def assert_correct(report):
    first = str(report).splitlines()[0]
    assert report and "): correct (" in first, str(report)


def assert_wrong(report, *words):
    first = str(report).splitlines()[0]
    assert not report, str(report)
    assert "): wrong: " in first, first
    for word in words:
        assert word in first, f"{word!r} not in the verdict: {first}"


# ------------------------------------------------------------------ the report convention

def test_the_graders_of_every_notebook_share_one_report():
    # notebooks/grading.py: the one Report class (its behaviour is tested in test_grade_engine.py)
    engine = _load("grade_engine", "grade_engine_for_layers_test")
    assert gl.Report is engine.Report and gl.Report.__module__ == "grading"
    assert "class Report" not in (ROOT / "notebooks" / "grade_layers.py").read_text()
    assert "class Report" not in (ROOT / "notebooks" / "grade_engine.py").read_text()


# ------------------------------------------------------------------ SGD with momentum

def sgd_cs231n(w, dw, state, lr=0.1, momentum=0.9):
    v = state.get("momentum_buffer", np.zeros_like(w))
    state["momentum_buffer"] = momentum * v - lr * dw
    return w + state["momentum_buffer"]


def sgd_average(w, dw, state, lr=0.1, momentum=0.9):
    b = state.get("momentum_buffer", np.zeros_like(w))
    state["momentum_buffer"] = momentum * b + (1 - momentum) * dw
    return w - lr * state["momentum_buffer"]


def sgd_forgets_buffer(w, dw, state, lr=0.1, momentum=0.9):
    state["momentum_buffer"] = dw                             # overwritten, never accumulated
    return w - lr * state["momentum_buffer"]


def test_sgd_momentum_grader():
    assert_correct(gl.grade_sgd_momentum(optimizers.sgd_momentum))
    assert_wrong(gl.grade_sgd_momentum(blank), "step 1", "NotImplementedError")
    cs231n = gl.grade_sgd_momentum(sgd_cs231n)
    assert_wrong(cs231n, "step 1, state['momentum_buffer']", "lr inside the buffer", "cs231n")
    assert "the parameter first differs at step 4" in str(cs231n)        # where lr changes
    assert_wrong(gl.grade_sgd_momentum(sgd_average), "dampening = momentum")
    assert_wrong(gl.grade_sgd_momentum(sgd_forgets_buffer), "step 2", "plain gradient steps")


def test_a_function_that_returns_nothing_is_told_so():
    def no_return(w, dw, state, lr=0.1, momentum=0.9):
        w -= lr * dw
    assert_wrong(gl.grade_sgd_momentum(no_return), "returned None")


# ------------------------------------------------------------------ RMSprop

def rmsprop_not_squared(w, dw, state, lr=0.01, alpha=0.99, eps=1e-8):
    if not state:
        state["square_avg"] = np.zeros_like(w)
    state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * dw
    return w - lr * dw / (np.sqrt(np.abs(state["square_avg"])) + eps)


def rmsprop_eps_inside(w, dw, state, lr=0.01, alpha=0.99, eps=1e-8):
    if not state:
        state["square_avg"] = np.zeros_like(w)
    state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * dw ** 2
    return w - lr * dw / np.sqrt(state["square_avg"] + eps)


def rmsprop_swapped(w, dw, state, lr=0.01, alpha=0.99, eps=1e-8):
    if not state:
        state["square_avg"] = np.zeros_like(w)
    state["square_avg"] = (1 - alpha) * state["square_avg"] + alpha * dw ** 2
    return w - lr * dw / (np.sqrt(state["square_avg"]) + eps)


def test_rmsprop_grader():
    assert_correct(gl.grade_rmsprop(optimizers.rmsprop))
    assert_wrong(gl.grade_rmsprop(blank), "NotImplementedError")
    # sqrt(|G|) is in no catalogue: the verdict still names the step and the quantity
    assert_wrong(gl.grade_rmsprop(rmsprop_not_squared), "step 1, state['square_avg']: differs")
    assert_wrong(gl.grade_rmsprop(rmsprop_eps_inside), "step 1, the parameter", "eps inside the square root")
    assert_wrong(gl.grade_rmsprop(rmsprop_swapped), "state['square_avg']", "alpha and 1 - alpha swapped")


def test_rmsprop_not_squared_is_named():
    def not_squared(w, dw, state, lr=0.01, alpha=0.99, eps=1e-8):
        if not state:
            state["square_avg"] = np.zeros_like(w)
        state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * dw
        return w - lr * dw / (np.sqrt(state["square_avg"]) + eps)     # nan where the average is < 0
    assert_wrong(gl.grade_rmsprop(not_squared), "not squared")


# ------------------------------------------------------------------ Adam

def adam_variant(no_correction=False, t_from_zero=False, eps_inside=False):
    def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
        b1, b2 = betas
        t = state["step"]
        state["step"] += 1
        if not t_from_zero:
            t += 1
        m = state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * dw
        v = state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * dw ** 2
        if not no_correction:
            m, v = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return w - lr * m / (np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps)
    return adam


def test_adam_grader():
    assert_correct(gl.grade_adam(optimizers.adam))
    assert_correct(gl.grade_adam(adam_variant()))             # the same rule, written another way
    assert_wrong(gl.grade_adam(blank), "NotImplementedError")
    assert_wrong(gl.grade_adam(adam_variant(no_correction=True)), "step 1, the parameter", "no bias correction")
    t0 = gl.grade_adam(adam_variant(t_from_zero=True))
    assert_wrong(t0, "step 1, the parameter", "t starting at 0")
    assert "obtained nan" in str(t0)
    assert_wrong(gl.grade_adam(adam_variant(eps_inside=True)), "eps inside the square root")


def test_an_unknown_mistake_still_names_the_step_and_the_quantity():
    def odd(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        w = optimizers.adam(w, dw, state, lr, betas, eps)
        if state["step"] == 3:
            state["exp_avg"] = state["exp_avg"] * 1.01
        return w
    report = gl.grade_adam(odd)
    assert_wrong(report, "step 3, state['exp_avg']: differs from optim.Adam's")
    assert "first wrong element [0, 0]" in str(report)


@pytest.mark.parametrize("grader, catalogue", [
    (gl.grade_sgd_momentum, gl.SGD_MISTAKES), (gl.grade_rmsprop, gl.RMSPROP_MISTAKES),
    (gl.grade_adam, gl.ADAM_MISTAKES)], ids=["sgd", "rmsprop", "adam"])
def test_every_catalogued_update_mistake_is_told_apart_and_named(grader, catalogue):
    for description, wrong in catalogue.items():
        assert_wrong(grader(wrong), description)


# ------------------------------------------------------------------ dropout's backward

def dropout_forward(x, keep, p=0.5):
    return np.where(keep, x / (1 - p), 0.0)


def dropout_with(vjp):
    return ag.primitive(dropout_forward, name="dropout").defvjp(vjp, None)


def test_dropout_backward_grader():
    assert_correct(gl.grade_dropout_backward(regularization.dropout))
    assert_correct(gl.grade_dropout_backward(dropout_with(                      # the mask from the output
        lambda g, ans, x, keep, p=0.5: np.where(keep, g / (1 - p), 0.0))))
    assert_wrong(gl.grade_dropout_backward(dropout_with(blank)), "NotImplementedError")
    assert_wrong(gl.grade_dropout_backward(dropout_with(lambda g, ans, x, keep, p=0.5: g * keep)),
                 "argument x", "not scaled by 1 / (1 - p)")
    fresh = dropout_with(lambda g, ans, x, keep, p=0.5:
                         g * (np.random.default_rng(7).random(x.shape) >= p) / (1 - p))
    assert_wrong(gl.grade_dropout_backward(fresh), "the mask is not the forward's")
    assert_wrong(gl.grade_dropout_backward(dropout_with(lambda g, ans, x, keep, p=0.5: g * keep / p)),
                 "1 / p")


def test_every_catalogued_dropout_mistake_is_named():
    for description, wrong in gl.DROPOUT_MISTAKES.items():
        op = dropout_with(lambda g, ans, x, keep, p=0.5, wrong=wrong: wrong(g, x, keep, p, ans))
        assert_wrong(gl.grade_dropout_backward(op), description)


# ------------------------------------------------------------------ layer norm, forward

def layernorm_with(axis=-1, ddof=0, eps_outside=False, mean_from_numpy=False):
    def layernorm(X, gamma, beta, eps=1e-5):
        mu = X.numpy().mean(axis=axis, keepdims=True) if mean_from_numpy else X.mean(axis=axis, keepdims=True)
        std = ag.sqrt(X.var(axis=axis, keepdims=True, ddof=ddof) + (0.0 if eps_outside else eps))
        return (X - mu) / (std + (eps if eps_outside else 0.0)) * gamma + beta
    return layernorm


def test_layernorm_forward_grader():
    assert_correct(gl.grade_layernorm_forward(regularization.layernorm))
    assert_correct(gl.grade_layernorm_forward(layernorm_with()))      # with X.var: the same function
    assert_wrong(gl.grade_layernorm_forward(blank), "NotImplementedError")
    assert_wrong(gl.grade_layernorm_forward(layernorm_with(axis=0)), "axis 0", "batch norm")
    assert_wrong(gl.grade_layernorm_forward(layernorm_with(axis=1)), "(2, 3, 5)", "axis 1 instead of the last")
    assert_wrong(gl.grade_layernorm_forward(layernorm_with(ddof=1)), "unbiased variance")
    assert_wrong(gl.grade_layernorm_forward(layernorm_with(eps_outside=True)), "eps outside the square root")
    assert_wrong(gl.grade_layernorm_forward(layernorm_with(mean_from_numpy=True)),
                 "values are right", "the mean was computed outside the graph")


def test_layernorm_forward_names_numpy_results_and_missing_keepdims():
    def in_numpy(X, gamma, beta, eps=1e-5):
        x = X.numpy()
        return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma.numpy() \
            + beta.numpy()

    def no_keepdims(X, gamma, beta, eps=1e-5):
        return (X - X.mean(axis=-1)) / ag.sqrt(X.var(axis=-1) + eps) * gamma + beta
    assert_wrong(gl.grade_layernorm_forward(in_numpy), "not a Tensor")
    assert_wrong(gl.grade_layernorm_forward(no_keepdims), "keepdims=True")


def test_every_catalogued_layernorm_forward_mistake_is_named():
    for description, wrong in gl.LAYERNORM_FORWARD_MISTAKES.items():
        def student(X, gamma, beta, eps=1e-5, wrong=wrong):
            # the right graph shifted by a constant to the wrong formula's values: where the two
            # agree (axis 1 on a 2-D input) the gradients are right too, as for a real student
            right = regularization.layernorm(X, gamma, beta, eps)
            return right + ag.tensor(wrong(X.numpy(), gamma.numpy(), beta.numpy(), eps) - right.numpy())
        assert_wrong(gl.grade_layernorm_forward(student), description)


def test_layernorm_closed_form_matches_central_differences():
    X, gamma, beta, g = gl._layernorm_inputs((2, 3, 5), 1)
    eps = 0.1
    grads = gl._layernorm_grads(X, gamma, beta, eps, g)
    for i, x in enumerate((X, gamma, beta)):
        def phi(v, i=i):
            args = [X, gamma, beta]
            args[i] = v
            return float(np.sum(g * gl._layernorm_np(*args, eps)))
        central = difference_quotients(phi, x)[0]
        np.testing.assert_allclose(grads[i], central, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ layer norm, backward

def ln_forward(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(X.var(axis=-1, keepdims=True) + eps) + beta


def ln_parts(X, eps):
    s = np.sqrt(X.var(axis=-1, keepdims=True) + eps)
    return X.shape[-1], s, (X - X.mean(axis=-1, keepdims=True)) / s


def layernorm_primitive(vjp_X):
    return ag.primitive(ln_forward, name="layernorm").defvjp(
        vjp_X,
        lambda g, ans, X, gamma, beta, eps=1e-5: (g * ln_parts(X, eps)[2]).sum(axis=0),
        lambda g, ans, X, gamma, beta, eps=1e-5: g.sum(axis=0))


def ln_vjp_batchnorm_copied(g, ans, X, gamma, beta, eps=1e-5):
    D, s, Xhat = ln_parts(X, eps)
    return gamma / (D * s) * (D * g - g.sum(axis=-1, keepdims=True) - Xhat * (g * Xhat).sum(axis=-1, keepdims=True))


def ln_vjp_axis0(g, ans, X, gamma, beta, eps=1e-5):
    D, s, Xhat = ln_parts(X, eps)
    gh = g * gamma
    return (D * gh - gh.sum(axis=0) - Xhat * (gh * Xhat).sum(axis=0)) / (D * s)


def ln_vjp_no_mean_term(g, ans, X, gamma, beta, eps=1e-5):
    D, s, Xhat = ln_parts(X, eps)
    gh = g * gamma
    return (gh - Xhat * (gh * Xhat).mean(axis=-1, keepdims=True)) / s


def test_layernorm_backward_grader():
    assert_correct(gl.grade_layernorm_backward(regularization.layernorm_closed))
    assert_correct(gl.grade_layernorm_backward(layernorm_primitive(regularization.layernorm_vjp_X)))
    assert_wrong(gl.grade_layernorm_backward(layernorm_primitive(blank)), "NotImplementedError")
    assert_wrong(gl.grade_layernorm_backward(layernorm_primitive(ln_vjp_batchnorm_copied)),
                 "argument X", "gamma taken out of the sums")
    assert_wrong(gl.grade_layernorm_backward(layernorm_primitive(ln_vjp_axis0)), "axis 0")
    assert_wrong(gl.grade_layernorm_backward(layernorm_primitive(ln_vjp_no_mean_term)),
                 "the term from the mean is missing")


def test_every_catalogued_layernorm_backward_mistake_is_named():
    for description, wrong in gl.LAYERNORM_BACKWARD_MISTAKES.items():
        op = layernorm_primitive(lambda g, ans, X, gamma, beta, eps=1e-5, wrong=wrong:
                                 wrong(g, X, gamma, beta, eps, ans))
        assert_wrong(gl.grade_layernorm_backward(op), description)
