"""Every binary op of the registry (``BINARY``) on hypothesis-drawn broadcastable shapes:
values and gradients against PyTorch, and each gradient has its input's shape.
Also: maximum/minimum split the gradient evenly at deliberate ties, as PyTorch."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from chaingrad import autograd as ag
from op_registry import BINARY, sample
from optional import needs, optional

torch = optional("torch")

CLOSE = dict(rtol=1e-9, atol=1e-11)
shape_sets = lambda n: mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=4, max_side=3)  # noqa: E731


def _compare(f, tf, arrays, seed):
    """Forward and backward (random upstream gradient) in both engines; return our grads."""
    xs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = f(*xs), tf(*ts)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **CLOSE)
    up = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(up)
    tout.backward(torch.tensor(up))
    for x, t in zip(xs, ts):
        assert x.grad.shape == x.shape, f"gradient of shape {x.grad.shape} for an input of shape {x.shape}"
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), **CLOSE)
    return [x.grad for x in xs]


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(shapes=shape_sets(2), seed=st.integers(0, 2 ** 16))
@needs("torch")
def test_binary_op_broadcasts_like_torch(name, shapes, seed):
    f, _, tf, domain = BINARY[name]
    rng = np.random.default_rng(seed)
    arrays = [sample(d, s, rng) for d, s in zip(domain, shapes.input_shapes)]
    _compare(f, tf, arrays, seed)


@settings(max_examples=25, deadline=None)
@given(shapes=shape_sets(3), seed=st.integers(0, 2 ** 16))
@needs("torch")
def test_where_broadcasts_like_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    cond_shape, x_shape, y_shape = shapes.input_shapes
    cond = rng.random(cond_shape) < 0.5
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(y_shape)]
    _compare(lambda x, y: ag.where(cond, x, y), lambda x, y: torch.where(torch.as_tensor(cond), x, y),
             arrays, seed)


@settings(max_examples=20, deadline=None)
@given(shapes=shape_sets(2), seed=st.integers(0, 2 ** 16))
def test_unbroadcast_sums_back_to_the_input_shape(shapes, seed):
    a, b = shapes.input_shapes
    g = np.random.default_rng(seed).standard_normal(shapes.result_shape)
    for shape in (a, b):
        got = ag.unbroadcast(ag.Tensor(g), shape)
        assert got.shape == shape
        # the adjoint of broadcasting: <g, broadcast(v)> = <unbroadcast(g), v>
        v = np.random.default_rng(seed + 1).standard_normal(shape)
        assert np.isclose(np.sum(g * np.broadcast_to(v, g.shape)), np.sum(got.data * v))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@needs("torch")
def test_ties_split_evenly_like_torch(name):
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    y = np.array([1.0, 0.0, 3.0])            # ties at [0, 0], [0, 2] and [1, 1]
    _compare(getattr(ag, name), getattr(torch, name), [x, y], 0)
    a, b = ag.tensor(x, requires_grad=True), ag.tensor(y, requires_grad=True)
    getattr(ag, name)(a, b).sum().backward()
    tie = x == y
    np.testing.assert_array_equal(a.grad.data[tie], 0.5)
    assert b.grad.data.sum() + a.grad.data.sum() == x.size      # nothing lost, nothing doubled
    c = ag.tensor([2.0, 5.0], requires_grad=True)
    getattr(ag, name)(c, c * 1.0).sum().backward()   # every element ties: 1/2 + 1/2
    np.testing.assert_array_equal(c.grad.data, [1.0, 1.0])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_python_scalar_on_either_side_keeps_float32(name):
    f = BINARY[name][0]
    x = ag.tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    for out in (f(x, 2.0), f(2.0, x), f(x, 2)):
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32
