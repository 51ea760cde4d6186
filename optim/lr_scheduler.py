"""Learning-rate schedules: change ``group["lr"]`` as training goes on.

PyTorch's protocol: build the scheduler after the optimizer, and call
``scheduler.step()`` once per epoch, *after* ``optimizer.step()``::

    opt = optim.SGD(params, lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)           # calls opt.step() for every batch
        sched.step()                   # lr: 0.1 for epochs 0-29, 0.01 for 30-59, ...

``last_epoch`` counts the calls to ``step()``; building the scheduler counts
as epoch 0 and stores each group's starting rate as ``group["initial_lr"]``
(the ``base_lrs``).  ``get_last_lr()`` returns the rates now in use.
"""
from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``get_lr()``, the rates for ``self.last_epoch``."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an optim.Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param_groups[{i}] has no 'initial_lr': resuming with last_epoch >= 0 "
                               f"needs an optimizer whose state was saved while a scheduler ran")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial = True       # the constructor's step sets epoch 0's rates
        self.step()
        self._initial = False

    def get_lr(self):
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new rates into the optimizer's groups."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates set by the latest ``step()``, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer (and, for LambdaLR, the functions)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    ``StepLR(optimizer, step_size, gamma=0.1)``:
    ``lr_epoch = initial_lr * gamma ** (epoch // step_size)``.
    Like PyTorch it multiplies the *current* rate, so it composes with other
    changes made to ``group["lr"]``.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs
        return [lr * self.gamma for lr in lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr_epoch = initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lrs = [group["lr"] for group in self.optimizer.param_groups]
        return lrs if self._initial else [lr * self.gamma for lr in lrs]


class LambdaLR(LRScheduler):
    """``lr_epoch = initial_lr * lr_lambda(epoch)``; one function, or one per group.

    Example, a linear warm-up over 5 epochs::

        sched = LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 5))
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: {len(lr_lambda)} functions for {n} parameter groups")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]
