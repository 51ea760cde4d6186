"""ag.check_vjp on a wrong-answer set: the VJPs students really write, right and wrong.

Each row is a primitive a student could define, with its VJPs.  A right one
must be judged correct; a wrong one wrong, blamed on the right argument, and
with the mistake named where the numbers show it (issue 19: full g to every
tied element of a max, a forgotten g, a sum over the wrong axis, a g that is
not expanded, off by one, a transposed factor, a broadcast sum left to the
engine in strict mode, a result with fewer dimensions than its input).

``test_summary`` prints the grader's score on the whole set (run with -s).
"""
import numpy as np
import pytest

from chaingrad import autograd as ag

rng = np.random.default_rng(19)
A = rng.normal(size=(4, 3))                    # not square: shape mistakes show as errors
S = rng.normal(size=(3, 3))                    # square: the same mistakes give wrong numbers
B3 = np.array([0.4, -1.3, 0.8])
W32 = rng.normal(size=(3, 2))
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.5, -1.0, 0.5], [4.0, 1.0, 0.0]])
TIED_MAX = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [3.0, 1.0, 0.0]])     # the max, 3, three times
V6 = rng.normal(size=6)
LABELS = np.array([2, 0, 1, 0])
IDX = np.array([0, 2, 2, 1])                   # repeated, and idx + 1 stays in range


def prim(forward, *vjps, name=None):
    return ag.primitive(forward, name=name or forward.__name__).defvjp(*vjps)


def unbroadcast(g, shape):
    """The sum over broadcast axes a strict VJP does itself (notebook 00, section 5)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


# ------------------------------------------------------------------ the forwards

def mul(a, b):
    return a * b


def linear(x, W, b):
    return x @ W + b


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def row_sum(x):
    return x.sum(axis=1)


def col_mean(x):
    return x.mean(axis=0)


def logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


def row_var(x):
    return x.var(axis=1)


def row_max(x):
    return x.max(axis=1)


def global_max(x):
    return x.max()


def drop_first(x):
    return x[1:]


def cumsum(x):
    return np.cumsum(x)


def gather(x, idx):
    return x[idx]


def cross_entropy(z, y):
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def matmul(A, B):
    return A @ B


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0)


def maximum(a, b):
    return np.maximum(a, b)


def norm(x):
    return np.sqrt((x ** 2).sum())


def transpose(x):
    return x.T


def square(x):
    return x ** 2


def cube(x):
    return x ** 3


# ------------------------------------------------------------------ pieces of VJPs

def softmax_p(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def even_split(x, ans):
    mask = x == ans[:, None]
    return mask / mask.sum(axis=1, keepdims=True)


def first_of_ties(x, ans):
    onehot = np.zeros(x.shape)
    onehot[np.arange(x.shape[0]), np.argmax(x, axis=1)] = 1.0
    return onehot


def scatter(x, idx, g, shift=0):
    out = np.zeros(x.shape)
    np.add.at(out, idx + shift, g)
    return out


def ce_grad(z, y, onehot_of):
    return (softmax_p(z) - np.eye(z.shape[1])[onehot_of(y)]) / z.shape[0]


# ------------------------------------------------------------------ right VJPs

RIGHT = [
    ("mul, b broadcast", lambda: prim(mul, lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a), (A, B3), {}),
    ("mul, strict, summed", lambda: prim(mul, lambda g, ans, a, b: unbroadcast(g * b, a.shape),
                                         lambda g, ans, a, b: unbroadcast(g * a, b.shape)), (A, B3), {"strict": True}),
    ("linear, db summed over axis 0", lambda: prim(linear, lambda g, ans, x, W, b: g @ W.T,
                                                   lambda g, ans, x, W, b: x.T @ g,
                                                   lambda g, ans, x, W, b: g.sum(axis=0)),
     (A, W32, B3[:2]), {}),
    ("linear, strict", lambda: prim(linear, lambda g, ans, x, W, b: g @ W.T, lambda g, ans, x, W, b: x.T @ g,
                                    lambda g, ans, x, W, b: unbroadcast(g, b.shape)),
     (A, W32, B3[:2]), {"strict": True}),
    ("softmax over rows", lambda: prim(softmax, lambda g, ans, z: ans * (g - (g * ans).sum(axis=1, keepdims=True))),
     (A,), {}),
    ("row sum", lambda: prim(row_sum, lambda g, ans, x: np.broadcast_to(g[:, None], x.shape)), (A,), {}),
    ("column mean", lambda: prim(col_mean, lambda g, ans, x: np.broadcast_to(g / x.shape[0], x.shape)), (A,), {}),
    ("log-sum-exp over rows", lambda: prim(logsumexp, lambda g, ans, x: g[:, None] * np.exp(x - ans[:, None])),
     (A,), {}),
    ("variance over rows", lambda: prim(row_var, lambda g, ans, x: g[:, None] * 2 * (
        x - x.mean(axis=1, keepdims=True)) / x.shape[1]), (A,), {}),
    ("row max, ties split evenly", lambda: prim(row_max, lambda g, ans, x: g[:, None] * even_split(x, ans)),
     (TIES,), {"edges": [0.0]}),
    ("row max, ties all to the first", lambda: prim(row_max, lambda g, ans, x: g[:, None] * first_of_ties(x, ans)),
     (TIES,), {"edges": [0.0]}),
    ("global max, ties split", lambda: prim(global_max, lambda g, ans, x: g * (x == ans) / (x == ans).sum()),
     (TIED_MAX,), {}),
    ("slice x[1:]", lambda: prim(drop_first, lambda g, ans, x: np.concatenate([np.zeros(1), g])), (V6,), {}),
    ("cumsum", lambda: prim(cumsum, lambda g, ans, x: np.cumsum(g[::-1])[::-1]), (V6,), {}),
    ("gather with repeated indices", lambda: prim(gather, lambda g, ans, x, idx: scatter(x, idx, g), None),
     (V6[:5], IDX), {}),
    ("cross-entropy", lambda: prim(cross_entropy, lambda g, ans, z, y: g * ce_grad(z, y, lambda y: y), None),
     (A, LABELS), {}),
    ("matmul, square", lambda: prim(matmul, lambda g, ans, A, B: g @ B.T, lambda g, ans, A, B: A.T @ g),
     (S, S[::-1] + 0.5), {}),
    ("sigmoid", lambda: prim(sigmoid, lambda g, ans, x: g * ans * (1 - ans)), (A,), {"edges": [0.0]}),
    ("tanh", lambda: prim(np.tanh, lambda g, ans, x: g * (1 - ans ** 2), name="tanh"), (A,), {}),
    ("relu, slope 0 at 0", lambda: prim(relu, lambda g, ans, x: g * (x > 0)), (A,), {"edges": [0.0]}),
    ("maximum, ties split", lambda: prim(maximum, lambda g, ans, a, b: g * ((a > b) + 0.5 * (a == b)),
                                         lambda g, ans, a, b: g * ((b > a) + 0.5 * (a == b))),
     (A, A[::-1]), {"edges": [(A, A)]}),
    ("maximum, ties all to a", lambda: prim(maximum, lambda g, ans, a, b: g * (a >= b),
                                            lambda g, ans, a, b: g * (b > a)),
     (A, A[::-1]), {"edges": [(A, A)]}),
    ("abs, 0 at 0", lambda: prim(np.abs, lambda g, ans, x: g * np.sign(x), name="abs"), (A,), {"edges": [0.0]}),
    ("euclidean norm", lambda: prim(norm, lambda g, ans, x: g * x / ans), (A,), {}),
    ("transpose", lambda: prim(transpose, lambda g, ans, x: g.T), (A,), {}),
]


# ------------------------------------------------------------------ wrong VJPs
# (name, make, inputs, options, diagnosis, words in the report, blamed argument)

def linear_db(db):
    return prim(linear, lambda g, ans, x, W, b: g @ W.T, lambda g, ans, x, W, b: x.T @ g, db)


WRONG = [
    ("row max, full g to every tie", lambda: prim(row_max, lambda g, ans, x: g[:, None] * (x == ans[:, None])),
     (TIES,), {}, "tie", "tie of x[0, 1], x[0, 2]", "x"),
    ("global max, full g to every tie", lambda: prim(global_max, lambda g, ans, x: g * (x == ans)),
     (TIED_MAX,), {}, "tie", "do not each get", "x"),
    ("maximum, full g to a and b at ties", lambda: prim(maximum, lambda g, ans, a, b: g * (a >= b),
                                                        lambda g, ans, a, b: g * (b >= a)),
     (A, A[::-1]), {"edges": [(A, A)]}, "tie", "arguments a and b", "a"),
    ("mul, forgot g (vjp_a = b)", lambda: prim(mul, lambda g, ans, a, b: b, lambda g, ans, a, b: g * a),
     (A, B3), {}, "forgot g", "the upstream gradient g is missing", "a"),
    ("mul, forgot g (vjp_b = a)", lambda: prim(mul, lambda g, ans, a, b: g * b, lambda g, ans, a, b: a),
     (A, B3), {}, "forgot g", "upstream gradient g", "b"),
    ("linear, db summed over axis 1", lambda: linear_db(lambda g, ans, x, W, b: g.sum(axis=1)),
     (A, W32, B3[:2]), {}, "axis", "axis 1 where axis 0 was meant", "b"),
    ("linear, db summed over axis 1, square", lambda: linear_db(lambda g, ans, x, W, b: g.sum(axis=1)),
     (S, S, B3), {}, "axis", "axis 1 where axis 0 was meant", "b"),
    ("softmax, inner sum over axis 0", lambda: prim(softmax, lambda g, ans, z: ans * (
        g - (g * ans).sum(axis=0, keepdims=True))), (A,), {}, "axis", "axis 0 where axis 1 was meant", "z"),
    ("row sum, broadcast_to(g) along the wrong axis", lambda: prim(row_sum, lambda g, ans, x: np.broadcast_to(
        g, x.shape)), (S,), {}, "axis", "g[:, None]", "x"),
    ("row sum, broadcast_to(g) fails", lambda: prim(row_sum, lambda g, ans, x: np.broadcast_to(g, x.shape)),
     (A,), {}, "axis", "g[:, None]", "x"),
    ("log-sum-exp, g not expanded", lambda: prim(logsumexp, lambda g, ans, x: g * np.exp(x - ans[:, None])),
     (S,), {}, "axis", "new axis 1", "x"),
    ("log-sum-exp, g not expanded, not square", lambda: prim(logsumexp, lambda g, ans, x: g * np.exp(
        x - ans[:, None])), (A,), {}, "axis", "new axis 1", "x"),
    ("variance, mean over all axes", lambda: prim(row_var, lambda g, ans, x: g[:, None] * 2 * (
        x - x.mean()) / x.shape[1]), (A,), {}, "axis", "all axes where axis 1 was meant", "x"),
    ("row max, tie count summed over all axes", lambda: prim(row_max, lambda g, ans, x: g[:, None] * (
        x == ans[:, None]) / (x == ans[:, None]).sum()), (A,), {}, "axis", "all axes where axis 1", "x"),
    ("slice x[1:], gradient at the wrong end", lambda: prim(drop_first, lambda g, ans, x: np.concatenate(
        [g, np.zeros(1)])), (V6,), {}, "off by one", "shifted by one place", "x"),
    ("exclusive cumsum", lambda: prim(cumsum, lambda g, ans, x: np.cumsum(g[::-1])[::-1] - g),
     (V6,), {}, "off by one", "shifted by one place", "x"),
    ("gather at idx + 1", lambda: prim(gather, lambda g, ans, x, idx: scatter(x, idx, g, shift=1), None),
     (V6[:5], IDX), {}, "off by one", "off by one", "x"),
    ("cross-entropy, one-hot of y - 1", lambda: prim(cross_entropy, lambda g, ans, z, y: g * ce_grad(
        z, y, lambda y: y - 1), None), (A, LABELS), {}, "off by one", "uses y - 1 where y is meant", "z"),
    ("matmul, dA = g @ B, square", lambda: prim(matmul, lambda g, ans, A, B: g @ B, lambda g, ans, A, B: A.T @ g),
     (S, S[::-1] + 0.5), {}, "transposed", "B.T", "A"),
    ("matmul, dB = A @ g, square", lambda: prim(matmul, lambda g, ans, A, B: g @ B.T, lambda g, ans, A, B: A @ g),
     (S, S[::-1] + 0.5), {}, "transposed", "A.T", "B"),
    ("linear, strict, db = g", lambda: linear_db(lambda g, ans, x, W, b: g), (A, W32, B3[:2]), {"strict": True},
     "broadcast", "not summed over axis 0", "b"),
    ("mul, strict, vjp_b = g * a", lambda: prim(mul, lambda g, ans, a, b: unbroadcast(g * b, a.shape),
                                                lambda g, ans, a, b: g * a),
     (A, B3), {"strict": True}, "broadcast", "not summed over axis 0", "b"),
    ("mul, fewer dimensions than the input", lambda: prim(mul, lambda g, ans, a, b: (g * b).sum(axis=0),
                                                          lambda g, ans, a, b: g * a),
     (A, B3), {}, "shape", "fewer dimensions", "a"),
    ("sigmoid, sign flipped", lambda: prim(sigmoid, lambda g, ans, x: -g * ans * (1 - ans)), (A,), {},
     "sign", "sign flipped", "x"),
    ("square, factor 1/2", lambda: prim(square, lambda g, ans, x: g * x), (A,), {}, "factor", "k = 1/2", "x"),
    ("tanh, input for output", lambda: prim(np.tanh, lambda g, ans, x: g * (1 - x ** 2), name="tanh"), (A,), {},
     "input for output", "input used where the output was needed", "x"),
    ("cube, output for input", lambda: prim(cube, lambda g, ans, x: g * 3 * ans ** 2), (A,), {},
     "output for input", "output used where the input was needed", "x"),
    ("relu, slope 2 at 0", lambda: prim(relu, lambda g, ans, x: g * ((x > 0) + 2.0 * (x == 0))), (A,),
     {"edges": [0.0]}, "kink", "one-sided slopes", "x"),
    ("cross-entropy, no division by n", lambda: prim(cross_entropy, lambda g, ans, z, y: g * ce_grad(
        z, y, lambda y: y) * z.shape[0], None), (A, LABELS), {}, "factor", "k = 4", "z"),
    ("softmax, inner term missing", lambda: prim(softmax, lambda g, ans, z: g * ans), (A,), {},
     "differs", "differs", "z"),
    ("gather, repeated indices overwritten", lambda: prim(gather, lambda g, ans, x, idx: _overwrite(x, idx, g), None),
     (V6[:5], IDX), {}, "differs", "differs", "x"),
    ("matmul, dB = g.T @ A, not square", lambda: prim(matmul, lambda g, ans, A, B: g @ B.T,
                                                      lambda g, ans, A, B: g.T @ A),
     (A, W32), {}, "transposed", "transpose", "B"),
    ("sigmoid, NaN", lambda: prim(sigmoid, lambda g, ans, x: g * np.nan), (A,), {}, "nan", "NaN", "x"),
    ("sigmoid, raises", lambda: prim(sigmoid, lambda g, ans, x: g * undefined_name), (A,), {},  # noqa: F821
     "error", "NameError", "x"),
]


def _overwrite(x, idx, g):
    out = np.zeros(x.shape)
    out[idx] = g                       # repeated indices: the last one wins, the others are lost
    return out


@pytest.mark.parametrize("name, make, inputs, options", RIGHT, ids=[r[0] for r in RIGHT])
def test_right_vjps_are_judged_right(name, make, inputs, options):
    report = ag.check_vjp(make(), *inputs, **options)
    assert report, str(report)


@pytest.mark.parametrize("name, make, inputs, options, code, words, argument", WRONG, ids=[w[0] for w in WRONG])
def test_wrong_vjps_are_judged_wrong_with_the_mistake_named(name, make, inputs, options, code, words, argument):
    report = ag.check_vjp(make(), *inputs, **options)
    text = str(report)
    assert not report, text
    assert (report.diagnosis, report.argument) == (code, argument), text
    assert words in text, text
    assert "op created at" not in text and "input 0" not in text and "input 1" not in text and "input 2" not in text


def test_summary(capsys):
    """The grader's score on the whole set; the counts are what the report to issue 19 quotes."""
    right = sum(bool(ag.check_vjp(make(), *inputs, **options)) for _, make, inputs, options in RIGHT)
    wrong, named = 0, 0
    for _, make, inputs, options, code, _, argument in WRONG:
        report = ag.check_vjp(make(), *inputs, **options)
        wrong += not report
        named += (report.diagnosis, report.argument) == (code, argument)
    with capsys.disabled():
        print(f"\ncheck_vjp on {len(RIGHT) + len(WRONG)} VJPs: {right}/{len(RIGHT)} right judged right, "
              f"{wrong}/{len(WRONG)} wrong judged wrong, {named}/{len(WRONG)} with the mistake named "
              f"and the right argument blamed")
    assert (right, wrong, named) == (len(RIGHT), len(WRONG), len(WRONG))
