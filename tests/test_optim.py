"""Optimizers: same trajectories as torch.optim, checkpoints, dtypes, and no graph growth."""
import gc
import weakref

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import optim
from chaingrad.autograd.graph import Node
from optional import needs, optional

torch = optional("torch")

STEPS = 25
TOL = 1e-9

# Starting point of the test problem: three parameter tensors of different shapes.
X0 = np.array([-1.2, 1.0])
W0 = np.array([[0.5, -0.3, 0.8], [0.1, 0.4, -0.6]])
B0 = np.array([0.2, -0.1])
V = np.array([1.0, -2.0, 0.5])
T = np.array([0.3, -0.7])


def problem(x, W, b, const):
    """A Rosenbrock valley in x, a least-squares term in W, and a coupling through b.

    Written with operators only, so the same code runs on autograd and torch Tensors.
    """
    rosen = (1 - x[0]) ** 2 + 5 * (x[1] - x[0] ** 2) ** 2
    lsq = ((W @ const(V) - const(T)) ** 2).sum()
    couple = ((b - W[:, 0]) ** 2).sum() + (b * x).sum() ** 2
    return rosen + lsq + couple


TORCH = {"SGD": torch.optim.SGD, "Adagrad": torch.optim.Adagrad, "RMSprop": torch.optim.RMSprop,
         "Adadelta": torch.optim.Adadelta, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}

# (optimizer name, keyword arguments); empty kwargs check that our defaults are PyTorch's.
CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.01, weight_decay=0.2)),
    ("SGD", dict(lr=0.02, momentum=0.9, dampening=0.9)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.3, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.003, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.05)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, betas=(0.85, 0.995), weight_decay=0.1)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CASES]


def ours_params(dtype=np.float64):
    return [ag.tensor(a.copy(), requires_grad=True, dtype=dtype) for a in (X0, W0, B0)]


def torch_params():
    return [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=True) for a in (X0, W0, B0)]


def ours_step(opt, ps):
    opt.zero_grad()
    loss = problem(*ps, const=lambda a: a)
    loss.backward()
    opt.step()
    return loss.item()


def torch_step(opt, ps):
    opt.zero_grad()
    loss = problem(*ps, const=lambda a: torch.tensor(a, dtype=torch.float64))
    loss.backward()
    opt.step()
    return loss.item()


def max_deviation(name, kw, steps=STEPS):
    """Run both optimizers side by side; the largest parameter difference over all steps."""
    ours, theirs = ours_params(), torch_params()
    opt = getattr(optim, name)(ours, **kw)
    topt = TORCH[name](theirs, foreach=False, **kw)
    worst = 0.0
    for _ in range(steps):
        ours_step(opt, ours)
        torch_step(topt, theirs)
        for p, q in zip(ours, theirs):
            worst = max(worst, np.max(np.abs(p.data - q.detach().numpy())))
    return worst, opt, topt, ours


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@needs("torch")
def test_trajectory_matches_torch(name, kw):
    worst, opt, topt, ours = max_deviation(name, kw)
    assert worst < TOL, f"{name}{kw}: deviates from torch.optim by {worst:.3g}"
    # The parameters really moved (a do-nothing optimizer would pass the comparison too).
    assert np.max(np.abs(ours[0].data - X0)) > 1e-3
    # Same state, under PyTorch's names.
    tstate = topt.state_dict()["state"]
    for i, s in opt.state_dict()["state"].items():
        for key, value in s.items():
            tv = tstate[i][key]
            tv = tv.item() if key == "step" else tv.numpy()
            np.testing.assert_allclose(value, tv, rtol=0, atol=TOL, err_msg=f"{name} state {key}")


@pytest.mark.parametrize("name", sorted(TORCH))
@needs("torch")
def test_defaults_are_pytorchs(name):
    ps, tps = ours_params(), torch_params()
    kw = {"lr": 0.1} if name == "SGD" else {}
    ours = getattr(optim, name)(ps, **kw).defaults
    theirs = TORCH[name](tps, **kw).defaults
    for key, value in ours.items():
        assert theirs[key] == value, f"{name}.{key}: ours {value}, torch {theirs[key]}"


@needs("torch")
def test_param_groups_with_own_hyperparameters_match_torch():
    ours, theirs = ours_params(), torch_params()
    opt = optim.SGD([{"params": ours[:1], "lr": 0.002}, {"params": ours[1:], "momentum": 0.5}],
                    lr=0.01, momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[:1], "lr": 0.002}, {"params": theirs[1:], "momentum": 0.5}],
                           lr=0.01, momentum=0.9, foreach=False)
    assert opt.param_groups[0]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    for _ in range(STEPS):
        ours_step(opt, ours)
        torch_step(topt, theirs)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=TOL)


def test_params_without_grad_are_skipped_and_grads_left_alone():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    unused = ag.tensor([5.0], requires_grad=True)
    opt = optim.Adam([w, unused], lr=0.1)
    (w ** 2).sum().backward()
    g = w.grad.data.copy()
    opt.step()
    assert unused.grad is None and unused.data[0] == 5.0
    assert unused not in opt.state                 # no state for a param never updated
    np.testing.assert_array_equal(w.grad.data, g)  # step reads the gradient, never changes it
    assert w.is_leaf and w.requires_grad


def test_zero_grad_sets_none_or_zeros():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_closure_is_called_and_its_loss_returned():
    ps = ours_params()
    opt = optim.SGD(ps, lr=0.01)

    def closure():
        opt.zero_grad()
        loss = problem(*ps, const=lambda a: a)
        loss.backward()
        return loss

    with ag.no_grad():          # step re-enables grad for the closure, as PyTorch does
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(problem(*ours_params(), const=lambda a: a).item())
    assert not np.allclose(ps[0].data, X0)


# ---- float32 stays float32 --------------------------------------------------
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_float32_params_and_state_stay_float32(name, kw):
    ps = ours_params(np.float32)
    # numpy float64 scalars as hyperparameters must not promote the parameters either
    kw = {k: (np.float64(v) if isinstance(v, float) else v) for k, v in kw.items()}
    opt = getattr(optim, name)(ps, **kw)
    for _ in range(3):
        ours_step(opt, ps)
    for p in ps:
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
        for value in opt.state[p].values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32
    # and float32 follows the float64 trajectory to float32 accuracy
    ref = ours_params()
    opt64 = getattr(optim, name)(ref, **kw)
    for _ in range(3):
        ours_step(opt64, ref)
    for p, q in zip(ps, ref):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-4, atol=1e-5)


# ---- state_dict / load_state_dict ---------------------------------------------
@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_state_dict_round_trip_resumes_identically(name, kw):
    straight = ours_params()
    opt = getattr(optim, name)(straight, **kw)
    for _ in range(10):
        ours_step(opt, straight)
    saved_params = [p.data.copy() for p in straight]
    saved = opt.state_dict()
    for _ in range(15):
        ours_step(opt, straight)

    # the checkpoint holds plain numbers and numpy arrays, copied (later steps did not change it)
    for s in saved["state"].values():
        for v in s.values():
            assert isinstance(v, (int, float, np.ndarray)), type(v)
    assert all(isinstance(i, int) for g in saved["param_groups"] for i in g["params"])

    resumed = [ag.tensor(a, requires_grad=True) for a in saved_params]
    opt2 = getattr(optim, name)(resumed, lr=123.0)          # hyperparameters come from the checkpoint
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for _ in range(15):
        ours_step(opt2, resumed)
    for p, q in zip(straight, resumed):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_copies_and_casts():
    ps = ours_params()
    opt = optim.Adam(ps)
    ours_step(opt, ps)
    sd = opt.state_dict()
    ps32 = ours_params(np.float32)
    opt32 = optim.Adam(ps32)
    opt32.load_state_dict(sd)
    assert opt32.state[ps32[1]]["exp_avg"].dtype == np.float32
    sd["state"][0]["exp_avg"][:] = 99.0                 # editing the dict afterwards changes nothing
    assert not np.any(opt32.state[ps32[0]]["exp_avg"] == 99.0)


def test_load_state_dict_rejects_mismatches():
    ps = ours_params()
    opt = optim.Adam(ps)
    ours_step(opt, ps)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="3 parameters in the saved state but 2"):
        opt_small = optim.Adam(ours_params()[:2])
        opt_small.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        p = ours_params()
        optim.Adam([{"params": p[:1]}, {"params": p[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="shape"):
        p = ours_params()
        optim.Adam([p[1], p[0], p[2]]).load_state_dict(sd)


# ---- the graph never grows across steps -------------------------------------
@pytest.fixture
def live_nodes(monkeypatch):
    """A function counting the op Nodes alive right now (leaf nodes belong to the parameters).

    Every Node created while the fixture is active is put in a WeakSet, which
    forgets it as soon as nothing references it any more.  (Cheaper than
    scanning gc.get_objects() after a full collection at every step.)
    """
    nodes = weakref.WeakSet()
    init = Node.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        nodes.add(self)

    monkeypatch.setattr(Node, "__init__", recording_init)
    return lambda: sum(not n.is_leaf for n in nodes)


def test_counting_live_nodes_sees_a_growing_graph(live_nodes):
    """Control for the test below: a recorded update does grow the graph, and we see it."""
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    counts = []
    for _ in range(20):
        loss = (w ** 2).sum()
        (g,) = ag.grad(loss, w, retain_graph=True)
        w = w - 0.1 * g             # recorded: the new w hangs on the old one's graph
        del loss, g
        counts.append(live_nodes())
    assert counts[-1] >= counts[0] + 19


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-3),
    lambda ps: optim.AdamW(ps, lr=0.01),
    lambda ps: optim.Adadelta(ps),
], ids=["SGD", "Adam", "AdamW", "Adadelta"])
def test_graph_does_not_grow_over_100_steps(make_opt, live_nodes):
    rng = np.random.default_rng(0)
    X = ag.tensor(rng.normal(size=(16, 3)))
    y = ag.tensor(rng.normal(size=(16, 1)))
    W1 = ag.tensor(rng.normal(size=(3, 8)) * 0.5, requires_grad=True)
    b1 = ag.zeros(8, requires_grad=True)
    W2 = ag.tensor(rng.normal(size=(8, 1)) * 0.5, requires_grad=True)
    params = [W1, b1, W2]
    opt = make_opt(params)
    counts, alive, losses = [], [], []
    for _ in range(100):
        opt.zero_grad()
        loss = (((X @ W1 + b1).tanh() @ W2 - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        alive.append(live_nodes())  # this step's graph only: the same number of ops each time
        del loss                    # the user's last reference to this step's graph
        counts.append(live_nodes())
    gc.collect()                    # nothing was kept alive by a reference cycle either
    counts.append(live_nodes())
    assert set(counts) == {0}, f"live graph nodes after each step: {sorted(set(counts))}"
    assert len(set(alive)) == 1 and alive[0] > 0, sorted(set(alive))
    assert losses[-1] < losses[0]                      # and it did train
    for p in params:
        assert p.is_leaf and p.grad is not None and p.grad.is_leaf


# ---- errors ---------------------------------------------------------------------
def test_constructor_errors():
    w = ag.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([ag.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(TypeError, match="autograd Tensors"):
        optim.Adam([np.zeros(3)])


def test_optim_does_not_import_nn():
    import ast
    import pathlib
    for path in pathlib.Path(optim.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for n in names:
                assert n.split(".")[0] not in ("nn", "torch"), f"{path.name} imports {n}"
