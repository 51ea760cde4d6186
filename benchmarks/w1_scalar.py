"""Workload 1: micrograd's demo step, one scalar op at a time.

The network is micrograd's MLP 2-16-16-1 with ReLU; the loss is its SVM
max-margin loss plus L2, ``mean(relu(1 - y_i s_i)) + alpha * sum(p^2)``, over
100 two-moons points; one step is forward, backward and an SGD update.  Every
value is a scalar object (a 0-d Tensor for chaingrad and PyTorch, a ``Value``
for micrograd), so the step records 65,077 graph nodes and measures the cost
of one op in each engine, not the arithmetic.
"""
import gc
import time

import numpy as np

from chaingrad import autograd as ag

from . import data

N_POINTS = 100


class ScalarMLP:
    """micrograd's MLP written for any scalar type: ``make(v)`` wraps a float as a parameter.

    Layers are lists of neurons; a neuron is (list of weights, bias) and
    computes ``relu(b + sum_i w_i x_i)``, the last layer without ReLU.
    Parameters come in micrograd's order (per neuron: weights, then bias).
    """

    def __init__(self, params, make):
        self.layers = []
        for W, b in zip(params[::2], params[1::2]):
            self.layers.append([([make(float(w)) for w in W[:, j]], make(float(b[j])))
                                for j in range(W.shape[1])])

    def __call__(self, x):
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            # sum(..., b) adds the products to the bias one by one, as micrograd does
            acts = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = acts if last else [a.relu() for a in acts]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in w + [b]]


def svm_loss(model, inputs, ys):
    """micrograd demo's loss: mean hinge loss of the scores plus alpha * (sum of squared parameters)."""
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = data.ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def count_nodes(root):
    """Number of op nodes behind a chaingrad tensor (iterative walk over node.parents)."""
    seen, stack, ops = set(), [root._node], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        ops += not node.is_leaf
        stack.extend(node.parents)
    return ops


def count_micrograd_nodes(root):
    """Number of op nodes (values made by an op, not leaves) behind a micrograd Value."""
    seen, stack, ops = set(), [root], 0
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        ops += v._op != ""
        stack.extend(v._prev)
    return ops


def leaf(v):
    """A chaingrad parameter: a 0-d tensor that requires grad."""
    return ag.tensor(v, requires_grad=True)


def inputs(X):
    """The points as lists of 0-d tensors (constants)."""
    return [[ag.tensor(v) for v in row] for row in X.tolist()]


def update_under_no_grad(params):
    """SGD as optimizers write it: ``p -= lr * p.grad`` on the tensor, with recording off."""
    with ag.no_grad():
        for p in params:
            p -= data.LR * p.grad
            p.grad = None


def update_data(params):
    """SGD as micrograd writes it: on the raw values, ``p.data -= lr * p.grad.data``."""
    for p in params:
        p.data -= data.LR * p.grad.data
        p.grad = None


def chaingrad_step(model, X, ys, update):
    """One step of workload 1 with chaingrad: forward, backward, ``update(parameters)``."""
    params = model.parameters()

    def step():
        loss = svm_loss(model, inputs(X), ys)
        loss.backward()
        update(params)
        return loss.item()
    return step


PHASES = ("forward", "backward", "update")


def phases(model, X, ys):
    """One step timed phase by phase: {phase: (wall seconds, CPU seconds)} for :data:`PHASES`."""
    marks = [_now()]
    loss = svm_loss(model, inputs(X), ys)
    marks.append(_now())
    loss.backward()
    marks.append(_now())
    update_under_no_grad(model.parameters())
    marks.append(_now())
    return {name: (b[0] - a[0], b[1] - a[1]) for name, a, b in zip(PHASES, marks, marks[1:])}


def _now():
    return time.perf_counter(), time.process_time()


def problem(quick=False):
    """(points X, labels ys as floats, initial weights): the same for every implementation."""
    X, y = data.moons(4 if quick else N_POINTS)
    return X, [float(v) for v in y], data.init_mlp(data.SCALAR_SIZES, uniform=True)


def gc_paused(step):
    """``step`` with Python's cycle collector paused while it runs (collected between samples):
    the engines' own work, without the collections their allocations trigger."""
    def paused():
        gc.disable()
        try:
            return step()
        finally:
            gc.enable()
    return paused


def build(quick=False, micrograd=None, torch=None):
    """Steps of workload 1 for every in-process implementation, and facts about the graph.

    Returns ``(steps, info)``: ``steps`` maps a name to a function doing one
    step; ``info`` holds the node count.
    """
    X, ys, init = problem(quick)
    n = len(ys)
    steps = {}

    for name, update in (("chaingrad", update_under_no_grad), ("chaingrad, p.data update", update_data)):
        steps[name] = chaingrad_step(ScalarMLP(init, leaf), X, ys, update)
    steps["chaingrad, gc paused"] = gc_paused(chaingrad_step(ScalarMLP(init, leaf), X, ys, update_under_no_grad))
    nodes = count_nodes(svm_loss(ScalarMLP(init, leaf), inputs(X), ys))
    info = {"nodes": nodes, "points": n}

    if torch is not None:
        tmodel = ScalarMLP(init, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
        tparams = tmodel.parameters()

        def torch_step():
            points = [[torch.tensor(v, dtype=torch.float64) for v in row] for row in X.tolist()]
            loss = svm_loss(tmodel, points, ys)
            loss.backward()
            with torch.no_grad():
                for p in tparams:
                    p -= data.LR * p.grad
                    p.grad = None
            return loss.item()
        steps["PyTorch 0-d"] = torch_step

    if micrograd is not None:
        from micrograd.engine import Value
        from micrograd.nn import MLP
        mmodel = MLP(data.SCALAR_SIZES[0], list(data.SCALAR_SIZES[1:]))
        # micrograd draws its own weights; give it ours so every engine does the same sums
        for p, v in zip(mmodel.parameters(), ScalarMLP(init, float).parameters()):
            p.data = v

        def micrograd_step():
            points = [[Value(v) for v in row] for row in X.tolist()]
            loss = svm_loss(mmodel, points, ys)
            mmodel.zero_grad()
            loss.backward()
            for p in mmodel.parameters():
                p.data -= data.LR * p.grad
            return loss.data

        # Its backward closures put every node in a reference cycle; with the collector
        # paused the cycles are only freed by the untimed gc.collect() between samples:
        # how fast micrograd would be without that cost.
        micrograd_step_gc_paused = gc_paused(micrograd_step)
        steps["micrograd"] = micrograd_step
        steps["micrograd, gc paused"] = micrograd_step_gc_paused
        info["micrograd nodes"] = count_micrograd_nodes(
            svm_loss(mmodel, [[Value(v) for v in row] for row in X.tolist()], ys))
    return steps, info
