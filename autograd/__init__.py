"""chaingrad's engine: Tensors that record primitive ops, and reverse mode over them.

    from chaingrad import autograd as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad              # tensor([2., 4.])

Modules: ``tensor`` (the Tensor), ``graph`` (grad mode, scopes and the graph's
vertex, Node), ``primitive`` (how an op and its VJPs are defined and recorded),
``engine`` (backward), ``ops`` (every primitive with its VJP),
``functional`` (vjp, jacobian, hessian), ``gradcheck``, ``viz`` (pictures).
"""
import numpy as _np

from .backend import get_default_dtype, set_default_dtype
from .tensor import Tensor
from .graph import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, scope, composite
from .primitive import Primitive, primitive
from .engine import backward, grad, unbroadcast
from .anomaly import detect_anomaly
from .creation import (tensor, zeros, ones, zeros_like, ones_like, randn, rand, arange,
                       manual_seed, get_rng)
from .ops import *  # noqa: F401,F403  (every primitive as ag.<name>)
from . import ops, functional
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .check_vjp import check_vjp

float32 = _np.float32
float64 = _np.float64


def __getattr__(name):
    # The pictures import graphviz; load them only when asked for.
    if name == "viz":
        import importlib
        return importlib.import_module(".viz", __name__)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
