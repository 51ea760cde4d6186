"""Every reduction of the registry (``REDUCTIONS``) over every axis (negative, tuples, None),
with and without keepdims: values vs numpy, gradients vs PyTorch and central differences.
softmax/log_softmax over every axis; max/min with deliberate ties; large-logit stability."""
import itertools

import numpy as np
import pytest

from chaingrad import autograd as ag
from op_registry import REDUCTIONS, SOFTMAXES, sample
from optional import needs, optional

torch = optional("torch")

SHAPE = (2, 3, 4)
CLOSE = dict(rtol=1e-9, atol=1e-11)


def _axes(ndim):
    """None, every single axis (both signs) and every tuple of axes (mixed signs too)."""
    out = [None]
    for k in range(1, ndim + 1):
        for combo in itertools.combinations(range(ndim), k):
            out.append(combo[0] if k == 1 else combo)
            out.append(tuple(a - ndim for a in combo) if k > 1 else combo[0] - ndim)
    out.append((-1, 0))
    return out


def _axis_id(a):
    return "None" if a is None else str(a).replace(" ", "")


SWEEP = [(name, axis, keep) for name, r in REDUCTIONS.items() for axis in _axes(len(SHAPE))
         for keep in (False, True) if axis is not None or r.axis_none]


@pytest.mark.parametrize("name,axis,keepdims", SWEEP,
                         ids=[f"{n}-{_axis_id(a)}-{'keep' if k else 'drop'}" for n, a, k in SWEEP])
@needs("torch")
def test_reduction_every_axis(name, axis, keepdims):
    r = REDUCTIONS[name]
    a = sample(r.domain, SHAPE, np.random.default_rng(7))
    x, t = ag.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = r.fn(x, axis, keepdims)
    want = r.np_fn(a, axis, keepdims)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.data, want, **CLOSE)
    up = np.random.default_rng(8).standard_normal(out.shape)
    out.backward(up)
    tout = r.torch_fn(t, axis, keepdims)
    tout.backward(torch.tensor(up))
    assert x.grad.shape == SHAPE
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), **CLOSE)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_gradcheck_on_tuples_of_axes(name):
    r = REDUCTIONS[name]
    a = sample(r.domain, SHAPE, np.random.default_rng(9))
    for axis, keep in [((0, 2), False), ((-1, -2), True), (-2, False)]:
        assert ag.gradgradcheck(lambda x: r.fn(x, axis, keep), [ag.Tensor(a, requires_grad=True)])


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@needs("torch")
def test_softmax_every_axis(name, axis):
    f, np_f, tf = SOFTMAXES[name]
    a = np.random.default_rng(axis + 10).standard_normal(SHAPE)
    x, t = ag.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = f(x, axis)
    np.testing.assert_allclose(out.data, np_f(a, axis), **CLOSE)
    assert out.op == name                                  # its own name in the graph
    up = np.random.default_rng(axis + 20).standard_normal(SHAPE)
    out.backward(up)
    tf(t, axis).backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), **CLOSE)


@pytest.mark.parametrize("name", sorted(SOFTMAXES) + ["logsumexp"])
@needs("torch")
def test_stable_for_huge_logits(name):
    a = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4 - 1]])
    x, t = ag.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    if name == "logsumexp":
        out, tout = x.logsumexp(1), torch.logsumexp(t, 1)
    else:
        out, tout = SOFTMAXES[name][0](x, -1), SOFTMAXES[name][2](t, -1)
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    up = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(up)
    tout.backward(torch.tensor(up))
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,tname", [("max", "amax"), ("min", "amin")])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
@needs("torch")
def test_ties_split_evenly(name, tname, axis, keepdims):
    a = np.array([[3.0, 1.0, 3.0, 3.0], [-2.0, -2.0, 0.5, 3.0], [1.0, 1.0, 1.0, 1.0]])
    x, t = ag.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out = getattr(ag, name)(x, axis, keepdims)
    tdims = (0, 1) if axis is None else axis
    tout = getattr(torch, tname)(t, tdims, keepdim=keepdims)
    up = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(up)
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), **CLOSE)
    # the gradient is conserved: the tied elements share it, nothing is doubled
    assert np.isclose(x.grad.data.sum(), up.sum())


def test_full_max_ties_get_equal_shares():
    x = ag.tensor([1.0, 4.0, 4.0, 4.0, 0.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.data, [0, 1 / 3, 1 / 3, 1 / 3, 0])


@needs("torch")
def test_var_and_std_of_constant_rows():
    """std is not differentiable at 0 in general, but over a size-1 axis it is constant: grad 0."""
    x = ag.tensor([[1.0], [2.0]], requires_grad=True)
    x.std(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0.0)
    t = torch.tensor([[1.0], [2.0]], requires_grad=True)
    torch.std(t, 1, correction=0).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), 0.0)
