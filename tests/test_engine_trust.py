"""Issue 17's engine items: each case once gave a wrong answer (or a crash) without a clear error."""
import threading

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.autograd import dialects, engine


def leaf(values):
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---- 9. a VJP result that is not a broadcast of its input's shape --------------------------
def test_a_vjp_that_drops_an_axis_is_refused_naming_op_input_and_shapes():
    f = ag.primitive(lambda a: a * 2.0, name="rows_summed")
    f.defvjp(lambda g, ans, a: g.sum(axis=0))           # (3,) for a (4, 3) input: wrong
    x = ag.tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"rows_summed.*input 0.*\(3,\).*\(4, 3\)"):
        f(x).sum().backward()
    assert x.grad is None


def test_a_vjp_may_return_a_stretched_gradient_which_the_engine_sums():
    f = ag.primitive(lambda a, b: a + b, name="plus")
    f.defvjp(lambda g, ans, a, b: g, lambda g, ans, a, b: g)
    b = leaf([1.0, 2.0, 3.0])
    f(ag.tensor(np.ones((4, 3))), b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [4.0, 4.0, 4.0])


# ---- 10. the grad setter ------------------------------------------------------------------
def test_grad_setter_refuses_another_shape_or_dtype():
    p = leaf(np.ones((2, 2)))
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*\(2, 2\)"):
        p.grad = ag.ones(2)
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = ag.ones(2, 2, dtype=np.float32)
    p.grad = ag.ones(2, 2)
    p.grad = None
    assert p.grad is None


# ---- 11. a saved value written by a hook during backward --------------------------------------
def test_a_hook_that_writes_into_a_saved_value_makes_backward_raise():
    x = leaf([1.0, 2.0])
    a = x * 1.0
    b = a * a

    def hook(g):
        with ag.no_grad():
            a.data += 10             # a is saved by b's op: its gradient would be wrong
    b.register_hook(hook)
    with pytest.raises(RuntimeError, match="modified in place"):
        b.sum().backward()


def test_hooks_see_tensors_in_and_out_and_run_in_normal_mode():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    seen = []

    def hook(g):
        seen.append((type(g), type(ag.exp(np.zeros(2)))))    # ag.* on an array gives a Tensor here too
        return g * 2
    y.register_hook(hook)
    y.sum().backward()
    assert seen == [(ag.Tensor, ag.Tensor)]
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])


def test_a_hook_may_not_change_the_dtype():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    y.register_hook(lambda g: g.astype(np.float32))
    with pytest.raises(RuntimeError, match="dtype"):
        y.sum().backward()


# ---- 12. complex tensors cannot require grad ----------------------------------------------------
def test_complex_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="complex"):
        ag.tensor([1 + 2j], requires_grad=True)
    z = ag.tensor([1 + 2j])                      # as a constant it is fine
    assert z.dtype.kind == "c" and not z.requires_grad


# ---- 13. data that is not numbers ---------------------------------------------------------------
@pytest.mark.parametrize("data", [None, {}, object(), "abc", ["a", "b"], [2 ** 70, 1], [[1, 2], [3]]],
                         ids=["None", "dict", "object", "str", "strings", "huge int", "ragged"])
def test_non_numeric_data_is_refused_where_the_tensor_is_made(data):
    with pytest.raises(TypeError, match="tensor"):
        ag.tensor(data)


def test_a_non_numeric_operand_is_refused_too():
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError):
        x * ag.tensor([2 ** 70, 1])
    with pytest.raises(TypeError):
        x * "ab"


def test_tensor_of_recording_tensors_points_to_stack():
    b = leaf([1.0]) * 2
    with pytest.raises(TypeError, match="ag.stack"):
        ag.tensor([b, b])
    with ag.no_grad():
        assert ag.tensor([b.detach(), b.detach()]).shape == (2, 1)


def test_implicit_conversion_of_a_recording_tensor_raises_and_explicit_ways_work():
    t1, t2 = leaf([1.0]), leaf([2.0])
    for convert in (lambda: np.array([t1, t2]), lambda: np.asarray(t1), lambda: np.r_[t1, t2],
                    lambda: np.mean([t1, t2])):
        with pytest.raises(TypeError, match="ag.stack"):
            convert()
    with ag.no_grad():
        np.testing.assert_array_equal(np.array([t1, t2]), [[1.0], [2.0]])
    np.testing.assert_array_equal(np.array([t1.detach(), t2.detach()]), [[1.0], [2.0]])
    assert ag.stack([t1, t2]).requires_grad


# ---- 14. observers belong to the thread that runs the pass -----------------------------------------
def test_an_observer_sees_only_its_own_threads_backward():
    stop = threading.Event()

    def train():
        w = leaf(np.ones(50))
        while not stop.is_set():
            (w * w).sum().backward()
    other = threading.Thread(target=train)
    other.start()
    try:
        x = leaf([1.0, 2.0])
        y = x
        for _ in range(300):
            y = y * 1.0001
        steps = []
        with engine.observe(lambda node, g, sends: steps.append(node)):
            y.sum().backward()
    finally:
        stop.set()
        other.join()
    assert len(steps) == 302           # 300 muls, the sum, the leaf


# ---- the public chain-rule step ------------------------------------------------------------------
def test_chain_rule_is_the_step_backward_takes():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a * b
    sends = ag.chain_rule(y._node, np.array([1.0, 10.0]))
    assert [(i, p) for i, p, _ in sends] == [(0, a._node), (1, b._node)]
    np.testing.assert_array_equal(sends[0][2], [3.0, 40.0])
    np.testing.assert_array_equal(sends[1][2], [1.0, 20.0])
    recorded = ag.chain_rule(y._node, ag.tensor([1.0, 10.0]))
    assert all(isinstance(g, ag.Tensor) for _, _, g in recorded)
    assert ag.chain_rule(a._node, np.ones(2)) == []


# ---- every op answers each spelling its declaration names -----------------------------------------
def test_every_declared_op_is_reachable_under_each_of_its_spellings():
    from chaingrad.autograd.numpy_functions import FUNCTIONS, UFUNCS
    assert len(dialects.DECLARED) >= 40
    for name, op in dialects.DECLARED.items():
        assert getattr(ag, name) is op, name
        spellings = op.spellings
        for method in spellings["method"]:
            assert method in vars(ag.Tensor), f"{name}: Tensor.{method}"
        for operator in spellings["operators"]:
            assert operator in vars(ag.Tensor), f"{name}: Tensor.{operator}"
        for func in spellings["numpy"]:
            table = UFUNCS if type(func) is np.ufunc else FUNCTIONS
            assert func in table, f"{name}: np.{func.__name__}"
            target = table[func] if table is UFUNCS else table[func][0]
            assert target is op, f"{name}: np.{func.__name__} runs {target}"


def test_a_declared_op_runs_under_its_method_its_function_and_numpy():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    for spelled in (x.sum(1), ag.sum(x, 1), np.sum(x, axis=1), x.sum(dim=1), ag.sum(x, dim=1)):
        assert spelled.op == "sum"
        np.testing.assert_array_equal(spelled.data, [3.0, 7.0])
    for spelled in (x.exp(), ag.exp(x), np.exp(x)):
        assert spelled.op == "exp"
