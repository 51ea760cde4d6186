"""ag.functional.vjp / jacobian / hessian against torch.autograd.functional."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from optional import needs, optional

torch = optional("torch")
TF = optional("torch.autograd.functional")

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))

# name -> (chaingrad f, torch f, input shape); each maps one tensor to a tensor
FUNCS = {
    "tanh_matvec": (lambda x: (ag.tensor(A) @ x).tanh(), lambda t: (torch.tensor(A) @ t).tanh(), (4,)),
    "softmax": (lambda x: x.softmax(-1), lambda t: torch.softmax(t, -1), (2, 3)),
    "elementwise": (lambda x: x.sin() * x ** 2, lambda t: t.sin() * t ** 2, (3,)),
    "reduce_to_vector": (lambda x: x.logsumexp(0), lambda t: torch.logsumexp(t, 0), (3, 2)),
}
SCALARS = {
    "quadratic": (lambda x: (x * (ag.tensor(A[:, :3]) @ x)).sum(), lambda t: (t * (torch.tensor(A[:, :3]) @ t)).sum(), (3,)),
    "logsumexp": (lambda x: x.logsumexp(0), lambda t: torch.logsumexp(t, 0), (4,)),
    "rosenbrock": (lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
                   lambda t: (100 * (t[1:] - t[:-1] ** 2) ** 2 + (1 - t[:-1]) ** 2).sum(), (4,)),
    "matrix_input": (lambda x: (x @ x.T).tanh().sum(), lambda t: (t @ t.T).tanh().sum(), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
@needs("torch")
def test_jacobian_matches_torch(name):
    f, tf, shape = FUNCS[name]
    x = rng.standard_normal(shape)
    J = ag.functional.jacobian(f, ag.tensor(x))
    TJ = TF.jacobian(tf, torch.tensor(x))
    assert J.shape == tuple(TJ.shape) and not J.requires_grad
    np.testing.assert_allclose(J.data, TJ.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCS))
@needs("torch")
def test_vjp_matches_torch(name):
    f, tf, shape = FUNCS[name]
    x = rng.standard_normal(shape)
    out_shape = tuple(tf(torch.tensor(x)).shape)
    v = rng.standard_normal(out_shape)
    out, g = ag.functional.vjp(f, ag.tensor(x), v=v)
    tout, tg = TF.vjp(tf, torch.tensor(x), v=torch.tensor(v))
    np.testing.assert_allclose(out.data, tout.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-10, atol=1e-12)


@needs("torch")
def test_vjp_of_several_inputs_and_default_v():
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    out, (gx, gy) = ag.functional.vjp(lambda a, b: (a * b.exp()).sum(), ag.tensor(x), ag.tensor(y))
    tout, (tgx, tgy) = TF.vjp(lambda a, b: (a * b.exp()).sum(), (torch.tensor(x), torch.tensor(y)))
    np.testing.assert_allclose([out.item()], [tout.item()], rtol=1e-12)
    np.testing.assert_allclose(gx.data, tgx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.data, tgy.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(SCALARS))
@needs("torch")
def test_hessian_matches_torch(name):
    f, tf, shape = SCALARS[name]
    x = rng.standard_normal(shape)
    H = ag.functional.hessian(f, ag.tensor(x))
    TH = TF.hessian(tf, torch.tensor(x))
    assert H.shape == shape + shape
    np.testing.assert_allclose(H.data, TH.numpy(), rtol=1e-10, atol=1e-10)
    flat = H.data.reshape(x.size, x.size)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-10, atol=1e-10)


def test_functional_leaves_inputs_untouched():
    x = ag.tensor([0.5, 1.5], requires_grad=True)
    ag.functional.jacobian(lambda t: t ** 2, x)
    ag.functional.hessian(lambda t: (t ** 3).sum(), x)
    ag.functional.vjp(lambda t: t.sin(), x, v=np.ones(2))
    assert x.grad is None


def test_hessian_needs_a_scalar_function():
    with pytest.raises(ValueError, match="scalar"):
        ag.functional.hessian(lambda t: t * 2, ag.tensor([1.0, 2.0]))


def test_jacobian_of_a_function_ignoring_its_input_is_zero():
    J = ag.functional.jacobian(lambda t: ag.tensor([1.0, 2.0]) + 0 * t.sum(), ag.tensor([3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(J.data, np.zeros((2, 3)))


@pytest.mark.parametrize("which", ["jacobian", "vjp", "hessian"])
def test_derivatives_of_functions_with_constant_parts_are_zero(which):
    """Like torch: a function (or gradient) that does not depend on x has derivative 0, not an error."""
    x = ag.tensor([3.0, 4.0, 5.0])
    if which == "jacobian":
        out = ag.functional.jacobian(lambda t: ag.tensor([1.0, 2.0]), x)
        np.testing.assert_array_equal(out.data, np.zeros((2, 3)))
    elif which == "vjp":
        value, g = ag.functional.vjp(lambda t: ag.tensor([1.0, 2.0]), x, v=np.ones(2))
        np.testing.assert_array_equal(value.data, [1.0, 2.0])
        np.testing.assert_array_equal(g.data, np.zeros(3))
    else:
        out = ag.functional.hessian(lambda t: (2 * t).sum(), x)   # the gradient is constant
        np.testing.assert_array_equal(out.data, np.zeros((3, 3)))
        H = ag.functional.hessian(lambda t: (t[0] * t[1] + 4 * t[2]), x)  # partly constant
        np.testing.assert_array_equal(H.data, [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
        H = ag.functional.hessian(lambda t: ag.tensor(7.0), x)          # f ignores x entirely
        np.testing.assert_array_equal(H.data, np.zeros((3, 3)))
