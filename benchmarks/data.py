"""Seeded inputs and initial weights shared by every implementation (numpy only).

This module is imported both by the benchmark (``benchmarks.data``) and by
``hips_worker.py`` inside HIPS autograd's virtualenv (as ``data``), so it must
not import chaingrad: there ``autograd`` is the other project.
"""
import numpy as np

SEED = 0
ALPHA = 1e-4          # L2 strength of micrograd's demo loss
SCALAR_SIZES = (2, 16, 16, 1)
MNIST_SIZES = (784, 512, 512, 10)
MNIST_BATCH = 128
SMALL_BATCH = 32
LR = 0.05


def moons(n, noise=0.1, seed=SEED):
    """Two interleaving half circles, like scikit-learn's make_moons.

    Returns X of shape (n, 2) and labels y in {-1, +1} (the SVM loss wants signs).
    """
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
    X += rng.normal(scale=noise, size=X.shape)
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    perm = rng.permutation(n)
    return X[perm], y[perm]


def init_mlp(sizes, dtype=np.float64, seed=SEED, uniform=False):
    """Weights W of shape (fan_in, fan_out) and zero biases, as a list [W1, b1, W2, b2, ...].

    ``uniform=True`` draws U(-1, 1) like micrograd's Neuron; otherwise
    N(0, 1/fan_in), the seed texts' default.
    """
    rng = np.random.default_rng(seed + 1)
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        if uniform:
            W = rng.uniform(-1, 1, size=(m, n))
        else:
            W = rng.normal(scale=1 / np.sqrt(m), size=(m, n))
        params += [W.astype(dtype), np.zeros(n, dtype=dtype)]
    return params


def mnist_batch(dtype=np.float32, batch=MNIST_BATCH, seed=SEED):
    """A random MNIST-shaped batch: pixels in [0, 1) and labels 0..9 (no download)."""
    rng = np.random.default_rng(seed + 2)
    X = rng.random((batch, MNIST_SIZES[0])).astype(dtype)
    y = rng.integers(0, MNIST_SIZES[-1], size=batch)
    return X, y


def small_batch(batch=SMALL_BATCH, dtype=np.float64):
    """A batch of two-moons points for the 2-16-16-1 network, labels as a (batch, 1) column of ±1."""
    X, y = moons(batch)
    return X.astype(dtype), y.reshape(-1, 1).astype(dtype)


def problem(workload, dtype=np.float32, quick=False):
    """(params, X, y, loss) of workload 2 (``"mnist"``) or 3 (``"small"``); quick shrinks workload 2."""
    if workload == "mnist":
        sizes, batch = ((784, 32, 32, 10), 16) if quick else (MNIST_SIZES, MNIST_BATCH)
        X, y = mnist_batch(dtype, batch)
        return init_mlp(sizes, dtype), X, y, "ce"
    X, y = small_batch(SMALL_BATCH, dtype)
    return init_mlp(SCALAR_SIZES, dtype), X, y, "hinge"
