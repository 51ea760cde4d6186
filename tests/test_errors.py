"""Errors are part of the interface: they name the op, the shapes and the user's line,
and a failed call leaves the engine in a state where the next correct call works."""
import inspect

import numpy as np
import pytest

from chaingrad import autograd as ag


def _here(offset=1):
    """``"this_file:line"`` of the caller's line + offset: where the error must point."""
    frame = inspect.currentframe().f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno + offset}"


# ---------------------------------------------------------------- shapes
@pytest.mark.parametrize("op,shapes,make", [
    ("add", ("(2, 3)", "(4,)"), lambda: ag.ones(2, 3) + ag.ones(4)),
    ("mul", ("(2, 3)", "(3, 2)"), lambda: ag.mul(ag.ones(2, 3), ag.ones(3, 2))),
    ("matmul", ("(2, 3)", "(2, 3)"), lambda: ag.ones(2, 3) @ ag.ones(2, 3)),
    ("maximum", ("(3,)", "(2,)"), lambda: ag.maximum(ag.ones(3), ag.ones(2))),
])
def test_shape_mismatch_names_op_shapes_and_user_line(op, shapes, make):
    with pytest.raises(ValueError) as err:
        make()
    msg = str(err.value)
    assert op in msg and shapes[0] in msg and shapes[1] in msg, msg
    line = make.__code__.co_firstlineno
    assert f"{__file__}:{line}" in msg, msg


def test_shape_error_points_at_the_statement():
    a, b = ag.randn(2, 3, requires_grad=True), ag.randn(3, 3)
    where = _here(2)
    with pytest.raises(ValueError) as err:
        a.reshape(3, 2) - b.T.reshape(9)
    assert where in str(err.value) and "sub" in str(err.value)


@pytest.mark.parametrize("make,words", [
    (lambda: ag.cat([ag.ones(2, 3), ag.ones(2, 2)], axis=0), ["cat", "(2, 3)", "(2, 2)"]),
    (lambda: ag.ones(2, 3).reshape(4, 2), ["reshape", "(2, 3)"]),
    (lambda: ag.ones(2, 3)[5], ["getitem", "(2, 3)"]),
    (lambda: ag.ones(2, 3).sum(axis=2), ["sum", "axis"]),
])
def test_other_shape_errors_name_the_op(make, words):
    with pytest.raises((ValueError, IndexError)) as err:
        make()
    for w in words:
        assert w in str(err.value), str(err.value)


# ---------------------------------------------------------------- requires_grad and backward
@pytest.mark.parametrize("data", [np.array([1, 2]), np.array([True, False]), np.arange(3, dtype=np.int32)])
def test_requires_grad_on_integer_tensor_is_refused(data):
    with pytest.raises(TypeError, match="floating"):
        ag.tensor(data, requires_grad=True)
    t = ag.tensor(data)
    with pytest.raises(TypeError, match="floating"):
        t.requires_grad_()
    with pytest.raises(TypeError, match="floating"):
        t.requires_grad = True
    assert not t.requires_grad


def test_nonscalar_backward_needs_grad():
    y = ag.randn(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*grad="):
        y.backward()
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\)"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 3)))                      # the refused calls changed nothing


def test_backward_of_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor(1.0).backward()
    x = ag.tensor(1.0, requires_grad=True)
    with ag.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_grad_of_unused_input():
    x, unused = ag.tensor(1.0, requires_grad=True), ag.tensor(2.0, requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="input 1.*not used.*allow_unused=True"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    assert gx.item() == 3.0 and gu is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.grad(y, [ag.tensor(1.0)])


def test_requires_grad_false_on_nonleaf_is_refused():
    y = ag.tensor(1.0, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)
    assert not y.detach().requires_grad and y.detach().is_leaf


# ---------------------------------------------------------------- in-place changes
def test_inplace_on_a_recording_tensor_is_refused():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x += 1
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 5.0
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


@pytest.mark.parametrize("modify", [
    lambda t: t.__isub__(1.0), lambda t: t.__setitem__(0, 9.0), lambda t: t.fill_(0.5),
    lambda t: t.copy_(np.ones(2)), lambda t: t.__imul__(2.0),
])
def test_modifying_a_saved_tensor_is_detected_at_backward(modify):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()                                # mul saves x for its VJP
    with ag.no_grad():
        modify(x)
    with pytest.raises(RuntimeError) as err:
        y.backward()
    msg = str(err.value)
    assert "'mul'" in msg and "modified in place" in msg and "stale" in msg, msg
    assert x.grad is None


def test_assigning_data_of_a_saved_intermediate_is_detected():
    x = ag.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    y = h.sin().sum()                                # sin saves h
    h.data = np.zeros(2)
    with pytest.raises(RuntimeError, match="op 'sin'.*modified in place"):
        y.backward()


def test_modifying_an_input_that_no_vjp_reads_is_fine():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1.0).sum()                              # add's gradient does not use x's value
    with ag.no_grad():
        x -= 1.0
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# ---------------------------------------------------------------- detect_anomaly
def test_anomaly_in_forward_names_op_and_line():
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    with ag.detect_anomaly():
        where = _here(2)
        with pytest.raises(FloatingPointError) as err, np.errstate(invalid="ignore"):
            x.log()
    msg = str(err.value)
    assert "'log'" in msg and "nan" in msg and where in msg, msg
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().data[1])             # outside the block: no check


def test_anomaly_in_backward_names_op_and_where_it_was_created():
    x = ag.tensor([0.0, 4.0], requires_grad=True)
    with ag.detect_anomaly():
        created = _here()
        y = x.sqrt().sum()                           # forward is finite: sqrt(0) = 0
        with pytest.raises(FloatingPointError) as err, np.errstate(divide="ignore"):
            y.backward()                             # d sqrt / dx = 1 / (2 sqrt x) is inf at 0
    msg = str(err.value)
    assert "'sqrt'" in msg and "inf" in msg and "gradient" in msg, msg
    assert created in msg, msg
    assert x.grad is None


def test_anomaly_mode_is_off_again_after_the_block():
    with pytest.raises(FloatingPointError):
        with ag.detect_anomaly(), np.errstate(invalid="ignore"):
            ag.tensor(-1.0).sqrt()
    with np.errstate(invalid="ignore"):
        assert np.isnan(ag.tensor(-1.0).sqrt().item())


# ---------------------------------------------------------------- no corrupted state
def test_engine_still_works_after_errors():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()                                 # freed graph
    with pytest.raises(ValueError):
        x + ag.ones(3)
    z = (x * x).sum()
    with pytest.raises(RuntimeError):
        z.backward(np.ones(2))                       # wrong seed shape

    def bad_hook(g):
        raise KeyError("from a hook")
    h = x * 3
    handle = h.register_hook(bad_hook)
    with pytest.raises(KeyError):
        (h.sin() * 2).sum().backward()
    handle.remove()
    assert ag.is_grad_enabled()                      # backward's no-grad region was left
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])   # only the first backward counted
    z.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])
    (g,) = ag.grad((x ** 3).sum(), x, create_graph=True)
    (gg,) = ag.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, 6 * x.data)
