"""Module machinery: registration, names, modes, zero_grad, state_dict / load_state_dict, repr, scopes."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import nn
from optional import needs


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(np.ones(1))
        self.note = "plain attributes are not registered"

    def forward(self, x):
        return self.bn(self.fc(x)).relu() * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.layers = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Dropout(0.5), nn.Linear(4, 2))

    def forward(self, x):
        return self.layers(self.block(x))


def test_parameter_is_a_leaf_tensor_that_owns_its_data():
    a = np.zeros(3)
    p = nn.Parameter(a)
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    p.data[0] = 1.0
    assert a[0] == 0.0                       # a copy
    assert nn.Parameter([1.0, 2.0]).dtype == ag.get_default_dtype()
    assert repr(p).startswith("Parameter containing:")
    assert type(p * 2) is ag.Tensor           # results of ops are plain tensors
    with pytest.raises(TypeError):
        nn.Parameter(np.arange(3))            # integers cannot require grad


def test_named_parameters_children_modules():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
        "layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"]
    assert len(list(net.parameters())) == 9
    assert [n for n, _ in net.named_children()] == ["block", "layers"]
    assert list(net.children()) == [net.block, net.layers]
    assert [n for n, _ in net.named_modules()] == [
        "", "block", "block.fc", "block.bn", "layers", "layers.0", "layers.1", "layers.2", "layers.3"]
    assert list(net.modules())[0] is net
    assert "note" not in dict(net.named_parameters()) and net.block.note.startswith("plain")
    assert [n for n, _ in net.named_buffers()] == ["block.bn.running_mean", "block.bn.running_var"]


def test_shared_modules_and_parameters_appear_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]


def test_attribute_rules():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="nn.Parameter"):
        m.weight = np.zeros((2, 3))
    m.bias = None                      # dropping an optional parameter is allowed
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    del m.weight
    assert list(m.parameters()) == []
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing

    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(1))
    with pytest.raises(AttributeError, match="super"):
        Forgetful()


def test_train_eval_propagate():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none_and_backward_accumulates():
    ag.manual_seed(0)
    net = Net()
    x = ag.randn(6, 3)
    net(x).sum().backward()
    first = net.layers[0].weight.grad.data.copy()
    assert all(p.grad is not None for p in net.parameters())
    net.eval()                                         # deterministic: no dropout, running stats
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net(x).sum().backward()
    g = net.layers[0].weight.grad.data.copy()
    net(x).sum().backward()
    np.testing.assert_allclose(net.layers[0].weight.grad.data, 2 * g)   # accumulates, as PyTorch
    assert first.shape == g.shape


def test_call_opens_a_module_scope():
    net = Net()
    out = net(ag.randn(4, 3))
    scope = out._node.scope
    path = [s.name for s in scope.path()]
    assert path[:3] == ["Net", "Sequential", "Linear"]
    assert all(s.kind == "module" for s in scope.path()[:3])
    assert scope.path()[0].obj is net and scope.path()[2].obj is net.layers[3]
    names = {id(m): n for n, m in net.named_modules()}
    assert names[id(scope.path()[2].obj)] == "layers.3"


def test_state_dict_names_and_snapshot():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == [
        "block.scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
        "block.bn.running_mean", "block.bn.running_var",
        "layers.0.weight", "layers.0.bias", "layers.3.weight", "layers.3.bias"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    before = sd["layers.0.weight"].copy()
    with ag.no_grad():
        net.layers[0].weight -= 1.0
    np.testing.assert_array_equal(sd["layers.0.weight"], before)       # a snapshot, not a view
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]   # PyTorch's names


def test_state_dict_round_trip_in_place():
    ag.manual_seed(0)
    a, b = Net(), Net()
    a(ag.randn(5, 3))                                   # move a's running statistics
    w = b.layers[0].weight                              # an optimizer would hold this reference
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.layers[0].weight is w
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(va, vb, err_msg=k)
    b.load_state_dict({k: ag.tensor(v) for k, v in a.state_dict().items()})   # Tensors work too
    a.eval(), b.eval()
    x = ag.randn(3, 3)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_errors_name_every_problem_and_change_nothing():
    net = Net()
    before = net.state_dict()
    bad = dict(before)
    del bad["layers.0.bias"]
    bad["layers.9.weight"] = np.zeros(3)
    bad["layers.3.weight"] = np.zeros((5, 5))
    bad["block.scale"] = np.full(1, 42.0)               # a valid entry: must NOT be applied
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert "missing keys: 'layers.0.bias'" in msg
    assert "unexpected keys: 'layers.9.weight'" in msg
    assert "'layers.3.weight': expected shape (2, 4), got (5, 5)" in msg
    assert "transposed" not in msg                      # (5, 5) is not (2, 4) transposed
    assert "nothing was changed" in msg
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_load_state_dict_non_strict():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    partial = {"0.weight": np.ones((2, 2)), "extra": np.zeros(1)}
    res = net.load_state_dict(partial, strict=False)
    assert res.missing_keys == ["0.bias", "1.weight", "1.bias"] and res.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(net[0].weight.data, np.ones((2, 2)))
    with pytest.raises(nn.StateDictError, match="mis-shaped"):
        net.load_state_dict({"0.weight": np.ones((3, 3))}, strict=False)   # shapes always count
    with pytest.raises(nn.StateDictError, match="not numbers"):
        net.load_state_dict({**net.state_dict(), "0.bias": np.array(["a", "b"])})


def test_load_state_dict_keeps_dtype():
    net = nn.Linear(2, 2)
    net.load_state_dict({"weight": np.ones((2, 2), dtype=np.float32), "bias": np.zeros(2, dtype=np.int64)})
    assert net.weight.dtype == ag.get_default_dtype() and net.bias.dtype == ag.get_default_dtype()


def test_repr_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(), nn.MLP([3, 2], out_activation="softmax")))
    assert text == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.01)\n"
        "  (2): MLP(\n"
        "    (layers): Sequential(\n"
        "      (0): Linear(in_features=3, out_features=2, bias=True)\n"
        "      (1): Softmax(axis=-1)\n"
        "    )\n"
        "  )\n"
        ")")
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss(reduction='mean')"


def test_sequential_and_modulelist():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    assert seq(ag.randn(4, 2)).shape == (4, 1)
    with pytest.raises(TypeError, match="not an nn.Module"):
        nn.Sequential(lambda x: x)
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    holder = nn.Module()
    holder.blocks = ml
    assert [n for n, _ in holder.named_parameters()] == ["blocks.0.weight", "blocks.0.bias",
                                                          "blocks.1.weight", "blocks.1.bias"]
    assert len(ml) == 2 and ml[1] is list(ml)[1]
    with pytest.raises(NotImplementedError):
        holder(ag.randn(1, 2))


def test_apply_visits_every_module():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 3


def test_nn_never_imports_optim():
    import pathlib
    import re
    for path in pathlib.Path(nn.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+optim\b", text, re.M), path
        assert not re.search(r"def (backward|vjp)\b", text), path      # the engine derives every gradient
        assert ".defvjp(" not in text, path


# ---- to(dtype), float(), double() ------------------------------------------------------------------
class WithCounter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.bn = nn.BatchNorm1d(3)
        self.register_buffer("steps", ag.tensor(np.array([0, 1], dtype=np.int64)))

    def forward(self, x):
        return self.bn(self.fc(x))


@pytest.mark.parametrize("convert, dtype", [(lambda m: m.float(), np.float32), (lambda m: m.double(), np.float64),
                                            (lambda m: m.to(np.float32), np.float32),
                                            (lambda m: m.to("float64"), np.float64)])
def test_to_converts_parameters_buffers_and_gradients_in_place(convert, dtype):
    ag.manual_seed(0)
    m = WithCounter().to(np.float64 if dtype == np.float32 else np.float32)
    m(ag.randn(4, 2).astype(m.fc.weight.dtype)).sum().backward()
    params = list(m.parameters())
    before = {k: v.copy() for k, v in m.state_dict().items()}
    assert convert(m) is m
    assert list(m.parameters()) == params and all(a is b for a, b in zip(m.parameters(), params))
    for name, t in m._state_tensors().items():
        expected = np.int64 if name == "steps" else dtype                 # integer buffers stay integers
        assert t.dtype == expected, name
        np.testing.assert_allclose(t.data, before[name], rtol=1e-6, err_msg=name)
    assert {p.grad.dtype for p in m.parameters()} == {np.dtype(dtype)}
    assert all(isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf for p in m.parameters())


@needs("torch")
def test_to_keeps_an_optimizer_working_and_matches_torch():
    import torch

    from chaingrad import optim
    ag.manual_seed(1)
    m = nn.Sequential(nn.Linear(3, 4, dtype=np.float32), nn.ReLU(), nn.Linear(4, 1, dtype=np.float32))
    opt = optim.SGD(m.parameters(), lr=0.1)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        for (name, p), tp in zip(m.named_parameters(), t.parameters()):
            tp.copy_(torch.from_numpy(p.data.copy()))          # the same layout
    m.double(), t.double()
    x = np.random.default_rng(0).normal(size=(5, 3))
    out = m(ag.tensor(x))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, t(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    opt.zero_grad()
    out.sum().backward()
    opt.step()                                        # the optimizer holds the same, converted Parameters
    assert {p.dtype for p in m.parameters()} == {np.dtype(np.float64)}


def test_to_refuses_what_is_not_a_float_dtype_and_accepts_cpu():
    m = WithCounter()
    assert m.to("cpu") is m
    for bad in ("int32", "cuda", np.int64):
        with pytest.raises(TypeError, match="WithCounter.to"):
            m.to(bad)


def test_load_state_dict_takes_a_pytorch_state_dict_as_it_is():
    """The layouts agree: numpy arrays of a PyTorch state dict load, num_batches_tracked is skipped."""
    m = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    state = dict(m.state_dict())
    state = {k: v + 1.0 for k, v in state.items()}
    state["1.num_batches_tracked"] = np.array(4)
    assert m.load_state_dict(state) == ([], [])                 # strict: nothing missing or unexpected
    np.testing.assert_array_equal(m[0].weight.data, state["0.weight"])
    with pytest.raises(nn.StateDictError, match="unexpected keys: '0.num_batches_tracked'"):
        m.load_state_dict({**state, "0.num_batches_tracked": np.array(4)})    # only BatchNorm has one


def test_a_transposed_weight_is_named_as_such():
    """A weight of the (in, out) layout of chaingrad 0.1: the message says what to do."""
    m = nn.Sequential(nn.Linear(3, 2))
    before = m.state_dict()
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict({"0.weight": np.zeros((3, 2)), "0.bias": np.zeros(2)})
    msg = str(info.value)
    assert "'0.weight': expected shape (2, 3), got (3, 2)" in msg
    assert "transposed" in msg and "layout='in_out'" in msg and "chaingrad.interop" in msg
    np.testing.assert_array_equal(m.state_dict()["0.weight"], before["0.weight"])
