"""A hypothesis state machine (after rsokl/MyGrad's tests/state_testing) that grows random
graphs (fan-out, a node used twice by one op, several leaves, detached constants, scalars
broadcast against vectors), runs backward / ag.grad with and without retain_graph, clears
gradients at random, and compares every leaf's ``.grad`` with a naive reference.

The reference is independent of the engine: each node keeps its numpy value and the
ids of its parents; a node's id is larger than its parents', so walking ids downwards
is a reverse topological order, and the local derivatives are written out in numpy.
"""
import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from chaingrad import autograd as ag

_sig = lambda v: 1 / (1 + np.exp(-v))   # noqa: E731

# name -> (chaingrad, numpy forward, numpy local derivative(s): g, out, *inputs -> grads)
UNARY = {
    "neg": (lambda x: -x, np.negative, lambda g, out, x: [-g]),
    "sin": (ag.sin, np.sin, lambda g, out, x: [g * np.cos(x)]),
    "tanh": (lambda x: x.tanh(), np.tanh, lambda g, out, x: [g * (1 - out ** 2)]),
    "sigmoid": (ag.sigmoid, _sig, lambda g, out, x: [g * out * (1 - out)]),
    "sum": (lambda x: x.sum(), np.sum, lambda g, out, x: [np.broadcast_to(g, np.shape(x))]),
}
BINARY = {
    "add": (lambda x, y: x + y, np.add, lambda g, out, x, y: [g, g]),
    "sub": (lambda x, y: x - y, np.subtract, lambda g, out, x, y: [g, -g]),
    "mul": (lambda x, y: x * y, np.multiply, lambda g, out, x, y: [g * y, g * x]),
}


def _unbroadcast(g, shape):
    return g.sum() if shape == () and np.ndim(g) else g


class Entry:
    """What the reference knows about one tensor."""

    def __init__(self, tensor, value, op=None, parents=(), requires_grad=True):
        self.tensor, self.value, self.op, self.parents = tensor, value, op, parents
        self.requires_grad = requires_grad
        self.expected_grad = None      # leaves only: the accumulated gradient we expect
        self.freed = False             # non-leaves: saved values released by a backward


class GraphMachine(RuleBasedStateMachine):
    nodes = Bundle("nodes")

    def __init__(self):
        super().__init__()
        self.entries = []
        self.rng = np.random.default_rng(0)

    def _add(self, entry):
        self.entries.append(entry)
        return len(self.entries) - 1

    @initialize(target=nodes)
    def first_leaf(self):
        return self.leaf()

    @rule(target=nodes)
    def leaf(self):
        value = self.rng.uniform(-1.5, 1.5, 2)
        return self._add(Entry(ag.tensor(value, requires_grad=True), value))

    @rule(target=nodes, i=nodes)
    def detached(self, i):
        e = self.entries[i]
        return self._add(Entry(e.tensor.detach(), e.value.copy(), requires_grad=False))

    @rule(target=nodes, op=st.sampled_from(sorted(UNARY)), i=nodes)
    def unary(self, op, i):
        x = self.entries[i]
        out = UNARY[op][0](x.tensor)
        return self._record(out, UNARY[op][1](x.value), op, (i,))

    @rule(target=nodes, op=st.sampled_from(sorted(BINARY)), i=nodes, j=nodes)
    def binary(self, op, i, j):          # i == j happens: one op using a node twice
        x, y = self.entries[i], self.entries[j]
        out = BINARY[op][0](x.tensor, y.tensor)
        return self._record(out, BINARY[op][1](x.value, y.value), op, (i, j))

    def _record(self, out, value, op, parents):
        needs = any(self.entries[p].requires_grad for p in parents)
        assert out.requires_grad == needs and out.is_leaf == (not needs)
        np.testing.assert_allclose(out.data, value, rtol=1e-12, atol=1e-15)
        return self._add(Entry(out, value, op if needs else None, parents if needs else (), needs))

    # ---- the reference reverse mode ------------------------------------
    def _reachable(self, root):
        seen, stack = {root}, [root]
        while stack:
            for p in self.entries[stack.pop()].parents:
                if p not in seen and self.entries[p].requires_grad:
                    seen.add(p)
                    stack.append(p)
        return seen

    def _reference_grads(self, root, seed):
        adj = {root: seed}
        leaf_grads = {}
        for k in sorted(self._reachable(root), reverse=True):   # children before parents
            e, g = self.entries[k], adj.pop(k, None)
            if g is None:
                continue
            if e.op is None:
                leaf_grads[k] = g
                continue
            local = (UNARY.get(e.op) or BINARY[e.op])[2](g, e.value, *[self.entries[p].value for p in e.parents])
            for p, gp in zip(e.parents, local):
                if self.entries[p].requires_grad:
                    gp = _unbroadcast(gp, np.shape(self.entries[p].value))
                    adj[p] = adj[p] + gp if p in adj else gp    # fan-out adds
        return leaf_grads

    # ---- the actions under test ----------------------------------------
    @rule(i=nodes, retain=st.booleans(), explicit_seed=st.booleans(), use_grad_fn=st.booleans())
    def backward(self, i, retain, explicit_seed, use_grad_fn):
        root = self.entries[i]
        if not root.requires_grad:
            with pytest.raises(RuntimeError, match="does not require grad"):
                root.tensor.backward(np.ones(np.shape(root.value)))
            return
        seed = self.rng.standard_normal(np.shape(root.value))
        if not explicit_seed and seed.ndim == 0:
            seed = np.array(1.0)
        pass_seed = seed if explicit_seed or seed.ndim else None
        reach = self._reachable(i)
        leaves = sorted(k for k in reach if self.entries[k].op is None)
        before = [self.entries[k].tensor.grad for k in range(len(self.entries))]
        if any(self.entries[k].freed for k in reach):
            with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
                if use_grad_fn:
                    ag.grad(root.tensor, [self.entries[k].tensor for k in leaves], grad_outputs=pass_seed)
                else:
                    root.tensor.backward(pass_seed, retain_graph=retain)
            # a refused backward changes nothing
            assert all(e.tensor.grad is b for e, b in zip(self.entries, before))
            return
        want = self._reference_grads(i, seed)
        if use_grad_fn:
            got = ag.grad(root.tensor, [self.entries[k].tensor for k in leaves],
                          grad_outputs=pass_seed, retain_graph=retain)
            assert all(e.tensor.grad is b for e, b in zip(self.entries, before)), "ag.grad touched .grad"
            for k, g in zip(leaves, got):
                np.testing.assert_allclose(g.data, want[k], rtol=1e-9, atol=1e-12)
        else:
            root.tensor.backward(pass_seed, retain_graph=retain)
            for k, g in want.items():
                e = self.entries[k]
                e.expected_grad = g.copy() if e.expected_grad is None else e.expected_grad + g
        if not retain:
            for k in reach:
                self.entries[k].freed = self.entries[k].op is not None

    @rule(i=nodes, to_none=st.booleans())
    def zero_grad(self, i, to_none):
        e = self.entries[i]
        if e.op is not None or e.tensor.grad is None:
            return
        if to_none:
            e.tensor.grad, e.expected_grad = None, None
        else:
            e.tensor.grad.fill_(0.0)
            e.expected_grad = np.zeros_like(e.expected_grad)

    @precondition(lambda self: len(self.entries) > 0)
    @invariant()
    def leaf_grads_match_the_reference(self):
        for e in self.entries:
            if e.op is not None or not e.requires_grad:
                assert e.op is not None or e.tensor.grad is None or not e.requires_grad
                continue
            if e.expected_grad is None:
                assert e.tensor.grad is None
            else:
                assert e.tensor.grad.shape == e.tensor.shape
                np.testing.assert_allclose(e.tensor.grad.data, e.expected_grad, rtol=1e-9, atol=1e-12)


GraphMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestGraphs = GraphMachine.TestCase


def test_second_backward_without_retain_graph_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.sin() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    z = ag.tensor(1.0, requires_grad=True)
    w = z * 2
    w.backward(retain_graph=True)
    w.backward()
    assert z.grad.item() == 4.0
