import numpy as np

from chaingrad import autograd as ag


def test_scalar_expression_like_micrograd():
    x = ag.tensor(3.0, requires_grad=True)
    y = 2 * x + 2 + x ** 2 + 10.0 / x
    y.backward()
    assert np.isclose(y.item(), 6 + 2 + 9 + 10 / 3)
    assert np.isclose(x.grad.item(), 2 + 6 - 10 / 9)


def test_second_order_gradcheck():
    a = ag.randn(3, 4, requires_grad=True)
    b = ag.randn(4, requires_grad=True)
    assert ag.gradgradcheck(lambda a, b: (a @ b).sigmoid(), [a, b])
