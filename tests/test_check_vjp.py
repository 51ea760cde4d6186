"""ag.check_vjp: right VJPs pass, every common mistake is caught and named, nothing wrong passes.

Each mistake test defines a primitive the way a student would, with one
deliberately wrong VJP, and checks both that the report is falsy and that its
diagnosis names that mistake (report.diagnosis, and the verdict line).
"""
import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from chaingrad import autograd as ag

X = np.array([[-1.2, 0.3, 2.0], [0.7, -0.4, 1.1]])
W = np.array([[0.5, -1.0, 0.2, 0.9], [1.5, 0.3, -0.7, 0.1], [-0.6, 0.8, 1.2, -0.3]])


def unary(forward, vjp, name):
    op = ag.primitive(forward, name=name)
    return op.defvjp(vjp)


def sigmoid_op(vjp):
    return unary(lambda x: 1 / (1 + np.exp(-x)), vjp, "sigmoid")


def tanh_op(vjp):
    return unary(np.tanh, vjp, "tanh")


def matmul_op(vjp_x, vjp_w):
    return ag.primitive(lambda x, w: x @ w, name="mm").defvjp(vjp_x, vjp_w)


def right_sigmoid():
    return sigmoid_op(lambda g, ans, x: g * ans * (1 - ans))


# ------------------------------------------------------------------ reference VJPs pass

def softmax_ce_op():
    """Mean cross-entropy of softmax(z) against integer labels y (labels are not checked)."""
    def forward(z, y):
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(y)), y].mean()

    def vjp(g, ans, z, y):
        p = ag.softmax(z, axis=1)
        onehot = ag.tensor(np.eye(z.shape[1])[np.asarray(y)])
        return g * (p - onehot) / z.shape[0]
    return ag.primitive(forward, name="softmax_ce").defvjp(vjp, None)


def linear_op(db):
    return ag.primitive(lambda x, w, b: x @ w + b, name="linear").defvjp(
        lambda g, ans, x, w, b: g @ w.T, lambda g, ans, x, w, b: x.T @ g, db)


REFERENCE = [
    ("exp", lambda: (ag.exp, (X,), {})),
    ("log", lambda: (ag.log, (np.abs(X) + 0.5,), {})),
    ("tanh", lambda: (ag.tanh, (X,), {"edges": [0.0]})),
    ("sigmoid (user)", lambda: (right_sigmoid(), (X,), {"edges": [0.0], "second_order": True})),
    ("relu", lambda: (ag.relu, (X,), {"edges": [0.0]})),
    ("mul", lambda: (ag.mul, (X, X[0]), {"second_order": True})),
    ("add (broadcast)", lambda: (ag.add, (X, X[0]), {})),
    ("matmul", lambda: (ag.matmul, (X, W[:, :3]), {"second_order": True})),
    ("maximum with ties", lambda: (ag.maximum, (X, X[::-1]), {"edges": [(X, X)]})),
    ("div", lambda: (ag.div, (X, np.abs(X) + 0.5), {"second_order": True})),
    ("sqrt", lambda: (ag.sqrt, (np.abs(X) + 0.5,), {})),
    ("softmax cross-entropy (user)", lambda: (softmax_ce_op(), (X, np.array([2, 0])), {})),
    ("linear layer (user)", lambda: (linear_op(lambda g, ans, x, w, b: g.sum(axis=0)),
                                     (X, W[:, :3], np.array([0.1, -0.2, 0.3])), {})),
]


@pytest.mark.parametrize("name, make", REFERENCE, ids=[r[0] for r in REFERENCE])
def test_reference_vjps_are_correct(name, make):
    op, inputs, options = make()
    report = ag.check_vjp(op, *inputs, **options)
    assert report, str(report)
    assert str(report).startswith(f"check_vjp({op.name}): correct (")
    assert report.diagnosis is None


def test_verdict_counts_what_was_tried():
    report = ag.check_vjp(ag.add, X, X[0], edges=[0.0, 1.0])
    first = str(report).splitlines()[0]
    assert first == f"check_vjp(add): correct ({report.checks} checks: float64, float32, broadcast, 2 edge points)"


# ------------------------------------------------------------------ each mistake, caught and named

def bias_by_rows():
    """op(x, b) = x + b[:, None]: b is stretched along the LAST axis, which numpy's
    broadcasting rules (and so the engine's unbroadcast) do not describe."""
    return ag.primitive(lambda x, b: x + b[:, None], name="add_rows")


MISTAKES = [
    # (mistake, op, inputs, expected diagnosis code, words in the verdict)
    ("sign flipped", lambda: sigmoid_op(lambda g, ans, x: -g * ans * (1 - ans)), (X,), "sign", "sign flipped"),
    ("constant factor", lambda: unary(lambda x: x ** 2, lambda g, ans, x: g * x, "square"), (X,),
     "factor", "k = 1/2"),
    ("transposed, non-square", lambda: matmul_op(lambda g, ans, x, w: g @ w.T, lambda g, ans, x, w: g.T @ x),
     (X, W), "transposed", "transpose"),
    ("transposed, square", lambda: matmul_op(lambda g, ans, x, w: g @ w.T, lambda g, ans, x, w: g.T @ x),
     (W[:, :3], W[:, 1:]), "transposed", "expected.T"),
    ("missing broadcast sum, engine sums the wrong axis", lambda: bias_by_rows().defvjp(
        lambda g, ans, x, b: g, lambda g, ans, x, b: g), (W[:, :3], X[0]), "broadcast", "axis 1"),
    ("missing broadcast sum, engine gives the wrong shape", lambda: bias_by_rows().defvjp(
        lambda g, ans, x, b: g, lambda g, ans, x, b: g), (W, X[0]), "broadcast", "axis 1"),
    ("input where output needed", lambda: tanh_op(lambda g, ans, x: g * (1 - x ** 2)), (X,),
     "input for output", "input used where the output was needed"),
    ("output where input needed", lambda: unary(lambda x: x ** 3, lambda g, ans, x: g * 3 * ans ** 2, "cube"),
     (X,), "output for input", "output used where the input was needed"),
    ("forgot g", lambda: sigmoid_op(lambda g, ans, x: ans * (1 - ans)), (X,), "forgot g", "upstream gradient g"),
    ("forgot g, scalar output", lambda: ag.primitive(lambda z: (z ** 2).sum() / 2, name="half_sq").defvjp(
        lambda g, ans, z: z), (X,), "forgot g", "upstream gradient g"),
    ("VJP raises", lambda: sigmoid_op(lambda g, ans, x: undefined_name), (X,), "error", "NameError"),
    ("VJP returns the wrong shape", lambda: sigmoid_op(lambda g, ans, x: (g * ans).sum(axis=0)), (X,),
     "shape", "shape (3,)"),
    ("VJP returns NaN", lambda: sigmoid_op(lambda g, ans, x: g * np.nan), (X,), "nan", "NaN"),
    ("plain wrong", lambda: sigmoid_op(lambda g, ans, x: g * ans), (X,), "differs", "differs"),
]


@pytest.mark.parametrize("mistake, make, inputs, code, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_is_caught_and_named(mistake, make, inputs, code, words):
    report = ag.check_vjp(make(), *inputs)
    text = str(report)
    assert not report, text
    assert report.diagnosis == code, text
    verdict = text.splitlines()[0]
    assert ": wrong: argument " in verdict and words in text, text


def test_the_report_names_the_argument_and_the_first_wrong_element():
    op = matmul_op(lambda g, ans, x, w: g @ w.T, lambda g, ans, x, w: 0 * (x.T @ g) + 1.0)
    report = ag.check_vjp(op, X, W)
    text = str(report)
    assert report.argument == "w"
    assert "argument w" in text.splitlines()[0]
    assert "first wrong element w[0, 0]: expected " in text and "obtained 1" in text


def test_a_forgotten_bias_sum_the_engine_undoes_is_correct_with_a_note():
    # numpy-style broadcasting: the engine sums the VJP's (n, m) result to b's (m,), as for +.
    report = ag.check_vjp(linear_op(lambda g, ans, x, w, b: g), X, W[:, :3], np.array([0.1, -0.2, 0.3]))
    assert report, str(report)
    assert "note: the VJP for b returns shape (2, 3) for an input of shape (3,)" in str(report)


def test_kinks_accept_any_value_between_the_one_sided_slopes():
    relu = unary(lambda x: np.maximum(x, 0), None, "relu")
    for slope_at_zero in (0.0, 0.5, 1.0):
        relu.defvjp(lambda g, ans, x, s=slope_at_zero: g * ((x > 0) + s * (x == 0)))
        assert ag.check_vjp(relu, X, edges=[0.0])
    relu.defvjp(lambda g, ans, x: g * ((x > 0) + 2.0 * (x == 0)))       # outside [0, 1]
    report = ag.check_vjp(relu, X, edges=[0.0])
    assert not report and "x=0" in str(report), str(report)
    assert report.diagnosis == "kink" and "between 0 and" in str(report), str(report)   # not "factor 4"


def test_float32_is_tried_and_judged_with_a_looser_tolerance():
    # right in float64, but rounds the slope to 1e-3 in float32 (a precision loss a student can make)
    def vjp(g, ans, x):
        slope = ans * (1 - ans)
        return g * slope if slope.dtype == np.float64 else g * (slope * 100).round() / 100
    report = ag.check_vjp(sigmoid_op(vjp), X)
    assert not report and "(float32)" in str(report)
    assert ag.check_vjp(right_sigmoid(), X)


def test_second_order_checks_the_create_graph_path():
    # The derivative itself is a primitive whose own VJP is wrong: first order is right.
    slope = unary(lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, lambda g, ans, x: g * 0.0, "sigmoid_slope")
    op = sigmoid_op(lambda g, ans, x: g * slope(x))
    assert ag.check_vjp(op, X)
    report = ag.check_vjp(op, X, second_order=True)
    assert not report and report.diagnosis == "second order", str(report)


def test_random_points_keep_the_examples_sign_or_the_given_domain():
    # d|x|/dx written as 1: right for x > 0 only
    op = unary(np.abs, lambda g, ans, x: g * 1.0, "abs, x > 0 only")
    positive = np.array([0.5, 1.5, 3.0])
    assert ag.check_vjp(op, positive)                        # random points stay positive
    assert ag.check_vjp(op, positive, positive=True)
    assert not ag.check_vjp(op, np.array([-0.5, 1.5, 3.0]))  # the example itself has a negative entry
    report = ag.check_vjp(op, positive, domain=(-3.0, -1.0))
    assert not report and "random point" in str(report), str(report)


def test_misuse_raises_one_clear_line():
    with pytest.raises(TypeError, match="check_vjp grades a primitive"):
        ag.check_vjp(lambda x: x, X)
    with pytest.raises(TypeError, match="2 example inputs but 1 VJPs"):
        ag.check_vjp(right_sigmoid(), X, X)


# ------------------------------------------------------------------ a wrong VJP is never correct

def corrupt_mul(amount):
    """mul(x, y) with y's VJP wrong by a visible relative amount, x's right."""
    return ag.primitive(lambda x, y: x * y, name="mul").defvjp(
        lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x * (1 + amount) + amount * x)


def corrupt(kind, amount, index):
    """A sigmoid VJP that is wrong in one of several ways, by a visible amount."""
    e = np.zeros(X.shape)
    e[np.unravel_index(index % X.size, X.shape)] = 1.0
    wrongs = {
        "one element off": lambda g, ans, x: g * ans * (1 - ans) + amount * ag.tensor(e),
        "scaled": lambda g, ans, x: (1 + amount) * g * ans * (1 - ans),
        "shifted": lambda g, ans, x: g * ans * (1 - ans) + amount * g,
        "squared g": lambda g, ans, x: g * g * ans * (1 - ans),
        "rows swapped": lambda g, ans, x: (g * ans * (1 - ans))[::-1],
    }
    return sigmoid_op(wrongs[kind])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(kind=st.sampled_from(["one element off", "scaled", "shifted", "squared g", "rows swapped"]),
       amount=st.floats(0.01, 10.0), index=st.integers(0, 5), seed=st.integers(0, 3))
def test_a_wrong_vjp_is_never_reported_correct(kind, amount, index, seed):
    report = ag.check_vjp(corrupt(kind, amount, index), X, seed=seed, trials=1, broadcast=False)
    assert not report, f"{kind} by {amount} reported correct:\n{report}"
    report = ag.check_vjp(corrupt_mul(amount), X, X[::-1] + 0.1 * index, seed=seed, trials=1)
    assert not report and report.argument == "y", f"mul's y VJP off by {amount} reported:\n{report}"


# ------------------------------------------------------------------ the hypotheses that name a mistake, on many shapes

def softmax_over(axis, inner_axis):
    """softmax over ``axis`` whose VJP takes its inner sum over ``inner_axis``."""
    def forward(z):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    return ag.primitive(forward, name="softmax").defvjp(
        lambda g, ans, z: ans * (g - (g * ans).sum(axis=inner_axis, keepdims=True)))


@settings(max_examples=12, deadline=None, derandomize=True)
@given(shape=st.lists(st.integers(2, 4), min_size=2, max_size=3), data=st.data())
def test_the_same_vjp_over_another_axis_is_named_with_both_axes(shape, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    inner = data.draw(st.integers(0, len(shape) - 1))
    z = np.random.default_rng(len(shape) + axis).normal(size=shape)
    report = ag.check_vjp(softmax_over(axis, inner), z, broadcast=False, trials=1)
    if inner == axis:
        assert report, str(report)
    else:
        assert report.diagnosis == "axis", str(report)
        assert f"axis {inner} where axis {axis} was meant" in str(report), str(report)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(n=st.integers(3, 7), start=st.sampled_from([True, False]))
def test_a_slice_gradient_at_the_wrong_end_is_off_by_one(n, start):
    # op: x[1:] (start) or x[:-1]; the VJP puts g at the other end
    forward = (lambda x: x[1:]) if start else (lambda x: x[:-1])
    wrong = ((lambda g, ans, x: np.concatenate([g, [0.0]])) if start
             else (lambda g, ans, x: np.concatenate([[0.0], g])))
    op = ag.primitive(forward, name="slice").defvjp(wrong)
    report = ag.check_vjp(op, np.linspace(-1.0, 1.0, n))
    assert report.diagnosis == "off by one", str(report)
    assert ("earlier" if start else "later") in str(report), str(report)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(n=st.integers(2, 4))
def test_a_transposed_factor_is_named_on_square_inputs(n):
    a, b = np.random.default_rng(n).normal(size=(2, n, n))
    op = ag.primitive(lambda A, B: A @ B, name="mm").defvjp(lambda g, ans, A, B: g @ B,
                                                           lambda g, ans, A, B: A.T @ g)
    report = ag.check_vjp(op, a, b)
    assert report.diagnosis == "transposed" and report.argument == "A", str(report)
    assert "B is replaced by B.T" in str(report), str(report)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(rows=st.integers(2, 5), cols=st.integers(1, 4))
def test_strict_mode_names_the_missing_sum_and_accepts_the_summed_vjp(rows, cols):
    x = np.random.default_rng(rows * cols).normal(size=(rows, cols))
    b = np.linspace(-1.0, 1.0, cols)
    add = ag.primitive(lambda x, b: x + b, name="add_bias")
    add.defvjp(lambda g, ans, x, b: g, lambda g, ans, x, b: g)
    assert ag.check_vjp(add, x, b, broadcast=False)                 # the engine sums it: right, with a note
    report = ag.check_vjp(add, x, b, broadcast=False, strict=True)
    assert report.diagnosis == "broadcast" and report.argument == "b", str(report)
    assert "not summed over axis 0" in str(report), str(report)
    add.defvjp(lambda g, ans, x, b: g, lambda g, ans, x, b: g.sum(axis=0))
    assert ag.check_vjp(add, x, b, broadcast=False, strict=True)


def test_blame_falls_on_the_argument_whose_vjp_is_wrong_in_its_own_words():
    # db summed over the wrong axis makes the engine refuse the result; x's VJP is right
    op = linear_op(lambda g, ans, x, w, b: g.sum(axis=1))
    report = ag.check_vjp(op, X, W[:, :3], np.array([0.1, -0.2, 0.3]))
    text = str(report)
    assert report.argument == "b" and "argument b:" in text.splitlines()[0], text
    assert "op created at" not in text and "input 2" not in text, text


def test_a_result_with_fewer_dimensions_is_a_shape_mistake_not_a_crash():
    op = unary(lambda x: x * 2.0, lambda g, ans, x: (2 * g).sum(axis=0), "double")
    report = ag.check_vjp(op, X)
    assert report.diagnosis == "shape" and "fewer dimensions" in str(report), str(report)


def test_the_tie_check_judges_the_sum_over_the_tie():
    ties = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, -1.0]])          # two ties of two: a half each is right
    row_max = ag.primitive(lambda x: x.max(axis=1), name="row_max")
    for share, right in ((0.5, True), (1.0, False), (0.25, False)):
        row_max.defvjp(lambda g, ans, x, s=share: g[:, None] * s * (x == ans[:, None]))
        report = ag.check_vjp(row_max, ties, trials=0)               # only the example has ties
        assert bool(report) == right, f"share {share}:\n{report}"
        if not right:
            assert report.diagnosis == "tie", str(report)
    # all to one tied element is a subgradient too
    row_max.defvjp(lambda g, ans, x: g[:, None] * (np.cumsum(x == ans[:, None], axis=1) == 1) * (x == ans[:, None]))
    assert ag.check_vjp(row_max, ties, edges=[0.0])


def test_a_vjp_that_fails_under_create_graph_is_blamed_alone():
    # b's VJP leaves the graph (np.asarray of a Tensor that requires grad); a's is right
    op = ag.primitive(lambda a, b: a * b, name="mul").defvjp(
        lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * np.asarray(a))
    assert ag.check_vjp(op, X, X[::-1])
    report = ag.check_vjp(op, X, X[::-1], second_order=True)
    assert not report and report.argument == "b" and report.diagnosis == "error", str(report)
    assert "create_graph=True" in str(report) and "op created at" not in str(report), str(report)


def test_the_gradient_graded_is_the_engines_chain_rule_step(monkeypatch):
    """check_vjp takes the engine's gradient from ag.chain_rule, the step backward takes at a node
    (issue 16, item 3), plain in first order and recorded under second_order=True."""
    module = importlib.import_module("chaingrad.autograd.check_vjp")
    seen = []

    def counting(node, g):
        seen.append((node.op.name, isinstance(g, ag.Tensor)))
        return ag.chain_rule(node, g)
    monkeypatch.setattr(module, "chain_rule", counting)
    op = unary(lambda x: x ** 3, lambda g, ans, x: g * 3 * x ** 2, "cube")
    assert ag.check_vjp(op, X[0], second_order=True)
    assert ("cube", False) in seen and ("cube", True) in seen
