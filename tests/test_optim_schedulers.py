"""Learning-rate schedulers and gradient clipping, against PyTorch."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import optim
from chaingrad.optim import lr_scheduler
from optional import needs, optional

torch = optional("torch")

EPOCHS = 12


def pair(groups_lr=(0.1,)):
    """An optimizer of ours and one of torch's, with one parameter group per lr."""
    ours = optim.SGD([{"params": [ag.tensor([1.0], requires_grad=True)], "lr": lr} for lr in groups_lr], lr=1.0)
    theirs = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)], "lr": lr} for lr in groups_lr],
                             lr=1.0)
    return ours, theirs


SCHEDULES = [
    ("StepLR", dict(step_size=3), (0.1,)),
    ("StepLR", dict(step_size=2, gamma=0.5), (0.1, 0.03)),
    ("ExponentialLR", dict(gamma=0.9), (0.1,)),
    ("ExponentialLR", dict(gamma=0.5), (1.0, 0.2)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1)), (0.1,)),
    ("LambdaLR", dict(lr_lambda=[lambda e: min(1.0, (e + 1) / 5), lambda e: 0.95 ** e]), (0.1, 0.5)),
]


@pytest.mark.parametrize("name,kw,lrs", SCHEDULES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCHEDULES)])
@needs("torch")
def test_lr_sequence_matches_torch(name, kw, lrs):
    opt, topt = pair(lrs)
    sched = getattr(lr_scheduler, name)(opt, **kw)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    ours, theirs = [sched.get_last_lr()], [tsched.get_last_lr()]
    for _ in range(EPOCHS):
        opt.step()              # PyTorch's order: optimizer first, then the scheduler
        topt.step()
        sched.step()
        tsched.step()
        ours.append(sched.get_last_lr())
        theirs.append(tsched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == ours[-1]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert len({tuple(r) for r in ours}) > 1            # the rate did change


def test_step_lr_values_by_hand():
    opt, _ = pair((0.1,))
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    seen = [sched.get_last_lr()[0]]
    for _ in range(5):
        sched.step()
        seen.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(seen, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-12)
    assert opt.param_groups[0]["initial_lr"] == 0.1


@needs("torch")
def test_scheduled_sgd_trajectory_matches_torch():
    w = ag.tensor([3.0, -2.0], requires_grad=True)
    tw = torch.tensor([3.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([w], lr=0.02, momentum=0.9)
    topt = torch.optim.SGD([tw], lr=0.02, momentum=0.9, foreach=False)
    sched = optim.StepLR(opt, step_size=5, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=5, gamma=0.5)
    for _ in range(25):
        for o, p in ((opt, w), (topt, tw)):
            o.zero_grad()
            (0.1 * p ** 4 + p ** 2).sum().backward()
            o.step()
        sched.step()
        tsched.step()
    assert np.all(np.isfinite(w.data)) and np.abs(w.data).max() < 1.0    # it converged
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=0, atol=1e-12)


def test_scheduler_state_dict_round_trip():
    opt, _ = pair((0.1,))
    sched = optim.ExponentialLR(opt, gamma=0.9)
    for _ in range(4):
        sched.step()
    sd_opt, sd_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sd_sched and sd_sched["last_epoch"] == 4

    opt2, _ = pair((0.1,))
    sched2 = optim.ExponentialLR(opt2, gamma=0.9)   # built before loading, as PyTorch advises
    opt2.load_state_dict(sd_opt)
    sched2.load_state_dict(sd_sched)
    for _ in range(3):
        sched.step()
        sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert sched2.last_epoch == 7


def test_lambda_lr_checks_the_number_of_functions():
    opt, _ = pair((0.1, 0.2))
    with pytest.raises(ValueError, match="2 parameter groups"):
        optim.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="not an optim.Optimizer"):
        optim.StepLR(object(), step_size=1)


# ---- clip_grad_norm_ -----------------------------------------------------------
SHAPES = [(3, 4), (5,), ()]


def grads_pair(seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) * 3 for s in SHAPES]
    ours = [ag.tensor(np.zeros(s), requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, q, a in zip(ours, theirs, arrays):
        p.grad = ag.tensor(a.copy())
        q.grad = torch.tensor(a.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
@needs("torch")
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = grads_pair(0)
    before = [p.grad.data.copy() for p in ours]
    n = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type, foreach=False)
    assert isinstance(n, ag.Tensor) and n.shape == ()
    assert n.item() == pytest.approx(tn.item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12, atol=1e-15)
    clipped = max_norm < n.item()
    assert clipped == (not np.allclose(ours[0].grad.data, before[0]))


def test_clip_grad_norm_keeps_direction_skips_none_and_takes_one_tensor():
    ours, _ = grads_pair(1)
    ours.append(ag.tensor([1.0], requires_grad=True))          # no grad: skipped
    before = np.concatenate([p.grad.data.ravel() for p in ours[:3]])
    total = optim.clip_grad_norm_(iter(ours), max_norm=1.0)    # any iterable, e.g. a generator
    after = np.concatenate([p.grad.data.ravel() for p in ours[:3]])
    assert total.item() == pytest.approx(np.linalg.norm(before))
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before))
    assert ours[3].grad is None

    w = ag.tensor([3.0, 4.0], requires_grad=True)
    w.grad = ag.tensor([3.0, 4.0])
    assert optim.clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.data, [0.6, 0.8], rtol=1e-6)


def test_clip_grad_norm_float32_and_shared_grad_arrays():
    a = ag.tensor([1.0, 1.0], requires_grad=True, dtype=np.float32)
    b = ag.tensor([1.0, 1.0], requires_grad=True, dtype=np.float32)
    shared = ag.tensor([3.0, 4.0], dtype=np.float32)
    a.grad = shared                 # the same gradient Tensor on two parameters
    b.grad = ag.tensor(shared.data)  # and a second Tensor over the same array
    total = optim.clip_grad_norm_([a, b], 1.0)
    assert a.grad.dtype == np.float32 and total.dtype == np.float32
    # each parameter's gradient is scaled exactly once
    np.testing.assert_allclose(a.grad.data, np.array([3.0, 4.0]) / np.sqrt(50), rtol=1e-5)
    np.testing.assert_allclose(b.grad.data, np.array([3.0, 4.0]) / np.sqrt(50), rtol=1e-5)
