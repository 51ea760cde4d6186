"""PyTorch's layout: Linear weights (out, in), so PyTorch's state dicts and files load as they are,
and the files of chaingrad 0.1 ((in, out) weights) still load, by their markers or by layout="in_out".

Every model here has a square layer: there the two layouts have the same shape, and only the
numbers tell a wrong layout apart (PyTorch's outputs, or those recorded when a file was written).
"""
import contextlib
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from optional import need

torch = need("torch")           # the reference for every comparison here
import safetensors.torch  # noqa: E402  (needs torch)

from chaingrad import autograd as ag
from chaingrad import checkpoint, interop, nn
from chaingrad.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "layout_0_1"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
TOL = dict(rtol=1e-10, atol=1e-12)


# ---- PyTorch's models, and ours of the same architecture ----------------------------------------

def _torch_model(kind):
    torch.manual_seed(0)
    if kind == "square":      # the case no shape check can catch
        model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4))
    else:
        model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.Tanh(),
                                    torch.nn.Linear(5, 5, bias=False), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    model.double()
    model.train()(torch.randn(16, 4, dtype=torch.float64))     # BatchNorm's statistics and counter move
    return model.eval()


def _our_model(kind):
    ag.manual_seed(1)         # other weights than PyTorch's, so a load that does nothing is seen
    if kind == "square":
        return nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4)).eval()
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Linear(5, 5, bias=False), nn.ReLU(),
                         nn.Linear(5, 2)).eval()


def _assert_computes_like(ours, theirs):
    """Same outputs, input gradient and parameter gradients for one batch and one weighted sum."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 4))
    x, tx = ag.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL)
    R = rng.normal(size=out.shape)
    (out * ag.tensor(R)).sum().backward()
    (tout * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL, err_msg="input gradient")
    tparams = dict(theirs.named_parameters())
    assert sorted(name for name, _ in ours.named_parameters()) == sorted(tparams)
    for name, p in ours.named_parameters():
        assert p.shape == tuple(tparams[name].shape), name
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), **TOL, err_msg=name)


@pytest.fixture(params=["square", "non-square"])
def kind(request):
    return request.param


@contextlib.contextmanager
def _no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_linear_weight_is_out_by_in_and_computes_x_wt_plus_b():
    layer = nn.Linear(3, 4)
    assert layer.weight.shape == (4, 3) == tuple(torch.nn.Linear(3, 4).weight.shape)
    x = ag.randn(5, 3)
    np.testing.assert_allclose(layer(x).data, x.data @ layer.weight.data.T + layer.bias.data, **TOL)
    assert layer(x).op == "linear"        # one op, not transpose + matmul + add


def test_a_safetensors_torch_file_loads_as_it_is(kind, tmp_path):
    theirs = _torch_model(kind)
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(theirs.state_dict(), str(path))
    ours = _our_model(kind)
    with _no_warning():                   # no chaingrad marker: PyTorch's layout, no note
        assert nn.load(path, ours) is ours
    _assert_computes_like(ours, theirs)


def test_our_file_loads_into_pytorch(kind, tmp_path):
    """The other way: nn.save's file read by safetensors.torch fills the PyTorch model."""
    ours, theirs = _our_model(kind), _torch_model(kind)
    for m in ours.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.train()(ag.randn(8, 5))
            m.eval()
    path = tmp_path / "ours.safetensors"
    nn.save(ours, path)
    missing, unexpected = theirs.load_state_dict(safetensors.torch.load_file(str(path)), strict=False)
    assert unexpected == [] and all(k.endswith("num_batches_tracked") for k in missing)
    _assert_computes_like(ours, theirs)


@pytest.mark.parametrize("values", ["numpy", "torch", "torch parameters"])
def test_load_state_dict_of_a_pytorch_state_dict(kind, values):
    theirs = _torch_model(kind)
    state = {"numpy": lambda: {k: v.numpy() for k, v in theirs.state_dict().items()},
             "torch": theirs.state_dict,           # torch tensors, through the array protocol
             "torch parameters": lambda: {**theirs.state_dict(), **dict(theirs.named_parameters())}}[values]()
    ours = _our_model(kind)
    ours.load_state_dict(state)           # strict; num_batches_tracked is accepted
    _assert_computes_like(ours, theirs)


def test_interop_both_ways(kind):
    theirs = _torch_model(kind)
    ours = interop.from_torch(theirs)
    _assert_computes_like(ours, theirs)
    back = interop.to_torch(_our_model(kind))
    _assert_computes_like(_our_model(kind), back)
    for key, value in back.state_dict().items():      # the same arrays: no transpose on the way
        if not key.endswith("num_batches_tracked"):
            np.testing.assert_array_equal(value.numpy(), _our_model(kind).state_dict()[key])


def test_interop_state_dict_converters_keep_the_layout():
    theirs = _torch_model("square")
    converted = interop.state_dict_from_torch(theirs.state_dict())
    np.testing.assert_array_equal(converted["0.weight"], theirs[0].weight.detach().numpy())
    again = interop.state_dict_to_torch(converted)
    assert torch.equal(again["0.weight"], theirs[0].weight.detach())


# ---- what nn.save records, and how nn.load reads a file -----------------------------------------

def test_every_file_records_format_and_layout(tmp_path):
    import chaingrad
    for name in ("m.safetensors", "m.npz"):
        nn.save(_our_model("square"), tmp_path / name, metadata={"note": "kept"})
        assert nn.serialization.load_record(tmp_path / name) == {
            "chaingrad.format": "2", "chaingrad.layout": "out_in", "chaingrad.version": chaingrad.__version__}
        assert nn.load_metadata(tmp_path / name) == {"note": "kept"}
        ours = _our_model("square")
        with _no_warning():
            nn.load(tmp_path / name, ours)
        np.testing.assert_array_equal(ours[0].weight.data, _our_model("square")[0].weight.data)


def test_a_recorded_layout_is_not_overridden(tmp_path):
    path = tmp_path / "m.safetensors"
    nn.save(_our_model("square"), path)
    with pytest.raises(ValueError, match="records its layout, 'out_in'; layout='in_out' contradicts it"):
        nn.load(path, layout="in_out")
    assert nn.load(path, layout="out_in").keys() == _our_model("square").state_dict().keys()


@pytest.mark.parametrize("record, words", [
    ({"chaingrad.format": "3", "chaingrad.layout": "out_in"}, "format '3'"),
    ({"chaingrad.format": "2", "chaingrad.layout": "sideways"}, "layout 'sideways'"),
])
def test_a_record_of_a_newer_chaingrad_is_refused(tmp_path, record, words):
    from safetensors.numpy import save_file
    path = tmp_path / "m.safetensors"
    save_file({"0.weight": np.zeros((4, 4))}, str(path), metadata=record)
    with pytest.raises(ValueError, match=words):
        nn.load(path)


def test_the_record_keys_are_reserved_and_layout_is_checked(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        nn.save(_our_model("square"), tmp_path / "m.safetensors", metadata={"chaingrad.layout": "in_out"})
    nn.save(_our_model("square"), tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="layout must be None"):
        nn.load(tmp_path / "m.safetensors", layout="torch")


def test_an_unmarked_npz_is_chaingrad_0_1s(tmp_path):
    """PyTorch's tools write no .npz, and chaingrad 0.1 wrote every one: (in, out), converted with a note.
    layout='out_in' says otherwise for a file someone wrote with np.savez."""
    ours = _our_model("square")
    path = tmp_path / "plain.npz"
    np.savez(path, **{k: v.T if v.ndim == 2 else v for k, v in ours.state_dict().items()})
    with pytest.warns(nn.LayoutWarning, match=r"\(in, out\).*transposed 2 of them"):
        state = nn.load(path)
    np.testing.assert_array_equal(state["0.weight"], ours[0].weight.data)
    with _no_warning():
        state = nn.load(path, layout="out_in")
    np.testing.assert_array_equal(state["0.weight"], ours[0].weight.data.T)


def test_with_a_model_only_its_linear_weights_are_transposed(tmp_path):
    """A 2-D ``weight`` of another module (one of the user's) keeps its layout."""
    class Table(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(np.arange(6.0).reshape(3, 2))

    model = nn.Sequential(nn.Linear(2, 3), Table())
    path = tmp_path / "old.npz"
    np.savez(path, **{"0.weight": model[0].weight.data.T, "0.bias": model[0].bias.data,
                      "1.weight": model[1].weight.data})
    fresh = nn.Sequential(nn.Linear(2, 3), Table())
    with pytest.warns(nn.LayoutWarning, match="transposed 1 of them"):
        nn.load(path, fresh)
    np.testing.assert_array_equal(fresh[0].weight.data, model[0].weight.data)
    np.testing.assert_array_equal(fresh[1].weight.data, model[1].weight.data)


# ---- the files chaingrad 0.1 wrote (tests/fixtures/layout_0_1, see make_fixtures.py there) ----------

def _plain_model():
    record = EXPECTED["plain"]
    return nn.MLP(record["sizes"], activation=record["activation"]).eval()


def _assert_recorded_outputs(model):
    record = EXPECTED["plain"]
    with ag.no_grad():
        out = model(ag.tensor(record["inputs"])).data
    np.testing.assert_allclose(out, record["outputs"], rtol=1e-12, atol=1e-12)
    X, y = nn.data.make_moons(200, noise=0.1, seed=0)
    with ag.no_grad():
        assert (model(X).data.argmax(1) == y).mean() == record["accuracy"]


def test_old_plain_safetensors_file_needs_layout_in_out():
    """No marker at all: read as PyTorch's it does not fit, and the error says what to do."""
    model = _plain_model()
    with pytest.raises(ValueError) as info:
        nn.load(FIXTURES / "plain.safetensors", model)
    message = str(info.value)
    assert "layout='in_out'" in message and "transposed" in message and "chaingrad.interop" in message
    with _no_warning():                    # the caller said what the file holds
        nn.load(FIXTURES / "plain.safetensors", model, layout="in_out")
    _assert_recorded_outputs(model)


def test_old_plain_npz_file_loads_with_a_note():
    model = _plain_model()
    with pytest.warns(nn.LayoutWarning, match="plain.npz has chaingrad 0.1's \\(in, out\\) Linear weights"):
        nn.load(FIXTURES / "plain.npz", model)
    _assert_recorded_outputs(model)


@pytest.mark.parametrize("name", ["cli_run/model.safetensors", "cli_run_npz/model.npz"])
def test_old_cli_model_files_evaluate_to_the_recorded_accuracy(name, capsys):
    assert main(["evaluate", str(FIXTURES / name)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == EXPECTED["evaluate"][name]
    [note] = captured.err.strip().splitlines()          # one line, on stderr
    assert note.startswith("chaingrad: note: nn.load:") and "__chaingrad__ record" in note
    assert "transposed 3 of them" in note
    model, meta = checkpoint.load(str(FIXTURES / name))
    capsys.readouterr()
    assert model.layers[0].weight.shape == (4, 2) and meta["sizes"] == [2, 4, 4, 2]


def test_a_new_cli_model_file_records_the_layout_and_loads_without_a_note(tmp_path, capsys):
    model, meta = checkpoint.load(str(FIXTURES / "cli_run" / "model.safetensors"))
    path = tmp_path / "model.safetensors"
    checkpoint.save(model, meta, str(path))
    capsys.readouterr()
    assert nn.serialization.load_record(path)["chaingrad.layout"] == "out_in"
    again, _ = checkpoint.load(str(path))
    assert capsys.readouterr().err == ""
    for key, value in again.state_dict().items():
        np.testing.assert_array_equal(value, model.state_dict()[key], err_msg=key)
    assert main(["evaluate", str(path)]) == 0
    assert capsys.readouterr().out.strip() == EXPECTED["evaluate"]["cli_run/model.safetensors"]
