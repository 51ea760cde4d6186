"""Layers with parameters or state: Linear, BatchNorm1d, Dropout, and the MLP built from them.

Each forward calls the matching function of ``nn.functional``; none has a
backward of its own.
"""
import numpy as np

from chaingrad import autograd as ag

from . import functional as F
from . import init as initializers
from .activations import get_activation
from .module import Module, Parameter, Sequential, float_dtype


class DtypeMismatchError(TypeError, RuntimeError):
    """A layer got a batch of another float dtype than its weights (PyTorch raises RuntimeError)."""


class Linear(Module):
    """An affine layer Z = X Wᵀ + b for a batch of rows X (N, in_features).

    ``weight`` has shape (out_features, in_features), as in PyTorch and
    KTH's lecture (z = W x + b for one column x; MIT's and Sayed's texts
    write z = Wᵀ x + w0, their W of shape (in, out) being our weight's
    transpose), so a PyTorch state dict loads as it is.  The forward is one
    ``linear`` op.  ``init``:

    - ``"normal"`` (default): W ~ N(0, 1/in_features) and b ~ N(0, 1), as in
      MIT 6.036's SGD-NEURAL-NET and Sayed eqs. 65.88-65.89;
    - ``"xavier"``: Glorot normal W, zero b (good for tanh/sigmoid);
    - ``"he"``: Kaiming normal W (std sqrt(2/in_features)), zero b (good for ReLU).

    ``dtype``: of the weights (default: ``ag.get_default_dtype()``). As in
    PyTorch, a batch must come in that dtype: a float32 batch into a float64
    layer raises instead of silently computing in float64.

    >>> layer = Linear(3, 2); layer(ag.randn(5, 3)).shape
    (5, 2)
    """

    def __init__(self, in_features, out_features, bias=True, init="normal", dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = float_dtype(dtype, "Linear")
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.init = init
        self.reset_parameters(init)

    def reset_parameters(self, init="normal"):
        """Draw fresh weights (from ``ag.get_rng()``) with the named scheme."""
        if init == "normal":
            initializers.normal_(self.weight, 0.0, 1.0 / np.sqrt(self.in_features))
            if self.bias is not None:
                initializers.normal_(self.bias, 0.0, 1.0)
        elif init in ("xavier", "he"):
            if init == "xavier":
                initializers.xavier_normal_(self.weight)
            else:
                initializers.kaiming_normal_(self.weight, nonlinearity="relu")
            if self.bias is not None:
                initializers.zeros_(self.bias)
        else:
            raise ValueError(f"Linear: init must be 'normal', 'xavier' or 'he', got {init!r}")

    def forward(self, x):
        given = getattr(x, "dtype", None)       # Tensors and arrays; lists take the default dtype
        if given is not None and np.dtype(given).kind == "f" and given != self.weight.dtype:
            raise DtypeMismatchError(
                f"Linear({self.in_features}, {self.out_features}): the input is {np.dtype(given)} but the "
                f"weights are {self.weight.dtype}; convert one of them (x.astype('{self.weight.dtype}'), "
                f"or the model with .to(), .float() or .double())")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class BatchNorm1d(Module):
    """Normalise each feature over the batch, then scale and shift (learned).

    Training: batch mean and biased batch variance normalise; the running
    statistics (buffers ``running_mean``, ``running_var``, the latter from
    the unbiased variance) move by ``momentum``.  Evaluation (``eval()``):
    the running statistics are used.  ``weight`` (the MIT notes' G) starts at
    1 and ``bias`` (B) at 0.  See ``nn.functional.batch_norm`` for the math.
    ``dtype``: of the parameters and buffers (default: ``ag.get_default_dtype()``).

    PyTorch's ``num_batches_tracked`` (a count it uses only with
    ``momentum=None``, which chaingrad does not offer) is accepted and
    skipped by ``load_state_dict``.
    """
    ignored_state = ("num_batches_tracked",)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum, self.affine = int(num_features), eps, momentum, affine
        dtype = float_dtype(dtype, "BatchNorm1d")
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", ag.zeros(self.num_features, dtype=dtype))
        self.register_buffer("running_var", ag.ones(self.num_features, dtype=dtype))

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): expected input of shape "
                             f"(N, {self.num_features}), got {x.shape}")
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class Dropout(Module):
    """Inverted dropout with drop probability ``p`` in training; the identity after ``eval()``."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class MLP(Module):
    """A multilayer perceptron: ``sizes = [in, hidden..., out]``.

    Each hidden layer is Linear -> [BatchNorm1d] -> activation -> [Dropout]
    (batch norm before the activation, as in the MIT notes, sec. 7.8.3); the
    last layer is Linear -> [out_activation].  With batch norm the Linear
    layers before it have no bias, since BN's shift plays that role.
    ``activation`` and ``out_activation`` are names (``"relu"``, ``"tanh"``,
    ``"sigmoid"``, ...), Module classes or Module instances; the default
    output is the raw scores (logits), for ``CrossEntropyLoss``.

    The layers live in ``self.layers`` (a Sequential), so the parameters are
    named ``layers.0.weight``, ``layers.0.bias``, ...

    >>> MLP([2, 16, 16, 2])          # 2 inputs, two hidden ReLU layers of 16, 2 logits
    """

    def __init__(self, sizes, activation="relu", out_activation=None, batchnorm=False, dropout=0.0,
                 init="normal"):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            layers.append(Linear(n_in, n_out, bias=last or not batchnorm, init=init))
            if last:
                if out_activation is not None:
                    layers.append(get_activation(out_activation))
                break
            if batchnorm:
                layers.append(BatchNorm1d(n_out))
            layers.append(get_activation(activation))
            if dropout:
                layers.append(Dropout(dropout))
        self.sizes = sizes
        self.layers = Sequential(*layers)

    def forward(self, x):
        return self.layers(x)
