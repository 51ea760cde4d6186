"""PyTorch spellings, and the rule that keeps them apart from numpy's (API.md, issue 11 sec. 3).

numpy spellings keep numpy's meaning, PyTorch spellings get PyTorch's, and a
call that mixes the two where they disagree raises.  Each PyTorch spelling is
checked against torch itself: the value, and the gradient of a weighted sum
of the result.
"""
import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.nn import functional as F
from optional import needs, optional

torch = optional("torch")

RNG = np.random.default_rng(0)
X3 = RNG.standard_normal((2, 3, 4))          # no ties: max/min have one winner per slice
X2 = RNG.standard_normal((3, 4))


def both(data):
    """The same values as a chaingrad leaf and a torch leaf, both requiring grad (float64)."""
    return ag.tensor(data.copy(), requires_grad=True), torch.tensor(data.copy(), requires_grad=True)


def check_against_torch(ours, theirs, data):
    """Value and gradient of ``ours(x)`` agree with ``theirs(torch x)``; tuples compare item by item."""
    x, xt = both(data)
    out, ref = ours(x), theirs(xt)
    outs, refs = (out, ref) if isinstance(ref, tuple) else ((out,), (ref,))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.shape == tuple(r.shape), (o.shape, tuple(r.shape))
        np.testing.assert_allclose(o.data, r.detach().numpy(), rtol=1e-12, atol=1e-12)
    first, first_ref = outs[0], refs[0]
    if first_ref.requires_grad:
        w = RNG.standard_normal(first.shape)
        (first * w).sum().backward()
        (first_ref * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


# (label, chaingrad spelling, the same line in PyTorch, input)
TABLE = [
    ("sum(dim=1)", lambda t: t.sum(dim=1), lambda t: t.sum(dim=1), X3),
    ("sum(dim=(0,2), keepdim=True)", lambda t: t.sum(dim=(0, 2), keepdim=True),
     lambda t: t.sum(dim=(0, 2), keepdim=True), X3),
    ("sum(1, keepdim=True)", lambda t: t.sum(1, keepdim=True), lambda t: t.sum(1, keepdim=True), X3),
    ("mean(dim=-1, keepdim=True)", lambda t: t.mean(dim=-1, keepdim=True),
     lambda t: t.mean(dim=-1, keepdim=True), X3),
    ("max(dim=1)", lambda t: t.max(dim=1), lambda t: tuple(t.max(dim=1)), X3),
    ("max(dim=-1, keepdim=True)", lambda t: t.max(dim=-1, keepdim=True),
     lambda t: tuple(t.max(dim=-1, keepdim=True)), X3),
    ("min(dim=0)", lambda t: t.min(dim=0), lambda t: tuple(t.min(dim=0)), X3),
    ("max() (all)", lambda t: t.max(), lambda t: t.max(), X3),
    ("amax(dim=(0, 2))", lambda t: t.amax(dim=(0, 2)), lambda t: t.amax(dim=(0, 2)), X3),
    ("amin(dim=1, keepdim=True)", lambda t: t.amin(dim=1, keepdim=True),
     lambda t: t.amin(dim=1, keepdim=True), X3),
    ("var(dim=1)", lambda t: t.var(dim=1), lambda t: t.var(dim=1), X3),
    ("std(dim=1)", lambda t: t.std(dim=1), lambda t: t.std(dim=1), X3),
    ("std(dim=None)", lambda t: t.std(dim=None), lambda t: t.std(dim=None), X3),
    ("std(dim=(0,2), keepdim=True)", lambda t: t.std(dim=(0, 2), keepdim=True),
     lambda t: t.std(dim=(0, 2), keepdim=True), X3),
    ("std(dim=1, unbiased=False)", lambda t: t.std(dim=1, unbiased=False),
     lambda t: t.std(dim=1, unbiased=False), X3),
    ("var(dim=0, correction=0)", lambda t: t.var(dim=0, correction=0),
     lambda t: t.var(dim=0, correction=0), X3),
    ("var(correction=2)", lambda t: t.var(correction=2), lambda t: t.var(correction=2), X3),
    ("logsumexp(dim=1)", lambda t: t.logsumexp(dim=1), lambda t: t.logsumexp(dim=1), X3),
    ("logsumexp(dim=1, keepdim=True)", lambda t: t.logsumexp(dim=1, keepdim=True),
     lambda t: t.logsumexp(dim=1, keepdim=True), X3),
    ("softmax(dim=0)", lambda t: t.softmax(dim=0), lambda t: t.softmax(dim=0), X3),
    ("log_softmax(dim=1)", lambda t: t.log_softmax(dim=1), lambda t: t.log_softmax(dim=1), X3),
    ("softmax(1)", lambda t: t.softmax(1), lambda t: t.softmax(1), X3),
    ("argmax(dim=1)", lambda t: t.argmax(dim=1), lambda t: t.argmax(dim=1), X3),
    ("argmax(dim=1, keepdim=True)", lambda t: t.argmax(dim=1, keepdim=True),
     lambda t: t.argmax(dim=1, keepdim=True), X3),
    ("argmin(dim=0)", lambda t: t.argmin(dim=0), lambda t: t.argmin(dim=0), X3),
    ("squeeze(dim=0) on length 2", lambda t: t.squeeze(dim=0), lambda t: t.squeeze(dim=0), X3),
    ("squeeze(dim=1) on length 1", lambda t: t.squeeze(dim=1), lambda t: t.squeeze(dim=1), X3[:, :1]),
    ("unsqueeze(dim=1)", lambda t: t.unsqueeze(dim=1), lambda t: t.unsqueeze(dim=1), X3),
    ("unsqueeze(-1)", lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1), X3),
    ("transpose(0, 1) on 2-D", lambda t: t.transpose(0, 1), lambda t: t.transpose(0, 1), X2),
    ("transpose(0, 2) on 3-D", lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2), X3),
    ("transpose(-1, -2)", lambda t: t.transpose(-1, -2), lambda t: t.transpose(-1, -2), X3),
    ("transpose(dim0=1, dim1=2)", lambda t: t.transpose(dim0=1, dim1=2),
     lambda t: t.transpose(dim0=1, dim1=2), X3),
    ("swapaxes(0, 1)", lambda t: t.swapaxes(0, 1), lambda t: t.swapaxes(0, 1), X3),
    ("permute(2, 0, 1)", lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1), X3),
    ("permute((1, 2, 0))", lambda t: t.permute((1, 2, 0)), lambda t: t.permute((1, 2, 0)), X3),
    ("view(-1, 4)", lambda t: t.view(-1, 4), lambda t: t.view(-1, 4), X3),
    ("view(6, 4)", lambda t: t.view(6, 4), lambda t: t.view(6, 4), X3),
    ("view((4, 6))", lambda t: t.view((4, 6)), lambda t: t.view((4, 6)), X3),
    ("flatten()", lambda t: t.flatten(), lambda t: t.flatten(), X3),
    ("flatten(1)", lambda t: t.flatten(1), lambda t: t.flatten(1), X3),
    ("flatten(0, 1)", lambda t: t.flatten(0, 1), lambda t: t.flatten(0, 1), X3),
    ("expand(2, -1, 4)", lambda t: t.expand(2, -1, 4), lambda t: t.expand(2, -1, 4), X3[:1, :, :1]),
    ("contiguous().view(-1)", lambda t: t.contiguous().view(-1), lambda t: t.contiguous().view(-1), X3),
    ("float()", lambda t: t.float(), lambda t: t.float(), X3),
    ("double()", lambda t: t.float().double(), lambda t: t.float().double(), X3),
    ("to(float32)", lambda t: t.to(np.float32), lambda t: t.to(torch.float32), X3),
    ("to(torch.float32)", lambda t: t.to(torch.float32), lambda t: t.to(torch.float32), X3),
    ("to('cpu')", lambda t: t.to("cpu") * 1, lambda t: t.to("cpu") * 1, X3),
    ("cpu()", lambda t: t.cpu() * 1, lambda t: t.cpu() * 1, X3),
    ("type_as(float32)", lambda t: t.type_as(ag.zeros(1, dtype=np.float32)),
     lambda t: t.type_as(torch.zeros(1, dtype=torch.float32)), X3),
    ("clone()", lambda t: t.clone(), lambda t: t.clone(), X3),
    ("clamp(min=-0.5, max=0.5)", lambda t: t.clamp(min=-0.5, max=0.5), lambda t: t.clamp(min=-0.5, max=0.5), X3),
    ("clamp(min=0)", lambda t: t.clamp(min=0), lambda t: t.clamp(min=0), X3),
    ("clamp(max=0.1)", lambda t: t.clamp(max=0.1), lambda t: t.clamp(max=0.1), X3),
    ("clamp(min=tensor) with ties", lambda t: t.clamp(min=ag.tensor(X3[0, 0])),
     lambda t: t.clamp(min=torch.tensor(X3[0, 0])), X3),
    ("clamp(min=t, max=t)", lambda t: t.clamp(ag.tensor(X3[0, 0]) - 0.3, ag.tensor(X3[1, 1])),
     lambda t: t.clamp(torch.tensor(X3[0, 0]) - 0.3, torch.tensor(X3[1, 1])), X3),
    ("pow(3)", lambda t: t.pow(3), lambda t: t.pow(3), X3),
    ("square()", lambda t: t.square(), lambda t: t.square(), X3),
    ("norm()", lambda t: t.norm(), lambda t: t.norm(), X3),
    ("norm(dim=1, keepdim=True)", lambda t: t.norm(dim=1, keepdim=True), lambda t: t.norm(dim=1, keepdim=True), X3),
    ("norm(p=1, dim=(0, 2))", lambda t: t.norm(p=1, dim=(0, 2)), lambda t: t.norm(p=1, dim=(0, 2)), X3),
    ("norm(p=3, dim=0)", lambda t: t.norm(p=3, dim=0), lambda t: t.norm(p=3, dim=0), X3),
    ("norm(p=inf, dim=-1)", lambda t: t.norm(p=np.inf, dim=-1), lambda t: t.norm(p=float("inf"), dim=-1), X3),
    ("max(other)", lambda t: t.max(ag.tensor(X3[1])), lambda t: t.max(torch.tensor(X3[1])), X3),
    ("min(other)", lambda t: t.min(ag.tensor(X3[1])), lambda t: t.min(torch.tensor(X3[1])), X3),
    ("ag.cat(dim=1)", lambda t: ag.cat([t, t * 2], dim=1), lambda t: torch.cat([t, t * 2], dim=1), X3),
    ("ag.stack(dim=-1)", lambda t: ag.stack([t, t * 2], dim=-1), lambda t: torch.stack([t, t * 2], dim=-1), X3),
    ("ag.softmax(dim=1)", lambda t: ag.softmax(t, dim=1), lambda t: torch.softmax(t, dim=1), X3),
    ("ag.log_softmax(dim=0)", lambda t: ag.log_softmax(t, dim=0), lambda t: torch.log_softmax(t, dim=0), X3),
    ("F.softmax(dim=1)", lambda t: F.softmax(t, dim=1), lambda t: torch.nn.functional.softmax(t, dim=1), X3),
    ("F.log_softmax(dim=1)", lambda t: F.log_softmax(t, dim=1),
     lambda t: torch.nn.functional.log_softmax(t, dim=1), X3),
    ("nn.Softmax(dim=1)", lambda t: nn.Softmax(dim=1)(t), lambda t: torch.nn.Softmax(dim=1)(t), X3),
    ("nn.LogSoftmax(dim=0)", lambda t: nn.LogSoftmax(dim=0)(t), lambda t: torch.nn.LogSoftmax(dim=0)(t), X3),
    # issue 18: methods numpy's ndarray lacks follow PyTorch
    ("split(2)", lambda t: t.split(2, dim=2), lambda t: t.split(2, dim=2), X3),
    ("split([1, 2], dim=1)", lambda t: t.split([1, 2], dim=1), lambda t: t.split([1, 2], dim=1), X3),
    ("chunk(3, dim=-1)", lambda t: t.chunk(3, dim=-1), lambda t: t.chunk(3, dim=-1), X3),
    ("t()", lambda t: t.t(), lambda t: t.t(), X2),
    ("sort(dim=1, descending=True)", lambda t: t.sort(dim=1, descending=True),
     lambda t: tuple(t.sort(dim=1, descending=True)), X3),
    ("sort()", lambda t: t.sort(), lambda t: tuple(t.sort()), X3),
    ("topk(2, dim=1)", lambda t: t.topk(2, dim=1), lambda t: tuple(t.topk(2, dim=1)), X3),
    ("topk(3, largest=False)", lambda t: t.topk(3, largest=False), lambda t: tuple(t.topk(3, largest=False)), X3),
    ("argsort(dim=0, descending=True)", lambda t: t.argsort(dim=0, descending=True),
     lambda t: t.argsort(dim=0, descending=True), X3),
    ("cumsum(dim=1)", lambda t: t.cumsum(dim=1), lambda t: t.cumsum(dim=1), X3),
    ("cumsum(0)", lambda t: t.cumsum(0), lambda t: t.cumsum(0), X3),
    ("prod(dim=2, keepdim=True)", lambda t: t.prod(dim=2, keepdim=True), lambda t: t.prod(dim=2, keepdim=True), X3),
    ("prod()", lambda t: t.prod(), lambda t: t.prod(), X3),
    ("sign() * t", lambda t: t.sign() * t, lambda t: t.sign() * t, X3),
    ("remainder(0.7)", lambda t: t.remainder(0.7), lambda t: t.remainder(torch.tensor(0.7, dtype=t.dtype)), X3),
    ("t % 0.7", lambda t: t % 0.7, lambda t: t % torch.tensor(0.7, dtype=t.dtype), X3),
    ("ag.einsum('bij,bkj->bik')", lambda t: ag.einsum("bij,bkj->bik", t, t),
     lambda t: torch.einsum("bij,bkj->bik", t, t), X3),
    ("ravel()", lambda t: t.ravel(), lambda t: t.ravel(), X3),
]


@pytest.mark.parametrize("ours, theirs, data", [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
@needs("torch")
def test_pytorch_spelling_matches_torch(ours, theirs, data):
    check_against_torch(ours, theirs, data)


def test_the_table_covers_the_issue_list():
    labels = " ".join(row[0] for row in TABLE)
    for name in ("view", "permute", "transpose(0, 2)", "float", "double", "to(", "type_as", "clone", "clamp",
                 "pow", "dim=", "keepdim=", "nn.Softmax(dim", "F.softmax(dim", "ag.cat(dim", "ag.stack(dim"):
        assert name in labels, name


def test_max_with_dim_returns_a_named_tuple_like_torch():
    out = ag.tensor(X2).max(dim=1)
    values, indices = out
    assert out.values is values and out.indices is indices
    assert type(out).__name__ == "max" and type(ag.tensor(X2).min(dim=1)).__name__ == "min"
    assert indices.dtype == np.int64 and not indices.requires_grad


@needs("torch")
def test_max_over_dim_sends_the_gradient_to_the_returned_index_like_torch():
    data = np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]])
    check_against_torch(lambda t: t.max(dim=1), lambda t: tuple(t.max(dim=1)), data)
    x = ag.tensor(data, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0, 0], [0, 1, 0]])


# ---- the same question in both spellings: each keeps its own meaning ----------------------
def test_max_numpy_spelling_gives_values_pytorch_spelling_values_and_indices():
    x = ag.tensor(X2)
    np.testing.assert_array_equal(x.max(axis=1).data, X2.max(axis=1))
    np.testing.assert_array_equal(x.max(1).data, X2.max(axis=1))          # positional: numpy
    np.testing.assert_array_equal(x.max(dim=1).values.data, X2.max(axis=1))
    np.testing.assert_array_equal(x.max(dim=1).indices.data, X2.argmax(axis=1))


def test_max_ties_numpy_spelling_splits_pytorch_spelling_picks_the_index():
    data = np.array([[3.0, 3.0, 1.0]])
    x = ag.tensor(data, requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.5, 0.5, 0.0]])
    y = ag.tensor(data, requires_grad=True)
    y.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", ["std", "var"])
@needs("torch")
def test_std_var_numpy_spelling_ddof0_pytorch_spelling_correction1(name):
    x, xt = ag.tensor(X3), torch.tensor(X3)
    ours = getattr(x, name)
    np.testing.assert_allclose(ours().data, getattr(np, name)(X3))                       # numpy: ddof 0
    np.testing.assert_allclose(ours(1).data, getattr(np, name)(X3, axis=1))              # positional too
    np.testing.assert_allclose(ours(axis=1).data, getattr(np, name)(X3, axis=1))
    np.testing.assert_allclose(ours(axis=1, ddof=1).data, getattr(np, name)(X3, axis=1, ddof=1))
    np.testing.assert_allclose(ours(dim=1).data, getattr(xt, name)(dim=1).numpy())       # PyTorch: 1
    np.testing.assert_allclose(ours(dim=1).data, getattr(np, name)(X3, axis=1, ddof=1))
    np.testing.assert_allclose(ours(keepdim=True).data, getattr(xt, name)(dim=None, keepdim=True).numpy())
    np.testing.assert_allclose(ours(correction=0).data, getattr(np, name)(X3))


def test_squeeze_numpy_raises_on_a_long_axis_pytorch_leaves_it():
    x = ag.tensor(X2)
    with pytest.raises(ValueError):
        x.squeeze(0)
    with pytest.raises(ValueError):
        x.squeeze(axis=0)
    assert x.squeeze(dim=0).shape == (3, 4)
    assert ag.tensor(X3[:, :1]).squeeze(dim=(0, 1)).shape == (2, 4)


def test_transpose_a_tuple_permutes_two_ints_swap():
    x = ag.tensor(X3)
    assert x.transpose((0, 1, 2)).shape == (2, 3, 4)              # numpy: a permutation
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)                # numpy: a permutation
    assert x.transpose().shape == (4, 3, 2)                       # numpy: reversed
    assert x.transpose(0, 1).shape == (3, 2, 4)                   # PyTorch: a swap
    y = ag.tensor(X2)
    np.testing.assert_array_equal(y.transpose((0, 1)).data, X2)   # numpy's identity permutation
    np.testing.assert_array_equal(y.transpose(0, 1).data, X2.T)   # PyTorch's swap


def test_sum_and_mean_spellings_agree():
    x = ag.tensor(X3)
    for name in ("sum", "mean"):
        f = getattr(x, name)
        np.testing.assert_allclose(f(dim=(0, 2), keepdim=True).data, f(axis=(0, 2), keepdims=True).data)
        np.testing.assert_allclose(f(axis=1, keepdim=True).data, f(dim=1, keepdims=True).data)


# ---- never silently in between: what raises ---------------------------------------------------
BOTH_SPELLINGS = [
    ("sum", lambda t: t.sum(axis=0, dim=1)),
    ("mean", lambda t: t.mean(axis=0, dim=1)),
    ("max", lambda t: t.max(axis=0, dim=1)),
    ("min", lambda t: t.min(0, dim=1)),
    ("var", lambda t: t.var(axis=0, dim=1)),
    ("std", lambda t: t.std(axis=0, dim=1)),
    ("logsumexp", lambda t: t.logsumexp(axis=0, dim=1)),
    ("softmax", lambda t: t.softmax(axis=0, dim=1)),
    ("log_softmax", lambda t: t.log_softmax(0, dim=1)),
    ("argmax", lambda t: t.argmax(axis=0, dim=1)),
    ("squeeze", lambda t: t.squeeze(axis=0, dim=1)),
    ("unsqueeze", lambda t: t.unsqueeze(0, dim=1)),
    ("cat", lambda t: ag.cat([t, t], axis=1, dim=2)),
    ("stack", lambda t: ag.stack([t, t], axis=1, dim=2)),
    ("softmax", lambda t: ag.softmax(t, axis=0, dim=1)),
    ("softmax", lambda t: F.softmax(t, axis=0, dim=1)),
    ("Softmax", lambda t: nn.Softmax(axis=0, dim=1)),
    ("LogSoftmax", lambda t: nn.LogSoftmax(axis=0, dim=1)),
    ("sum", lambda t: t.sum(dim=1, keepdims=True, keepdim=True)),
]


@pytest.mark.parametrize("op, call", BOTH_SPELLINGS, ids=[f"{op}-{i}" for i, (op, _) in enumerate(BOTH_SPELLINGS)])
def test_both_spellings_of_one_argument_raise(op, call):
    with pytest.raises(TypeError, match=rf"^{op}: got both .*numpy spelling.*PyTorch spelling"):
        call(ag.tensor(X3, requires_grad=True))


MIXED = [
    ("max", lambda t: t.max(1, keepdim=True)),
    ("max", lambda t: t.max(axis=1, keepdim=True)),
    ("min", lambda t: t.min(dim=1, keepdims=True)),
    ("std", lambda t: t.std(dim=1, ddof=1)),
    ("std", lambda t: t.std(1, correction=1)),
    ("var", lambda t: t.var(axis=1, unbiased=True)),
    ("var", lambda t: t.var(keepdims=True, correction=0)),
]


@pytest.mark.parametrize("op, call", MIXED, ids=[f"{op}-{i}" for i, (op, _) in enumerate(MIXED)])
def test_mixing_dialects_where_they_disagree_raises(op, call):
    with pytest.raises(TypeError, match=rf"^{op}: .*numpy's spelling.*PyTorch's.*means different things"):
        call(ag.tensor(X3))


@pytest.mark.parametrize("call, message", [
    (lambda t: t.max(dim=(0, 1)), r"max\(dim=...\): dim must be one int"),
    (lambda t: t.max(dim=None), r"max\(dim=...\): dim must be one int"),
    (lambda t: t.max(keepdim=True), r"max\(dim=...\): dim must be one int"),
    (lambda t: t.logsumexp(), r"logsumexp: needs the axis"),
    (lambda t: t.unsqueeze(), r"unsqueeze: needs the position"),
    (lambda t: t.view(np.float32), r"view\(.*float32.*\): reinterpreting the bits"),
    (lambda t: t.view("float16"), r"view\(float16\): reinterpreting the bits"),
    (lambda t: t.clamp(), r"clamp: at least one of min= and max="),
    (lambda t: t.to("cuda"), r"to\('cuda'\): expected a dtype, a tensor or 'cpu'"),
    (lambda t: t.std(dim=1, correction=1, unbiased=True), r"std: got both correction= and unbiased="),
    (lambda t: t.transpose(0, dim1=1), r"transpose: pass both dim0= and dim1="),
    (lambda t: ag.from_numpy([1.0, 2.0]), r"from_numpy: expected a numpy ndarray, got list"),
    (lambda t: ag.randn_like(ag.tensor([1, 2])), r"randn_like: random values need a floating dtype"),
])
def test_pytorch_spellings_that_cannot_be_answered_raise_typeerror(call, message):
    with pytest.raises(TypeError, match=message):
        call(ag.tensor(X3))


def test_permute_must_name_every_axis_once():
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0, 1\) must name each of the 3 axes"):
        ag.tensor(X3).permute(0, 0, 1)
    with pytest.raises(ValueError, match="permute"):
        ag.tensor(X3).permute(1, 0)


def test_size_is_numpys_attribute_so_torch_size_call_raises():
    # ``t.size`` is numpy's element count (API.md); PyTorch's ``t.size()`` raises, never a wrong number.
    t = ag.tensor(X3)
    assert t.size == 24 and t.numel() == 24 and t.dim() == 3
    with pytest.raises(TypeError, match=r"t.size is numpy's element count \(24\), not PyTorch's size\(\): use t.shape"):
        t.size()


# ---- in-place methods: the Tensor's own in-place mechanism, version-counted ----------------------
@pytest.mark.parametrize("name, args, expected", [
    ("add_", (2.0,), [3.0, 4.0]), ("add_", (ag.tensor([1.0, 1.0]),), [2.0, 3.0]),
    ("add_", (ag.tensor([1.0, 1.0]), ), [2.0, 3.0]), ("sub_", (1.0,), [0.0, 1.0]),
    ("mul_", (3.0,), [3.0, 6.0]), ("div_", (ag.tensor([2.0, 4.0]),), [0.5, 0.5]),
    ("zero_", (), [0.0, 0.0]), ("fill_", (7.0,), [7.0, 7.0]),
])
@needs("torch")
def test_inplace_methods_change_the_values_and_count_a_version(name, args, expected):
    t = ag.tensor([1.0, 2.0])
    before = t._version
    assert getattr(t, name)(*args) is t
    np.testing.assert_array_equal(t.data, expected)
    assert t._version == before + 1
    ref = torch.tensor([1.0, 2.0], dtype=torch.float64)
    getattr(ref, name)(*[torch.tensor(a.data) if isinstance(a, ag.Tensor) else a for a in args])
    np.testing.assert_array_equal(t.data, ref.numpy())


def test_add_and_sub_take_alpha_like_torch():
    p, g = ag.tensor([1.0, 2.0]), ag.tensor([10.0, 20.0])
    p.add_(g, alpha=-0.1)
    np.testing.assert_allclose(p.data, [0.0, 0.0])
    p.sub_(g, alpha=0.5)
    np.testing.assert_allclose(p.data, [-5.0, -10.0])


def test_inplace_on_a_leaf_that_requires_grad_raises_unless_no_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place add_ on a tensor that requires grad"):
        w.add_(1.0)
    with ag.no_grad():
        w.add_(1.0).mul_(2.0)
    np.testing.assert_array_equal(w.data, [4.0, 6.0])


def test_inplace_change_of_a_saved_value_is_caught_by_backward():
    w, c = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0, 4.0])
    y = (w * c).sum()                  # mul saved c for w's gradient
    c.mul_(2.0)
    with pytest.raises(RuntimeError):
        y.backward()


def test_inplace_cannot_cast_float_into_int():
    t = ag.tensor(np.array([1, 2]))
    with pytest.raises(TypeError):
        t.add_(0.5)


def test_clone_owns_its_memory_and_stays_in_the_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.op == "clone" and not np.shares_memory(y.data, x.data)
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    c = ag.tensor([1.0, 2.0])
    d = c.clone()
    d.add_(1.0)
    np.testing.assert_array_equal(c.data, [1.0, 2.0])


def test_dtype_conversions_flow_the_gradient_back_in_the_input_dtype():
    x = ag.tensor(X2, requires_grad=True)
    (x.float() * 2).sum().backward()
    assert x.float().dtype == np.float32 and x.grad.dtype == np.float64
    assert x.half().dtype == np.float16 and x.long().dtype == np.int64 and x.int().dtype == np.int32
    assert x.bool().dtype == np.bool_ and not x.long().requires_grad


@needs("torch")
def test_plain_python_answers():
    t = ag.tensor(X2)
    assert t.tolist() == X2.tolist() and isinstance(t.tolist()[0][0], float)
    assert ag.tensor(3.5).tolist() == 3.5
    assert t.numel() == 12 and t.dim() == 2 and t.contiguous() is t and t.cpu() is t
    loss = ag.tensor([0.25, 0.5]).sum()
    assert f"{loss:.3f}" == f"{torch.tensor([0.25, 0.5]).sum():.3f}" == "0.750"
    with pytest.raises(TypeError):
        f"{t:.3f}"                      # only a 0-d tensor is a number (PyTorch raises too)


# ---- creation functions against torch ------------------------------------------------------
@needs("torch")
def test_from_numpy_shares_memory_and_keeps_the_dtype():
    a = np.arange(3, dtype=np.float32)
    t = ag.from_numpy(a)
    assert t.dtype == np.float32
    a[0] = 9.0
    assert t.data[0] == 9.0
    assert ag.from_numpy(np.arange(3)).dtype == torch.from_numpy(np.arange(3)).numpy().dtype
    assert ag.from_numpy(np.array(2.5)).item() == 2.5


@pytest.mark.parametrize("ours, theirs", [
    (lambda: ag.full((2, 3), 1.5), lambda: torch.full((2, 3), 1.5)),
    (lambda: ag.full([2], 7, dtype=np.int64), lambda: torch.full([2], 7)),
    (lambda: ag.full((2,), True), lambda: torch.full((2,), True)),
    (lambda: ag.eye(3), lambda: torch.eye(3)),
    (lambda: ag.eye(2, 4), lambda: torch.eye(2, 4)),
    (lambda: ag.linspace(0, 1, 5), lambda: torch.linspace(0, 1, 5)),
    (lambda: ag.linspace(-2, 2, 1), lambda: torch.linspace(-2, 2, 1)),
    (lambda: ag.full_like(ag.tensor(X2), 0.25), lambda: torch.full_like(torch.tensor(X2), 0.25)),
    (lambda: ag.full_like(ag.tensor([1, 2]), 4), lambda: torch.full_like(torch.tensor([1, 2]), 4)),
])
@needs("torch")
def test_creation_functions_match_torch(ours, theirs):
    out, ref = ours(), theirs()
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-6)
    if ref.dtype != torch.float32:       # torch's default float dtype is float32, ours float64
        assert out.dtype == ref.numpy().dtype


@needs("torch")
def test_full_of_a_python_int_is_int64_as_in_numpy_and_torch():
    assert ag.full((2,), 3).dtype == np.int64 == torch.full((2,), 3).numpy().dtype
    assert ag.full((2,), 3.0).dtype == np.float64
    assert ag.full((2,), 3, requires_grad=True).dtype == np.float64     # as ag.tensor(3, requires_grad=True)
    assert ag.full((2,), 3, dtype=np.int32).dtype == np.int32
    assert ag.full((2,), 3, dtype=torch.float32).dtype == np.float32


def test_empty_and_random_like():
    assert ag.empty(2, 3).shape == (2, 3) and ag.empty((4,), dtype=np.float32).dtype == np.float32
    like = ag.tensor(X2.astype(np.float32))
    for fn in (ag.randn_like, ag.rand_like):
        ag.manual_seed(3)
        a = fn(like)
        ag.manual_seed(3)
        b = fn(like, requires_grad=True)
        assert a.shape == (3, 4) and a.dtype == np.float32 and b.requires_grad
        np.testing.assert_array_equal(a.data, b.data)
    assert 0 <= ag.rand_like(like).data.min() and ag.rand_like(like).data.max() < 1
    assert ag.eye(2, requires_grad=True).requires_grad


def test_nn_softmax_modules_accept_dim():
    assert nn.Softmax(dim=0).axis == 0 and nn.LogSoftmax(dim=1).axis == 1
    assert nn.Softmax(1).axis == 1 and nn.Softmax().axis == -1


def test_the_readme_spellings_section_runs(capsys):
    import re
    from pathlib import Path
    page = (Path(__file__).resolve().parent.parent / "docs" / "spellings.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "docs/spellings.md", "exec"), {})
    assert "np.cumprod on a Tensor that requires grad" in capsys.readouterr().out


@pytest.mark.parametrize("f", [
    lambda t: t.max(dim=1).values ** 2, lambda t: t.std(dim=1), lambda t: t.clone() ** 3,
    lambda t: t.clamp(min=ag.tensor(np.full(4, 0.1))) ** 2, lambda t: t.permute(1, 0) @ t,
], ids=["max(dim)", "std(dim)", "clone", "clamp(tensor)", "permute"])
def test_pytorch_spellings_are_twice_differentiable(f):
    assert ag.gradgradcheck(f, [ag.tensor(X2, requires_grad=True)])
