"""The engine core: one vertex type, one chain-rule step, two modes of one VJP, and
no silently wrong gradient (each case that once gave one, now raising or right)."""
import threading

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.autograd import engine
from chaingrad.autograd.graph import Node
from chaingrad.autograd.primitive import Primitive

from op_registry import CASES
from optional import needs, optional

torch = optional("torch")


def leaf(values, dtype=np.float64):
    return ag.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- one vertex type --------------------------------------------------------------------
def test_every_tensor_that_requires_grad_has_a_node_leaves_included():
    x = leaf([1.0, 2.0])
    c = ag.tensor([3.0, 4.0])
    y = x * c
    assert type(x._node) is Node and x._node.is_leaf and x.is_leaf
    assert type(y._node) is Node and not y._node.is_leaf and y._node.op.name == "mul"
    assert c._node is None and not c.requires_grad
    assert y._node.parents == (x._node, None)          # edges go to vertices, None for a constant
    x.requires_grad_(False)
    assert x._node is None and not x.requires_grad


def test_a_leaf_step_accumulates_and_hooks_run_on_leaf_vertices():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])     # leaf grads accumulate
    assert len(seen) == 2 and np.array_equal(seen[0], [3.0, 3.0])


# ---- one step, two modes ----------------------------------------------------------------
def test_vjps_get_arrays_in_a_plain_backward_and_tensors_under_create_graph():
    kinds = []
    square = ag.primitive(lambda x: x * x, name="square_probe")
    square.defvjp(lambda g, ans, x: kinds.append((type(g), type(x))) or 2 * g * x)
    x = leaf([1.0, 2.0])
    square(x).sum().backward()
    assert kinds[-1] == (np.ndarray, np.ndarray)
    (gx,) = ag.grad(square(x).sum(), x, create_graph=True)
    assert kinds[-1] == (ag.Tensor, ag.Tensor) and gx.requires_grad
    (gxx,) = ag.grad(gx.sum(), x)                                # the same VJP, differentiated
    np.testing.assert_allclose(gxx.data, [2.0, 2.0])


@pytest.mark.parametrize("case", [c for c in CASES if c.differentiable], ids=lambda c: c.id)
def test_plain_and_recorded_backward_give_identical_gradients(case):
    """Over the whole op registry: the VJPs run on arrays (ordinary backward) and on
    Tensors (create_graph=True) give bitwise the same first derivatives."""
    rng = np.random.default_rng(0)
    xs = [ag.Tensor(a, requires_grad=True) for a in case.inputs()]
    outs = case.fn(*xs)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    ups = [ag.tensor(rng.normal(size=o.shape)) for o in outs]
    plain = ag.grad(outs, xs, ups, retain_graph=True, allow_unused=True)
    recorded = ag.grad(outs, xs, ups, create_graph=True, allow_unused=True)
    assert any(p is not None for p in plain)
    for i, (p, r) in enumerate(zip(plain, recorded)):
        assert (p is None) == (r is None), f"input {i}"
        if p is not None:
            np.testing.assert_array_equal(p.data, r.data, err_msg=f"{case.id}: input {i}")


def test_every_differentiable_primitive_states_its_derivative_once():
    """Each built-in primitive carries its formula text (what pictures and explain show)."""
    missing = []
    prims = set()
    for module in (ag.ops.elementwise, ag.ops.arithmetic, ag.ops.reductions, ag.ops.shape, ag.ops.linalg):
        prims |= {v for v in vars(module).values() if isinstance(v, Primitive) and v.differentiable}
    assert len(prims) >= 40
    for op in prims:
        n = len(op.vjps) if op.vjp_all is None else 1
        for i in range(n):
            if (op.vjp_all is not None or op.vjps[i] is not None) and op.formula(i) is None:
                missing.append(f"{op.name} input {i}")
    assert not missing, missing
    assert not hasattr(ag.viz.fmt, "FORMULAS")                  # no second table


def test_the_step_is_what_explain_and_backward_steps_show():
    x = leaf([0.5, 1.0])
    y = x.tanh()
    steps = ag.viz.backward_steps(y.sum())
    tanh_step = next(s for s in steps if s.op == "tanh")
    np.testing.assert_allclose(tanh_step.parts[0].grad, 1 - np.tanh([0.5, 1.0]) ** 2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, tanh_step.parts[0].total)


# ---- gradients that once came out wrong without an error ----------------------------------
SAVES_OUTPUT = {
    "exp": lambda x: x.exp(), "sigmoid": lambda x: x.sigmoid(), "tanh": lambda x: x.tanh(),
    "sqrt": lambda x: x.sqrt(), "softmax": lambda x: x.softmax(), "c ** t": lambda x: 2.0 ** x,
    "1 / t": lambda x: 1 / x,
}


@pytest.mark.parametrize("name", SAVES_OUTPUT)
def test_an_output_modified_in_place_before_backward_raises(name):
    x = leaf([0.5, 1.5])
    y = SAVES_OUTPUT[name](x)
    loss = (y * ag.tensor([1.0, 2.0])).sum()
    with ag.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_an_out_of_place_use_after_the_op_is_fine():
    x = leaf([0.5, 1.5])
    y = x.exp()
    loss = y.sum()
    z = y + 1                      # a new tensor: y is untouched
    loss.backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.5, 1.5]))
    assert z.shape == (2,)


def test_writing_into_a_view_of_a_saved_tensor_raises():
    x = leaf([1.0, 2.0, 3.0])
    loss = (x * x).sum()
    with ag.no_grad():
        v = x[0:2]
        v *= 10
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_writing_into_the_base_of_a_saved_view_raises():
    x = leaf([1.0, 2.0, 3.0])
    b = x * 1
    v = b[0:2]                       # a view of b: they share one version counter
    loss = v.exp().sum()
    with ag.no_grad():
        b[2] = 5.0                   # writes b's memory, which v shares
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_writing_through_detach_raises():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    d = x.detach()
    d += 1                           # shares x's memory and version counter
    assert x.data[0] == 2.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_numpy_of_a_tensor_that_requires_grad_is_read_only():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        x.numpy()[0] = 5.0
    with pytest.raises(TypeError, match="implicitly"):        # would drop the gradient
        np.asarray(x)
    with ag.no_grad(), pytest.raises(ValueError, match="read-only"):
        np.asarray(x)[0] = 5.0
    c = ag.tensor([1.0, 2.0])       # no gradient: a plain shared array, as PyTorch's numpy()
    c.numpy()[0] = 5.0
    assert c.data[0] == 5.0


def test_a_leaf_grad_never_aliases_the_callers_tensor():
    x = leaf([1.0, 2.0, 3.0])
    c = ag.tensor([1.0, 1.0, 1.0])
    G = ag.tensor([1.0, 2.0, 3.0])
    (x + c).backward(G)
    (x + c).backward(G)
    np.testing.assert_array_equal(G.data, [1.0, 2.0, 3.0])      # G itself untouched
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0, 6.0])


def test_a_leaf_grad_never_aliases_a_hooks_result():
    x = leaf([1.0, 2.0])
    R = ag.tensor([5.0, 5.0])
    x.register_hook(lambda g: R)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(R.data, [5.0, 5.0])
    np.testing.assert_array_equal(x.grad.data, [10.0, 10.0])


def test_two_leaves_fed_by_one_add_get_separate_grads():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()         # add passes the same upstream array to both
    a.grad.data[0] = 100.0
    assert b.grad.data[0] == 1.0


def test_a_hook_that_changes_the_shape_raises():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: ag.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="hook changed the size"):
        y.sum().backward()
    z = leaf([1.0, 2.0])
    z.register_hook(lambda g: ag.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"hook changed the size.*\(2,\)"):
        (z * 2).sum().backward()


def test_grad_refuses_mismatched_grad_outputs():
    x = leaf([1.0, 2.0])
    y1, y2 = x * 2, x * 3
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        ag.grad([y1, y2], [x], grad_outputs=[ag.ones(2)])
    (g,) = ag.grad([y1, y2], [x], grad_outputs=[ag.ones(2), ag.ones(2)])
    np.testing.assert_array_equal(g.data, [5.0, 5.0])


def test_retain_grad_keeps_the_hooked_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [10.0, 10.0])   # PyTorch: hooks run first
    np.testing.assert_array_equal(x.grad.data, [20.0, 20.0])


@needs("torch")
def test_mixed_second_derivative_of_pow_at_exponent_zero():
    x, y = leaf([2.0, 0.5]), leaf([0.0, 0.0])
    (gy,) = ag.grad((x ** y).sum(), y, create_graph=True)       # x^y log x
    (gxy,) = ag.grad(gy.sum(), x)                                # d/dx: x^(y-1) (y log x + 1) = 1/x
    np.testing.assert_allclose(gxy.data, [0.5, 2.0])
    assert ag.gradgradcheck(lambda a, b: a ** b, [leaf([2.0, 0.5]), leaf([0.0, 0.0])])
    xt = torch.tensor([2.0, 0.5], dtype=torch.float64, requires_grad=True)
    yt = torch.tensor([0.0, 0.0], dtype=torch.float64, requires_grad=True)
    (gyt,) = torch.autograd.grad((xt ** yt).sum(), yt, create_graph=True)
    (gxyt,) = torch.autograd.grad(gyt.sum(), xt)
    np.testing.assert_allclose(gxy.data, gxyt.numpy())


@pytest.mark.parametrize("name", ["relu", "abs", "maximum", "minimum", "max", "clip"])
@needs("torch")
def test_gradients_at_nan_match_pytorch(name):
    values = [float("nan"), 1.0, -1.0, 0.0, 2.0]
    other = [1.0, float("nan"), -1.0, 3.0, 2.0]
    ours = {"relu": lambda a, b: a.relu(), "abs": lambda a, b: a.abs(),
            "maximum": lambda a, b: ag.maximum(a, b), "minimum": lambda a, b: ag.minimum(a, b),
            "max": lambda a, b: a.max(), "clip": lambda a, b: a.clip(0.0, 1.0)}[name]
    theirs = {"relu": lambda a, b: a.relu(), "abs": lambda a, b: a.abs(),
              "maximum": torch.maximum, "minimum": torch.minimum,
              "max": lambda a, b: a.max(), "clip": lambda a, b: a.clamp(0.0, 1.0)}[name]
    a, b = leaf(values), leaf(other)
    ours(a, b).sum().backward()
    at = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(other, dtype=torch.float64, requires_grad=True)
    theirs(at, bt).sum().backward()
    np.testing.assert_array_equal(a.grad.data, at.grad.numpy())
    if bt.grad is not None:
        np.testing.assert_array_equal(b.grad.data, bt.grad.numpy())


@needs("torch")
def test_type_promotion_follows_pytorch():
    x32 = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    assert (x32 * ag.tensor(2.0)).dtype == np.float32            # a 0-d float64 does not widen
    assert (x32 * ag.tensor([1, 2, 3])).dtype == np.float32      # an integer tensor never widens
    assert (x32 * ag.tensor(np.ones(3))).dtype == np.float64     # a dimensioned float64 does
    assert (ag.tensor([1, 2]) * ag.tensor(2.5)).dtype == np.float64   # a 0-d float lifts ints
    loss = (x32 * ag.tensor(2.0)).sum()
    loss.backward()
    assert x32.grad.dtype == np.float32
    t = torch.ones(3, dtype=torch.float32)
    assert (t * torch.tensor(2.0, dtype=torch.float64)).dtype == torch.float32
    assert (t * torch.tensor([1, 2, 3])).dtype == torch.float32


def test_stack_and_cat_of_many_inputs_call_their_vjp_once():
    xs = [leaf([float(i)]) for i in range(20_000)]
    calls = []
    op = ag.ops.shape._cat
    original = op.vjp_all
    op.vjp_all = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        ag.cat(xs).sum().backward()
    finally:
        op.vjp_all = original
    assert calls == [1]
    assert xs[12_345].grad.data.tolist() == [1.0]
    ys = [leaf([float(i)]) for i in range(20_000)]
    (ag.stack(ys) * 2).sum().backward()
    assert ys[-1].grad.data.tolist() == [2.0]


def test_anomaly_in_a_create_graph_backward_names_where_the_op_was_made():
    x = leaf([0.0, 1.0])
    with ag.detect_anomaly():
        y = x.sqrt()                                   # d sqrt at 0 is inf
        with pytest.raises(FloatingPointError) as err:
            ag.grad(y.sum(), x, create_graph=True)
    msg = str(err.value)
    assert "sqrt" in msg and "test_engine_core.py" in msg and "detect_anomaly()" not in msg
    with ag.detect_anomaly():
        z = leaf([0.0, 1.0])
        (g,) = ag.grad((z ** 1.5).sum(), z, create_graph=True)    # 1.5 z^0.5: finite at 0
        with pytest.raises(FloatingPointError) as err2:
            ag.grad(g.sum(), z)       # 0.75 z^-0.5 = inf at 0, in an op the first backward recorded
    msg2 = str(err2.value)
    assert "pow" in msg2 and "test_engine_core.py" in msg2 and "detect_anomaly()" not in msg2


# ---- threads ----------------------------------------------------------------------------
def _job(seed, create_graph):
    rng = np.random.default_rng(seed)
    w = ag.tensor(rng.normal(size=(20, 10)), requires_grad=True)
    x = ag.tensor(rng.normal(size=(50, 20)))
    out = None
    for _ in range(30):
        loss = ((x @ w).tanh() ** 2).mean()
        if create_graph:
            (g,) = ag.grad(loss, w, create_graph=True)
            (h,) = ag.grad((g * g).sum(), w)
            out = h.data.copy()
        else:
            w.grad = None
            loss.backward()
            out = w.grad.data.copy()
    return out


def test_two_threads_running_backward_get_the_sequential_results():
    expected = [_job(1, False), _job(2, True)]
    results = [None, None]
    errors = []

    def run(k, create_graph):
        try:
            results[k] = _job(k + 1, create_graph)
        except Exception as e:          # noqa: BLE001  (reported below)
            errors.append(e)
    threads = [threading.Thread(target=run, args=(0, False)), threading.Thread(target=run, args=(1, True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    np.testing.assert_array_equal(results[0], expected[0])
    np.testing.assert_array_equal(results[1], expected[1])
    import gc
    assert gc.isenabled()                 # the collector is back on once both are done
    assert engine.collector_paused._running == 0


def _scalar_ops():
    """Every declared primitive that an operator or an option-free method reaches."""
    from chaingrad.autograd import dialects
    ops = [op for op in dialects.DECLARED.values() if isinstance(op, Primitive) and not op.variadic]
    return sorted({op for op in ops if op.arity in (1, 2) and (op.spellings["operators"] or op.arity == 1)},
                  key=lambda op: op.name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", _scalar_ops(), ids=lambda op: op.name)
def test_the_scalar_shortcut_gives_what_the_general_call_gives(op, dtype):
    # unary()/binary() build a scalar graph's results directly; the general call is the reference
    rng = np.random.default_rng(0)

    def run(call):
        xs = [ag.tensor(dtype(v), requires_grad=True) for v in rng.uniform(0.5, 1.5, op.arity)]
        try:
            out = call(*xs)
        except Exception as err:            # noqa: BLE001 - both paths must fail alike
            return type(err).__name__, None, None
        grads = None
        if out._node is not None:
            out.backward()
            grads = [None if x.grad is None else float(x.grad) for x in xs]
        node = out._node
        return (out._data, type(out._data)), grads, None if node is None else (node.op, node.labels)

    rng = np.random.default_rng(0)
    fast = run(op.unary if op.arity == 1 else op.binary)
    rng = np.random.default_rng(0)
    general = run(op)
    assert fast == general, op.name


def test_the_scalar_shortcut_records_named_constants_and_keeps_anomaly_checks():
    a = ag.tensor(2.0, requires_grad=True)
    c = ag.tensor(3.0)
    c.name = "c"
    assert (a * c)._node.labels == (None, "c")
    zero = ag.tensor(0.0, requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(FloatingPointError, match="log"):
        zero.log()
