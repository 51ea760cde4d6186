"""Neural networks built only from engine ops: no layer, activation or loss has a backward.

    from chaingrad import autograd as ag
    from chaingrad import nn

    model = nn.MLP([2, 16, 2])                  # Linear -> ReLU -> Linear
    loss = nn.CrossEntropyLoss()(model(ag.randn(8, 2)), [0, 1, 1, 0, 0, 1, 0, 1])
    loss.backward()                             # the engine differentiates everything
    [p.grad.shape for p in model.parameters()]

Modules: ``module`` (Module, Parameter, Sequential, ModuleList), ``layers``
(Linear, MLP, BatchNorm1d, Dropout), ``activations``, ``losses``,
``functional`` (the math, as functions), ``init``, ``serialization``
(save/load), ``data`` (DataLoader and datasets).
"""
from . import functional, init, data
from .module import Module, Parameter, Sequential, ModuleList, StateDictError
from .layers import Linear, MLP, BatchNorm1d, Dropout
from .activations import (Identity, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, ScaledTanh, Softplus,
                          Softmax, LogSoftmax, Step)
from .losses import (MSELoss, L1Loss, HuberLoss, HingeLoss, BCELoss, BCEWithLogitsLoss, NLLLoss,
                     CrossEntropyLoss)
from .serialization import save, load, load_metadata, LayoutWarning
from .data import DataLoader

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "StateDictError",
    "Linear", "MLP", "BatchNorm1d", "Dropout",
    "Identity", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "ScaledTanh", "Softplus",
    "Softmax", "LogSoftmax", "Step",
    "MSELoss", "L1Loss", "HuberLoss", "HingeLoss", "BCELoss", "BCEWithLogitsLoss", "NLLLoss",
    "CrossEntropyLoss",
    "functional", "init", "data", "save", "load", "load_metadata", "LayoutWarning", "DataLoader",
]
