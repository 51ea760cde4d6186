"""Workload 2's hand-written numpy step is the careful one (issue 16): it writes in place.

The baseline chaingrad is measured against must be what a careful numpy programmer
writes; a step that allocates its activations, masks and ``lr * g`` anew flatters
every framework compared with it.  Allocation is counted (tracemalloc sees numpy's
arrays), never timed.
"""
import tracemalloc

import numpy as np
import pytest

from benchmarks import data, mlp_step


def _allocated_by_one_step(step):
    step()                                            # the first step may set things up
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_hand_step_of_workload_2_writes_in_place(dtype):
    params, X, y, loss = mlp_step.problem("mnist", dtype)
    activation = X.shape[0] * data.MNIST_SIZES[1] * np.dtype(dtype).itemsize     # one (128, 512) array
    peak = _allocated_by_one_step(mlp_step.numpy_step(params, X, y, loss))
    assert peak < activation / 4, f"one step allocated {peak:,} bytes; one activation is {activation:,}"


@pytest.mark.parametrize("workload", ["mnist", "small"])
def test_the_hand_step_keeps_the_math_over_many_steps(workload):
    """Against the step written the plain way (a new array for every result), 10 steps in float64."""
    params, X, y, loss = mlp_step.problem(workload, np.float64, quick=True)
    Ws, bs = [p.copy() for p in params[::2]], [p.copy() for p in params[1::2]]
    careful = mlp_step.numpy_step(params, X, y, loss)
    for _ in range(10):
        hs = [X]                                       # the input of every layer
        for W, b in zip(Ws, bs):
            z = hs[-1] @ W + b
            hs.append(np.maximum(z, 0))
        hs.pop()                                       # the last layer has no ReLU
        if loss == "ce":
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            value = -np.log(p[np.arange(len(y)), y]).mean()
            dz = (p - np.eye(z.shape[1])[y]) / len(y)
        else:
            value = np.maximum(1 - y * z, 0).mean() + data.ALPHA * sum((p * p).sum() for p in Ws + bs)
            dz = -y * (1 - y * z > 0) / len(y)
        grads = []
        for i in range(len(Ws) - 1, -1, -1):
            grads.append((i, hs[i].T @ dz, dz.sum(axis=0)))
            if i > 0:
                dz = (dz @ Ws[i].T) * (hs[i] > 0)
        for i, gW, gb in grads:
            decay = 2 * data.ALPHA if loss == "hinge" else 0.0
            Ws[i] = Ws[i] - data.LR * (gW + decay * Ws[i])
            bs[i] = bs[i] - data.LR * (gb + decay * bs[i])
        assert careful() == pytest.approx(value, rel=1e-12)
