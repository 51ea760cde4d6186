"""Issue 18, items 3, 4 and 6: the methods numpy lacks follow PyTorch, errors that name what to
write instead, and numpy functions that no longer drop a gradient.  The ops' values and
gradients (first and second order, against numpy and PyTorch) are registry rows
(tests/op_registry.py); here are the behaviours a row cannot state."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.nn import functional as F
from optional import needs, optional

torch = optional("torch")

X = np.random.default_rng(0).standard_normal((3, 5))


# ---- split and chunk: PyTorch's meaning for the method and ag.split, numpy's for np.split ----------
@needs("torch")
def test_split_method_gives_pieces_of_a_size_like_torch_and_np_split_keeps_numpys_meaning():
    t = ag.tensor(np.arange(6.0))
    assert [p.shape for p in t.split(2)] == [(2,), (2,), (2,)]          # PyTorch: pieces of size 2
    assert [p.shape for p in t.split(4)] == [(4,), (2,)]                # the last may be shorter
    assert [p.shape for p in np.split(t, 2)] == [(3,), (3,)]            # numpy: 2 pieces
    assert [p.shape for p in np.split(t, [1, 4])] == [(1,), (3,), (2,)]  # numpy: cut at indices
    assert [tuple(p.shape) for p in torch.arange(6.0).split(4)] == [(4,), (2,)]
    assert isinstance(t.split(2), tuple)
    with pytest.raises(ValueError, match=r"split: sizes \[1, 3\] must .* add up to 6.*np.split"):
        t.split([1, 3])
    with pytest.raises(ValueError, match="equal division"):
        np.split(t, 4)


@needs("torch")
def test_chunk_gives_fewer_pieces_when_the_length_asks_for_it_like_torch():
    for n, chunks in [(6, 4), (5, 2), (1, 3), (7, 7)]:
        ours = [p.shape for p in ag.tensor(np.zeros(n)).chunk(chunks)]
        theirs = [tuple(p.shape) for p in torch.zeros(n).chunk(chunks)]
        assert ours == theirs, (n, chunks)


def test_split_pieces_send_the_gradient_to_their_slices():
    x = ag.tensor(X, requires_grad=True)
    a, b = x.split([2, 3], dim=1)
    (a.sum() * 2 + (b * b).sum()).backward()
    np.testing.assert_allclose(x.grad.data[:, :2], 2.0)
    np.testing.assert_allclose(x.grad.data[:, 2:], 2 * X[:, 2:])


# ---- sort, topk, argsort --------------------------------------------------------------------------
@needs("torch")
def test_sort_and_topk_return_named_tuples_like_torch():
    x = ag.tensor(X)
    out = x.sort(dim=1, descending=True)
    ref = torch.tensor(X).sort(dim=1, descending=True)
    assert type(out).__name__ == "sort" and out.values is out[0] and out.indices is out[1]
    np.testing.assert_array_equal(out.values.data, ref.values.numpy())
    np.testing.assert_array_equal(out.indices.data, ref.indices.numpy())
    top = x.topk(2, dim=0, largest=False)
    ref = torch.tensor(X).topk(2, dim=0, largest=False)
    assert type(top).__name__ == "topk" and top.indices.dtype == np.int64
    np.testing.assert_array_equal(top.values.data, ref.values.numpy())
    np.testing.assert_array_equal(top.indices.data, ref.indices.numpy())


def test_sort_and_topk_send_the_gradient_to_the_picked_index_once_even_at_ties():
    data = np.array([[2.0, 1.0, 2.0, 0.5]])
    x = ag.tensor(data, requires_grad=True)
    values, indices = x.topk(1)
    values.sum().backward()
    np.testing.assert_array_equal(indices.data, [[0]])             # the earlier of the tied pair
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0, 0.0, 0.0]])
    y = ag.tensor(data, requires_grad=True)
    (y.sort().values * ag.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[3.0, 2.0, 4.0, 1.0]])   # stable: first 2.0 before the second


def test_topk_refuses_k_out_of_range():
    with pytest.raises(ValueError, match=r"topk: k=6 is out of range for dimension -1 of length 5"):
        ag.tensor(X).topk(6)


@needs("torch")
def test_argsort_takes_both_spellings_and_has_no_gradient():
    x = ag.tensor(X, requires_grad=True)
    np.testing.assert_array_equal(x.argsort(axis=0).data, np.argsort(X, axis=0))
    np.testing.assert_array_equal(x.argsort(dim=1, descending=True).data,
                                  torch.tensor(X).argsort(dim=1, descending=True).numpy())
    assert not x.argsort().requires_grad


def test_np_sort_keeps_numpys_meaning_the_values():
    x = ag.tensor(X, requires_grad=True)
    np.testing.assert_array_equal(np.sort(x, axis=1).data, np.sort(X, axis=1))


# ---- cumsum, prod: both spellings --------------------------------------------------------------
def test_cumsum_and_prod_take_axis_and_dim():
    x = ag.tensor(X)
    np.testing.assert_allclose(x.cumsum(axis=1).data, x.cumsum(dim=1).data)
    np.testing.assert_allclose(x.prod(axis=0, keepdims=True).data, x.prod(dim=0, keepdim=True).data)
    with pytest.raises(TypeError, match="cumsum: got both"):
        x.cumsum(axis=0, dim=1)


@needs("torch")
def test_prod_gradient_at_zeros_is_the_product_of_the_others_to_second_order():
    data = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    x, xt = ag.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (g,) = ag.grad(x.prod(1).sum(), [x], create_graph=True)
    (gt,) = torch.autograd.grad(xt.prod(1).sum(), [xt], create_graph=True)
    np.testing.assert_array_equal(g.data, gt.detach().numpy())       # [[6, 0, 0], [0, 0, 0]]
    v = np.arange(6.0).reshape(2, 3)
    (h,) = ag.grad((g * ag.tensor(v)).sum(), [x])
    (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), [xt])
    np.testing.assert_allclose(h.data, ht.numpy())


# ---- einsum --------------------------------------------------------------------------------------
def test_einsum_refuses_what_it_does_not_support_clearly():
    a = ag.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(ValueError, match=r"einsum\('ii->i'\): the letter repeated in 'ii'"):
        ag.einsum("ii->i", a)
    with pytest.raises(ValueError, match=r"2 operand subscripts but 1 operands"):
        ag.einsum("ij,jk->ik", a)


@pytest.mark.parametrize("call", [
    lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
    lambda a, b: np.einsum("...ij,jk", a, b[0]),
    lambda a, b: np.einsum(a, [0, 1, 2], b, [0, 2, 3], [0, 1, 3]),
    lambda a, b: np.einsum(a, [Ellipsis, 1, 2], b, [Ellipsis, 2, 3]),
    lambda a, b: np.einsum("aij,ajk->aik", a[:1], b),         # an axis of length 1 broadcast
], ids=["ellipsis", "ellipsis-implicit", "interleaved", "interleaved-ellipsis", "broadcast-letter"])
def test_einsum_ellipsis_interleaved_and_broadcast_forms(call):
    a, b = np.random.default_rng(1).standard_normal((2, 3, 2, 4)), np.random.default_rng(2).standard_normal((2, 3, 4, 2))
    x, y = ag.tensor(a[0], requires_grad=True), ag.tensor(b[0], requires_grad=True)
    np.testing.assert_allclose(call(x, y).data, call(a[0], b[0]))
    assert ag.gradcheck(call, [x, y]) and ag.gradgradcheck(call, [x, y])


def test_einsum_takes_operands_as_a_list_too_like_torch():
    a, b = ag.tensor(X), ag.tensor(X.T)
    np.testing.assert_allclose(ag.einsum("ij,jk", [a, b]).data, X @ X.T)


# ---- t(), sign(), remainder, ravel, grad_fn ----------------------------------------------------
def test_t_transposes_matrices_and_refuses_more_axes():
    assert ag.tensor(X).t().shape == (5, 3) and ag.tensor(X[0]).t().shape == (5,)
    with pytest.raises(ValueError, match=r"t\(\): expects a tensor of at most 2 dimensions, got shape \(1, 3, 5\)"):
        ag.tensor(X[None]).t()


@needs("torch")
def test_sign_at_zero_and_nan_matches_torch_and_its_gradient_is_zero():
    data = np.array([-2.0, 0.0, np.nan, 3.0])
    x = ag.tensor(data, requires_grad=True)
    np.testing.assert_array_equal(x.sign().data, torch.tensor(data).sign().numpy())
    x.sign().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0, 0.0])


@needs("torch")
def test_remainder_operator_takes_the_sign_of_the_divisor_like_numpy_and_torch():
    a, b = np.array([5.0, -5.0, 5.0, -5.0]), np.array([3.0, 3.0, -3.0, -3.0])
    np.testing.assert_array_equal((ag.tensor(a) % ag.tensor(b)).data, np.remainder(a, b))
    np.testing.assert_array_equal((ag.tensor(a) % ag.tensor(b)).data, (torch.tensor(a) % torch.tensor(b)).numpy())


def test_grad_fn_is_the_node_that_made_the_tensor_or_none_for_leaves():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert x.grad_fn is None and ag.tensor([1.0]).grad_fn is None
    assert y.grad_fn is y._node and "mul" in repr(y.grad_fn)


# ---- errors that help ----------------------------------------------------------------------------
def test_size_is_an_int_and_calling_it_points_to_shape_and_numel():
    t = ag.tensor(X)
    assert t.size == 15 and isinstance(t.size, int) and t.size + 1 == 16
    with pytest.raises(TypeError, match=r"t.size is numpy's element count \(15\).*t\.shape.*numel\(\)"):
        t.size()
    with pytest.raises(TypeError, match="t.shape"):
        t.size(0)


@pytest.mark.parametrize("name, hint", [
    ("cuda", "runs on the CPU"), ("is_cuda", "runs on the CPU"), ("device", "runs on the CPU"),
    ("new_zeros", r"ag\.zeros\(shape, dtype=t\.dtype\)"), ("masked_fill", r"ag\.where\(mask, value, t\)"),
    ("index_select", "index with an array"), ("gather", "take_along_axis"),
])
def test_a_pytorch_attribute_chaingrad_lacks_names_what_to_write_instead(name, hint):
    with pytest.raises(AttributeError, match=rf"'Tensor' object has no attribute '{name}': .*{hint}"):
        getattr(ag.tensor(X), name)


def test_an_unknown_attribute_points_to_the_spelling_table_and_protocol_probes_stay_plain():
    with pytest.raises(AttributeError, match=r"no attribute 'frobnicate'; see the spelling table in the README"):
        ag.tensor(X).frobnicate
    assert getattr(ag.tensor(X), "__array_interface__", None) is None
    assert not hasattr(ag.tensor(X), "__cuda_array_interface__")


def test_an_unknown_ag_function_says_where_numpy_has_it():
    with pytest.raises(AttributeError, match=r"module 'chaingrad.autograd' has no attribute 'roll'; numpy has np\.roll"):
        ag.roll
    with pytest.raises(AttributeError, match=r"no attribute 'masked_fill'; use ag\.where"):
        ag.masked_fill
    with pytest.raises(AttributeError, match=r"^module 'chaingrad.autograd' has no attribute 'no_such_thing'$"):
        ag.no_such_thing


@needs("torch")
@pytest.mark.parametrize("data", [2.5, [1.0, 2.0], [[1, 2], [3, 4]]], ids=["0-d", "1-D", "2-D int"])
def test_torch_as_tensor_and_np_asarray_of_a_tensor_without_grad(data):
    t = ag.tensor(data)
    np.testing.assert_array_equal(torch.as_tensor(t).numpy(), np.asarray(data))
    np.testing.assert_array_equal(np.asarray(t), np.asarray(data))
    assert torch.as_tensor(t).dtype == torch.as_tensor(np.asarray(data)).dtype


@needs("torch")
def test_torch_as_tensor_of_a_recording_tensor_raises_and_works_after_detach_or_under_no_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="implicitly, which would drop its gradient"):
        torch.as_tensor(x)
    np.testing.assert_array_equal(torch.as_tensor(x.detach()).numpy(), [1.0, 2.0])
    with ag.no_grad():
        np.testing.assert_array_equal(torch.as_tensor(x).numpy(), [1.0, 2.0])


# ---- dtypes and numpy without silent drops ------------------------------------------------------
@needs("torch")
def test_one_hot_is_int64_like_torch_unless_a_dtype_is_given():
    out = F.one_hot([2, 0], 3)
    assert out.dtype == np.int64 == torch.nn.functional.one_hot(torch.tensor([2, 0]), 3).numpy().dtype
    assert F.one_hot([1], 2, dtype=np.float32).dtype == np.float32


def test_np_hstack_of_one_1d_tensor_and_ravel_work_as_numpy():
    x = ag.tensor(X[0], requires_grad=True)
    out = np.hstack(x)
    assert out.requires_grad and out.shape == (5,)
    np.testing.assert_array_equal(out.data, np.hstack(X[0]))
    assert ag.tensor(X, requires_grad=True).ravel().shape == (15,)


def test_np_append_of_nested_lists_of_recording_tensors_raises_instead_of_dropping():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="ag.stack"):
        np.append(x, [[x[0], x[1]]])
