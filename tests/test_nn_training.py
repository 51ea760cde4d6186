"""End-to-end: networks built from nn learn, with gradients derived by the engine alone."""
import pathlib
import re

import numpy as np

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad import optim
from optional import needs

README = pathlib.Path(__file__).resolve().parents[1] / "docs" / "nn.md"      # the nn guide


def accuracy(model, X, y):
    model.eval()
    with ag.no_grad():
        acc = float((model(ag.tensor(X)).argmax(axis=1).numpy() == y).mean())
    model.train()
    return acc


def test_xor_with_a_hand_written_sgd_loop():
    # No optimizer package: the three lines of gradient descent, outside the graph.
    ag.manual_seed(0)
    X, y = nn.data.make_xor(200, noise=0.2, seed=0)
    model = nn.MLP([2, 8, 2], activation="tanh")
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(300):
        model.zero_grad()
        loss_fn(model(ag.tensor(X)), y).backward()
        with ag.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    assert accuracy(model, X, y) >= 0.97


def test_mlp_on_two_moons_with_adam():
    ag.manual_seed(0)
    X, y = nn.data.make_moons(500, noise=0.1, seed=0)
    X_test, y_test = nn.data.make_moons(500, noise=0.1, seed=1)
    model = nn.MLP([2, 32, 32, 2])
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    loader = nn.DataLoader(X, y, batch_size=32, seed=0)
    for _ in range(20):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    assert accuracy(model, X, y) >= 0.97
    assert accuracy(model, X_test, y_test) >= 0.97


@needs("sklearn")
def test_mlp_on_digits_reaches_95_percent_test_accuracy():
    ag.manual_seed(0)
    (X, y), (X_test, y_test) = nn.data.load_digits()
    model = nn.MLP([64, 128, 10], batchnorm=True)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = nn.DataLoader(X, y, batch_size=32, seed=0)
    for _ in range(12):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    assert accuracy(model, X_test, y_test) >= 0.95


def test_spirals_with_dropout_and_l2_penalty():
    ag.manual_seed(0)
    X, y = nn.data.make_spirals(300, classes=3, noise=0.1, seed=0)
    model = nn.MLP([2, 64, 64, 3], dropout=0.1, init="he")
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    for _ in range(40):
        for xb, yb in nn.DataLoader(X, y, batch_size=32, seed=1):
            opt.zero_grad()
            (loss_fn(model(xb), yb) + 1e-4 * nn.functional.l2_penalty(weights)).backward()
            opt.step()
    assert accuracy(model, X, y) >= 0.95


def _readme_example():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "docs/nn.md has no python example"
    return blocks[0]


def test_readme_nn_example_runs_as_written(tmp_path, monkeypatch, capsys):
    code = _readme_example()
    assert len([l for l in code.splitlines() if l.strip()]) <= 16
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, str(README), "exec"), scope)
    assert scope["accuracy"] >= 0.97
    assert "accuracy" in capsys.readouterr().out
