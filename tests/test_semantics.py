"""The gradient semantics users rely on (PyTorch's, where the API is silent):
accumulation, retain_graph, freeing, deep graphs, hooks, grad modes, higher
derivatives, dtypes, numpy interplay, micrograd-style scalars, determinism."""
import gc
import threading
import weakref

import numpy as np
import pytest

from chaingrad import autograd as ag
from optional import needs, optional

torch = optional("torch")


# ---------------------------------------------------------------- accumulation and freeing
def test_leaf_gradients_accumulate_across_backward_calls():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    for k in range(1, 4):
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, k * 2 * x.data)
    x.grad = None                                  # zero_grad, PyTorch's set_to_none way
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_accumulation_does_not_alias_the_upstream_gradient():
    """add passes its gradient through; the leaf must get its own copy to += into."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 0.0).backward(seed)
    (x + 0.0).backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    a, b = ag.tensor(1.0, requires_grad=True), ag.tensor(1.0, requires_grad=True)
    (a + b).backward()
    a.grad += 5.0                                  # a.grad and b.grad are not one array
    assert b.grad.item() == 1.0


def test_second_backward_names_retain_graph():
    x = ag.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError) as err:
        y.backward()
    msg = str(err.value)
    assert "second time" in msg and "retain_graph=True" in msg and "freed" in msg
    x.grad = None
    y2 = x.exp() * x
    y2.backward(retain_graph=True)
    y2.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * (np.exp(2) + 2 * np.exp(2)))


def test_graph_is_freed_after_backward():
    x = ag.tensor(np.ones(1000), requires_grad=True)
    hidden = x * 2.0
    loss = hidden.sin().sum()
    tensor_ref, value_ref = weakref.ref(hidden), weakref.ref(hidden.data)
    del hidden
    gc.collect()
    assert tensor_ref() is None                    # the graph keeps values, not the user's Tensors
    assert value_ref() is not None                 # the sin node keeps its input's value for backward
    loss.backward()
    gc.collect()
    assert value_ref() is None, "an intermediate value outlived backward"
    assert loss.item() == pytest.approx(1000 * np.sin(2.0))   # the loss itself is alive


def test_retain_graph_keeps_intermediates_alive():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2.0
    loss = hidden.sin().sum()
    ref = weakref.ref(hidden.data)
    del hidden
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_million_node_chain():
    """Iterative topological order: micrograd's recursion dies near 1,000 nodes."""
    x = ag.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y = y * x
    y.backward()
    assert y.item() == pytest.approx((0.5 + 1e6) * 0.5)
    assert x.grad.item() == pytest.approx(0.5 + 1e6 + 0.5)      # d/dx (x + n) x = 2x + n


# ---------------------------------------------------------------- hooks
def test_leaf_hook_sees_the_total_gradient_and_may_replace_it():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    x.register_hook(lambda g: g * 10)
    (x * 3 + x).sum().backward()                   # fan-out: the hook fires once, with 3 + 1
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [4.0, 4.0])
    np.testing.assert_array_equal(x.grad.data, [40.0, 40.0])


def test_nonleaf_hook_replacement_flows_to_the_leaves():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    calls = []
    handle = h.register_hook(lambda g: calls.append(1) or g * 0.0)
    (h.sum() + h.mean()).backward(retain_graph=True)
    assert calls == [1]
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    handle.remove()
    x.grad = None
    (h.sum() + h.mean()).backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.data, 2 * x.data * 1.5)
    handle.remove()                                # removing twice is harmless


def test_removed_leaf_hook_is_not_called_and_retain_grad_keeps_nonleaf_grad():
    x = ag.tensor(3.0, requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(g.item()))
    handle.remove()
    h = x ** 2
    h.retain_grad()
    (h * 5).backward()
    assert calls == []
    assert h.grad.item() == 5.0 and x.grad.item() == 30.0


def test_hook_on_tensor_without_grad_is_refused():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor(1.0).register_hook(lambda g: g)


# ---------------------------------------------------------------- grad modes
def test_no_grad_and_enable_grad_as_context_managers():
    x = ag.tensor(1.0, requires_grad=True)
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            z = x * 2
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and z.op == "mul"


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            1 / 0
    assert ag.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = ag.tensor(1.0, requires_grad=True)

    @ag.no_grad()
    def evaluate(t):
        return t * 3

    @ag.enable_grad()
    def train_step(t):
        return t * 3

    assert not evaluate(x).requires_grad
    with ag.no_grad():
        assert train_step(x).requires_grad
    assert ag.is_grad_enabled()
    with ag.set_grad_enabled(False):
        assert not (x * 1).requires_grad


def test_grad_mode_is_thread_local():
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def worker():
        seen["start"] = ag.is_grad_enabled()        # main is inside no_grad right now
        with ag.no_grad():
            inside.set()
            done.wait(5)
            seen["worker"] = ag.is_grad_enabled()

    with ag.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        inside.wait(5)
    seen["main"] = ag.is_grad_enabled()             # main left no_grad; the worker has not
    done.set()
    t.join()
    assert seen == {"start": True, "worker": False, "main": True}


# ---------------------------------------------------------------- higher order
@pytest.mark.parametrize("name,f,tf,third", [
    ("x**4", lambda x: x ** 4, lambda t: t ** 4, lambda v: 24 * v),
    ("sin", ag.sin, torch.sin, lambda v: -np.cos(v)),
    ("tanh", ag.tanh, torch.tanh, lambda v: (1 - np.tanh(v) ** 2) * (6 * np.tanh(v) ** 2 - 2)),
    ("exp*x", lambda x: x.exp() * x, lambda t: t.exp() * t, lambda v: np.exp(v) * (v + 3)),
])
@needs("torch")
def test_third_derivatives(name, f, tf, third):
    v = np.array([0.3, -1.2, 2.0])
    x, t = ag.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, ty = f(x).sum(), tf(t).sum()
    for _ in range(3):
        (y,) = ag.grad(y, x, create_graph=True)
        (ty,) = torch.autograd.grad(ty, t, create_graph=True)
        y, ty = y.sum(), ty.sum()
    (d3,) = ag.grad(f(x).sum(), x, create_graph=True)
    (d3,) = ag.grad(d3.sum(), x, create_graph=True)
    (d3,) = ag.grad(d3.sum(), x)
    np.testing.assert_allclose(d3.data, third(v), rtol=1e-12)
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-12)


def test_create_graph_backward_then_backward_of_the_gradient():
    x = ag.tensor(1.5, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == pytest.approx(3 * 1.5 ** 2)
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(6 * 1.5)


# ---------------------------------------------------------------- dtypes
def test_float32_stays_float32_through_a_network():
    rng = np.random.default_rng(0)
    X = ag.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    W = ag.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    b = ag.tensor(np.zeros(5, np.float32), requires_grad=True)
    h = (X @ W + b).relu() * 0.5 + 1
    loss = -(h.log_softmax(-1)[np.arange(4), [0, 1, 2, 3]]).mean() + 1e-3 * (W ** 2).sum() / 2.0
    assert h.dtype == loss.dtype == np.float32
    loss.backward()
    assert W.grad.dtype == b.grad.dtype == np.float32


def test_default_dtype_applies_to_python_numbers():
    assert ag.tensor(1.0).dtype == np.float64 and ag.tensor([1, 2]).dtype.kind == "i"
    ag.set_default_dtype(np.float32)
    try:
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        assert x.dtype == np.float32 and ag.ones(2).dtype == np.float32
        (x * 2.5).sum().backward()
        assert x.grad.dtype == np.float32
    finally:
        ag.set_default_dtype(np.float64)


def test_seed_gradient_takes_the_output_dtype():
    """A float64 upstream gradient for a float32 output is cast, as PyTorch does."""
    x = ag.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.dtype))
    y.backward(ag.tensor([1.0, 1.0]))
    assert seen == [np.float32] and x.grad.dtype == np.float32
    (g,) = ag.grad(x * 3, x, grad_outputs=np.ones(2))
    assert g.dtype == np.float32


# ---------------------------------------------------------------- numpy interplay
def test_ndarray_on_the_left_gives_a_tensor():
    a = np.array([1.0, 2.0])
    x = ag.tensor([3.0, 4.0], requires_grad=True)
    for out in (a * x, a + x, a - x, a / x, a ** x, np.eye(2) @ x):
        assert type(out) is ag.Tensor and out.requires_grad
    assert type(a < x) is ag.Tensor and (a < x).dtype == bool
    (a * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, a)
    with ag.no_grad():                      # implicit conversion is for tensors off the graph
        assert np.asarray(x).shape == (2,) and np.allclose(np.array(x * 1), [3.0, 4.0])


# ---------------------------------------------------------------- micrograd-style scalars
@needs("torch")
def test_micrograd_expressions_match_torch():
    def expr(x, y, lib):
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y2 = h + q + q * x
        f = y2 - x ** 2 + x ** y
        g = 10.0 / f + f / 2.0 + (-x) - 1 + 3 ** y
        return g
    x, y = ag.tensor(-4.0, requires_grad=True), ag.tensor(1.5, requires_grad=True)
    tx, ty = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True), \
        torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    # x ** y needs a positive base: shift x into the positive numbers for that term
    g = expr(x + 6, y, ag)
    tg = expr(tx + 6, ty, torch)
    g.backward()
    tg.backward()
    assert g.shape == () and type(g) is ag.Tensor
    np.testing.assert_allclose(g.item(), tg.item(), rtol=1e-12)
    np.testing.assert_allclose([x.grad.item(), y.grad.item()], [tx.grad.item(), ty.grad.item()], rtol=1e-12)


def test_scalar_reuse_like_micrograd_bug():
    a = ag.tensor(3.0, requires_grad=True)
    b = a + a                                      # micrograd once got 1 instead of 2 here
    b.backward()
    assert a.grad.item() == 2.0
    assert float(a * 2) == 6.0 and int(a) == 3 and bool(a > 2)


@needs("torch")
def test_sigmoid_is_stable_for_any_input():
    x = ag.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is fine
        s = x.sigmoid()
        s.sum().backward()
    np.testing.assert_allclose(s.data, torch.sigmoid(torch.tensor(x.data)).numpy(), rtol=1e-12)
    assert np.isfinite(x.grad.data).all()


# ---------------------------------------------------------------- determinism
def _trace_once():
    ag.manual_seed(123)
    w = ag.randn(4, 3, requires_grad=True)
    b = ag.randn(3, requires_grad=True)
    x = ag.randn(5, 4)
    h = (x @ w + b).tanh()
    loss = (h * h.sigmoid()).sum(0).logsumexp(0) + h.max() + (w ** 2).mean()
    order = []
    with ag.engine.observe(lambda node, g, sends: order.append(
            (node.op.name, node.id) if not node.is_leaf else ("leaf", node.shape))):
        loss.backward()
    first = min(i for name, i in order if name != "leaf")
    order = [(n, i - first) if n != "leaf" else (n, i) for n, i in order]
    return order, w.grad.data.tobytes(), b.grad.data.tobytes()


def test_backward_is_deterministic():
    a, b = _trace_once(), _trace_once()
    assert a[0] == b[0] and len(a[0]) > 8          # the same nodes in the same order
    assert a[1] == b[1] and a[2] == b[2]           # bitwise the same gradients
