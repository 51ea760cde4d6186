"""Early stopping with pocket variables (Sayed, ch. 65, Example 65.2)."""
import math

import numpy as np

from chaingrad import autograd as ag


class EarlyStopping:
    r"""Stop training when the validation loss stops improving; keep the best weights.

    ``EarlyStopping(patience, restore_best=True, min_delta=0.0, mode="min")``

    The training loss keeps falling, but the validation loss usually falls and
    then rises again: the network starts to fit noise.  Sayed's procedure
    (ch. 65, Example 65.2, listing (65.94)) keeps *pocket variables*: a copy of
    the parameters at the smallest validation error ``R_p`` seen so far::

        R_p = +inf;  pocket = initial parameters
        repeat:  train for an epoch;  R_v = validation error
                 if R_v < R_p:  R_p <- R_v;  pocket <- current parameters
        return pocket

    This class runs the ``if`` and adds the stopping rule: after ``patience``
    epochs in a row without improvement it says stop (and, with
    ``restore_best``, copies the pocket back into the parameters).

    Call protocol: once per epoch, after evaluating on the validation set::

        stopper = optim.EarlyStopping(patience=5)
        for epoch in range(max_epochs):
            train_one_epoch()
            if stopper(val_loss, model):       # True: stop now (pocket already restored)
                break
        stopper.restore(model)                 # if the loop ran out first: return the pocket anyway

    ``stopper(score, target)`` takes the validation score (a number or 0-d
    Tensor) and ``target``: anything with ``state_dict()`` and
    ``load_state_dict(d)`` (an ``nn.Module``), or a list of Tensors (e.g.
    ``model.parameters()``).  It returns True when training should stop.

    * ``mode="min"`` for losses; ``"max"`` for accuracies.
    * An improvement must beat the best by more than ``min_delta``.
    * A NaN score never counts as an improvement.

    With ``patience=k`` training stops at the k-th epoch in a row that does
    not improve on the best (``patience=0``: at the first one).

    Attributes: ``best_score``, ``best_epoch`` (0-based call index),
    ``num_bad_epochs``, ``epoch`` (calls so far), ``should_stop``.
    """

    def __init__(self, patience, restore_best=True, min_delta=0.0, mode="min"):
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta}")
        self.patience, self.restore_best = patience, restore_best
        self.min_delta, self.mode = min_delta, mode
        self.best_score = math.inf if mode == "min" else -math.inf    # Sayed's R_p
        self.best_epoch = None
        self.num_bad_epochs = 0
        self.epoch = 0
        self.should_stop = False
        self.pocket = None

    def _improved(self, score):
        if self.mode == "min":
            return score < self.best_score - self.min_delta
        return score > self.best_score + self.min_delta

    def __call__(self, score, target):
        """Record this epoch's validation ``score`` for ``target``; return True to stop."""
        score = float(score.item() if isinstance(score, ag.Tensor) else score)
        if not hasattr(target, "state_dict"):
            target = list(target)      # a generator such as model.parameters() is read twice
        self.epoch += 1
        if self._improved(score):      # False for NaN: every comparison with NaN is False
            self.best_score, self.best_epoch = score, self.epoch - 1
            self.num_bad_epochs = 0
            self.pocket = _snapshot(target)
            return self.should_stop
        self.num_bad_epochs += 1
        if self.num_bad_epochs >= self.patience and not self.should_stop:
            self.should_stop = True
            if self.restore_best:
                self.restore(target)
        return self.should_stop

    def restore(self, target):
        """Copy the pocket (best) weights into ``target``; a no-op if nothing was recorded."""
        if self.pocket is None:
            return
        if hasattr(target, "load_state_dict"):
            target.load_state_dict({k: v.copy() for k, v in self.pocket.items()})
            return
        params = list(target)
        if len(params) != len(self.pocket):
            raise ValueError(f"EarlyStopping.restore: {len(params)} tensors given, "
                             f"the pocket holds {len(self.pocket)}")
        with ag.no_grad():
            for p, saved in zip(params, self.pocket):
                p.copy_(saved)


def _snapshot(target):
    """A private copy of the weights: a dict of arrays (state_dict) or a list of arrays."""
    if hasattr(target, "state_dict"):
        return {k: np.array(v.data if isinstance(v, ag.Tensor) else v, copy=True)
                for k, v in target.state_dict().items()}
    return [np.array(p.data, copy=True) for p in target]
