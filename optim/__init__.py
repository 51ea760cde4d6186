"""Optimizers for chaingrad: they take autograd Tensors and update them outside the graph.

    from chaingrad import autograd as ag, optim
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(100):
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        opt.step()

Modules, one per family: ``optimizer`` (the base class, parameter groups,
state_dict), ``sgd``, ``adagrad``, ``rmsprop``, ``adadelta``, ``adam`` (Adam,
AdamW), ``lr_scheduler`` (StepLR, ExponentialLR, LambdaLR), ``clip``
(clip_grad_norm_), ``early_stopping`` (EarlyStopping with pocket weights).
``optim`` imports only ``autograd``; it never imports ``nn``.
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adagrad import Adagrad
from .rmsprop import RMSprop
from .adadelta import Adadelta
from .adam import Adam, AdamW
from . import lr_scheduler
from .lr_scheduler import LRScheduler, StepLR, ExponentialLR, LambdaLR
from .clip import clip_grad_norm_
from .early_stopping import EarlyStopping

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW",
           "lr_scheduler", "LRScheduler", "StepLR", "ExponentialLR", "LambdaLR",
           "clip_grad_norm_", "EarlyStopping"]
