"""Activation functions as modules (Sayed, Table 65.1; MIT 6.036 notes, sec. 7.3).

Each one calls its function in ``nn.functional``, where the math (and the
derivative the engine will find) is documented.
"""
from chaingrad.autograd.dialects import translate

from . import functional as F
from .module import Module


class Identity(Module):
    """f(z) = z ("no activation")."""

    def forward(self, x):
        return F.identity(x)


class ReLU(Module):
    """max(0, z)."""

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """z for z > 0, else ``negative_slope`` * z (0.01 as in Sayed, eq. 65.12)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """z for z > 0, else alpha (e^z - 1)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    """1 / (1 + e^-z)."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(z)."""

    def forward(self, x):
        return F.tanh(x)


class ScaledTanh(Module):
    """a tanh(b z), by default a = 1.7159, b = 2/3 so that f(+-1) = +-1 (Sayed, eq. 65.10)."""

    def __init__(self, a=1.7159, b=2 / 3):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return F.scaled_tanh(x, self.a, self.b)

    def extra_repr(self):
        return f"a={self.a}, b={self.b:.4g}"


class Softplus(Module):
    """ln(1 + e^z), computed stably."""

    def forward(self, x):
        return F.softplus(x)


class Softmax(Module):
    """e^z_i / sum_j e^z_j along ``axis`` (numpy's name) or ``dim`` (PyTorch's: ``nn.Softmax(dim=1)``)."""

    def __init__(self, axis=-1, *, dim=None):
        super().__init__()
        self.axis = translate(type(self).__name__, axis, False, dim, None, axis_default=-1)[0]

    def forward(self, x):
        return F.softmax(x, self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """z_i - log sum_j e^z_j along ``axis`` (numpy's name) or ``dim`` (PyTorch's: ``nn.LogSoftmax(dim=1)``)."""

    def __init__(self, axis=-1, *, dim=None):
        super().__init__()
        self.axis = translate(type(self).__name__, axis, False, dim, None, axis_default=-1)[0]

    def forward(self, x):
        return F.log_softmax(x, self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class Step(Module):
    """0 for z < 0, else 1; the gradient is zero everywhere (for teaching why it cannot be trained)."""

    def forward(self, x):
        return F.step(x)


ACTIVATIONS = {
    "identity": Identity, "linear": Identity, "relu": ReLU, "leaky_relu": LeakyReLU, "elu": ELU,
    "sigmoid": Sigmoid, "tanh": Tanh, "scaled_tanh": ScaledTanh, "softplus": Softplus,
    "softmax": Softmax, "log_softmax": LogSoftmax, "step": Step,
}


def get_activation(spec):
    """An activation module from a name (``"relu"``), a Module class, or a Module instance."""
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str) and spec.lower() in ACTIVATIONS:
        return ACTIVATIONS[spec.lower()]()
    raise ValueError(f"unknown activation {spec!r}; use one of {sorted(ACTIVATIONS)}, "
                     f"a Module class or a Module instance")
