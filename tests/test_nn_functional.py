"""Activations and losses: values and gradients against PyTorch, gradcheck, numerical stability.

One registry per family drives every check, so adding a function means adding one line.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.nn import functional as F
from optional import needs, optional

torch = optional("torch")
TF = optional("torch.nn.functional")

RNG = np.random.default_rng(0)


def _inputs(shape=(4, 5), scale=3.0, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    x[np.abs(x) < 1e-3] = 0.5      # keep away from kinks (relu, abs) where one-sided limits differ
    return x


def compare_with_torch(ours, theirs, arrays, consts=(), rtol=1e-10, atol=1e-12, seed=1):
    """Same values and same vector-Jacobian products (random upstream gradient) as PyTorch."""
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*xs, *consts)
    tout = theirs(*ts, *[torch.as_tensor(c) if isinstance(c, np.ndarray) else c for c in consts])
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    grads = ag.grad(out, xs, grad_outputs=ag.tensor(g))
    tgrads = torch.autograd.grad(tout, ts, grad_outputs=torch.tensor(g))
    for a, b in zip(grads, tgrads):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=rtol, atol=atol)


# ---- activations ---------------------------------------------------------------------------
ACTIVATIONS = {   # name: (ours, PyTorch's)
    "identity": (F.identity, lambda x: x * 1),
    "relu": (F.relu, torch.relu),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, TF.elu),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5)),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "scaled_tanh": (F.scaled_tanh, lambda x: 1.7159 * torch.tanh(2 / 3 * x)),
    "softplus": (F.softplus, TF.softplus),
    "softmax": (F.softmax, lambda x: torch.softmax(x, -1)),
    "softmax_axis0": (lambda x: F.softmax(x, 0), lambda x: torch.softmax(x, 0)),
    "log_softmax": (F.log_softmax, lambda x: torch.log_softmax(x, -1)),
    "log_softmax_axis0": (lambda x: F.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0)),
}

MODULES = {   # the module form of each activation: same function
    "identity": nn.Identity(), "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(),
    "leaky_relu_0.2": nn.LeakyReLU(0.2), "elu": nn.ELU(), "elu_0.5": nn.ELU(alpha=0.5),
    "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "scaled_tanh": nn.ScaledTanh(),
    "softplus": nn.Softplus(), "softmax": nn.Softmax(), "softmax_axis0": nn.Softmax(axis=0),
    "log_softmax": nn.LogSoftmax(), "log_softmax_axis0": nn.LogSoftmax(0),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@needs("torch")
def test_activation_matches_torch(name):
    ours, theirs = ACTIVATIONS[name]
    compare_with_torch(ours, theirs, [_inputs()])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@needs("torch")
def test_activation_module_matches_torch(name):
    compare_with_torch(MODULES[name], ACTIVATIONS[name][1], [_inputs(seed=3)])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck(name):
    assert ag.gradcheck(ACTIVATIONS[name][0], [ag.tensor(_inputs((3, 4), 2.0), requires_grad=True)])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "elu", "scaled_tanh", "softmax", "log_softmax"])
def test_smooth_activation_gradgradcheck(name):
    assert ag.gradgradcheck(ACTIVATIONS[name][0], [ag.tensor(_inputs((2, 3), 1.0), requires_grad=True)])


def test_scaled_tanh_maps_plus_minus_one_to_itself():
    y = F.scaled_tanh(ag.tensor([-1.0, 1.0]))
    np.testing.assert_allclose(y.data, [-1.0, 1.0], atol=1e-4)   # Sayed, eq. 65.10


@needs("torch")
def test_kinks_follow_pytorch_conventions():
    # At exactly 0: relu' = 0, leaky' = slope, elu' = alpha, softplus' = 1/2 (PyTorch's choices).
    for ours, theirs in [(F.relu, torch.relu), (F.leaky_relu, TF.leaky_relu), (F.elu, TF.elu),
                         (lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0)), (F.softplus, TF.softplus)]:
        compare_with_torch(ours, theirs, [np.array([0.0, -1.0, 1.0])])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@needs("torch")
def test_activation_stable_at_huge_inputs(name):
    x = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    xt = ag.tensor(x, requires_grad=True)
    y = ACTIVATIONS[name][0](xt)
    y.sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(xt.grad.data).all()
    expected = ACTIVATIONS[name][1](torch.tensor(x)).numpy()
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


@needs("torch")
def test_step_forward_and_zero_gradient():
    x = ag.tensor([-2.0, -1e-9, 0.0, 3.0], requires_grad=True)
    y = nn.Step()(x)
    np.testing.assert_array_equal(y.data, [0, 0, 1, 1])     # step(0) = 1 (MIT notes, sec. 7.3)
    np.testing.assert_array_equal(y.data, torch.heaviside(torch.tensor(x.data), torch.tensor(1.0, dtype=torch.float64)).numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))   # zero, not missing: the graph is kept
    assert ag.gradcheck(F.step, [ag.tensor([-2.0, 1.5, 3.0], requires_grad=True)])


def test_step_network_gives_zero_gradients_to_earlier_layers():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Step(), nn.Linear(4, 1))
    model(ag.randn(5, 3)).sum().backward()
    assert np.all(model[0].weight.grad.data == 0) and np.any(model[2].weight.grad.data != 0)


def test_activation_names_for_mlp():
    from chaingrad.nn.activations import get_activation
    assert isinstance(get_activation("tanh"), nn.Tanh)
    assert isinstance(get_activation(nn.ELU), nn.ELU)
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation("swishy")


# ---- losses ---------------------------------------------------------------------------------
def _regression(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 3)) * 2, rng.standard_normal((6, 3)) * 2


def _binary_probs(seed):
    rng = np.random.default_rng(seed)
    return 1 / (1 + np.exp(-2 * rng.standard_normal((6, 2)))), rng.uniform(0, 1, (6, 2))


def _binary_logits(seed):
    rng = np.random.default_rng(seed)
    return 3 * rng.standard_normal((7, 1)), (rng.uniform(size=(7, 1)) < 0.5).astype(float)


def _hinge(seed):
    rng = np.random.default_rng(seed)
    return 2 * rng.standard_normal(8), np.where(rng.uniform(size=8) < 0.5, -1.0, 1.0)


def _classes(seed):
    rng = np.random.default_rng(seed)
    return 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6)


def _prob_rows(seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(size=(6, 4))
    return 3 * rng.standard_normal((6, 4)), t / t.sum(1, keepdims=True)


def _torch_hinge(x, y, reduction):
    loss = torch.clamp(1 - y * x, min=0)
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


LOSSES = {   # name: (ours(x, target, reduction), PyTorch's, data maker, module class)
    "mse": (F.mse_loss, lambda x, t, r: TF.mse_loss(x, t, reduction=r), _regression, nn.MSELoss),
    "l1": (F.l1_loss, lambda x, t, r: TF.l1_loss(x, t, reduction=r), _regression, nn.L1Loss),
    "huber": (F.huber_loss, lambda x, t, r: TF.huber_loss(x, t, reduction=r), _regression, nn.HuberLoss),
    "huber_0.5": (lambda x, t, r: F.huber_loss(x, t, r, delta=0.5),
                  lambda x, t, r: TF.huber_loss(x, t, reduction=r, delta=0.5), _regression,
                  lambda reduction: nn.HuberLoss(0.5, reduction)),
    "hinge": (F.hinge_loss, _torch_hinge, _hinge, nn.HingeLoss),
    "bce": (F.binary_cross_entropy, lambda x, t, r: TF.binary_cross_entropy(x, t, reduction=r),
            _binary_probs, nn.BCELoss),
    "bce_logits": (F.binary_cross_entropy_with_logits,
                   lambda x, t, r: TF.binary_cross_entropy_with_logits(x, t, reduction=r),
                   _binary_logits, nn.BCEWithLogitsLoss),
    "nll": (lambda x, t, r: F.nll_loss(F.log_softmax(x), t, r),
            lambda x, t, r: TF.nll_loss(torch.log_softmax(x, -1), t, reduction=r), _classes,
            lambda reduction: _ComposedNLL(reduction)),
    "cross_entropy": (F.cross_entropy, lambda x, t, r: TF.cross_entropy(x, t, reduction=r), _classes,
                      nn.CrossEntropyLoss),
    "cross_entropy_probs": (F.cross_entropy, lambda x, t, r: TF.cross_entropy(x, t, reduction=r),
                            _prob_rows, nn.CrossEntropyLoss),
}


class _ComposedNLL(nn.Module):
    def __init__(self, reduction):
        super().__init__()
        self.logsm, self.nll = nn.LogSoftmax(), nn.NLLLoss(reduction)

    def forward(self, x, t):
        return self.nll(self.logsm(x), t)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
@needs("torch")
def test_loss_matches_torch(name, reduction):
    ours, theirs, make, _ = LOSSES[name]
    x, t = make(5)
    compare_with_torch(lambda x: ours(x, t, reduction),
                       lambda x: theirs(x, torch.as_tensor(t), reduction), [x])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_module_matches_function(name):
    ours, _, make, module = LOSSES[name]
    x, t = make(7)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_array_equal(module(reduction=reduction)(ag.tensor(x), t).data,
                                      ours(ag.tensor(x), t, reduction).data)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradcheck(name):
    ours, _, make, _ = LOSSES[name]
    x, t = make(11)
    assert ag.gradcheck(lambda x: ours(x, t, "none"), [ag.tensor(x, requires_grad=True)])
    assert ag.gradcheck(lambda x: ours(x, t, "mean"), [ag.tensor(x, requires_grad=True)])


@needs("torch")
def test_regression_losses_differentiate_the_target_too():
    x, t = _regression(2)
    for ours, theirs in [(F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss), (F.huber_loss, TF.huber_loss)]:
        compare_with_torch(ours, theirs, [x, t])


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.default_rng(3)
    z = ag.tensor(rng.standard_normal((8, 5)) * 4, requires_grad=True)
    y = rng.integers(0, 5, 8)
    F.cross_entropy(z, y, reduction="sum").backward()
    expected = F.softmax(z).data - F.one_hot(y, 5).data
    np.testing.assert_allclose(z.grad.data, expected, rtol=0, atol=1e-12)
    z.grad = None
    nn.CrossEntropyLoss()(z, y).backward()        # mean: the same, divided by the batch size
    np.testing.assert_allclose(z.grad.data, expected / 8, rtol=0, atol=1e-12)


@given(n=st.integers(1, 6), c=st.integers(2, 6), scale=st.sampled_from([1e-3, 1.0, 30.0, 1e4]),
       seed=st.integers(0, 2 ** 16))
def test_cross_entropy_gradient_property(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    z = ag.tensor(rng.standard_normal((n, c)) * scale, requires_grad=True)
    y = rng.integers(0, c, n)
    loss = F.cross_entropy(z, y, reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(z.grad.data, F.softmax(z).data - F.one_hot(y, c).data, rtol=0, atol=1e-12)


def test_cross_entropy_with_one_hot_rows_equals_integer_labels():
    z, y = _classes(4)
    a = F.cross_entropy(ag.tensor(z), y, "none")
    b = F.cross_entropy(ag.tensor(z), F.one_hot(y, 4).double(), "none")     # int64, as PyTorch: convert
    np.testing.assert_allclose(a.data, b.data, rtol=1e-14)


@pytest.mark.parametrize("big", [1e4, -1e4])
@needs("torch")
def test_losses_stable_at_huge_logits(big):
    z = np.array([[big, 0.0, -big], [0.0, big, 3.0], [-big, -big, big]])
    y = np.array([0, 2, 1])
    zt = ag.tensor(z, requires_grad=True)
    loss = F.cross_entropy(zt, y, "sum")
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(zt.grad.data).all()
    np.testing.assert_allclose(loss.data, TF.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="sum").item())
    np.testing.assert_allclose(zt.grad.data, F.softmax(zt).data - F.one_hot(y, 3).data, atol=1e-12)

    logits = np.array([big, -big, big, -big, 0.0])
    target = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    for fn, tfn, inp in [
        (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, logits),
        (F.binary_cross_entropy, TF.binary_cross_entropy, 1 / (1 + np.exp(-np.clip(logits, -700, 700)))),
    ]:
        xt = ag.tensor(inp, requires_grad=True)
        val = fn(xt, target, "none")
        val.sum().backward()
        assert np.isfinite(val.data).all() and np.isfinite(xt.grad.data).all()
        np.testing.assert_allclose(val.data, tfn(torch.tensor(inp), torch.tensor(target), reduction="none").numpy(),
                                   rtol=1e-12, atol=1e-12)
    zt = ag.tensor(logits, requires_grad=True)
    F.binary_cross_entropy_with_logits(zt, target, "sum").backward()
    np.testing.assert_allclose(zt.grad.data, F.sigmoid(logits).data - target, atol=1e-15)


def test_float32_stays_float32():
    z = ag.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(z, [0, 1, 2, 0]) + F.mse_loss(F.softplus(z), np.zeros((4, 3))) \
        + F.binary_cross_entropy_with_logits(z, np.ones((4, 3)))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


def test_loss_errors_are_clear():
    x = ag.tensor(np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"shape \(4, 1\) and target shape \(4,\)"):
        F.mse_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match="-1 or \\+1"):
        F.hinge_loss(ag.tensor([0.3, 0.2]), [0.0, 1.0])
    with pytest.raises(TypeError, match="integers"):
        F.cross_entropy(ag.tensor(np.zeros((2, 3))), np.array([0.0, 1.0]))
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        F.nll_loss(ag.tensor(np.zeros((2, 3))), [0, 3])


@needs("torch")
def test_nll_single_row():
    logp = F.log_softmax(ag.tensor([1.0, 2.0, 0.5]))
    np.testing.assert_allclose(F.nll_loss(logp, 1).data,
                               TF.nll_loss(torch.log_softmax(torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64), 0),
                                           torch.tensor(1)).item())


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot([2, 0], 3).data, [[0, 0, 1], [1, 0, 0]])
    assert F.one_hot(np.array([1, 3])).shape == (2, 4)
    with pytest.raises(TypeError):
        F.one_hot([0.5])


def test_penalties():
    ws = [ag.tensor([[1.0, -2.0]], requires_grad=True), ag.tensor([3.0], requires_grad=True)]
    l1, l2 = F.l1_penalty(ws), F.l2_penalty(ws)
    assert l1.item() == 6.0 and l2.item() == 14.0
    (l1 + l2).backward()
    np.testing.assert_array_equal(ws[0].grad.data, [[1 + 2, -1 - 4]])
    np.testing.assert_array_equal(ws[1].grad.data, [1 + 6])
    model = nn.Linear(3, 2)
    assert np.isclose(F.l2_penalty(model).item(), sum((p.data ** 2).sum() for p in model.parameters()))
    assert F.l1_penalty([]).item() == 0.0


def test_composites_are_labelled_for_the_pictures():
    z = ag.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(z, [0, 1])
    assert loss._node.scope.name == "cross_entropy" and loss._node.scope.kind == "op"
    assert nn.MSELoss()(z, np.ones((2, 3)))._node.scope.path()[0].name == "MSELoss"
