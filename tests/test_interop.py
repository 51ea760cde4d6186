"""chaingrad.interop: models to and from PyTorch compute the same outputs, gradients and running statistics,
in training and evaluation mode, in float32 and float64; the converters and their errors."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import interop, nn
from optional import need

torch = need("torch")

REPO = Path(__file__).resolve().parents[1]
DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def _ours(kind, dtype, dropout):
    """Our models: an MLP (the `layers.` prefix), one with batch norm, and a Sequential of every layer."""
    ag.manual_seed(0)
    if kind == "mlp":
        model = nn.MLP([3, 6, 5, 2], activation="tanh")
    elif kind == "mlp-bn":
        model = nn.MLP([3, 6, 2], batchnorm=True)
    else:
        model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 4, bias=False), nn.ELU(0.5),
                              nn.BatchNorm1d(4, eps=1e-3, momentum=0.3), nn.Sigmoid(), nn.Dropout(dropout),
                              nn.Linear(4, 3), nn.Softplus(), nn.Identity(), nn.Linear(3, 3), nn.ReLU(),
                              nn.Linear(3, 3), nn.Softmax(axis=1), nn.Linear(3, 3), nn.LogSoftmax(axis=-1))
    model.to(dtype)
    model(ag.randn(7, 3).astype(dtype))         # running statistics move away from 0 and 1
    return model


def _theirs(dtype, dropout):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5, momentum=0.2), torch.nn.Tanh(), torch.nn.Dropout(dropout),
        torch.nn.Linear(5, 4, bias=False), torch.nn.LeakyReLU(0.1), torch.nn.Linear(4, 4), torch.nn.ELU(),
        torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 3), torch.nn.Softplus(),
        torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Identity(), torch.nn.Linear(3, 2),
        torch.nn.LogSoftmax(dim=1))
    model.to(torch.from_numpy(np.zeros(0, dtype)).dtype)
    model(torch.randn(9, 3, dtype=model[0].weight.dtype))
    return model


def _torch_name(name, ours):
    return name[len("layers."):] if isinstance(ours, nn.MLP) else name


def _run_both(ours, theirs, dtype, train):
    """Forward and backward of the same batch and the same weighted sum in both; returns what to compare."""
    ours.train(train), theirs.train(train)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 3)).astype(dtype)
    x = ag.tensor(X, requires_grad=True)
    out = ours(x)
    R = rng.normal(size=out.shape).astype(dtype)
    (out * ag.tensor(R)).sum().backward()
    tx = torch.from_numpy(X.copy()).requires_grad_()
    tout = theirs(tx)
    (tout * torch.from_numpy(R)).sum().backward()
    return (x, out), (tx, tout)


def _assert_same(ours, theirs, dtype, train):
    (x, out), (tx, tout) = _run_both(ours, theirs, dtype, train)
    tol = TOL[dtype]
    assert out.dtype == dtype and tout.dtype == torch.from_numpy(np.zeros(0, dtype)).dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **tol, err_msg="input gradient")
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = tparams[_torch_name(name, ours)]
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), **tol, err_msg=name)     # same layout
    # running statistics moved the same way (training mode) or not at all (evaluation mode)
    tstate = theirs.state_dict()
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.data, tstate[_torch_name(name, ours)].numpy(), **tol, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("kind", ["mlp", "mlp-bn", "every-layer"])
def test_to_torch_computes_the_same(kind, train, dtype):
    ours = _ours(kind, dtype, dropout=0.0 if train else 0.4)      # training-mode dropout is random
    ours.train(train)
    theirs = interop.to_torch(ours)
    assert isinstance(theirs, torch.nn.Sequential) and theirs.training == train
    assert {p.dtype for p in theirs.parameters()} == {torch.from_numpy(np.zeros(0, dtype)).dtype}
    _assert_same(ours, theirs, dtype, train)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_from_torch_computes_the_same(train, dtype):
    theirs = _theirs(dtype, dropout=0.0 if train else 0.4)
    theirs.train(train)
    ours = interop.from_torch(theirs)
    assert isinstance(ours, nn.Sequential) and ours.training == train
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert {p.dtype for p in ours.parameters()} == {np.dtype(dtype)}
    _assert_same(ours, theirs, dtype, train)


def test_dropout_in_training_mode_drops_in_both():
    ours = nn.Sequential(nn.Linear(50, 50), nn.Dropout(0.5)).train()
    theirs = interop.to_torch(ours)
    x = np.ones((4, 50))
    assert (ours(ag.tensor(x)).data == 0).mean() > 0.2
    assert (theirs(torch.from_numpy(x)).detach().numpy() == 0).mean() > 0.2
    assert theirs[1].p == 0.5


def test_round_trips_give_back_the_same_state():
    ours = _ours("mlp-bn", np.float64, 0.0)
    back = interop.from_torch(interop.to_torch(ours))
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[_torch_name(name, ours)], value, err_msg=name)
    theirs = _theirs(np.float32, 0.1)
    again = interop.to_torch(interop.from_torch(theirs))
    for name, value in theirs.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            assert torch.equal(again.state_dict()[name], value), name


def test_the_copies_share_no_memory():
    ours = nn.Sequential(nn.Linear(2, 3))
    theirs = interop.to_torch(ours)
    before = ours[0].weight.data.copy()
    with torch.no_grad():
        theirs[0].weight.add_(1.0)
    np.testing.assert_array_equal(ours[0].weight.data, before)


# ---- the converters -----------------------------------------------------------------------------

def test_state_dict_to_torch_loads_strictly_into_the_torch_model():
    ours = _ours("mlp-bn", np.float64, 0.0)
    converted = interop.state_dict_to_torch(ours.state_dict(), prefix="layers.")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 6, bias=False), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                 torch.nn.Linear(6, 2)).double()
    assert list(converted) == list(theirs.state_dict())          # num_batches_tracked included, in order
    theirs.load_state_dict(converted)                            # strict
    assert tuple(converted["0.weight"].shape) == (6, 3) == ours.layers[0].weight.shape      # the same layout
    assert converted["1.num_batches_tracked"].item() == 0
    with pytest.raises(KeyError, match="prefix"):
        interop.state_dict_to_torch(ours.state_dict(), prefix="net.")


def test_state_dict_from_torch_loads_into_an_mlp():
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 6, bias=False), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                                 torch.nn.Linear(6, 2)).double()
    theirs(torch.randn(5, 3, dtype=torch.float64))
    converted = interop.state_dict_from_torch(theirs.state_dict(), prefix="layers.")
    assert not any("num_batches_tracked" in k for k in converted)
    assert all(isinstance(v, np.ndarray) for v in converted.values())
    ours = nn.MLP([3, 6, 2], batchnorm=True)
    ours.load_state_dict(converted)                              # strict: every key fits
    np.testing.assert_array_equal(ours.layers[0].weight.data, theirs[0].weight.detach().numpy())
    np.testing.assert_array_equal(ours.layers[1].running_mean.data, theirs[1].running_mean.numpy())


# ---- what has no counterpart ------------------------------------------------------------------------

class Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize("module, name", [(nn.ScaledTanh(), "ScaledTanh"), (nn.Step(), "Step"),
                                          (nn.Sequential(nn.Linear(2, 2), Custom()), "Custom")])
def test_to_torch_refuses_modules_without_a_counterpart(module, name):
    with pytest.raises(TypeError, match=f"to_torch: {name} has no counterpart"):
        interop.to_torch(module)


@pytest.mark.parametrize("module, words", [
    (torch.nn.Conv1d(1, 1, 3), "Conv1d has no counterpart"),
    (torch.nn.GELU(), "GELU has no counterpart"),
    (torch.nn.BatchNorm1d(3, momentum=None), "momentum=None"),
    (torch.nn.BatchNorm1d(3, track_running_stats=False), "track_running_stats=False"),
    (torch.nn.Softplus(beta=2.0), "beta=2.0"),
])
def test_from_torch_refuses_modules_without_a_counterpart(module, words):
    with pytest.raises(TypeError, match=words):
        interop.from_torch(module)


def test_torch_is_imported_only_by_interop_functions():
    code = ("import sys; import chaingrad, chaingrad.interop, chaingrad.cli, chaingrad.train, chaingrad.checkpoint; "
            "from chaingrad import autograd, nn, optim; assert 'torch' not in sys.modules, 'torch imported'; "
            "chaingrad.interop.to_torch(nn.Linear(2, 2)); assert 'torch' in sys.modules; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_readme_example_runs(capsys):
    import re
    page = (REPO / "docs" / "nn.md").read_text()
    [code] = [b for b in re.findall(r"```python\n(.*?)```", page, re.S) if "interop" in b]
    exec(compile(code, "docs/nn.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "True"
