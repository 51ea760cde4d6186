"""Workloads 2 and 3: one SGD step of a ReLU MLP on a batch, for every in-process implementation.

Workload 2 is the MNIST network 784-512-512-10 with softmax cross-entropy,
batch 128 (BLAS-bound: the matrix products dominate).  Workload 3 is the
2-16-16-1 network of workload 1 with its SVM loss + L2, batch 32 of
two-moons points (overhead-bound: the arithmetic is tiny, the per-op cost of
the framework is everything).  Layers compute ``h @ W + b`` with W of shape
(fan_in, fan_out); every implementation starts from the same weights.

``loss="ce"``:    L = -mean_i log softmax(z_i)[y_i],  dL/dz = (softmax(z) - onehot(y)) / B
``loss="hinge"``: L = mean_i relu(1 - y_i z_i) + alpha sum_p |p|^2,
                  dL/dz = -y [1 - y z > 0] / B,  dL/dp += 2 alpha p
"""
import numpy as np

from . import data


def numpy_step(params, X, y, loss, lr=data.LR):
    """Hand-written forward and backward in numpy, as a careful numpy programmer writes it: the
    practical limit for a framework.

    Every array of the step is allocated once, here, and written in place on each step
    (``out=``, ``+=``, ``*=``): the layers' outputs, the ReLU masks, the gradients and the
    optimizer's ``lr * g``.  A step allocates only a few (batch, 1) columns in the loss.
    """
    Ws = [p.copy() for p in params[::2]]
    bs = [p.copy() for p in params[1::2]]
    B, last = X.shape[0], len(Ws) - 1
    rows = np.arange(B)
    hs = [X] + [np.empty((B, W.shape[1]), X.dtype) for W in Ws]   # hs[i + 1] = layer i's output
    dzs = [np.empty_like(h) for h in hs[1:]]                       # dL/d(layer i's pre-activation)
    masks = [np.empty(h.shape, bool) for h in hs[1:-1]]            # where each ReLU passed
    gWs, gbs = [np.empty_like(W) for W in Ws], [np.empty_like(b) for b in bs]
    tWs, tbs = [np.empty_like(W) for W in Ws], [np.empty_like(b) for b in bs]   # lr * g, 2 alpha p
    margin = np.empty_like(hs[-1])

    def step():
        for i, (W, b) in enumerate(zip(Ws, bs)):
            z = np.matmul(hs[i], W, out=hs[i + 1])
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
        dz = dzs[last]
        if loss == "ce":
            z -= z.max(axis=1, keepdims=True)      # stable log-softmax (z is the last layer's buffer)
            e = np.exp(z, out=dz)
            total = e.sum(axis=1, keepdims=True)
            value = -(z[rows, y] - np.log(total[:, 0])).mean()
            dz /= total                            # softmax
            dz[rows, y] -= 1
            dz /= B
        else:
            np.multiply(y, z, out=margin)
            np.subtract(1, margin, out=margin)     # 1 - y z
            value = (np.maximum(margin, 0).mean()
                     + data.ALPHA * sum(np.vdot(p, p) for p in Ws + bs))
            np.greater(margin, 0, out=dz)          # [1 - y z > 0] ...
            dz *= y                                # ... times y ...
            dz *= -1.0 / B                         # ... times -1/B
        for i in range(last, -1, -1):
            gW, gb = np.matmul(hs[i].T, dz, out=gWs[i]), np.sum(dz, axis=0, out=gbs[i])
            if i > 0:                              # before W changes; ReLU passes where h > 0
                dz = np.matmul(dz, Ws[i].T, out=dzs[i - 1])
                dz *= np.greater(hs[i], 0, out=masks[i - 1])
            if loss == "hinge":
                gW += np.multiply(Ws[i], 2 * data.ALPHA, out=tWs[i])
                gb += np.multiply(bs[i], 2 * data.ALPHA, out=tbs[i])
            Ws[i] -= np.multiply(gW, lr, out=tWs[i])
            bs[i] -= np.multiply(gb, lr, out=tbs[i])
        return float(value)
    return step


def matmul_floor_step(params, X):
    """Only the step's matrix products (forward, weight gradients, input gradients): the floor."""
    Ws = params[::2]

    def step():
        hs = [X]
        for W in Ws:
            hs.append(hs[-1] @ W)
        dz = hs[-1]                       # stands in for the output gradient (same shape)
        for i in range(len(Ws) - 1, -1, -1):
            hs[i].T @ dz
            if i > 0:
                dz = dz @ Ws[i].T
    return step


def forward_loss(h, Ps, yt, loss, rows):
    """The network and loss with plain tensor ops (``Ps`` = [W1, b1, W2, b2, ...]).

    The same code runs on chaingrad and PyTorch tensors (``log_softmax(1)``:
    chaingrad calls the axis ``axis``, PyTorch ``dim``)."""
    last = len(Ps) // 2 - 1
    for i in range(last + 1):
        h = h @ Ps[2 * i] + Ps[2 * i + 1]
        if i < last:
            h = h.relu()
    if loss == "ce":
        return -h.log_softmax(1)[rows, yt].mean()
    return (1 - yt * h).relu().mean() + data.ALPHA * sum((p * p).sum() for p in Ps)


def chaingrad_step(params, X, y, loss, lr=data.LR, check=None):
    """chaingrad with plain tensor ops and a hand-written SGD update."""
    # Imported here, not at the top: memory.py measures the other
    # implementations in processes that must not load chaingrad.
    from chaingrad import autograd as ag
    Ps = [ag.tensor(p.copy(), requires_grad=True) for p in params]
    Xt = ag.tensor(X)
    yt = y if loss == "ce" else ag.tensor(y)
    rows = np.arange(X.shape[0])

    def step():
        L = forward_loss(Xt, Ps, yt, loss, rows)
        L.backward()
        if check is not None:
            check([p.grad.dtype for p in Ps], [p.dtype for p in Ps])
        with ag.no_grad():
            for p in Ps:
                p -= lr * p.grad
                p.grad = None
        return L.item()
    return step


def chaingrad_nn_available():
    """True once nn and optim (written concurrently) have what the nn variant needs."""
    try:
        from chaingrad import nn
        from chaingrad import optim
    except ImportError:
        return False
    return (all(hasattr(nn, a) for a in ("Linear", "Sequential", "ReLU", "CrossEntropyLoss"))
            and hasattr(optim, "SGD"))


def chaingrad_nn_step(params, X, y, loss, lr=data.LR, check=None):
    """chaingrad the way users write it: nn.Sequential of nn.Linear, nn.CrossEntropyLoss, optim.SGD."""
    from chaingrad import autograd as ag
    from chaingrad import nn
    from chaingrad import optim
    layers = []
    for i in range(len(params) // 2):
        W, b = params[2 * i], params[2 * i + 1]
        lin = nn.Linear(*W.shape)      # W is (fan_in, fan_out)
        lin.weight.data = W.T.copy()   # nn.Linear keeps it as (fan_out, fan_in), as torch; .data takes our dtype
        lin.bias.data = b.copy()
        layers += [lin, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.SGD(model.parameters(), lr=lr)
    Xt = ag.tensor(X)
    if loss == "ce":
        criterion, target = nn.CrossEntropyLoss(), ag.tensor(y)
    else:
        yt = ag.tensor(y)

        def criterion(out, _):
            return (1 - yt * out).relu().mean() + data.ALPHA * sum(
                (p * p).sum() for p in model.parameters())
        target = None

    def step():
        opt.zero_grad()
        L = criterion(model(Xt), target)
        L.backward()
        if check is not None:
            ps = list(model.parameters())
            check([p.grad.dtype for p in ps], [p.dtype for p in ps])
        opt.step()
        return L.item()
    return step


def torch_plain_step(torch, params, X, y, loss, lr=data.LR):
    """PyTorch eager with plain tensors (no nn.Module), the same forward_loss as chaingrad_step."""
    Ps = [torch.from_numpy(p.copy()).requires_grad_() for p in params]
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    rows = torch.arange(X.shape[0])

    def step():
        L = forward_loss(Xt, Ps, yt, loss, rows)
        L.backward()
        with torch.no_grad():
            for p in Ps:
                p -= lr * p.grad
                p.grad = None
        return L.item()
    return step


def torch_nn_step(torch, params, X, y, loss, lr=data.LR):
    """PyTorch eager as users write it: nn.Sequential, F.cross_entropy, optim.SGD."""
    layers = []
    for i in range(len(params) // 2):
        W, b = params[2 * i], params[2 * i + 1]
        lin = torch.nn.Linear(*W.shape, dtype=torch.from_numpy(W).dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T))    # torch keeps W as (fan_out, fan_in)
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        out = model(Xt)
        if loss == "ce":
            L = torch.nn.functional.cross_entropy(out, yt)
        else:
            L = (1 - yt * out).relu().mean() + data.ALPHA * sum(
                (p * p).sum() for p in model.parameters())
        L.backward()
        opt.step()
        return L.item()
    return step


problem = data.problem     # shared with hips_worker.py, which cannot import this module


def build(workload, dtype=np.float32, quick=False, torch=None, check=None):
    """Steps of workload 2 or 3 for every in-process implementation (name -> step function)."""
    params, X, y, loss = problem(workload, dtype, quick)
    steps = {"hand numpy": numpy_step(params, X, y, loss),
             "chaingrad": chaingrad_step(params, X, y, loss, check=check)}
    if chaingrad_nn_available():
        steps["chaingrad nn+optim"] = chaingrad_nn_step(params, X, y, loss, check=check)
    if torch is not None:
        steps["PyTorch nn"] = torch_nn_step(torch, params, X, y, loss)
        steps["PyTorch plain"] = torch_plain_step(torch, params, X, y, loss)
    return steps
