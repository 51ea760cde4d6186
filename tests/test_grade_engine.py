"""The graders of notebook 0 (notebooks/grade_engine.py), where the student writes the engine.

Each grader must pass the notebook's committed reference solution, and fail the blanked
exercise and the typical wrong answers, naming the mistake in its first line.  The graphs are
built with the notebook's own ``Value`` class, read from the committed notebook, so the graders
are tested on the engine the students use.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_engine_from_nothing.ipynb"
sys.path.insert(0, str(ROOT / "notebooks"))     # where a notebook's kernel finds it too
import grade_engine as ge                         # noqa: E402


def _code_cells():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _cell_with(text):
    found = [c for c in _code_cells() if text in c]
    assert len(found) == 1, f"{NOTEBOOK.name}: {len(found)} code cells contain {text!r}"
    return found[0]


@pytest.fixture(scope="module")
def nb():
    """The notebook's engine and reference solutions, run as the notebook runs them."""
    ns = {"math": math, "np": np, "graphviz": None}
    for marker in ("class Value", "def my_topological_order", "def topological_order(root)",
                   "def my_backward", "def backward(root)", "def my_unbroadcast", "def my_gradients"):
        exec(_cell_with(marker), ns)
    recursive = _cell_with("def topological_order_recursive")
    exec(recursive.split("\ns = Value(")[0], ns)   # the notebook's recursive sort, not its demo
    cell = _cell_with("draw(L)")
    exec(cell.replace("draw(L)", ""), ns)         # the graph of exercise 1, without the picture
    return ns


def blanked(name):
    """The exercise as the student version has it (notebooks/build/student.py's blank)."""
    def fn(*_):
        raise NotImplementedError("exercise: write this part")
    fn.__name__ = name
    return fn


def _first_line(report):
    return str(report).splitlines()[0]


def assert_wrong(report, *words):
    line = _first_line(report)
    assert not report and "): wrong: " in line, str(report)
    for w in words:
        assert w in line, f"{w!r} not in {line!r}"


def assert_correct(report):
    assert report and "): correct (" in _first_line(report), str(report)


# ------------------------------------------------------------------ the report convention

def test_a_report_prints_its_verdict_first_and_is_falsy_when_wrong():
    right = ge.Report("grade_x", "f", summary="3 cases")
    wrong = ge.Report("grade_x", "f", "a mistake", ["detail"])
    assert right and str(right) == "grade_x(f): correct (3 cases)"
    assert not wrong and str(wrong) == "grade_x(f): wrong: a mistake\n  detail" == repr(wrong)


def test_the_library_gradients_are_those_of_the_value_engine(nb):
    root = nb["L"]
    grads = ge.library_grads(root)
    by_name = {n.name: g for n, g in grads.items()}
    assert by_name == {"L": 1.0, "d": -6.0, "c": -6.0, "a": 6.0, "b": -18.0}


# ------------------------------------------------------------------ exercise 1: by hand

def test_hand_gradients(nb):
    L = nb["L"]
    assert_correct(ge.grade_hand_gradients(nb["my_gradients"], L))
    assert_wrong(ge.grade_hand_gradients(blanked("my_gradients"), L), "NotImplementedError")
    right = nb["my_gradients"]()

    def with_(**changes):
        def my_gradients():
            return {**right, **changes}
        return my_gradients

    assert_wrong(ge.grade_hand_gradients(with_(a=12.0), L), "a: 12 is only the path through c",
                 "used 2 times (fan-out")
    assert_wrong(ge.grade_hand_gradients(with_(a=-6.0), L), "only the path through d")
    assert_wrong(ge.grade_hand_gradients(with_(b=18.0), L), "b: the sign is wrong")
    assert_wrong(ge.grade_hand_gradients(with_(c=1.0), L), "c: 1 is the local derivative alone",
                 "chain rule")
    report = ge.grade_hand_gradients(lambda: {k: v for k, v in right.items() if k != "c"}, L)
    assert_wrong(report, "no gradient for c")
    assert_wrong(ge.grade_hand_gradients(lambda: [1, -6], L), "return a dict")


# ------------------------------------------------------------------ exercise 2: the sort

# Typical wrong answers, written as a student would (not from the grader's own models of them);
# the recursive sort is the notebook's own, from its section "Why an explicit stack".

def no_seen_set(root):
    order, stack = [], [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def node_before_parents(root):
    order, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            order.append(node)                    # too early: its parents are not in yet
            stack.extend(node.parents)
    return order


def test_topological_sort(nb):
    V = nb["Value"]
    assert_correct(ge.grade_topo_sort(nb["my_topological_order"], V))
    assert_correct(ge.grade_topo_sort(nb["topological_order"], V))
    assert_wrong(ge.grade_topo_sort(blanked("my_topological_order"), V), "NotImplementedError")
    assert_wrong(ge.grade_topo_sort(nb["topological_order_recursive"], V), "RecursionError",
                 "a chain of 5,000 additions", "recursion limit", "explicit stack")
    assert_wrong(ge.grade_topo_sort(no_seen_set, V), "x is listed twice", "x*x + 3*x")
    assert_wrong(ge.grade_topo_sort(node_before_parents, V), "order: ", "before all its consumers")
    assert_wrong(ge.grade_topo_sort(lambda r: nb["topological_order"](r)[::-1], V), "reversed")
    assert_wrong(ge.grade_topo_sort(lambda r: [n for n in nb["topological_order"](r) if n.parents], V),
                 "leaf a is missing", "case 'a * b'")
    assert_wrong(ge.grade_topo_sort(lambda r: None, V), "returned None")


# ------------------------------------------------------------------ exercise 3: the loop

def loop(kind, topological_order):
    """The backward loop with one of the usual slips."""
    def backward(root):
        root.grad = 0.0 if kind == "no seed" else 1.0
        order = topological_order(root)
        for node in (order if kind == "forward" else reversed(order)):
            for parent, local in zip(node.parents, node.local_grads):
                if kind == "=":
                    parent.grad = node.grad * local
                elif kind == "local only":
                    parent.grad += local
                else:
                    parent.grad += node.grad * local
    backward.__name__ = f"backward_{kind.replace(' ', '_')}"
    return backward


def test_backward_loop(nb):
    V, topo = nb["Value"], nb["topological_order"]
    assert_correct(ge.grade_backward(nb["my_backward"], V))
    assert_correct(ge.grade_backward(nb["backward"], V))
    assert_correct(ge.grade_backward(loop("+=", topo), V))
    assert_wrong(ge.grade_backward(blanked("my_backward"), V), "NotImplementedError", "case 'a * b'")
    assert_wrong(ge.grade_backward(loop("=", topo), V),
                 "gradient overwritten instead of accumulated (=, not +=) at the fan-out x used 3 times",
                 "case 'x*x + 3*x")
    assert_wrong(ge.grade_backward(loop("forward", topo), V), "order: nodes visited before all "
                 "their consumers")
    assert_wrong(ge.grade_backward(loop("no seed", topo), V), "root.grad was not set to 1.0")
    assert_wrong(ge.grade_backward(loop("local only", topo), V), "chain rule", "case 'diamond")


# ------------------------------------------------------------------ exercise 4: unbroadcast

def axes_to_sum(g, shape):
    lead = g.ndim - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)


def test_unbroadcast(nb):
    assert_correct(ge.grade_unbroadcast(nb["my_unbroadcast"]))
    assert_wrong(ge.grade_unbroadcast(blanked("my_unbroadcast")), "NotImplementedError")
    assert_wrong(ge.grade_unbroadcast(lambda g, shape: g), "did not sum over axis 1",
                 "input of shape (3, 1)", "case '(3, 1) + (1, 4)'")

    def leading_only(g, shape):               # micrograd-style: forgets the stretched axes
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        return g

    assert_wrong(ge.grade_unbroadcast(leading_only), "did not sum over axis 1 (stretched from length 1)")

    def keepdims_everywhere(g, shape):
        return g.sum(axis=axes_to_sum(g, shape), keepdims=True)

    assert_wrong(ge.grade_unbroadcast(keepdims_everywhere), "kept the summed axis 0",
                 "input of shape (3,)", "(4, 3) + (3,)")

    def no_keepdims(g, shape):
        return g.sum(axis=axes_to_sum(g, shape))

    assert_wrong(ge.grade_unbroadcast(no_keepdims), "dropped the stretched axis 1")

    def mean(g, shape):
        return g.mean(axis=axes_to_sum(g, shape), keepdims=True).reshape(shape)

    assert_wrong(ge.grade_unbroadcast(mean), "averaged (mean) instead of summed")

    def sums_everything(g, shape):
        return g.sum() if shape != g.shape else g

    assert_wrong(ge.grade_unbroadcast(sums_everything), "summed over every axis")

    def stretched_only(g, shape):               # forgets the axes broadcasting put in front
        lead = g.ndim - len(shape)
        for axis, n in enumerate(shape):
            if n == 1 and g.shape[lead + axis] != 1:
                g = g.sum(axis=lead + axis, keepdims=True)
        return g

    assert_wrong(ge.grade_unbroadcast(stretched_only), "did not sum over axis 0 (added in front by "
                 "broadcasting)", "input of shape (3,)", "(4, 3) + (3,)")


# ------------------------------------------------------------------ answers that are not even wrong

def test_odd_answers_are_reported_not_raised(nb):
    V = nb["Value"]
    assert_wrong(ge.grade_topo_sort(lambda r: [n.data for n in nb["topological_order"](r)], V),
                 "the list holds a float", "not a node")

    def grads_to_none(root):
        nb["backward"](root)
        root.parents[0].grad = None

    assert_wrong(ge.grade_backward(grads_to_none, V), ".grad is None, not a number", "case 'a * b'")
    assert_wrong(ge.grade_unbroadcast(lambda g, shape: None), "returned None, not an array of numbers")
    assert_wrong(ge.grade_unbroadcast(lambda g, shape: "sum"), "returned 'sum', not an array")


def test_the_library_is_asked_in_float64_whatever_the_default(nb):
    from chaingrad import autograd as ag
    before = ag.get_default_dtype()
    ag.set_default_dtype(np.float32)
    try:
        assert_correct(ge.grade_backward(nb["backward"], nb["Value"]))
        assert_correct(ge.grade_unbroadcast(nb["my_unbroadcast"]))
    finally:
        ag.set_default_dtype(before)
