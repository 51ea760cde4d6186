"""Builds notebooks/00_engine_from_nothing.ipynb (run: .venv/bin/python notebooks/build/nb00_engine_from_nothing.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()
nb.md(r"""
# 0. An engine from nothing

Every later notebook calls `loss.backward()` and trusts the numbers. This one earns that trust: before
the engine of this repository appears, we write a complete reverse-mode engine for scalars in about
fifty lines of plain Python, train a tiny network with it, and then break it on purpose in the three
ways that hand-written engines are most often broken. Only at the end do we switch to
`from chaingrad import autograd as ag`, draw the same graph with it and check that it gives the same
numbers.

The plan follows the idea of Andrej Karpathy's lecture *The spelled-out intro to neural networks and
backpropagation: building micrograd*: a scalar value that remembers how it was made is all you need for
back-propagation. The code here is our own and differs in three deliberate ways: each value stores its
local derivatives as numbers (not as a closure), the topological sort uses an explicit stack (no
recursion, so long graphs work), and the parents are kept in a tuple (a fixed order, so the same
program always gives the same graph).

**Reading.** MIT 6.036 notes, ch. 7 §7.5 (the chain rule and back-propagation); Sayed ch. 65, the
chain rule over many variables (65.54)-(65.55). Notebook 1 continues from here with the engine.

**What you will see.**
1. `Value`: a number, the values it was computed from, and the local derivatives;
2. backward: a topological order, then one pass that multiplies and *adds*; you first compute a
   small graph's gradients by hand (exercise 1), then write the sort and the pass (exercises 2, 3);
3. a tiny network, its gradients checked against finite differences, and trained;
4. three classic bugs, each made on purpose and measured: overwriting instead of accumulating at
   fan-out, forgetting `zero_grad` between steps, and not summing a broadcast bias's gradient (you
   write the sum, `unbroadcast`: exercise 4);
5. the same graph and the same numbers from `ag`;
6. two rows of the table as `ag` primitives (exercises 5, 6), graded by `ag.check_vjp` (strictly: the
   product's VJPs must sum over the broadcast axes themselves).

Exercises 1-4 are graded by the cell after them against `chaingrad`'s gradients
(`notebooks/grade_engine.py`), on graphs chosen to break hand-written engines; a wrong answer gets
the mistake and the graph it broke. Every exercise, and each question at the end, has an answer to
open (**Answer**).
""")
nb.code(r"""
%matplotlib inline
import math
import graphviz
import numpy as np
import matplotlib.pyplot as plt

np.set_printoptions(precision=4, suppress=True)
""" + COMPARE)

# ---------------------------------------------------------------- 1. Value
nb.md(r"""
## 1. A value that remembers how it was made

A `Value` holds a number (`data`), a slot for $\partial\,\text{root}/\partial\,\text{this value}$
(`grad`, filled by backward), the values it was computed from (`parents`) and, for each parent, the
**local derivative** $\partial\,\text{this}/\partial\,\text{parent}$ (`local_grads`). Each operation
computes its result and its local derivatives together, at the moment the numbers are at hand:

| operation | result $c$ | $\partial c/\partial a$ | $\partial c/\partial b$ |
|:--|:--|:--|:--|
| $a + b$ | $a + b$ | $1$ | $1$ |
| $a \cdot b$ | $ab$ | $b$ | $a$ |
| $a^k$ ($k$ a plain number) | $a^k$ | $k a^{k-1}$ | |
| $\tanh a$ | $t = \tanh a$ | $1 - t^2$ | |

Subtraction and negation are built from these, so they need no rules of their own.
""")
nb.code(r"""
class Value:
    '''A scalar that remembers the values it was computed from and the local derivatives.'''

    def __init__(self, data, parents=(), local_grads=(), op="", name=""):
        self.data = float(data)
        self.grad = 0.0                  # d(root)/d(self), filled in by backward()
        self.parents = parents           # a tuple: a fixed order gives the same graph every run
        self.local_grads = local_grads   # d(self)/d(parent), one number per parent
        self.op, self.name = op, name

    def __repr__(self):
        return f"Value({self.name or self.op} = {self.data:.4g}, grad {self.grad:.4g})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, k):                # k is a plain number, not a Value
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t * t,), "tanh")

    __radd__, __rmul__ = __add__, __mul__
    def __neg__(self): return self * -1
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)


def draw(root):
    '''The graph behind root as a graphviz picture: one box per value (its name, the op that made
    it, its value), one arrow per use, so a value used twice by the same op has two arrows.'''
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR"}, node_attr={"shape": "box", "fontsize": "11"})
    ids, stack = {}, [root]
    while stack:                         # every value behind root, each once (no recursion)
        node = stack.pop()
        if node not in ids:
            ids[node] = str(len(ids))    # a counter, not id(): the same picture every run
            stack.extend(node.parents)
    for node, i in ids.items():
        made_by = f"\n({node.op})" if node.op else ""
        dot.node(i, f"{node.name or 'const'} = {node.data:g}{made_by}")
        for parent in node.parents:
            dot.edge(ids[parent], i)
    return dot
""")
nb.md(r"""
### Exercise 1: gradients by hand

Before any code walks a graph, walk one yourself. With $a = 3$ and $b = -2$:

$$c = a \cdot b,\qquad d = c + a,\qquad L = d^2 .$$

Fill in $\partial L/\partial(\text{node})$ for every node of the picture, starting at $L$ (where it is
1) and moving against the arrows: each node's gradient is the sum, over the arrows leaving it, of
(the gradient of the node the arrow points to) $\times$ (the local derivative along that arrow, from
the table above). Mind $a$: two arrows leave it.
""")
nb.code(r"""
a, b = Value(3.0, name="a"), Value(-2.0, name="b")
c = a * b; c.name = "c"
d = c + a; d.name = "d"
L = d ** 2; L.name = "L"
draw(L)
""")
nb.code(r"""
# EXERCISE 1: dL/d(node) for each node of the picture, worked out by hand (plain numbers).
def my_gradients():
    # SOLUTION
    return {"L": 1.0, "d": 2 * -3.0, "c": -6.0 * 1, "b": -6.0 * 3.0, "a": -6.0 * -2.0 + -6.0 * 1}
    # END SOLUTION
""")
nb.code(r"""
from grade_engine import grade_hand_gradients, grade_topo_sort, grade_backward, grade_unbroadcast

grade_hand_gradients(my_gradients, L)
""")
nb.md(r"""
<details><summary>Answer</summary>

$L = d^2$ with $d = c + a = -6 + 3 = -3$, so $L = 9$ and

| node | gradient | why |
|:--|--:|:--|
| $L$ | $1$ | $\partial L/\partial L$ |
| $d$ | $2d = -6$ | the local derivative of $d^2$ |
| $c$ | $-6 \cdot 1 = -6$ | $d = c + a$: local derivative 1 |
| $b$ | $-6 \cdot a = -18$ | $c = a b$: local derivative $a$ |
| $a$ | $-6 \cdot b + (-6) \cdot 1 = 12 - 6 = 6$ | two uses: through $c$ and through $d$ |

The grader names the usual slips: $a = 12$ or $a = -6$ (only one of its two paths), a flipped sign,
or a local derivative not multiplied by the gradient from above.
</details>

### Exercise 2: the order of the backward pass

By hand you went from $L$ back to the leaves, and you finished $d$ before $c$ and $a$: a node's
gradient is complete only when every node that **uses** it (its consumers) has passed its share.
An order that guarantees this: list the values so that each one comes **after all its parents** (a
*topological order*, root last), then walk that list backwards.

Write `my_topological_order(root)`: the list of every value `root` depends on (itself included),
each exactly once, each after all its parents. Depth first works: a node goes into the list after its
parents have gone in. The grader runs it on a product, on fan-out ($x$ used three times), on a
diamond (two paths from $x$ that meet again), on an intermediate value used three times, on two tanh
units, and on a chain of 5,000 additions, and then compares the gradients that your order gives with
`chaingrad`'s.
""")
nb.code(r"""
# EXERCISE 2: every value behind root, once each, each after all its parents (root last).
def my_topological_order(root):
    # SOLUTION
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:                 # second visit: its parents are all in the list
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))   # come back to it after its parents
            stack.extend((p, False) for p in node.parents)
    return order
    # END SOLUTION
""")
nb.code(r"""
grade_topo_sort(my_topological_order, Value)
""")
nb.md(r"""
<details><summary>Answer</summary>

The short way is recursive: `visit(node)` visits each parent, then appends the node, with a set
`seen` so that a node reached by two paths (the diamond) goes in once. It is right, and it fails on
the 5,000-op chain: each link is one nested call, and Python stops at about 1,000
(`RecursionError`; section "Why an explicit stack" below shows it). The solution above keeps the
work still to do on an explicit stack: a node is pushed twice, first to push its parents, then
(`parents_done`) to be appended once they are all in. The usual slips and what the grader says:
no `seen` set (a node listed twice), the node appended before its parents ("order: ... before all
its consumers"), the list returned root first ("reversed"), leaves left out ("missing").
</details>

We use our own sort from here on (the same code as the answer):
""")
nb.code(r"""
def topological_order(root):
    '''Every value root depends on, each one after all of its parents (depth first, explicit stack).'''
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:                 # second visit: all its parents are already in the list
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))   # come back to it after its parents
            stack.extend((p, False) for p in node.parents)
    return order
""")
nb.md(r"""
### Exercise 3: the backward loop

Now the pass itself. Set the root's gradient to 1; walk `reversed(topological_order(root))`; at each
node, for each parent and its local derivative, add the chain rule's term
$\frac{\partial\,\text{root}}{\partial\,\text{node}} \cdot \frac{\partial\,\text{node}}{\partial\,\text{parent}}$
into `parent.grad`. *Add*: a parent used by several nodes gets one term from each use. The grader
runs your loop on the same graphs, each fresh, and compares every node's `.grad` with `chaingrad`'s.
""")
nb.code(r"""
# EXERCISE 3: fill .grad of every value behind root with d(root)/d(value).
def my_backward(root):
    # SOLUTION
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += node.grad * local
    # END SOLUTION
""")
nb.code(r"""
grade_backward(my_backward, Value)
""")
nb.md(r"""
<details><summary>Answer</summary>

Three lines inside the loops, as in our `backward` below. The slips the grader recognises by their
numbers: `parent.grad = ...` instead of `+=` ("gradient overwritten instead of accumulated", at the
first fan-out: $x$ in $x \cdot x + 3x$), walking `topological_order(root)` without `reversed` (a node
passes on its gradient before its consumers have filled it in), forgetting `root.grad = 1.0`
(everything stays 0), and adding `local` without the factor `node.grad`.
</details>

Our engine, complete:
""")
nb.code(r"""
def backward(root):
    '''Fill .grad of every value root depends on with d(root)/d(value).'''
    root.grad = 1.0                      # d(root)/d(root)
    for node in reversed(topological_order(root)):        # outputs before inputs
        for parent, local in zip(node.parents, node.local_grads):
            # chain rule: d(root)/d(parent) += d(root)/d(node) * d(node)/d(parent).
            # "+=" because a parent used by several nodes (fan-out) gets one term from each use.
            parent.grad += node.grad * local


def zero_grad(params):
    for p in params:
        p.grad = 0.0
""")
nb.md(r"""
That is the whole engine. Why the two loops are right: `reversed(topological_order(root))` visits a
node only after every node that uses it, so when we reach a node its `grad` is complete, all the
contributions from its users have been added, and it can pass the chain rule on to its parents.
A first check, $f(x) = x \cdot x + 3x$ at $x = 2$, with $f'(x) = 2x + 3 = 7$: $x$ is used three
times, and each use adds its share.
""")
nb.code(r"""
x = Value(2.0, name="x")
f = x * x + 3 * x
backward(f)
print(f, "  ", x)
assert f.data == 10.0 and x.grad == 7.0
""")

# ---------------------------------------------------------------- 2. a tiny network
nb.md(r"""
## 2. A tiny network, checked and trained

Two inputs, two hidden tanh units and a linear output, with the squared loss on one example:

$$
h_j = \tanh(w_{1j} x_1 + w_{2j} x_2 + b_j),\quad j = 1, 2,\qquad
\hat y = v_1 h_1 + v_2 h_2 + c,\qquad
L = d \cdot d,\ \ d = \hat y - y .
$$

Fan-out happens three times: each input feeds both hidden units, and $d$ is used twice in $d\cdot d$.
The check is the definition of the derivative itself: the central difference
$\big(L(\theta + h) - L(\theta - h)\big)/2h$ for each of the nine parameters, with $h = 10^{-6}$ (its
error is of order $h^2$ plus rounding, about $10^{-9}$ here).
""")
nb.code(r"""
PARAMS0 = {"w11": 0.5, "w21": -0.8, "b1": 0.1, "w12": 1.2, "w22": 0.3, "b2": -0.4,
           "v1": 0.9, "v2": -1.1, "c": 0.2}


def network_loss(p, x1, x2, y):
    '''The loss of the tiny network on one example; p maps names to Values (or plain floats).'''
    h1 = (p["w11"] * x1 + p["w21"] * x2 + p["b1"]).tanh()
    h2 = (p["w12"] * x1 + p["w22"] * x2 + p["b2"]).tanh()
    d = p["v1"] * h1 + p["v2"] * h2 + p["c"] - y
    return d * d


def make_params(values):
    return {k: Value(v, name=k) for k, v in values.items()}


def numeric_grads(values, example, h=1e-6):
    '''Central differences of the loss, one parameter at a time, with plain-float Values.'''
    out = {}
    for k in values:
        up, down = dict(values), dict(values)
        up[k] += h
        down[k] -= h
        out[k] = (network_loss(make_params(up), *example).data
                  - network_loss(make_params(down), *example).data) / (2 * h)
    return out


example = (1.0, -2.0, 0.5)                       # x1, x2, y
p = make_params(PARAMS0)
loss = network_loss(p, *example)
backward(loss)
ours, loss_ours = {k: v.grad for k, v in p.items()}, loss.data
numeric = numeric_grads(PARAMS0, example)
print(f"loss {loss.data:.6f}, {len(topological_order(loss))} values in the graph")
compare([(f"dL/d{k}", ours[k], numeric[k]) for k in PARAMS0], tol=1e-8,
        title="Our engine vs. central differences (the 'by hand' column)")
""")
nb.md(r"""
Training is the loop of every later notebook in miniature: forward, `zero_grad`, backward, a step
against the gradient. The data are eight points of a curve, and the loss is the mean over them (the
graph of each step holds all eight examples; its values are rebuilt every step, only the parameters
carry over).
""")
nb.code(r"""
XS = np.linspace(-2, 2, 8)
DATA = [(x1, 0.5 * x1 ** 2 - 1, np.sin(2 * x1) * 0.8) for x1 in XS]     # (x1, x2, y)


def mean_loss(p):
    total = sum(network_loss(p, *ex) for ex in DATA)
    return total * (1 / len(DATA))


def train(steps=300, lr=0.1, clear=True):
    p = make_params(PARAMS0)
    losses = []
    for _ in range(steps):
        loss = mean_loss(p)
        if clear:
            zero_grad(p.values())
        backward(loss)
        for v in p.values():
            v.data -= lr * v.grad
        losses.append(loss.data)
    return p, np.array(losses)


trained, losses = train()
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} in {len(losses)} steps")
""")

# ---------------------------------------------------------------- 3. why iterative
nb.md(r"""
### Why an explicit stack

A topological sort is most easily written recursively: visit the parents, then append the node. Python
allows about a thousand nested calls, so a recursive sort fails on any graph with a chain longer than
that, and chains of thousands of values are common (a loop that adds up a long sum, a recurrent network
unrolled over time); that is why exercise 2's grader tries a chain of 5,000. The explicit stack has
no such limit:
""")
nb.code(r"""
def topological_order_recursive(root):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order


s = Value(0.0)
terms = [Value(0.001 * k) for k in range(5000)]
for t in terms:
    s = s + t                                     # a chain of 5,000 additions
try:
    topological_order_recursive(s)
except RecursionError as err:
    print("recursive sort:", type(err).__name__, "-", err)
backward(s)
print(f"explicit stack: {len(topological_order(s))} values sorted; d(sum)/d(term) = 1 for all:",
      all(t.grad == 1.0 for t in terms))
""")

# ---------------------------------------------------------------- 4. bugs
nb.md(r"""
## 3. Bug 1: overwriting instead of accumulating

The single most common mistake in a hand-written backward pass is `parent.grad = ...` where
`parent.grad += ...` belongs. It goes unnoticed on any graph where every value is used once; it is
wrong as soon as a value fans out, because only the contribution of the last use survives. In the tiny
network, $d$ is used twice ($L = d\cdot d$) and each input feeds two hidden units:
""")
nb.code(r"""
def backward_overwrite(root):
    '''BUG, on purpose: each use of a parent replaces the gradient from the previous one.'''
    root.grad = 1.0
    for node in reversed(topological_order(root)):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad = node.grad * local


def input_grads(backward_fn):
    '''Gradients with respect to the parameters and the two inputs of one example.'''
    p = make_params(PARAMS0)
    x1, x2 = Value(example[0], name="x1"), Value(example[1], name="x2")
    backward_fn(network_loss(p, x1, x2, example[2]))
    return {**{k: v.grad for k, v in p.items()}, "x1": x1.grad, "x2": x2.grad}


right, wrong = input_grads(backward), input_grads(backward_overwrite)
lines = ["| gradient | += (right) | = (overwrite) | ratio |", "|:--|--:|--:|--:|"]
lines += [f"| dL/d{k} | {right[k]:.6f} | {wrong[k]:.6f} | {wrong[k] / right[k]:.3f} |" for k in right]
display(Markdown("\n".join(lines)))
""")
nb.md(r"""
Every parameter's gradient comes out **exactly half** of the right one: $\partial L/\partial d$
should be $d + d = 2d$ (one $d$ from each factor of $d\cdot d$), and overwriting keeps only one of the
two terms; everything below $d$ inherits the factor $1/2$. The inputs are worse: $x_1$ and $x_2$ each
feed both hidden units, and overwriting keeps only the path through whichever unit the backward pass
happens to visit last (itself halved), so their ratio is not even a constant. Half a gradient still points downhill,
which is why this bug can survive a training run that "works"; a gradient check against finite
differences (section 2) catches it at once.

## 4. Bug 2: forgetting `zero_grad` between steps

Because `backward` adds into `.grad`, and the parameters live from one step to the next, a loop that
does not clear them adds this step's gradient to the sum of all previous ones. The update then follows
the running **sum** of every gradient so far: steps keep growing in a direction long after the slope has
turned. Our engine and `ag` both accumulate, like PyTorch, because accumulation is what makes fan-out
right (bug 1), so clearing between steps is the caller's job.
""")
nb.code(r"""
_, losses_cleared = train(clear=True)
_, losses_forgot = train(clear=False)

p = make_params(PARAMS0)
backward(mean_loss(p))
once = p["v1"].grad
backward(mean_loss(p))                            # a second backward without clearing
print(f"dL/dv1 after one backward {once:.6f}, after two {p['v1'].grad:.6f} (ratio {p['v1'].grad / once:.0f})")

plt.figure(figsize=(6.5, 3.4))
plt.semilogy(losses_cleared, label="zero_grad every step")
plt.semilogy(losses_forgot, label="zero_grad forgotten")
plt.xlabel("step"); plt.ylabel("mean loss"); plt.legend()
plt.title("the same loop, the same learning rate 0.1"); plt.tight_layout(); plt.show()
print(f"final loss: {losses_cleared[-1]:.4f} with zero_grad, {losses_forgot[-1]:.4f} without")
""")

nb.md(r"""
## 5. Bug 3: a broadcast bias whose gradient is not summed

Networks work on batches: $Z = XW + b$ adds one bias row $b$ (shape `(3,)`) to every row of $XW$
(shape `(4, 3)`). numpy **broadcasts** $b$, i.e. uses each $b_j$ four times, once per example: fan-out
again, hidden inside one `+`. So $\partial L/\partial b_j$ is the sum of $\partial L/\partial Z_{ij}$
over the rows $i$, and the backward of `+` must sum the upstream gradient over every axis that
broadcasting added or stretched, to give the gradient the shape of its input.

numpy's rule, read backwards: to combine shapes, numpy first puts axes of length 1 in **front** of
the shorter shape until both have as many axes, then **stretches** every axis of length 1 to the
other's length. `(4, 3) + (3,)`: `(3,)` becomes `(1, 3)`, then `(4, 3)`. `(3, 1) + (1, 4)`: both
stretch, to `(3, 4)`. A scalar becomes any shape.

### Exercise 4: `unbroadcast`

Write `my_unbroadcast(g, shape)`: `g` is the upstream gradient, of the broadcast result's shape;
return it summed back to `shape`, the shape of one input. Sum away the axes broadcasting put in front
(they must disappear), and sum over each axis where `shape` has a 1 and `g` does not, keeping it
with length 1 (`keepdims=True`). The grader tries `(3, 1) + (1, 4)`, `(4, 3) + (3,)`, a scalar plus
`(2, 3)`, the `(2, 1)` of a `keepdims` mean, `(2, 1, 4) + (3, 1)`, `(1,) + (2, 3)` and no
broadcasting at all, both inputs each, against the gradients `chaingrad`'s backward gives.
""")
nb.code(r"""
# EXERCISE 4: g summed over the axes that broadcasting added or stretched, so that it has `shape`.
def my_unbroadcast(g, shape):
    # SOLUTION
    while g.ndim > len(shape):
        g = g.sum(axis=0)                          # leading axes that broadcasting added
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)    # axes of length 1 that it stretched
    return g
    # END SOLUTION
""")
nb.code(r"""
grade_unbroadcast(my_unbroadcast)
""")
nb.md(r"""
<details><summary>Answer</summary>

Two steps, as in the solution (and in our `unbroadcast` in the next cell): while `g` has more axes
than `shape`, sum over axis 0; then, for each axis where `shape` has 1 and `g` more, sum with
`keepdims=True`. For `(2, 1, 4) + (3, 1)` the `(3, 1)` input's gradient is `g` summed over axis 0
(added) and then over its last axis (stretched, kept): `(2, 3, 4)` to `(3, 4)` to `(3, 1)`. The slips the grader
names: "did not sum over axis 0" (the gradient returned as it came), "kept the summed axis" (`keepdims`
on an axis broadcasting added: `(1, 3)` for `(3,)`), "dropped the stretched axis" (no `keepdims`:
`(3,)` for `(3, 1)`), a mean instead of a sum, and a sum over every axis.
</details>

Scalars cannot show this, so here is the same engine for numpy arrays, in a few more lines. For arrays
the local derivative is a matrix too big to store, so each node keeps, per parent, a function that
multiplies the upstream gradient by it: a **vector-Jacobian product** (VJP). The topological sort is
the one from section 1. Two versions of `+`: one passes the upstream gradient to both operands
unchanged, the other sums it back to each operand's shape.
""")
nb.code(r"""
class Array:
    '''The Value idea for numpy arrays: per parent, a VJP function instead of a number.'''

    def __init__(self, data, parents=(), vjps=(), op="", name=""):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self.parents, self.vjps, self.op, self.name = parents, vjps, op, name

    def __matmul__(self, other):         # d(A @ B): g @ B.T for A, A.T @ g for B
        return Array(self.data @ other.data, (self, other),
                     (lambda g: g @ other.data.T, lambda g: self.data.T @ g), "@")

    def __pow__(self, k):
        return Array(self.data ** k, (self,), (lambda g: g * k * self.data ** (k - 1),), f"**{k}")

    def sum(self):
        return Array(self.data.sum(), (self,), (lambda g: g * np.ones_like(self.data),), "sum")


def unbroadcast(g, shape):
    '''Sum g over the axes that broadcasting added or stretched, so that it has `shape` again.'''
    while g.ndim > len(shape):
        g = g.sum(axis=0)                          # leading axes that broadcasting added
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)    # axes of length 1 that it stretched
    return g


def add_unsummed(a, b):
    '''BUG, on purpose: hands the (4, 3) upstream gradient to the (3,) bias as it is.'''
    return Array(a.data + b.data, (a, b), (lambda g: g, lambda g: g), "+")


def add(a, b):
    return Array(a.data + b.data, (a, b),
                 (lambda g: unbroadcast(g, a.data.shape), lambda g: unbroadcast(g, b.data.shape)), "+")


def backward_arrays(root):
    root.grad = np.ones_like(root.data)
    for node in reversed(topological_order(root)):
        for parent, vjp in zip(node.parents, node.vjps):
            parent.grad += vjp(node.grad)          # in place: the shapes must match


rng = np.random.default_rng(0)
X_np, W_np, b_np = rng.normal(size=(4, 2)), rng.normal(size=(2, 3)), np.array([0.1, -0.2, 0.3])


def batch_loss(add_fn):
    X, W, b = Array(X_np, name="X"), Array(W_np, name="W"), Array(b_np, name="b")
    loss = (add_fn(X @ W, b) ** 2).sum()            # L = sum of (XW + b)^2
    return loss, W, b
""")
nb.md(r"""
With the unsummed `+`, the in-place `+=` of `backward_arrays` refuses to add a `(4, 3)` gradient into
the `(3,)` slot, and we get an error (the lucky case). Engines that write
`parent.grad = parent.grad + ...` instead, or that create `.grad` from the first contribution, get no
error at all: the bias "gradient" silently becomes a `(4, 3)` matrix, and the first update turns the
bias into a matrix too, one row per example of this batch, which then fails on any batch of a different
size.
""")
nb.code(r"""
loss, W, b = batch_loss(add_unsummed)
try:
    backward_arrays(loss)
except ValueError as err:
    print("in-place +=:", err)

loss, W, b = batch_loss(add_unsummed)
loss.grad = np.ones(())
for node in reversed(topological_order(loss)):        # the same pass, written without "in place"
    for parent, vjp in zip(node.parents, node.vjps):
        parent.grad = parent.grad + vjp(node.grad)
print("silent version: b.grad has shape", b.grad.shape, "and b - 0.1 * b.grad has shape",
      (b.data - 0.1 * b.grad).shape)

loss, W, b = batch_loss(add)
backward_arrays(loss)
dZ = 2 * (X_np @ W_np + b_np)                         # by hand: dL/dZ = 2Z, then sum over the batch
compare([("dL/db, summed over the 4 rows", b.grad, dZ.sum(axis=0)),
         ("dL/dW = X^T dL/dZ", W.grad, X_np.T @ dZ)], tol=1e-12,
        title="Array engine with unbroadcast vs. numpy by hand")
""")

# ---------------------------------------------------------------- 5. ag
nb.md(r"""
## 6. The same graph in `ag`

Now the engine of this repository. `ag.tensor` plays the part of `Value` (and of `Array`: scalars are
0-dimensional arrays), its operations record the same kind of graph, and `backward` runs the same two
loops, with `+=` at fan-out, VJPs that sum over broadcast axes in one place, an iterative sort (it counts
each node's users instead of searching depth first; either way, no recursion), and much more (many more operations, `create_graph` for higher derivatives, clear errors, pictures).
The tiny network, written with the same function, on named tensors:
""")
nb.code(r"""
from chaingrad import autograd as ag

p_ag = {k: ag.tensor(v, requires_grad=True, name=k) for k, v in PARAMS0.items()}
x1_ag = ag.tensor(example[0], requires_grad=True, name="x1")    # inputs too, to see their fan-out
x2_ag = ag.tensor(example[1], requires_grad=True, name="x2")
with ag.viz.record_grads():                       # keep the inner gradients for the picture
    loss_ag = network_loss(p_ag, x1_ag, x2_ag, example[2])
    loss_ag.backward(retain_graph=True)           # retain_graph: keep the inner values for the picture
ag.viz.draw(loss_ag)
""")
nb.md(r"""
Read it from the leaves at the top to the loss at the bottom: the two hidden units, each a sum of
products through `tanh`, the output, $d$ and $d\cdot d$ (the two arrows into the last `mul` are the
fan-out of bug 1). Each box carries the value and, below it, the gradient; the inputs $x_1$ and $x_2$
are marked as requiring a gradient only so that their two uses each, and their summed gradients, show. The numbers are those of our fifty-line engine, to the last bit or nearly (the two use
different `tanh` routines):
""")
nb.code(r"""
compare([("loss", loss_ag, loss_ours)]
        + [(f"dL/d{k}", p_ag[k].grad, ours[k]) for k in PARAMS0]
        + [("dL/dx1", x1_ag.grad, right["x1"]), ("dL/dx2", x2_ag.grad, right["x2"])], tol=1e-14,
        title="ag (engine) vs. our Value engine (by hand)")
for k in PARAMS0:
    assert abs(p_ag[k].grad.item() - ours[k]) <= 1e-14 * max(1.0, abs(ours[k])), k
""")
nb.md(r"""
The other two lessons hold in `ag` as well. Gradients of leaves accumulate (a second `backward`, which
needs `retain_graph=True` because `ag` frees the graph's saved values after the first, doubles them),
so training loops call `zero_grad` (on an optimizer or a module) every step. And the broadcast bias gets
the summed gradient of shape `(3,)`:
""")
nb.code(r"""
v = ag.tensor(0.5, requires_grad=True)
z = (v * v).tanh()
z.backward(retain_graph=True)
first = v.grad.item()
z.backward()
print(f"d tanh(v^2)/dv: {first:.6f} after one backward, {v.grad.item():.6f} after two")
assert v.grad.item() == 2 * first

X_ag, W_ag = ag.tensor(X_np), ag.tensor(W_np, requires_grad=True)
b_ag = ag.tensor(b_np, requires_grad=True)
((X_ag @ W_ag + b_ag) ** 2).sum().backward()
loss, W, b = batch_loss(add)
backward_arrays(loss)
compare([("dL/db", b_ag.grad, b.grad), ("dL/dW", W_ag.grad, W.grad)], tol=1e-12,
        title="ag (engine) vs. the Array engine (by hand)")
assert b_ag.grad.shape == (3,)
""")
nb.md(r"""
## 7. Your turn: two rows of the table as `ag` primitives

In `ag` a new operation is a **primitive**: a forward on numpy arrays and, for each input, a VJP
`vjp(g, ans, *inputs)` that returns $g$ times the local derivative, with the shape of that input (the
`Array` engine's functions, given a name). `ag.check_vjp` grades a VJP the way a teacher would: at
random points, with a random upstream gradient, in float64 and float32, on shapes that broadcast,
against central differences of the forward (notebook 3 explains how); it prints one verdict line and
names common mistakes. The cells come with a reference solution between `# SOLUTION` and
`# END SOLUTION`; `notebooks/build/student.py` writes the student version, where the grader reports the
VJP as wrong until the block is filled in.

**Exercise 5.** The product, $c = a \cdot b$, element by element: one VJP per input (section 1's table:
$\partial c/\partial a = b$). The grader multiplies a `(4, 3)` array by a `(3,)` one, like the bias of
section 5, and tries other shapes that broadcast (an `a` of shape `(4, 1)`, a `b` of shape `(1, 3)`).
So each VJP must do what section 5 taught: sum over the axes that broadcasting added or stretched, and
return its input's shape (section 5's `unbroadcast`, or yours, does it). `ag`'s engine would do that sum for you,
as it does for its own `+`; `strict=True` tells the grader not to accept that here.
""")
nb.code(r"""
# EXERCISE 5: the VJPs of the product a * b.  g = dL/d(ans); return dL/da and dL/db.
@ag.primitive
def my_mul(a, b):
    return a * b


def my_mul_vjp_a(g, ans, a, b):
    # SOLUTION
    return unbroadcast(g * b, a.shape)
    # END SOLUTION


def my_mul_vjp_b(g, ans, a, b):
    # SOLUTION
    return unbroadcast(g * a, b.shape)
    # END SOLUTION


my_mul.defvjp(my_mul_vjp_a, my_mul_vjp_b);      # the ";" hides the primitive that defvjp returns
""")
nb.code(r"""
ag.check_vjp(my_mul, rng.normal(size=(4, 3)), rng.normal(size=3), strict=True)
""")
nb.md(r"""
<details><summary>Answer</summary>

`unbroadcast(g * b, a.shape)` for `a` and `unbroadcast(g * a, b.shape)` for `b`: the local derivative
times the upstream gradient, element by element (numpy broadcasts `g * b` to the output's shape),
then summed back to the input's shape. Without the sum, `b`'s VJP returns a `(4, 3)` array for a
`(3,)` input: the next cell shows what the strict grader says.
</details>
""")
nb.md(r"""
What the strict grader says to the VJP that hands `g * a` to `b` unsummed (without `strict=True` the
engine's sum makes it right, and the grader only adds a note):
""")
nb.code(r"""
unsummed_mul = ag.primitive(lambda a, b: a * b, name="unsummed_mul").defvjp(
    lambda g, ans, a, b: unbroadcast(g * b, a.shape), lambda g, ans, a, b: g * a)
print(ag.check_vjp(unsummed_mul, rng.normal(size=(4, 3)), rng.normal(size=3), strict=True))
""")
nb.md(r"""
**Exercise 6.** The power with a fixed exponent, here $c = a^3$: $\partial c/\partial a = 3a^2$.
""")
nb.code(r"""
# EXERCISE 6: the VJP of the cube.
@ag.primitive
def my_cube(a):
    return a ** 3


def my_cube_vjp(g, ans, a):
    # SOLUTION
    return g * 3 * a ** 2
    # END SOLUTION


my_cube.defvjp(my_cube_vjp);
""")
nb.code(r"""
ag.check_vjp(my_cube, np.array([-1.5, -0.2, 0.7, 2.0]))
""")
nb.md(r"""
<details><summary>Answer</summary>

`g * 3 * a ** 2`: the upstream gradient times the local derivative $3a^2$ (no sum: `a` and the
output have the same shape). Forgetting `g` (`3 * a ** 2`), using the output instead of the input
(`3 * ans ** 2`) or the wrong factor (`g * a ** 2`) are mistakes `check_vjp` names.
</details>

## Questions

**1.** Every weight of a network is used once per example of a batch. Would overwriting (`=`, bug 1)
be noticed on a network with one example and no value used twice?

<details><summary>Answer</summary>

No: with no fan-out, each `.grad` receives exactly one term, and `=` and `+=` (onto a 0) agree. The
bug shows only where a value has several consumers, which every real network has: an input feeds
every unit of the first layer, a weight meets every example of a batch, and $d \cdot d$ uses $d$
twice. Hence the grader's fan-out and diamond cases, and the finite-difference check of section 2.
</details>

**2.** Why does `backward` set `root.grad = 1.0` first, and what would `root.grad = 2.0` give?

<details><summary>Answer</summary>

`root.grad` is $\partial\,\text{root}/\partial\,\text{root} = 1$, the first factor of every chain-rule
product. Every gradient is linear in it, so `2.0` gives the gradients of $2 \cdot \text{root}$, all
doubled; `0.0` gives zeros (the "not seeded" mistake of exercise 3). `ag`'s `backward(grad)` is this
number (an array for a non-scalar root).
</details>

**3.** Would `sys.setrecursionlimit(100_000)` make the recursive sort of exercise 2 safe?

<details><summary>Answer</summary>

It makes this chain pass: the limit is a guard, not a law (on the Python of this notebook, 3.11, a
recursive sort of a 300,000-op chain runs once the limit is raised far enough). But it is a setting
of the whole interpreter, not of the engine: every longer graph needs a larger number, and the guard
is there because a deep recursion through C code (before Python 3.11, every call) can overflow the
C stack and crash the process instead of raising. An explicit stack needs no setting: it is a list,
bounded only by memory.
</details>

**4.** Why does `unbroadcast` sum the leading axes away but keep the stretched ones, with length 1?

<details><summary>Answer</summary>

The result must have the input's shape, so that `parent.grad += ...` adds like to like. An axis
broadcasting added in front is not in the input's shape at all; an axis it stretched is there, with
length 1. `(3,)` and `(1, 3)` hold the same numbers, but `+=` into a `(3,)` slot refuses `(1, 3)`; and a
`(3, 1)` input's gradient returned as `(3,)` (the stretched axis dropped) meets its `(3, 1)` slot
in `grad + g` and broadcasts, silently, to a `(3, 3)` matrix.
</details>
""")

nb.md(r"""
## Summary

- Reverse mode needs only this: every value keeps its parents and its local derivatives; backward
  visits the values in reverse topological order and adds `grad x local` into each parent.
- Bug 1, `=` instead of `+=`: wrong wherever a value is used more than once; in the tiny network every
  parameter's gradient was exactly halved. A finite-difference check catches it.
- Bug 2, no `zero_grad`: each step follows the sum of all past gradients; the loss bounces instead of
  falling.
- Bug 3, no sum over broadcast axes: an error if you are lucky, a bias that silently turns into a
  matrix if you are not. `unbroadcast` fixes it once, for every operation.
- `ag` computes the same graph and the same numbers. From notebook 1 on we use it, and each notebook
  still checks it against a derivation by hand.
""")

if __name__ == "__main__":
    main(nb, "00_engine_from_nothing.ipynb")
