"""Every registry case (tests/op_registry.py): forward against numpy in float32 and float64,
dtypes of values and gradients, and central-difference checks of first and second order."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from op_registry import CASES

DIFF = [c for c in CASES if c.differentiable]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


def _list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _graph_ops(outs):
    """Names of every primitive recorded behind ``outs`` (an explicit stack, no recursion)."""
    names, stack, seen = set(), [t._node for t in outs if t._node is not None], set()
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if node.op is not None:
            names.add(node.op.name)
        stack += [p for p in node.parents if p is not None]
    return names


def test_every_primitive_has_a_case():
    reached = set()
    for c in CASES:
        outs = _list(c.fn(*[ag.Tensor(a, requires_grad=c.differentiable) for a in c.inputs()]))
        reached |= _graph_ops(outs)
        reached.add(c.name.split("(")[0])       # ops without a node: comparisons, argmax
    # split is a function of getitems, so it is known by its cases' names (split_sections...)
    missing = [name for name in ag.ops.__all__
               if name not in reached and not any(c.name.startswith(name + "_") for c in CASES)]
    assert not missing, f"primitives without a registry case: {missing}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_forward_matches_numpy(case, dtype):
    arrays = case.inputs(dtype)
    outs = _list(case.fn(*[ag.Tensor(a) for a in arrays]))
    expected = _list(case.np_fn(*[a.copy() for a in arrays]))
    assert len(outs) == len(expected)
    for out, want in zip(outs, expected):
        want = np.asarray(want)
        assert isinstance(out, ag.Tensor)
        assert out.shape == want.shape
        assert out.dtype == want.dtype, f"{case.id}: dtype {out.dtype}, numpy gives {want.dtype}"
        if case.keeps_dtype and want.dtype.kind == "f":
            assert out.dtype == dtype
        np.testing.assert_allclose(out.data, want, **TOL[dtype])
        assert not out.requires_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", DIFF, ids=lambda c: c.id)
def test_gradient_dtype_and_precision(case, dtype):
    """Gradients have their input's dtype; float32 gradients agree with float64 ones."""
    rng = np.random.default_rng(1)
    grads = {}
    for dt in (dtype, np.float64):
        xs = [ag.Tensor(a, requires_grad=True) for a in case.inputs(dt)]
        outs = _list(case.fn(*xs))
        seeds = [rng.standard_normal(o.shape) for o in outs]
        rng = np.random.default_rng(1)          # the same upstream gradient for both dtypes
        loss = sum(((o * s.astype(o.dtype)).sum() for o, s in zip(outs, seeds)), start=ag.tensor(0.0, dtype=dt))
        loss.backward()
        for x in xs:
            assert x.grad is not None and x.grad.dtype == dt and x.grad.shape == x.shape
        grads[dt] = [x.grad.data for x in xs]
    for g, g64 in zip(grads[dtype], grads[np.float64]):
        np.testing.assert_allclose(g, g64, rtol=1e-4 if dtype == np.float32 else 0, atol=1e-5 if dtype == np.float32 else 0)


@pytest.mark.parametrize("case", DIFF, ids=lambda c: c.id)
def test_gradcheck(case):
    xs = [ag.Tensor(a, requires_grad=True) for a in case.inputs()]
    assert ag.gradcheck(case.fn, xs, **case.check) is True


@pytest.mark.parametrize("case", [c for c in DIFF if c.order >= 2], ids=lambda c: c.id)
def test_gradgradcheck(case):
    xs = [ag.Tensor(a, requires_grad=True) for a in case.inputs()]
    assert ag.gradgradcheck(case.fn, xs, **case.check) is True


@pytest.mark.parametrize("case", [c for c in CASES if not c.differentiable], ids=lambda c: c.id)
def test_no_gradient_ops(case):
    xs = [ag.Tensor(a, requires_grad=True) for a in case.inputs()]
    out = case.fn(*xs)
    assert not out.requires_grad and out.is_leaf and out.dtype.kind in "biu"


def test_gradcheck_catches_a_wrong_vjp():
    """The checker must be able to fail: a primitive with a deliberately wrong derivative."""
    @ag.primitive
    def cube(x):
        return x ** 3
    cube.defvjp(lambda g, ans, x: g * 2 * x ** 2)        # should be 3 x^2
    with pytest.raises(ag.gradcheck.__globals__["GradcheckError"], match=r"input 0.*index"):
        ag.gradcheck(cube, [ag.tensor([0.5, 1.5], requires_grad=True)])

    @ag.primitive
    def square(x):
        return x ** 2
    square.defvjp(lambda g, ans, x: g * 2 * ag.Tensor(x.data))   # right value, but not differentiable
    assert ag.gradcheck(square, [ag.tensor([0.5, 1.5])])
    with pytest.raises(AssertionError):
        ag.gradgradcheck(square, [ag.tensor([0.5, 1.5])])


def test_gradcheck_on_large_inputs_uses_a_random_direction_and_still_catches_errors():
    @ag.primitive
    def leaky(x):
        return x * 1.0
    leaky.defvjp(lambda g, ans, x: g * _one_wrong(x.shape))
    x = ag.tensor(np.random.default_rng(0).standard_normal(600), requires_grad=True)
    assert ag.gradcheck(lambda t: (t * t).sin(), [x])
    with pytest.raises(AssertionError, match=r"index \(599,\)"):
        ag.gradcheck(leaky, [x])


def _one_wrong(shape):
    m = np.ones(shape)
    m[-1] = 1.5      # (a 1% error in one of 600 elements hides in a projection's tolerance)
    return ag.Tensor(m)


def test_gradcheck_works_in_float64_on_float32_inputs():
    x = ag.tensor(np.array([0.3, 1.7], np.float32), requires_grad=True)
    assert ag.gradcheck(lambda t: t.exp() * t, [x])
    assert x.dtype == np.float32 and x.grad is None
