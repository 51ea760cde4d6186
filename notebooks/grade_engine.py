"""Graders for notebook 0, where the student writes the engine itself.

Four exercises, one grader each; the judge is always ``chaingrad.autograd``'s gradients:

- ``grade_hand_gradients(fn, root)``: dL/d(node) for every named node of a small drawn graph,
  worked out by hand and returned by ``fn()`` as a dict ``{name: number}``;
- ``grade_topo_sort(topological_order, Value)``: the order in which backward may visit the graph;
- ``grade_backward(backward, Value)``: the loop that multiplies and accumulates (``+=``);
- ``grade_unbroadcast(unbroadcast)``: summing a gradient back to the shape of an input that
  numpy broadcast.

The graphs are built with the notebook's own ``Value`` class (passed in: the graders know its
interface, ``data``, ``grad``, ``parents``, ``local_grads``, ``op``, ``name``, and its four ops
``+``, ``*``, ``**k``, ``tanh``) and replayed op by op in ``ag``, whose ``ag.grad`` gives the
expected gradient of every node.  The cases are those that break hand-written engines: fan-out
(a value used several times), a diamond (two paths that meet again), an intermediate value used
twice, a chain of 5,000 ops (deeper than Python's recursion limit) and broadcasting shapes.

Each grader returns a ``Report``: its first line is ``grade_x(what): correct (details)`` or
``grade_x(what): wrong: the mistake``, and it is falsy when wrong (the convention of
``ag.check_vjp``, see tests/test_notebooks.py).  When the numbers show a known mistake, the
report names it in the student's words ("gradient overwritten instead of accumulated (=, not
+=) at the fan-out x used 3 times") and the case it broke; a blanked exercise's
``NotImplementedError`` is reported as wrong, not raised.
"""
import math

import numpy as np

from chaingrad import autograd as ag
from grading import Report

RTOL = 1e-9          # the student's float64 arithmetic against ag's: only rounding may differ


def _name_of(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _raised(err, fn, case=None):
    """The mistake line for a student's function that raised (a blank raises NotImplementedError)."""
    where = f" (case {case!r})" if case else ""
    return f"{_name_of(fn)} raised {type(err).__name__}: {err}{where}"


# ------------------------------------------------------------------ graphs of Values, and ag

def _reference_order(root):
    """The grader's own topological order (parents first), iterative: it must not trust the student's."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents))    # first parent first
    return order


def _replay(node, args):
    """The ag Tensor for one Value node, from the ag Tensors of its parents (same op, same order)."""
    if not node.parents:
        return ag.tensor(node.data, requires_grad=True, dtype=np.float64)    # whatever the default
    if node.op == "+":
        return args[0] + args[1]
    if node.op == "*":
        return args[0] * args[1]
    if node.op.startswith("**"):
        return args[0] ** float(node.op[2:])
    if node.op == "tanh":
        return args[0].tanh()
    raise ValueError(f"the graders know the ops +, *, **k and tanh, not {node.op!r}")


def library_grads(root):
    """{node: d(root)/d(node)} for every node behind root, computed by replaying the graph in ag."""
    order = _reference_order(root)
    tensors = {}
    for node in order:
        tensors[node] = _replay(node, [tensors[p] for p in node.parents])
    grads = ag.grad(tensors[root], [tensors[n] for n in order], allow_unused=True)
    return {n: (0.0 if g is None else float(g.item())) for n, g in zip(order, grads)}


def _uses(root):
    """{node: how many times it is a parent}: more than once is fan-out."""
    count = {}
    for node in _reference_order(root):
        for p in node.parents:
            count[p] = count.get(p, 0) + 1
    return count


def _label(node):
    return node.name or f"the {node.op or 'constant'} node (value {node.data:.4g})"


def _is_number(x):
    """float(x) works: a Python or numpy number (a student's .grad may be either)."""
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


def _close(a, b):
    return abs(a - b) <= RTOL * max(1.0, abs(b))


# ------------------------------------------------------------------ the cases

def _named(node, name):
    node.name = name
    return node


def _one_product(V):
    return V(3.0, name="a") * V(-2.0, name="b")


def _fan_out(V):
    x = V(2.0, name="x")
    return x * x + 3 * x                          # x used three times


def _diamond(V):
    x = V(0.5, name="x")
    u = _named(x.tanh(), "u")                    # two paths from x ...
    v = _named(x ** 2, "v")
    return u * v                                  # ... that meet again


def _shared_middle(V):
    a, b = V(1.5, name="a"), V(-0.5, name="b")
    h = _named(a * b, "h")
    return h * h + h.tanh()                       # an intermediate value used three times


def _two_units(V):
    x1, x2 = V(1.0, name="x1"), V(-2.0, name="x2")
    h1 = _named((x1 * 0.5 + x2 * -0.8 + 0.1).tanh(), "h1")
    h2 = _named((x1 * 1.2 + x2 * 0.3 - 0.4).tanh(), "h2")
    d = _named(h1 * 0.9 + h2 * -1.1 + 0.2 - 0.5, "d")
    return d * d


CHAIN = 5000


def _long_chain(V):
    s = V(0.0, name="s0")
    for k in range(CHAIN):
        s = s + V(0.001 * k, name=f"t{k}")
    return s


GRAPHS = [("a * b", _one_product),
          ("x*x + 3*x, x used three times", _fan_out),
          ("diamond: u = tanh(x), v = x**2, u * v", _diamond),
          ("h = a*b used three times: h*h + tanh(h)", _shared_middle),
          ("two tanh units, squared error", _two_units),
          (f"a chain of {CHAIN:,} additions", _long_chain)]


# ------------------------------------------------------------------ 1. by hand

def grade_hand_gradients(fn, root):
    """Grade ``fn()``, a dict {node name: dL/d(node) worked out by hand}, for the graph behind root.

    Every named node needs its number.  A wrong number is explained when it is one of the usual
    slips: only one of the paths of a value used several times, the sign, or the local derivative
    without the gradient that arrives from above (the chain rule's other factor).
    """
    grader, what = "grade_hand_gradients", _name_of(fn)
    try:
        given = fn()
    except Exception as err:                      # a blank raises NotImplementedError
        return Report(grader, what, _raised(err, fn))
    if not isinstance(given, dict):
        return Report(grader, what, f"{what}() returned a {type(given).__name__}; "
                                    "return a dict {node name: gradient}")
    expected = library_grads(root)
    named = [n for n in reversed(_reference_order(root)) if n.name]     # root first: the hand's order
    rows = [f"{'node':>6} {'yours':>10} {'chaingrad':>10}"]
    mistakes = []
    for node in named:
        want = expected[node]
        if node.name not in given:
            mistakes.append(f"no gradient for {node.name}")
            rows.append(f"{node.name:>6} {'-':>10} {want:>10.6g}")
            continue
        try:
            got = float(given[node.name])
        except (TypeError, ValueError):
            mistakes.append(f"{node.name}: {given[node.name]!r} is not a number")
            continue
        rows.append(f"{node.name:>6} {got:>10.6g} {want:>10.6g}")
        if not _close(got, want):
            mistakes.append(_hand_mistake(node, got, want, root, expected))
    if mistakes:
        return Report(grader, what, mistakes[0], rows + mistakes[1:])
    return Report(grader, what, summary=f"{len(named)} gradients, equal to chaingrad's")


def _hand_mistake(node, got, want, root, expected):
    """Why one hand-computed gradient is wrong, when the numbers show it."""
    users = [(u, local) for u in _reference_order(root)
             for p, local in zip(u.parents, u.local_grads) if p is node]
    terms = [expected[u] * local for u, local in users]
    if len(users) > 1:
        for (u, _), term in zip(users, terms):
            if _close(got, term):
                names = ", ".join(_label(u) for u, _ in users)
                return (f"{node.name}: {got:g} is only the path through {_label(u)}; {node.name} is used "
                        f"{len(users)} times (fan-out: {names}): add the terms of every use, {want:g}")
    if _close(got, -want) and want != 0:
        return f"{node.name}: the sign is wrong ({got:g}, expected {want:g})"
    if users and _close(got, sum(local for _, local in users)):
        return (f"{node.name}: {got:g} is the local derivative alone; multiply it by the gradient that "
                f"arrives from above, dL/d({_label(users[0][0])}) (the chain rule): {want:g}")
    return f"{node.name}: {got:g}, expected {want:g}"


# ------------------------------------------------------------------ 2. the topological sort

def grade_topo_sort(topological_order, Value):
    """Grade ``topological_order(root)``: every node behind root once, each after all its parents.

    Backward walks that list in reverse, so a node listed before one of its parents would be
    visited (in reverse) before all its consumers have added their share.  Each case's gradients
    are then computed with that order and compared with chaingrad's.
    """
    grader, what = "grade_topo_sort", _name_of(topological_order)
    first, first_case, reversals_valid, largest = None, None, True, 0
    for case, build in GRAPHS:
        root = build(Value)
        try:
            order = topological_order(root)
        except RecursionError:
            raised = (f"RecursionError on the case {case!r}: a recursive sort goes {CHAIN:,} calls "
                      "deep, past Python's recursion limit (about 1,000 nested calls); keep the "
                      "nodes still to visit on an explicit stack")
        except Exception as err:
            raised = _raised(err, topological_order, case)
        else:
            raised = None
        if raised:                                # report the earliest case that went wrong
            return Report(grader, what, first or raised)
        order = None if order is None else list(order)          # a generator would be used up
        mistake = _order_mistake(order, root)
        if mistake:
            reversals_valid = reversals_valid and order is not None and not _order_mistake(order[::-1], root)
        else:
            got, want = _backward_in_order(root, order), library_grads(root)
            bad = [n for n in want if not _close(got[n], want[n])]
            if bad:                               # cannot happen once the order is valid; said anyway
                mistake = f"d(root)/d({_label(bad[0])}) is {got[bad[0]]:g} with this order, " \
                          f"chaingrad gives {want[bad[0]]:g}"
            largest = max(largest, len(want))
        if mistake and first is None:
            first, first_case = f"{mistake} (case {case!r})", case
    if first and reversals_valid:                 # every wrong list is a right one read backwards
        return Report(grader, what, "reversed: the root comes first; list each node after its parents "
                                    f"(the root last): backward reverses the list itself (case {first_case!r})")
    if first:
        return Report(grader, what, first)
    return Report(grader, what, summary=f"{len(GRAPHS)} graphs of up to {largest:,} nodes: every node "
                                        "once, after its parents; gradients equal to chaingrad's")


def _order_mistake(order, root):
    """What is wrong with a proposed order, in words, or None."""
    if order is None:
        return "returned None: return the list of nodes"
    nodes = _reference_order(root)
    strangers = [x for x in order if type(x) is not type(root)]
    if strangers:
        return (f"the list holds a {type(strangers[0]).__name__} ({strangers[0]!r:.40}), not a node: "
                f"list the {type(root).__name__} objects themselves")
    position = {}
    for i, node in enumerate(order):
        if node in position:
            return (f"{_label(node)} is listed twice: a node reached by two paths must be listed once "
                    "(keep a set of the nodes already visited)")
        position[node] = i
    missing = [n for n in nodes if n not in position]
    if missing:
        kind = "leaf" if not missing[0].parents else "node"
        return f"{kind} {_label(missing[0])} is missing ({len(missing)} of {len(nodes)} nodes missing)"
    if len(order) != len(nodes):
        return f"{len(order) - len(nodes)} objects in the list are not nodes of the graph"
    for node in order:
        for p in node.parents:
            if position[p] > position[node]:
                return (f"order: {_label(p)} is listed after {_label(node)}, which uses it, so backward "
                        f"(walking the list in reverse) would visit {_label(p)} before all its "
                        "consumers had added their share; list a node only after all its parents")
    return None


def _backward_in_order(root, order, mistake=None):
    """The reference backward loop over a given order; ``mistake`` makes one of the usual slips.

    Returns {node: grad}.  Used to grade an order, and to recognise a student's wrong loop by
    its numbers: "overwrite" (= for +=), "forward" (not reversed), "no seed" (root.grad not set),
    "local only" (the chain rule without node.grad).
    """
    for node in order:
        node.grad = 0.0
    root.grad = 0.0 if mistake == "no seed" else 1.0
    for node in (order if mistake == "forward" else reversed(order)):
        for parent, local in zip(node.parents, node.local_grads):
            if mistake == "overwrite":
                parent.grad = node.grad * local
            elif mistake == "local only":
                parent.grad += local
            else:
                parent.grad += node.grad * local
    return {n: n.grad for n in order}


# ------------------------------------------------------------------ 3. the backward loop

MISTAKES = {
    "overwrite": "gradient overwritten instead of accumulated (=, not +=) at the fan-out {node}",
    "forward": ("order: nodes visited before all their consumers (the loop walks the topological "
                "order forwards; walk reversed(topological_order(root)))"),
    "no seed": "root.grad was not set to 1.0 before the loop, so every gradient stayed 0",
    "local only": ("chain rule: the local derivative was added without multiplying it by node.grad "
                   "(d root/d node), at {node}"),
}


def grade_backward(backward, Value):
    """Grade ``backward(root)``: afterwards every node's ``.grad`` must be d(root)/d(node).

    Each case starts from a fresh graph.  A wrong result is compared with the usual slips of the
    loop (see ``_backward_in_order``); when it matches one, the report names it and the node.
    """
    grader, what = "grade_backward", _name_of(backward)
    for case, build in GRAPHS:
        root = build(Value)
        try:
            backward(root)
        except Exception as err:
            return Report(grader, what, _raised(err, backward, case))
        nodes = _reference_order(root)
        got = {n: n.grad for n in nodes}
        odd = next((n for n in nodes if not _is_number(got[n])), None)
        if odd is not None:
            return Report(grader, what, f"{_label(odd)}.grad is {got[odd]!r}, not a number "
                                        f"(case {case!r})")
        want = library_grads(root)
        bad = [n for n in reversed(nodes) if not _close(got[n], want[n])]     # nearest the root first
        if bad:
            mistake = _loop_mistake(build, Value, got, nodes, bad, root)
            rows = [f"{_label(n)}: .grad {got[n]:.6g}, chaingrad {want[n]:.6g}" for n in bad[:4]]
            return Report(grader, what, f"{mistake} (case {case!r})", rows)
    return Report(grader, what, summary=f"{len(GRAPHS)} graphs: fan-out, a diamond, a shared "
                                        f"intermediate, a chain of {CHAIN:,} ops; gradients equal to "
                                        "chaingrad's")


def _loop_mistake(build, Value, got, nodes, bad, root):
    """Name the slip whose numbers the student's loop reproduces, or describe the first wrong node."""
    uses = _uses(root)
    for node in bad:                              # overwriting: one use's term instead of the sum
        terms = [got[u] * local for u in nodes
                 for p, local in zip(u.parents, u.local_grads) if p is node]
        if len(terms) > 1 and any(_close(got[node], t) for t in terms) and not _close(got[node], sum(terms)):
            return MISTAKES["overwrite"].format(node=f"{_label(node)} used {uses[node]} times")
    for kind, text in MISTAKES.items():
        if kind == "overwrite":                   # its numbers depend on the order: recognised above
            continue
        fresh = build(Value)                     # the same graph again: same shape, same order
        slip = _backward_in_order(fresh, _reference_order(fresh), kind)
        if all(_close(got[n], slip[f]) for n, f in zip(nodes, _reference_order(fresh))):
            return text.format(node=_label(bad[0]))
    n = bad[0]
    return f"d(root)/d({_label(n)}) is {got[n]:g}, chaingrad gives {library_grads(root)[n]:g}"


# ------------------------------------------------------------------ 4. unbroadcast

BROADCASTS = [((3, 1), (1, 4)), ((4, 3), (3,)), ((), (2, 3)), ((2, 3), (2, 1)),
              ((2, 1, 4), (3, 1)), ((5,), (5,)), ((1,), (2, 3))]
CASE_NOTES = {((2, 3), (2, 1)): " (x - x.mean(axis=1, keepdims=True))", ((4, 3), (3,)): " (a bias)"}


def _shape(s):
    return "scalar" if s == () else str(s)


def library_unbroadcast(g, shape_a, shape_b):
    """The gradients of sum(g * (a + b)) for a of shape_a and b of shape_b, from ag's backward."""
    a = ag.tensor(np.zeros(shape_a), requires_grad=True, dtype=np.float64)
    b = ag.tensor(np.zeros(shape_b), requires_grad=True, dtype=np.float64)
    ((a + b) * ag.tensor(g, dtype=np.float64)).sum().backward()
    return a.grad.numpy(), b.grad.numpy()


def grade_unbroadcast(unbroadcast):
    """Grade ``unbroadcast(g, shape)``: g summed back to the shape of an input numpy broadcast.

    For each case ``a + b`` with a random upstream gradient g of the result's shape, both inputs'
    gradients must equal chaingrad's; a wrong shape or value is matched against the usual slips
    (an axis not summed, a summed axis kept, a stretched axis dropped, mean for sum).
    """
    grader, what = "grade_unbroadcast", _name_of(unbroadcast)
    rng = np.random.default_rng(19)
    for shape_a, shape_b in BROADCASTS:
        case = f"{_shape(shape_a)} + {_shape(shape_b)}{CASE_NOTES.get((shape_a, shape_b), '')}"
        g = rng.normal(size=np.broadcast_shapes(shape_a, shape_b))
        for shape, want in zip((shape_a, shape_b), library_unbroadcast(g, shape_a, shape_b)):
            try:
                got = unbroadcast(g.copy(), shape)
            except Exception as err:
                return Report(grader, what, _raised(err, unbroadcast, case))
            try:
                if got is None:                   # np.asarray would make it a NaN
                    raise TypeError
                got = np.asarray(got, dtype=float)
            except (TypeError, ValueError):
                return Report(grader, what, f"returned {got!r:.60}, not an array of numbers "
                                            f"(case {case!r})")
            if got.shape == want.shape and np.allclose(got, want, rtol=RTOL, atol=1e-12):
                continue
            mistake = _unbroadcast_mistake(g, shape, got, want)
            return Report(grader, what, f"{mistake}, for the input of shape {_shape(shape)} "
                                        f"(case {case!r})",
                          [f"g has shape {g.shape}; returned shape {got.shape}, chaingrad's {want.shape}"])
    return Report(grader, what, summary=f"{len(BROADCASTS)} broadcasts, both inputs each: added axes, "
                                        "stretched axes, a scalar, keepdims; equal to chaingrad's")


def _axes_words(axes):
    axes = list(axes)
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes[:-1])) + f" and {axes[-1]}"


def _unbroadcast_mistake(g, shape, got, want):
    """Name the slip whose result the student's matches, or say what differs."""
    lead = g.ndim - len(shape)
    added = list(range(lead))                                     # axes broadcasting put in front
    stretched = [lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1]
    why_added, why_stretched = "added in front by broadcasting", "stretched from length 1"
    hypotheses = []
    if added and stretched:
        hypotheses.append((g, f"did not sum over {_axes_words(added + stretched)} ({_axes_words(added)} "
                              f"{why_added}, {_axes_words(stretched)} {why_stretched})"))
    if added:
        kept = g.sum(axis=tuple(added + stretched), keepdims=True)
        hypotheses.append((kept, f"kept the summed {_axes_words(added)} (keepdims=True where "
                                  "broadcasting had added the axis: sum it away)"))
        only_stretched = g.sum(axis=tuple(stretched), keepdims=True) if stretched else g
        hypotheses.append((only_stretched, f"did not sum over {_axes_words(added)} ({why_added})"))
    if stretched:
        dropped = g.sum(axis=tuple(added + stretched))
        hypotheses.append((dropped, f"dropped the stretched {_axes_words(stretched)} (sum it with "
                                    "keepdims=True: the input has length 1 there)"))
        only_added = g.sum(axis=tuple(added)) if added else g
        hypotheses.append((only_added, f"did not sum over {_axes_words(stretched)} ({why_stretched})"))
    if g.size != want.size:
        hypotheses.append((want * want.size / g.size, "averaged (mean) instead of summed"))
    if want.ndim:
        hypotheses.append((g.sum(), "summed over every axis, not only those broadcasting added or stretched"))
    for candidate, words in hypotheses:
        candidate = np.asarray(candidate)
        if candidate.shape == got.shape and np.allclose(candidate, got, rtol=RTOL, atol=1e-12):
            return words
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    return f"values differ from chaingrad's by up to {np.abs(got - want).max():.3g}"
