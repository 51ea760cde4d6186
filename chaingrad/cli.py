"""Placeholder until the training command lands: a tiny example of the engine."""


def main(argv=None):
    import autograd as ag
    x = ag.tensor(3.0, requires_grad=True)
    y = 2 * x + 2 + x ** 2
    y.backward()
    print(f"y = 2x + 2 + x^2 at x = 3: y = {y.item()}, dy/dx = {x.grad.item()}")
    return 0
