"""EarlyStopping: Sayed's pocket variables (ch. 65, Example 65.2) plus a patience rule."""
import math

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import optim


class Weights:
    """The smallest thing with state_dict/load_state_dict (duck typing: no nn needed)."""

    def __init__(self):
        self.w = np.zeros(3)
        self.loads = 0

    def state_dict(self):
        return {"w": self.w}        # the live array, as a module might return: the pocket must copy it

    def load_state_dict(self, sd):
        self.w[...] = sd["w"]
        self.loads += 1


def run(losses, stopper, target, set_epoch):
    """Feed the losses one per epoch; the weights of epoch e are all equal to e."""
    stopped_at = None
    for epoch, loss in enumerate(losses):
        set_epoch(epoch)
        if stopper(loss, target):
            stopped_at = epoch
            break
    return stopped_at


def test_stops_after_patience_and_restores_pocket_of_state_dict_object():
    m = Weights()
    stopper = optim.EarlyStopping(patience=3)
    losses = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 9.0]
    calls = []

    def set_epoch(e):
        m.w[...] = e
        calls.append(stopper.should_stop)

    stopped = run(losses, stopper, m, set_epoch)
    assert stopped == 5                          # epochs 3, 4, 5: three in a row without beating 3.0
    assert not any(calls)                        # said "go on" before that
    assert stopper.best_score == 3.0 and stopper.best_epoch == 2
    np.testing.assert_array_equal(m.w, [2.0, 2.0, 2.0])    # the pocket: weights of epoch 2
    assert m.loads == 1 and stopper.should_stop


def test_list_of_tensors_and_generator_target():
    """Like ``stopper(val_loss, model.parameters())``: restored in place, still leaves."""
    ps = [ag.tensor(np.zeros(2), requires_grad=True), ag.tensor(np.zeros((2, 2)), requires_grad=True)]

    def set_epoch(e):
        with ag.no_grad():
            for p in ps:
                p.fill_(float(e))

    for target in (ps, lambda: (p for p in ps)):     # a list, or a fresh generator per call
        stopper = optim.EarlyStopping(patience=2)
        stopped = None
        for epoch, loss in enumerate([3.0, 1.0, 2.0, 1.5, 0.1]):
            set_epoch(epoch)
            if stopper(loss, target() if callable(target) else target):
                stopped = epoch
                break
        assert stopped == 3
        for p in ps:
            np.testing.assert_array_equal(p.data, 1.0)     # weights of epoch 1, the best
            assert p.is_leaf and p.requires_grad


def test_restore_best_false_keeps_last_weights_and_restore_by_hand():
    m = Weights()
    stopper = optim.EarlyStopping(patience=1, restore_best=False)
    stopped = run([2.0, 1.0, 4.0], stopper, m, lambda e: m.w.__setitem__(Ellipsis, e))
    assert stopped == 2 and m.loads == 0
    np.testing.assert_array_equal(m.w, 2.0)
    stopper.restore(m)                          # Sayed's "return the pocket variables"
    np.testing.assert_array_equal(m.w, 1.0)


def test_min_delta_and_mode_max():
    m = Weights()
    stopper = optim.EarlyStopping(patience=2, min_delta=0.1)
    # 0.95 and 0.9 beat 1.0 by less than 0.1: not improvements
    assert run([1.0, 0.95, 0.9], stopper, m, lambda e: m.w.__setitem__(Ellipsis, e)) == 2
    assert stopper.best_epoch == 0
    np.testing.assert_array_equal(m.w, 0.0)

    acc = optim.EarlyStopping(patience=2, mode="max")
    assert run([0.5, 0.7, 0.6, 0.69, 0.8], acc, m, lambda e: m.w.__setitem__(Ellipsis, e)) == 3
    assert acc.best_score == 0.7
    np.testing.assert_array_equal(m.w, 1.0)


def test_nan_never_improves_and_tensor_scores_work():
    m = Weights()
    stopper = optim.EarlyStopping(patience=2)
    assert not stopper(ag.tensor(2.0), m)
    assert not stopper(ag.tensor(math.nan), m)
    assert stopper(float("nan"), m)
    assert stopper.best_score == 2.0 and stopper.num_bad_epochs == 2


def test_pocket_is_a_copy_and_patience_zero():
    m = Weights()
    stopper = optim.EarlyStopping(patience=0)
    m.w[...] = 7.0
    assert not stopper(1.0, m)
    m.w[...] = -1.0                              # training changes the live array in place
    assert stopper(1.0, m)                       # equal is not better: patience 0 stops at once
    np.testing.assert_array_equal(m.w, 7.0)


def test_early_stopping_in_a_training_loop_returns_the_best_validation_weights():
    """A tiny over-fitting regression: the pocket holds the weights of the best validation loss."""
    rng = np.random.default_rng(3)
    Xtr, Xva = rng.normal(size=(8, 6)), rng.normal(size=(50, 6))
    w_true = np.array([1.0, -1.0, 0, 0, 0, 0])
    ytr = Xtr @ w_true + rng.normal(size=8) * 0.8
    yva = Xva @ w_true
    w = ag.zeros(6, requires_grad=True)
    opt = optim.SGD([w], lr=0.05)
    stopper = optim.EarlyStopping(patience=20)
    history = []
    for epoch in range(2000):
        opt.zero_grad()
        ((ag.tensor(Xtr) @ w - ag.tensor(ytr)) ** 2).mean().backward()
        opt.step()
        with ag.no_grad():
            val = ((ag.tensor(Xva) @ w - ag.tensor(yva)) ** 2).mean().item()
        history.append((val, w.data.copy()))
        if stopper(val, [w]):
            break
    assert stopper.should_stop and epoch < 1999
    best_val, best_w = min(history, key=lambda h: h[0])
    assert stopper.best_score == best_val
    np.testing.assert_array_equal(w.data, best_w)
    assert history[-1][0] > best_val           # validation loss had got worse: over-fitting


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        optim.EarlyStopping(3, mode="lowest")
    with pytest.raises(ValueError, match="patience"):
        optim.EarlyStopping(-1)
    stopper = optim.EarlyStopping(1)
    ps = [ag.tensor([1.0], requires_grad=True)]
    stopper(1.0, ps)
    with pytest.raises(ValueError, match="pocket holds 1"):
        stopper.restore(ps + ps)


def test_readme_optim_example_runs_as_written(capsys):
    """The optim guide's example (docs/optim.md) runs as written and reaches the true weights."""
    import pathlib
    import re
    page = (pathlib.Path(__file__).parent.parent / "docs" / "optim.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    scope = {}
    exec(compile(code, "docs/optim.md", "exec"), scope)
    np.testing.assert_allclose(scope["w"].data, [1.0, -2.0, 0.5], atol=0.02)
    np.testing.assert_allclose(scope["b"].data, [0.3], atol=0.02)
    assert scope["stopper"].best_score < 1e-3
    assert capsys.readouterr().out.strip()


def test_with_a_real_nn_module():
    """The duck-typed protocol with nn.Module's state_dict/load_state_dict (tests may import nn)."""
    from chaingrad import nn
    model = nn.Linear(3, 2)
    stopper = optim.EarlyStopping(patience=1)
    best = {k: v.copy() for k, v in model.state_dict().items()}
    assert not stopper(1.0, model)
    with ag.no_grad():
        for p in model.parameters():
            p += 1.0
    assert stopper(2.0, model)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, best[k])
