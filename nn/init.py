"""Weight initializers: fill a Tensor in place, outside the graph, from ``ag.get_rng()``.

Linear weights have shape (out_features, in_features), as in PyTorch, so for
a 2-D tensor

    fan_in = shape[1],   fan_out = shape[0]

and for more dimensions both are multiplied by the receptive field
prod(shape[2:]), PyTorch's computation (``torch.nn.init``).  Seed with
``ag.manual_seed(s)`` for reproducible initial weights.

- ``normal_(w, 0, (1/fan_in) ** 0.5)``: the seed texts' N(0, 1/m) (MIT 6.036
  notes, SGD-NEURAL-NET; Sayed, eq. 65.89).
- ``xavier_*`` (Glorot & Bengio 2010): variance 2 / (fan_in + fan_out), which
  keeps tanh activations from shrinking or exploding (KTH lecture 4; the
  uniform version is Sayed, eq. 65.93b).
- ``kaiming_*`` (He et al. 2015): variance gain^2 / fan, gain sqrt(2) for
  ReLU, because ReLU zeroes half of its inputs.
"""
import math

from chaingrad import autograd as ag


def _fans(t):
    if t.ndim < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dimensions, got shape {t.shape}")
    receptive = math.prod(t.shape[2:])   # 1 for (out, in) matrices
    return t.shape[1] * receptive, t.shape[0] * receptive     # (fan_in, fan_out)


def calculate_gain(nonlinearity, param=None):
    """The factor by which an activation shrinks the signal's standard deviation (PyTorch's table)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fill(t, values):
    with ag.no_grad():
        t.copy_(values.astype(t.dtype))
    return t


def normal_(t, mean=0.0, std=1.0):
    """Fill ``t`` with samples of N(mean, std^2)."""
    return _fill(t, ag.get_rng().normal(mean, std, t.shape))


def uniform_(t, a=0.0, b=1.0):
    """Fill ``t`` with samples of U[a, b)."""
    return _fill(t, ag.get_rng().uniform(a, b, t.shape))


def constant_(t, value):
    """Fill ``t`` with ``value``."""
    with ag.no_grad():
        t.fill_(value)
    return t


def zeros_(t):
    return constant_(t, 0.0)


def ones_(t):
    return constant_(t, 1.0)


def xavier_uniform_(t, gain=1.0):
    """U[-a, a] with a = gain * sqrt(6 / (fan_in + fan_out)) (variance 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a)


def xavier_normal_(t, gain=1.0):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(t, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """U[-b, b] with b = sqrt(3) * gain / sqrt(fan); the default gain is ReLU's sqrt(2)."""
    b = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -b, b)


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2) with std = gain / sqrt(fan); the default gain is ReLU's sqrt(2)."""
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity))
