"""chaingrad's engine: Tensors that record primitive ops, and reverse mode over them.

    from chaingrad import autograd as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad              # tensor([2., 4.])

Modules, from the bottom up (each imports only modules above it in this
list; tests/test_layers.py checks that there is no cycle):

1. ``errors``, ``backend`` (the one seam to numpy);
2. ``graph`` (grad mode, scopes and the graph's vertex, Node), ``anomaly``;
3. ``tensor`` (the Tensor's data, grad, versions, hooks);
4. ``dialects`` (the names an op answers to), ``primitive`` (how an op and
   its VJPs are declared and recorded);
5. ``ops`` (every op, declared once with its VJPs and spellings);
6. ``numpy_functions`` (numpy's protocols), ``torch_names`` (PyTorch's
   convenience methods), ``creation``;
7. ``engine`` (backward, ``grad``, ``chain_rule``);
8. ``functional`` (vjp, jacobian, hessian), ``numeric`` (central
   differences), ``gradcheck``, ``check_vjp``;
9. ``viz`` (pictures and pages).
"""
import numpy as _np

from .backend import get_default_dtype, set_default_dtype
from .tensor import Tensor
from .graph import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, scope, composite
from .primitive import Primitive, primitive
from .ops import *  # noqa: F401,F403  (every op as ag.<name>)
from . import ops, numpy_functions, torch_names  # noqa: F401  (numpy's protocols, PyTorch's methods)
from .engine import backward, grad, unbroadcast, chain_rule
from .anomaly import detect_anomaly
from .creation import (tensor, zeros, ones, zeros_like, ones_like, randn, rand, arange,
                       manual_seed, get_rng, from_numpy, full, empty, eye, linspace, full_like,
                       randn_like, rand_like)
from . import functional
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .check_vjp import check_vjp

float32 = _np.float32
float64 = _np.float64


def __getattr__(name):
    # The pictures import graphviz; load them only when asked for.
    if name == "viz":
        import importlib
        return importlib.import_module(".viz", __name__)
    hint = torch_names.module_attribute_hint(name)
    raise AttributeError(f"module 'chaingrad.autograd' has no attribute {name!r}" + (f"; {hint}" if hint else ""))
