"""numpy functions on Tensors (issue 11 sec. 3): the engine op, or a clear refusal.

For a Tensor that requires grad every numpy function either runs the
matching engine op (the result is a recorded Tensor, with numpy's value and
a gradient that agrees with central differences) or raises a TypeError that
names the function and says how to proceed.  It never quietly returns an
ndarray that has lost the gradient.  Functions whose answer has no gradient
(np.isfinite, np.shape...) answer on the data, as for any array.
"""
import numpy as np
import pytest

from chaingrad import autograd as ag

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))                  # any sign, no ties
P = RNG.uniform(0.5, 2.0, (3, 4))                # positive: log, sqrt, ...
U = RNG.uniform(-0.9, 0.9, (3, 4))               # inside (-1, 1): arctanh
Y = RNG.standard_normal((3, 4))                  # a second operand (a constant)
V = RNG.standard_normal(4)

# (label, call on a Tensor or an ndarray, input).  The label names the numpy function first.
RECORDED = [
    # reductions, numpy's meaning (values, ddof=0)
    ("sum", lambda a: np.sum(a), X),
    ("sum axis keepdims", lambda a: np.sum(a, axis=1, keepdims=True), X),
    ("mean", lambda a: np.mean(a), X),
    ("mean axis", lambda a: np.mean(a, axis=0), X),
    ("max", lambda a: np.max(a), X),
    ("max axis", lambda a: np.max(a, axis=1), X),
    ("amax", lambda a: np.amax(a, 0), X),
    ("min", lambda a: np.min(a), X),
    ("amin keepdims", lambda a: np.amin(a, axis=0, keepdims=True), X),
    ("std", lambda a: np.std(a), X),
    ("std ddof", lambda a: np.std(a, axis=1, ddof=1), X),
    ("var", lambda a: np.var(a, axis=0), X),
    ("ptp", lambda a: np.ptp(a, axis=1), X),
    ("average", lambda a: np.average(a, axis=0), X),
    ("average weights", lambda a: np.average(a, axis=1, weights=P), X),
    ("linalg.norm", lambda a: np.linalg.norm(a), X),
    ("linalg.norm axis", lambda a: np.linalg.norm(a, axis=1), X),
    ("linalg.norm ord=1", lambda a: np.linalg.norm(a[0], ord=1), X),
    ("linalg.norm ord=inf", lambda a: np.linalg.norm(a[0], ord=np.inf), X),
    ("linalg.norm ord=3", lambda a: np.linalg.norm(a, ord=3, axis=0), X),
    ("linalg.norm fro", lambda a: np.linalg.norm(a, "fro"), X),
    # ufuncs: the engine's primitives
    ("exp", lambda a: np.exp(a), X),
    ("log", lambda a: np.log(a), P),
    ("log1p", lambda a: np.log1p(a), P),
    ("sqrt", lambda a: np.sqrt(a), P),
    ("sin", lambda a: np.sin(a), X),
    ("cos", lambda a: np.cos(a), X),
    ("tanh", lambda a: np.tanh(a), X),
    ("abs", lambda a: np.abs(a), X),
    ("negative", lambda a: np.negative(a), X),
    ("add", lambda a: np.add(a, Y), X),
    ("subtract", lambda a: np.subtract(Y, a), X),
    ("multiply", lambda a: np.multiply(a, Y), X),
    ("divide", lambda a: np.divide(Y, a), P),
    ("power", lambda a: np.power(a, 3), X),
    ("maximum", lambda a: np.maximum(a, 0.1), X),
    ("minimum", lambda a: np.minimum(a, Y), X),
    ("matmul", lambda a: np.matmul(a, Y.T), X),
    ("ndarray * tensor", lambda a: Y * a, X),
    # ufuncs: compositions of primitives
    ("square", lambda a: np.square(a), X),
    ("sinh", lambda a: np.sinh(a), X),
    ("cosh", lambda a: np.cosh(a), X),
    ("tan", lambda a: np.tan(a), U),
    ("expm1", lambda a: np.expm1(a), X),
    ("exp2", lambda a: np.exp2(a), X),
    ("log2", lambda a: np.log2(a), P),
    ("log10", lambda a: np.log10(a), P),
    ("reciprocal", lambda a: np.reciprocal(a), P),
    ("hypot", lambda a: np.hypot(a, Y), X),
    ("logaddexp", lambda a: np.logaddexp(a, Y), X),
    ("arcsinh", lambda a: np.arcsinh(a), X),
    ("arccosh", lambda a: np.arccosh(a + 1.5), P),
    ("arctanh", lambda a: np.arctanh(a), U),
    ("positive", lambda a: np.positive(a) * 1, X),
    # elementwise functions that are not ufuncs
    ("clip", lambda a: np.clip(a, -0.5, 0.5), X),
    ("where", lambda a: np.where(Y > 0, a, 0.0), X),
    ("copy", lambda a: np.copy(a), X),
    # products
    ("dot", lambda a: np.dot(a, Y.T), X),
    ("dot vectors", lambda a: np.dot(a[0], V), X),
    ("inner", lambda a: np.inner(a, Y), X),
    ("outer", lambda a: np.outer(a[0], V), X),
    ("trace", lambda a: np.trace(a), X),
    ("diagonal", lambda a: np.diagonal(a, 1), X),
    # shape
    ("reshape", lambda a: np.reshape(a, (2, 6)), X),
    ("ravel", lambda a: np.ravel(a), X),
    ("transpose", lambda a: np.transpose(a), X),
    ("transpose axes", lambda a: np.transpose(a[None], (2, 0, 1)), X),
    ("swapaxes", lambda a: np.swapaxes(a, 0, 1), X),
    ("moveaxis", lambda a: np.moveaxis(a[None], 0, -1), X),
    ("squeeze", lambda a: np.squeeze(a[None]), X),
    ("expand_dims", lambda a: np.expand_dims(a, (0, 2)), X),
    ("atleast_2d", lambda a: np.atleast_2d(a[0]), X),
    ("broadcast_to", lambda a: np.broadcast_to(a, (2, 3, 4)), X),
    ("flip", lambda a: np.flip(a, 1), X),
    ("concatenate", lambda a: np.concatenate([a, Y, a], axis=1), X),
    ("concatenate axis None", lambda a: np.concatenate([a, Y], axis=None), X),
    ("stack", lambda a: np.stack([a, Y]), X),
    ("vstack", lambda a: np.vstack([a, a[0]]), X),
    ("hstack", lambda a: np.hstack([a, Y]), X),
    ("split", lambda a: np.split(a, 2, axis=1), X),
    ("pad", lambda a: np.pad(a, 1), X),
    # gathering (the gradient scatters back, repeated positions accumulate)
    ("sort", lambda a: np.sort(a, axis=1), X),
    ("sort axis None", lambda a: np.sort(a, axis=None), X),
    ("take", lambda a: np.take(a, [0, 2, 2], axis=1), X),
    ("take_along_axis", lambda a: np.take_along_axis(a, np.argsort(Y, axis=0), axis=0), X),
    ("repeat", lambda a: np.repeat(a, 2, axis=0), X),
    ("tile", lambda a: np.tile(a, (2, 1)), X),
    ("diff", lambda a: np.diff(a, n=2), X),
    # issue 18: once refused, now compositions of engine ops (their registry rows compare with PyTorch)
    ("cumsum", lambda a: np.cumsum(a), X),
    ("prod", lambda a: np.prod(a, axis=1), X),
    ("einsum", lambda a: np.einsum("ij,kj->ik", a, Y), X),
    ("tensordot", lambda a: np.tensordot(a, Y, axes=2), X),
    ("kron", lambda a: np.kron(a, Y[:2, :2]), X),
    ("cross", lambda a: np.cross(a[:, :3], Y[:, :3]), X),
    ("cross axes", lambda a: np.cross(a[:, :2], Y[:3, :2], axisa=0, axisb=0, axisc=0), X),
    ("cross axis", lambda a: np.cross(a[:, :3], Y[:, 1:], axis=0), X),
    ("dot 3-D", lambda a: np.dot(a[None], Y.T), X),
    ("hstack of one 1-D tensor", lambda a: np.hstack(a[0]), X),
    ("hstack of 0-d tensors", lambda a: np.hstack([a[0, 0], a[1, 1]]), X),
    ("ravel", lambda a: a.ravel() if isinstance(a, ag.Tensor) else np.ravel(a), X),
]


def _np_name(label):
    return label.split()[0]


@pytest.mark.parametrize("call, data", [row[1:] for row in RECORDED], ids=[row[0] for row in RECORDED])
def test_numpy_function_runs_the_engine_op(call, data):
    x = ag.tensor(data, requires_grad=True)
    out = call(x)
    outs, refs = (out, call(data)) if isinstance(out, list) else ([out], [call(data)])
    for o, r in zip(outs, refs):
        assert isinstance(o, ag.Tensor) and o.requires_grad, "the result must be a recorded Tensor"
        assert o.shape == np.shape(r)
        np.testing.assert_allclose(o.data, r, rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(call, [x])


@pytest.mark.parametrize("call, data", [row[1:] for row in RECORDED if row[0] in ("sum", "sinh", "concatenate")],
                         ids=["sum", "sinh", "concatenate"])
def test_supported_functions_give_tensors_without_grad_too(call, data):
    out = call(ag.tensor(data))
    assert isinstance(out, ag.Tensor) and not out.requires_grad


def test_argmax_and_argmin_are_engine_ops_without_gradient():
    x = ag.tensor(X, requires_grad=True)
    for fn in (np.argmax, np.argmin):
        out = fn(x, axis=1)
        assert isinstance(out, ag.Tensor) and not out.requires_grad
        np.testing.assert_array_equal(out.data, fn(X, axis=1))
    np.testing.assert_array_equal(np.argmax(x, axis=1, keepdims=True).data, np.argmax(X, axis=1, keepdims=True))


def test_norm_gradient_at_zero_is_zero_like_torch():
    z = ag.tensor(np.zeros(3), requires_grad=True)
    np.linalg.norm(z).backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.0, 0.0])


# (label, call): each has no engine version (or an option the engine op lacks).
REFUSED = [
    ("np.cumprod", lambda a: np.cumprod(a, axis=0)),
    ("np.median", lambda a: np.median(a)),
    ("np.percentile", lambda a: np.percentile(a, 50)),
    ("np.convolve", lambda a: np.convolve(a[0], V)),
    ("np.arctan", lambda a: np.arctan(a)),
    ("np.arcsin", lambda a: np.arcsin(a * 0.1)),
    ("np.cbrt", lambda a: np.cbrt(a)),
    ("np.linalg.inv", lambda a: np.linalg.inv(a[:, :3])),
    ("np.linalg.det", lambda a: np.linalg.det(a[:, :3])),
    ("np.add.reduce", lambda a: np.add.reduce(a)),
    ("np.multiply.outer", lambda a: np.multiply.outer(a, V)),
    ("np.sum with out=", lambda a: np.sum(a, out=np.zeros(()))),
    ("np.mean with dtype=", lambda a: np.mean(a, dtype=np.float32)),
    ("np.exp with out=", lambda a: np.exp(a, out=np.zeros((3, 4)))),
    ("np.add with dtype=", lambda a: np.add(a, 1.0, dtype=np.float32)),
    ("np.pad with constant_values=", lambda a: np.pad(a, 1, constant_values=2.0)),
    ("np.pad with mode='edge'", lambda a: np.pad(a, 1, mode="edge")),
    ("np.gradient with edge_order=2", lambda a: np.gradient(a, edge_order=2)),
    ("np.linspace with retstep=, dtype= or axis=", lambda a: np.linspace(a[0], a[1], 3, axis=1)),
    ("np.linalg.norm with ord=2 for a matrix", lambda a: np.linalg.norm(a, ord=2)),
]


@pytest.mark.parametrize("name, call", REFUSED, ids=[r[0] for r in REFUSED])
def test_numpy_function_without_an_engine_op_raises_naming_it(name, call):
    x = ag.tensor(X, requires_grad=True)
    with pytest.raises(TypeError) as err:
        call(x)
    message = str(err.value)
    assert message.startswith(name + " on a Tensor that requires grad"), message
    assert "t.detach().numpy()" in message and "\n" not in message


@pytest.mark.parametrize("name, call", REFUSED, ids=[r[0] for r in REFUSED])
def test_without_grad_the_refused_functions_run_on_the_data(name, call):
    out = call(ag.tensor(X))
    expected = call(X)
    assert not isinstance(out, ag.Tensor) or not out.requires_grad
    np.testing.assert_allclose(np.asarray(out), expected)


NO_GRADIENT = [
    ("isfinite", lambda a: np.isfinite(a)),
    ("isnan", lambda a: np.isnan(a)),
    ("sign", lambda a: np.sign(a)),
    ("floor", lambda a: np.floor(a)),
    ("round", lambda a: np.round(a, 1)),
    ("shape", lambda a: np.shape(a)),
    ("ndim", lambda a: np.ndim(a)),
    ("allclose", lambda a: np.allclose(a, X)),
    ("array_equal", lambda a: np.array_equal(a, X)),
    ("argsort", lambda a: np.argsort(a, axis=1)),
    ("nonzero", lambda a: np.nonzero(a > 0)),
    ("where one argument", lambda a: np.where(a > 0)),
    ("any", lambda a: np.any(a > 1)),
    ("zeros_like", lambda a: np.zeros_like(a)),
    ("count_nonzero", lambda a: np.count_nonzero(a > 0)),
]


@pytest.mark.parametrize("call", [r[1] for r in NO_GRADIENT], ids=[r[0] for r in NO_GRADIENT])
def test_functions_without_a_gradient_answer_on_the_data(call):
    out = call(ag.tensor(X, requires_grad=True))
    expected = call(X)
    if isinstance(expected, tuple):
        for o, e in zip(out, expected):
            np.testing.assert_array_equal(o, e)
    else:
        np.testing.assert_array_equal(np.asarray(out), expected)


def test_the_walk_covers_at_least_40_numpy_functions():
    names = {_np_name(r[0]) for r in RECORDED} | {r[0].split()[0] for r in REFUSED} | {r[0] for r in NO_GRADIENT}
    assert len(names) >= 40, len(names)
    for required in ("sum", "mean", "max", "min", "std", "var", "exp", "log", "sqrt", "sinh", "cosh", "square",
                     "abs", "concatenate", "stack", "where", "dot", "matmul", "linalg.norm", "reshape",
                     "transpose", "clip", "maximum", "minimum", "tanh"):
        assert required in names, required


def test_an_ndarray_in_place_update_from_a_grad_tensor_raises():
    # arr += t would write t's values into arr and drop t's gradient without a word.
    arr = np.zeros(2)
    with pytest.raises(TypeError, match=r"^np.add with out= on a Tensor that requires grad"):
        arr += ag.tensor([1.0, 2.0], requires_grad=True)
    arr += ag.tensor([1.0, 2.0])
    np.testing.assert_array_equal(arr, [1.0, 2.0])


@pytest.mark.parametrize("call", [lambda a: np.sinh(a), lambda a: np.linalg.norm(a, axis=1),
                                  lambda a: np.sort(a, axis=1) ** 2, lambda a: np.logaddexp(a, 0.3),
                                  lambda a: np.std(a, axis=0) * np.square(a).sum()],
                         ids=["sinh", "norm", "sort", "logaddexp", "std*square"])
def test_numpy_functions_are_twice_differentiable(call):
    assert ag.gradgradcheck(call, [ag.tensor(X, requires_grad=True)])
