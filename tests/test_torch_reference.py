"""Every registry case against PyTorch 2.13: values, gradients for a non-uniform upstream
gradient, and Hessian-vector products (the gradient of <v, grad>, with create_graph)."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from op_registry import CASES
from optional import need
from reference import assert_close

torch = need("torch")

DIFF = [c for c in CASES if c.differentiable]
# Compositions of several ops through second order: more roundings than one op, so looser than
# reference.TOLERANCE (and this is the margin the sweep already passed with on both CPUs).
CLOSE = dict(rtol=1e-9, atol=1e-11)


def _list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _ours(g, x):
    return np.zeros(x.shape) if g is None else g.data


def _theirs(g, x):
    return np.zeros(tuple(x.shape)) if g is None else g.detach().numpy(force=True)   # force: torch may answer with a lazy ZeroTensor


def _run_both(case, seed=0):
    """Forward, first and second order in both engines on the same inputs and vectors."""
    arrays = case.inputs(np.float64)
    rng = np.random.default_rng(seed)
    xs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, touts = _list(case.fn(*xs)), _list(case.torch_fn(*ts))
    upstream = [rng.standard_normal(o.shape) for o in outs]       # non-uniform on purpose
    direction = [rng.standard_normal(a.shape) for a in arrays]

    gs = ag.grad(outs, xs, grad_outputs=[ag.Tensor(u, dtype=o.dtype) for u, o in zip(upstream, outs)],
                 create_graph=True,
                 allow_unused=True)
    tgs = torch.autograd.grad(touts, ts, grad_outputs=[torch.tensor(u, dtype=t.dtype) for u, t in zip(upstream, touts)],
                              create_graph=True, allow_unused=True)
    # Hessian-vector product: d/dx <v, g(x)>; zero when g does not depend on x (linear ops).
    inner = [(g * v).sum() for g, v in zip(gs, direction) if g is not None and g.requires_grad]
    hv = ag.grad(inner, xs, allow_unused=True) if inner else [None] * len(xs)
    tinner = [(g * torch.tensor(v)).sum() for g, v in zip(tgs, direction)
              if g is not None and g.requires_grad]
    thv = torch.autograd.grad(tinner, ts, allow_unused=True) if tinner else [None] * len(ts)
    return dict(
        values=([o.data for o in outs], [t.detach().numpy() for t in touts]),
        grads=([_ours(g, x) for g, x in zip(gs, xs)], [_theirs(g, t) for g, t in zip(tgs, ts)]),
        hvps=([_ours(g, x) for g, x in zip(hv, xs)], [_theirs(g, t) for g, t in zip(thv, ts)]),
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_values_match_torch(case):
    arrays = case.inputs(np.float64)
    outs = _list(case.fn(*[ag.Tensor(a) for a in arrays]))
    touts = _list(case.torch_fn(*[torch.tensor(a) for a in arrays]))
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert_close(o.data, t.numpy(), **CLOSE)


@pytest.mark.parametrize("case", DIFF, ids=lambda c: c.id)
def test_grads_and_hvps_match_torch(case):
    r = _run_both(case)
    for what in ("values", "grads", "hvps")[:1 + case.torch_order]:
        ours, theirs = r[what]
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_close(a, b, err_msg=f"{case.id}: {what}[{i}]", **CLOSE)


@pytest.mark.parametrize("case", [c for c in DIFF if c.keeps_dtype][::4], ids=lambda c: c.id)
def test_float32_grads_match_torch(case):
    """A sample of cases in float32: gradients stay float32 and agree with torch's float32."""
    arrays = case.inputs(np.float32)
    xs = [ag.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, touts = _list(case.fn(*xs)), _list(case.torch_fn(*ts))
    rng = np.random.default_rng(3)
    up = [rng.standard_normal(o.shape).astype(np.float32) for o in outs]
    for o, t in zip(outs, touts):
        assert o.dtype == np.float32 and t.dtype == torch.float32
    gs = ag.grad(outs, xs, grad_outputs=[ag.Tensor(u) for u in up], allow_unused=True)
    tgs = torch.autograd.grad(touts, ts, grad_outputs=[torch.tensor(u) for u in up], allow_unused=True)
    for g, tg, x, t in zip(gs, tgs, xs, ts):
        assert g is None or g.dtype == np.float32
        assert_close(_ours(g, x), _theirs(tg, t), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,f,tf", [
    ("abs", ag.abs, torch.abs),
    ("relu", ag.relu, torch.relu),
    ("clip", lambda x: x.clip(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5)),
    ("maximum0", lambda x: ag.maximum(x, 0.0), lambda t: torch.maximum(t, torch.zeros_like(t))),
    ("minimum0", lambda x: ag.minimum(0.0, x), lambda t: torch.minimum(torch.zeros_like(t), t)),
    ("pow0", lambda x: x ** 0, lambda t: t ** 0),
    ("sqrt_pos", lambda x: (x * x + 1).sqrt(), lambda t: (t * t + 1).sqrt()),
])
def test_gradients_at_kinks_follow_torch(name, f, tf):
    """At the points where the derivative is not defined we agree with PyTorch's convention."""
    a = np.array([-0.5, 0.0, 0.5, 1.0, -1.0])
    x, t = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    up = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    f(x).backward(up)
    tf(t).backward(torch.tensor(up))
    assert_close(x.grad.data, t.grad.numpy())    # PyTorch's convention, to the last bits the CPU allows
