"""autograd/numeric.py: the central differences that gradcheck and check_vjp share.

The formula's error as its docstring states it (O(h^2) truncation, about
1e-10 in float64 at the default step), the one-sided quotients at a kink,
a derivative along a direction, and that both checkers use this one
implementation instead of their own.
"""
import importlib
import inspect

import numpy as np

from chaingrad import autograd as ag
from chaingrad.autograd import numeric

# the modules (ag.gradcheck and ag.check_vjp are the functions of the same names)
gradcheck = importlib.import_module("chaingrad.autograd.gradcheck")
check_vjp = importlib.import_module("chaingrad.autograd.check_vjp")


def test_the_truncation_error_is_h_squared_times_a_sixth_of_the_third_derivative():
    x = np.array([-1.5, 0.2, 2.0])
    h = 1e-3                                    # large, so that truncation dominates rounding
    central = numeric.central_differences(lambda v: np.sum(v ** 3), x, h)
    # (x + h)^3 - (x - h)^3 = 6 x^2 h + 2 h^3, so the quotient is 3 x^2 + h^2 = f' + h^2/6 f'''
    np.testing.assert_allclose(central - 3 * x ** 2, h ** 2, rtol=1e-4)


def test_at_the_default_step_the_error_is_far_below_the_checkers_tolerances():
    x = np.linspace(-1.5, 1.5, 7)
    central = numeric.central_differences(lambda v: np.sum(np.tanh(v)), x)
    assert numeric.STEP == 1e-6
    assert np.max(np.abs(central - (1 - np.tanh(x) ** 2))) < 1e-9


def test_one_sided_quotients_bracket_a_kink():
    central, left, right = numeric.difference_quotients(lambda v: np.sum(np.maximum(v, 0)), [0.0, 1.0, -1.0])
    np.testing.assert_allclose(central, [0.5, 1.0, 0.0])        # the average of the slopes at the kink
    np.testing.assert_allclose(left, [0.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(right, [1.0, 1.0, 0.0], atol=1e-9)


def test_central_differences_alone_cost_two_evaluations_per_element():
    calls = []
    x = np.zeros((2, 3))
    numeric.central_differences(lambda v: calls.append(v.copy()) or float(v.sum()), x)
    assert len(calls) == 2 * x.size
    assert x.tolist() == np.zeros((2, 3)).tolist()              # x itself is never moved
    calls.clear()
    numeric.difference_quotients(lambda v: calls.append(v) or 0.0, x)
    assert len(calls) == 2 * x.size + 1                          # and phi(x) once for the one-sided


def test_a_0d_point_gives_the_derivative_along_a_direction():
    x, d = np.array([0.3, -0.8]), np.array([2.0, 0.5])
    slope = numeric.central_differences(lambda t: np.sum(np.sin(x + t * d)), 0.0)
    assert slope.shape == ()
    assert abs(float(slope) - np.dot(np.cos(x), d)) < 1e-9


def test_both_checkers_use_this_one_implementation():
    assert gradcheck.central_differences is numeric.central_differences
    assert check_vjp.difference_quotients is numeric.difference_quotients
    assert check_vjp.central_differences is numeric.central_differences
    for module in (gradcheck, check_vjp):
        source = inspect.getsource(module)
        assert "(2 * eps)" not in source and "(2 * h)" not in source, module.__name__
    assert inspect.signature(ag.gradcheck).parameters["eps"].default == numeric.STEP
