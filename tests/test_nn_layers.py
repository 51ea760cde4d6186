"""Linear, BatchNorm1d, Dropout and MLP: against PyTorch, gradcheck, the MIT closed form, Sayed's XOR net."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.nn import functional as F
from optional import needs, optional

torch = optional("torch")


def _torch_linear(layer):
    t = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(layer.weight.data))       # both (out, in)
        if layer.bias is not None:
            t.bias.copy_(torch.tensor(layer.bias.data))
    return t


# ---- Linear -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@needs("torch")
def test_linear_matches_torch(bias):
    ag.manual_seed(0)
    layer = nn.Linear(4, 3, bias=bias)
    t = _torch_linear(layer)
    x = np.random.default_rng(1).standard_normal((5, 4))
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = layer(xa), t(xt)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(2).standard_normal((5, 3))
    out.backward(ag.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.data, t.weight.grad.numpy(), rtol=1e-12)
    if bias:
        np.testing.assert_allclose(layer.bias.grad.data, t.bias.grad.numpy(), rtol=1e-12)
    else:
        assert layer.bias is None and len(list(layer.parameters())) == 1


def test_linear_gradcheck():
    rng = np.random.default_rng(0)
    x, w, b = (ag.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 4), (2, 4), (2,)])
    assert ag.gradcheck(F.linear, [x, w, b])
    assert ag.gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), [x, w, b])


@pytest.mark.parametrize("init, w_std, b_std", [
    ("normal", 1 / np.sqrt(400), 1.0),               # N(0, 1/m) weights, N(0, 1) biases (the seed texts)
    ("xavier", np.sqrt(2 / (400 + 300)), 0.0),
    ("he", np.sqrt(2 / 400), 0.0),
])
def test_linear_init_statistics(init, w_std, b_std):
    ag.manual_seed(0)
    layer = nn.Linear(400, 300, init=init)
    assert layer.weight.shape == (300, 400) and layer.weight.dtype == ag.get_default_dtype()   # (out, in)
    assert abs(layer.weight.data.std() / w_std - 1) < 0.02 and abs(layer.weight.data.mean()) < 0.01 * w_std * 10
    assert abs(layer.bias.data.std() - b_std) < 0.15
    assert layer.weight.requires_grad and layer.weight.is_leaf


def test_linear_init_is_reproducible_and_checked():
    ag.manual_seed(7)
    a = nn.Linear(3, 2).weight.data.copy()
    ag.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.data, a)
    with pytest.raises(ValueError, match="init must be"):
        nn.Linear(3, 2, init="glorot")
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(in_features=3, out_features=2, bias=False)"


def test_float32_default_dtype_layers():
    ag.set_default_dtype(np.float32)
    try:
        model = nn.MLP([3, 4, 2], batchnorm=True)
        out = model(ag.randn(5, 3))
        nn.CrossEntropyLoss()(out, [0, 1, 0, 1, 1]).backward()
        assert out.dtype == np.float32
        assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    finally:
        ag.set_default_dtype(np.float64)


# ---- nn.init ------------------------------------------------------------------------------------
def test_init_functions():
    ag.manual_seed(0)
    w = nn.Parameter(np.zeros((200, 500)))          # (out, in): fan_in 500, fan_out 200
    nn.init.xavier_uniform_(w)
    a = np.sqrt(6 / 700)
    assert w.data.max() <= a and w.data.min() >= -a and abs(w.data.std() - a / np.sqrt(3)) < 0.01 * a
    nn.init.kaiming_uniform_(w)
    assert abs(w.data.std() - np.sqrt(2 / 500)) < 0.02 * np.sqrt(2 / 500)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.data.std() - np.sqrt(2 / 200)) < 0.02 * np.sqrt(2 / 200)
    nn.init.xavier_normal_(w, gain=2.0)
    assert abs(w.data.std() - 2 * np.sqrt(2 / 700)) < 0.02 * 2 * np.sqrt(2 / 700)
    nn.init.uniform_(w, -1, 3)
    assert w.data.min() >= -1 and w.data.max() < 3
    nn.init.normal_(w, 5.0, 0.1)
    assert abs(w.data.mean() - 5) < 0.01
    assert nn.init.zeros_(w) is w and not w.data.any()
    nn.init.ones_(w)
    assert (w.data == 1).all() and w.requires_grad and w.is_leaf
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_normal_(nn.Parameter(np.zeros(3)))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 3, 2), (2, 6, 3, 3)])
def test_init_fans_are_pytorchs(shape):
    """fan_in = shape[1] and fan_out = shape[0], times the receptive field: torch.nn.init's computation."""
    assert nn.init._fans(nn.Parameter(np.zeros(shape))) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_linear_init_matches_torch_scales():
    """Xavier and He on a Linear weight have the standard deviation torch.nn.init gives the same shape."""
    for init, torch_init in [("xavier", torch.nn.init.xavier_normal_),
                             ("he", lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu"))]:
        ag.manual_seed(0)
        torch.manual_seed(0)
        ours = nn.Linear(600, 100, init=init).weight.data.std()
        theirs = torch_init(torch.empty(100, 600, dtype=torch.float64)).std().item()
        assert abs(ours / theirs - 1) < 0.02, init


def test_init_bumps_version_so_stale_graphs_are_caught():
    w = nn.Parameter(np.ones((2, 2)))
    y = (w * w).sum()
    nn.init.normal_(w)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# ---- BatchNorm1d ------------------------------------------------------------------------------------
def _torch_bn(bn):
    t = torch.nn.BatchNorm1d(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine).double()
    if bn.affine:
        with torch.no_grad():
            t.weight.copy_(torch.tensor(bn.weight.data))
            t.bias.copy_(torch.tensor(bn.bias.data))
    return t


@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
@needs("torch")
def test_batchnorm_matches_torch_train_and_eval(shape, affine):
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(3, momentum=0.2, affine=affine)
    if affine:
        bn.weight.data = rng.uniform(0.5, 2, 3)
        bn.bias.data = rng.standard_normal(3)
    t = _torch_bn(bn)
    for step in range(3):     # three training steps: outputs, gradients and running statistics
        x = rng.standard_normal(shape) * 3 + 1
        xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = bn(xa), t(xt)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(shape)
        out.backward(ag.tensor(g))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        if affine:
            np.testing.assert_allclose(bn.weight.grad.data, t.weight.grad.numpy(), rtol=1e-10)
            np.testing.assert_allclose(bn.bias.grad.data, t.bias.grad.numpy(), rtol=1e-10)
            bn.zero_grad()
            t.zero_grad()
        np.testing.assert_allclose(bn.running_mean.data, t.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, t.running_var.numpy(), rtol=1e-12)
    bn.eval()
    t.eval()
    x = rng.standard_normal(shape)
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = bn(xa), t(xt)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-10)


def _mit_closed_form(Z, dL_dZhat, G, eps):
    """MIT 6.036 notes, sec. 7.8.3, with the notes' Z^l of shape n x K stored here as rows (K, n):

        dL/dZ_ij = sum_k dL/dZhat_ik * G_i / (K sigma_i)
                   * (delta_jk K - 1 - (Z_ik - mu_i)(Z_ij - mu_i) / sigma_i^2)

    with sigma_i = sqrt(var_i + eps) (the notes use eps = 0), and
    dL/dG_i = sum_j dL/dZhat_ij Zbar_ij,  dL/dB_i = sum_j dL/dZhat_ij.
    """
    K, n = Z.shape
    mu = Z.mean(axis=0)
    sigma = np.sqrt(((Z - mu) ** 2).mean(axis=0) + eps)
    dZ = np.zeros_like(Z)
    for i in range(n):
        c = Z[:, i] - mu[i]
        # inner[k, j] = delta_jk K - 1 - (Z_ik - mu_i)(Z_ij - mu_i) / sigma_i^2
        inner = np.eye(K) * K - 1 - np.outer(c, c) / sigma[i] ** 2
        dZ[:, i] = G[i] / (K * sigma[i]) * (dL_dZhat[:, i] @ inner)
    Zbar = (Z - mu) / sigma
    return dZ, (dL_dZhat * Zbar).sum(axis=0), dL_dZhat.sum(axis=0)


@pytest.mark.parametrize("eps", [0.0, 1e-5, 0.3])
def test_batchnorm_backward_equals_mit_closed_form(eps):
    rng = np.random.default_rng(1)
    K, n = 7, 4
    bn = nn.BatchNorm1d(n, eps=eps)
    bn.weight.data = rng.uniform(0.5, 2.0, n)
    bn.bias.data = rng.standard_normal(n)
    Z = ag.tensor(rng.standard_normal((K, n)) * 2 + 3, requires_grad=True)
    g = rng.standard_normal((K, n))
    bn(Z).backward(ag.tensor(g))           # the engine's derived backward
    dZ, dG, dB = _mit_closed_form(Z.data, g, bn.weight.data, eps)
    np.testing.assert_allclose(Z.grad.data, dZ, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.weight.grad.data, dG, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.bias.grad.data, dB, rtol=1e-12, atol=1e-12)


@given(K=st.integers(2, 9), n=st.integers(1, 5), shift=st.floats(-50, 50), spread=st.floats(0.1, 20),
       seed=st.integers(0, 2 ** 16))
def test_batchnorm_closed_form_property(K, n, shift, spread, seed):
    rng = np.random.default_rng(seed)
    G = rng.uniform(-2, 2, n)
    Z = ag.tensor(rng.standard_normal((K, n)) * spread + shift, requires_grad=True)
    g = rng.standard_normal((K, n))
    out = F.batch_norm(Z, None, None, ag.tensor(G), ag.tensor(np.zeros(n)), training=True)
    out.backward(ag.tensor(g))
    dZ, _, _ = _mit_closed_form(Z.data, g, G, 1e-5)
    np.testing.assert_allclose(Z.grad.data, dZ, rtol=1e-7, atol=1e-9 * np.abs(dZ).max())


def test_batchnorm_gradcheck():
    rng = np.random.default_rng(2)
    x = ag.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = ag.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = ag.tensor(rng.standard_normal(3), requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])
    assert ag.gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b])


def test_batchnorm_state_and_errors():
    bn = nn.BatchNorm1d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var"]
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert not bn.running_mean.requires_grad
    x = ag.randn(4, 3)
    with ag.no_grad():
        bn(x)                          # running statistics also move under no_grad in training mode
    assert np.any(bn.running_mean.data != 0)
    with pytest.raises(ValueError, match="more than one value"):
        bn(ag.randn(1, 3))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn(ag.randn(4, 2))
    bn.eval()
    assert bn(ag.randn(1, 3)).shape == (1, 3)   # one row is fine in eval
    assert list(nn.BatchNorm1d(2, affine=False).state_dict()) == ["running_mean", "running_var"]


# ---- Dropout ---------------------------------------------------------------------------------------
def test_dropout_is_inverted_and_identity_in_eval():
    ag.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = ag.ones(200, 100, requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)          # survivors scaled by 1/(1-p)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.7)         # the gradient is the same mask and scale
    drop.eval()
    z = ag.randn(3, 4)
    assert drop(z) is z
    assert nn.Dropout(0.0)(z) is z
    assert not nn.Dropout(1.0)(z).data.any()
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_follows_manual_seed():
    ag.manual_seed(3)
    a = nn.Dropout()(ag.ones(10, 10)).data
    ag.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout()(ag.ones(10, 10)).data, a)


# ---- MLP ------------------------------------------------------------------------------------------
def test_mlp_structure():
    m = nn.MLP([2, 8, 8, 3])
    kinds = [type(l).__name__ for l in m.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [n for n, _ in m.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight", "layers.4.bias"]
    assert m(ag.randn(5, 2)).shape == (5, 3)

    m = nn.MLP([2, 8, 1], activation="tanh", out_activation="sigmoid", batchnorm=True, dropout=0.2)
    kinds = [type(l).__name__ for l in m.layers]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "Sigmoid"]
    assert m.layers[0].bias is None and m.layers[4].bias is not None    # BN's shift replaces the bias
    out = m(ag.randn(6, 2))
    assert out.shape == (6, 1) and ((out.data > 0) & (out.data < 1)).all()

    m = nn.MLP([3, 4, 2], activation=nn.ELU, init="he")
    assert isinstance(m.layers[1], nn.ELU)
    with pytest.raises(ValueError):
        nn.MLP([3])


@needs("torch")
def test_mlp_matches_torch_sequential():
    ag.manual_seed(1)
    m = nn.MLP([3, 5, 4, 2], activation="tanh")
    t = torch.nn.Sequential(_torch_linear(m.layers[0]), torch.nn.Tanh(), _torch_linear(m.layers[2]),
                            torch.nn.Tanh(), _torch_linear(m.layers[4]))
    x = np.random.default_rng(0).standard_normal((6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])
    loss = nn.CrossEntropyLoss()(m(ag.tensor(x)), y)
    tloss = torch.nn.CrossEntropyLoss()(t(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    tloss.backward()
    assert np.isclose(loss.item(), tloss.item(), rtol=1e-12)
    for i in (0, 2, 4):
        np.testing.assert_allclose(m.layers[i].weight.grad.data, t[i].weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(m.layers[i].bias.grad.data, t[i].bias.grad.numpy(), rtol=1e-10)


def test_sayed_problem_65_1_xor_network():
    """Sayed, Prob. 65.1: W1^T = -1/2 [[1, 1], [1, 1]], theta1 = (-1, 0), w = (2, -4), theta = 1,
    ReLU hidden units, linear output, z = W^T y - theta.  Our layers compute W x + b for each row x
    (weight (out, in)), so our weight is Sayed's W^T (W1^T as given; w^T = [[2, -4]]) and b = -theta."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    net.load_state_dict({
        "0.weight": -0.5 * np.array([[1.0, 1.0], [1.0, 1.0]]), "0.bias": -np.array([-1.0, 0.0]),
        "2.weight": np.array([[2.0, -4.0]]), "2.bias": -np.array([1.0]),
    })
    h = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    gamma = np.array([-1, -1, 1, 1])          # -1 when the signs agree, +1 when they differ
    out = net(ag.tensor(h)).data.ravel()
    np.testing.assert_array_equal(np.sign(out), gamma)
    np.testing.assert_allclose(out, gamma)    # the outputs are exactly +-1


# ---- dtype= and the dtype of a batch -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32", "float64"])
def test_linear_and_batchnorm_take_a_dtype(dtype):
    ag.manual_seed(0)
    layer, bn = nn.Linear(3, 2, dtype=dtype), nn.BatchNorm1d(2, dtype=dtype)
    assert {t.dtype for t in (layer.weight, layer.bias)} == {np.dtype(dtype)}
    assert {t.dtype for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var)} == {np.dtype(dtype)}
    out = bn(layer(ag.randn(5, 3).astype(dtype)))
    assert out.dtype == np.dtype(dtype)
    out.sum().backward()
    assert layer.weight.grad.dtype == np.dtype(dtype)


def test_linear_dtype_defaults_to_the_default_dtype_and_draws_the_same_weights():
    ag.manual_seed(0)
    w64 = nn.Linear(4, 3, dtype=np.float64).weight.data
    ag.manual_seed(0)
    w32 = nn.Linear(4, 3, dtype=np.float32).weight.data
    np.testing.assert_array_equal(w32, w64.astype(np.float32))       # one draw, two roundings
    old = ag.get_default_dtype()
    ag.set_default_dtype(np.float32)
    try:
        assert nn.Linear(2, 2).weight.dtype == np.float32 and nn.BatchNorm1d(2).running_var.dtype == np.float32
    finally:
        ag.set_default_dtype(old)


@pytest.mark.parametrize("bad", ["int32", np.bool_, "no such dtype"])
def test_a_non_float_dtype_is_refused(bad):
    with pytest.raises(TypeError, match="Linear.*dtype"):
        nn.Linear(2, 2, dtype=bad)
    with pytest.raises(TypeError, match="BatchNorm1d.*dtype"):
        nn.BatchNorm1d(2, dtype=bad)


@pytest.mark.parametrize("layer_dtype, batch_dtype", [(np.float64, np.float32), (np.float32, np.float64)])
@needs("torch")
def test_a_batch_of_another_float_dtype_raises_naming_both(layer_dtype, batch_dtype):
    """Never silently in between: PyTorch refuses too (mat1 and mat2 must have the same dtype)."""
    layer = nn.Linear(3, 2, dtype=layer_dtype)
    for batch in (ag.randn(4, 3).astype(batch_dtype), np.ones((4, 3), dtype=batch_dtype)):
        with pytest.raises(TypeError) as info:
            layer(batch)
        assert isinstance(info.value, RuntimeError)                      # what a PyTorch user catches
        message = str(info.value)
        assert str(np.dtype(layer_dtype)) in message and str(np.dtype(batch_dtype)) in message
        assert "Linear(3, 2)" in message
    t = torch.nn.Linear(3, 2, dtype=torch.from_numpy(np.zeros(0, layer_dtype)).dtype)
    with pytest.raises(RuntimeError, match="dtype"):
        t(torch.ones(4, 3, dtype=torch.from_numpy(np.zeros(0, batch_dtype)).dtype))


def test_integer_batches_and_lists_still_work():
    layer = nn.Linear(2, 1, dtype=np.float64)
    assert layer(np.array([[1, 2]])).dtype == np.float64
    assert layer([[1.0, 2.0]]).dtype == np.float64
