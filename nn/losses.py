"""Loss functions as modules: ``loss = nn.CrossEntropyLoss()(logits, y)``.

Each takes ``reduction="mean" | "sum" | "none"`` and calls its function in
``nn.functional``, where the formula and its numerical care are documented.
Pairing a loss with the right output (MIT 6.036 notes, sec. 7.4):

    regression        -> linear output + MSELoss / L1Loss / HuberLoss
    two classes       -> one logit + BCEWithLogitsLoss (or sigmoid + BCELoss)
    two classes, +-1  -> one score + HingeLoss
    many classes      -> logits + CrossEntropyLoss (= LogSoftmax + NLLLoss)
"""
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """(input - target)^2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """|input - target|."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """0.5 d^2 for |d| < delta, else delta (|d| - delta / 2)."""

    def __init__(self, delta=1.0, reduction="mean"):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self):
        return f"delta={self.delta}, reduction={self.reduction!r}"


class HingeLoss(_Loss):
    """max(0, 1 - y z) for labels y = +-1."""

    def forward(self, input, target):
        return F.hinge_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (e.g. after a Sigmoid)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed from the logits (stable)."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class NLLLoss(_Loss):
    """-log p_y from log-probabilities (N, C) and integer labels (N,)."""

    def forward(self, input, target):
        return F.nll_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits (N, C) and integer labels (N,) or probability rows (N, C)."""

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.reduction)
