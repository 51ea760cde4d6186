"""Builds notebooks/01_chain_rule.ipynb (run: .venv/bin/python notebooks/build/nb01_chain_rule.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()
nb.md(r"""
# 1. Derivatives and the chain rule

A neural network is a long composition of small functions, and training it needs the derivative
of a scalar loss with respect to every weight. This notebook builds that idea up from one neuron,
with the engine (`from chaingrad import autograd as ag`) doing the work and a derivation by hand next to it.

**Reading.** MIT 6.036 lecture notes, ch. 7 "Neural Networks": §7.1 (the neuron), §7.5 and §7.5.1
(the chain rule and the one-dimensional network, eqs. 7.1-7.3). A. H. Sayed, *Inference and Learning from Data*, ch. 65 "Feedforward Neural Networks":
§65.1 (the neuron, eqs. 65.4-65.6) and the many-variable chain rule (65.54)-(65.55).

**What you will see.**
1. one neuron, its loss and its gradients, by hand and by the engine;
2. a derivative as a slope, computed for a whole grid of points at once;
3. the one-dimensional network of §7.5.1, factor by factor;
4. fan-out: when a value is used twice its gradients add;
5. the backward pass replayed one step at a time;
6. exercises: you write the backward of sigmoid and tanh, and `ag.check_vjp` grades it.

Every section ends with a table: the engine's value, the value worked out by hand, the largest
absolute difference over all entries, and that difference relative to the largest entry of the hand
value. The cell fails if the difference is larger than rounding error, so this notebook is also a
test of the engine. (Arrays with more than four entries are shown by their shape and norm.)
""")
nb.code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
from chaingrad import autograd as ag

ag.manual_seed(0)
np.set_printoptions(precision=4, suppress=True)
""" + COMPARE)

# ---------------------------------------------------------------- 1. one neuron
nb.md(r"""
## 1. One neuron

A neuron takes an input vector $x$, forms the weighted sum $z = w^\top x + w_0$ and passes it through
an activation $f$, giving $a = f(z)$ (MIT §7.1). Sayed writes the same thing with the offset on the
other side, $z = h^\top w - \theta$ (65.4), so his $\theta$ is our $-w_0$.

Take $f = \sigma$, the sigmoid, and the squared loss $L = (a - y)^2$ for one example $(x, y)$.
The chain rule splits $\partial L/\partial w_j$ into three factors, one per step of the computation:

$$
\frac{\partial L}{\partial w_j}
= \underbrace{\frac{\partial L}{\partial a}}_{2(a-y)}\;
  \underbrace{\frac{\partial a}{\partial z}}_{\sigma(z)(1-\sigma(z))}\;
  \underbrace{\frac{\partial z}{\partial w_j}}_{x_j},
\qquad
\frac{\partial L}{\partial w_0} = 2(a-y)\,\sigma(z)(1-\sigma(z)) \cdot 1 .
$$

The middle factor uses the sigmoid's own output, Sayed's (65.6). The factor
$\partial L/\partial z$ is shared by all weights of the neuron; the MIT notes build the whole of
back-propagation around that shared factor.
""")
nb.code(r"""
x = ag.tensor([1.0, -2.0, 0.5], name="x")
y = 1.0
w = ag.tensor([0.3, 0.1, -0.4], requires_grad=True, name="w")
w0 = ag.tensor(0.2, requires_grad=True, name="w0")

z = x @ w + w0          # pre-activation
a = z.sigmoid()         # activation
loss = (a - y) ** 2
loss.backward()
print(f"z = {z.item():.4f}   a = {a.item():.4f}   loss = {loss.item():.4f}")
print("engine: dL/dw =", w.grad.numpy(), "  dL/dw0 =", w0.grad.item())
""")
nb.code(r"""
# the same numbers by hand, in plain numpy
xs, ws, w0s = x.numpy(), np.array([0.3, 0.1, -0.4]), 0.2
zs = xs @ ws + w0s
s = 1 / (1 + np.exp(-zs))
dL_da = 2 * (s - y)
da_dz = s * (1 - s)                       # Sayed (65.6)
dL_dz = dL_da * da_dz
compare([("loss", loss, (s - y) ** 2),
         ("dL/dw", w.grad, dL_dz * xs),
         ("dL/dw0", w0.grad, dL_dz)], title="One neuron: engine vs. hand")
""")
nb.md(r"""
The picture below is the graph the engine recorded while computing the loss: one box per tensor
with its value and, after `backward`, its gradient; one node per operation. Read it from the inputs
(`x`, `w`, `w0`) to the loss; the gradients were computed in the opposite direction. The input `x`
does not require a gradient, so it is drawn as a constant. `record_grads` keeps the gradients of the
inner tensors for the picture (`.grad` itself is only filled for the leaves), and
`retain_graph=True` keeps their values.
""")
nb.code(r"""
x = ag.tensor([1.0, -2.0, 0.5], name="x")
w = ag.tensor([0.3, 0.1, -0.4], requires_grad=True, name="w")
w0 = ag.tensor(0.2, requires_grad=True, name="w0")
with ag.viz.record_grads():
    z = x @ w + w0
    z.name = "z"
    a = z.sigmoid()
    a.name = "a"
    loss = (a - y) ** 2
    loss.name = "loss"
    loss.backward(retain_graph=True)
ag.viz.draw(loss)
""")
nb.md(r"""
`ag.viz.explain` prints the local derivative of the op that made a tensor and the vector-Jacobian
product backward applied, with the numbers of this example filled in; here the sigmoid's
$\sigma(z)(1-\sigma(z))$:
""")
nb.code(r"""
ag.viz.explain(a)
""")

# ---------------------------------------------------------------- 2. derivative as a slope
nb.md(r"""
## 2. A derivative is a slope, and a grid of them costs one backward pass

For a function applied element by element, $\frac{\partial}{\partial x_i}\sum_k g(x_k) = g'(x_i)$.
So summing the outputs and calling `backward` once gives the derivative at every grid point.
Below, $g(x) = \sin(x^2)$, whose derivative by the chain rule (MIT §7.5) is
$g'(x) = \cos(x^2)\cdot 2x$: outer derivative at the inner value, times inner derivative.
The dashed lines are tangents: at each marked point the slope is the engine's gradient.
""")
nb.code(r"""
grid = ag.tensor(np.linspace(-2.5, 2.5, 401), requires_grad=True)
g = (grid ** 2).sin()
g.sum().backward()
xg = grid.numpy()

fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
ax[0].plot(xg, g.numpy(), label=r"$g(x)=\sin(x^2)$")
for x_at in (-1.6, -0.6, 0.9, 1.9):
    i = np.argmin(np.abs(xg - x_at))
    slope = grid.grad.numpy()[i]
    span = np.linspace(xg[i] - 0.35, xg[i] + 0.35, 2)
    ax[0].plot(span, g.numpy()[i] + slope * (span - xg[i]), "--", color="C3")
    ax[0].plot(xg[i], g.numpy()[i], "o", color="C3")
ax[0].set_title("tangents with the engine's slope"); ax[0].legend(loc="lower center")
ax[1].plot(xg, grid.grad.numpy(), label="engine: grid.grad")
ax[1].plot(xg[::20], 2 * xg[::20] * np.cos(xg[::20] ** 2), "o", label=r"hand: $2x\cos(x^2)$")
ax[1].set_title("the derivative at 401 points from one backward pass"); ax[1].legend()
plt.tight_layout(); plt.show()

compare([("g'(x) on the grid", grid.grad, 2 * xg * np.cos(xg ** 2))], title="sin(x^2): engine vs. hand")
""")

# ---------------------------------------------------------------- 3. 1-D network
nb.md(r"""
## 3. The one-dimensional network of MIT §7.5.1

Now chain $L$ neurons, each with one input and one output. Layer $l$ computes
$z^l = w^l a^{l-1} + w_0^l$ and $a^l = f^l(z^l)$, starting from $a^0 = x$. We take $L = 3$,
$f^1 = f^2 = \tanh$, an identity output $f^3(z) = z$ and the squared loss $(a^3 - y)^2$.

Each weight reaches the loss through one path only, so its derivative is a single product of
local slopes. For the first layer it has seven factors:

$$
\frac{\partial\,\text{loss}}{\partial w^1}
= \underbrace{2(a^3-y)}_{\partial \text{loss}/\partial a^3}\;
  \underbrace{1}_{(f^3)'(z^3)}\;
  w^3\;
  \underbrace{(1-\tanh^2 z^2)}_{(f^2)'(z^2)}\;
  w^2\;
  \underbrace{(1-\tanh^2 z^1)}_{(f^1)'(z^1)}\;
  a^0 .
$$

The notes then reorganise this (eqs. 7.1-7.3): everything except the last factor is
$\partial\,\text{loss}/\partial z^l$, so $\partial\,\text{loss}/\partial w^l = a^{l-1}\,
\partial\,\text{loss}/\partial z^l$ (7.1), and $\partial\,\text{loss}/\partial z^l$ is obtained from
$\partial\,\text{loss}/\partial z^{l+1}$ by multiplying with one more weight and one more
activation slope. Working from the loss backwards, every factor is computed once and reused by all
the layers below; this reuse is what makes back-propagation cheap.
The offset is the same with the last factor replaced by $\partial z^l/\partial w_0^l = 1$.
""")
nb.code(r"""
x_in, y_t = 0.8, -0.5
params = {"w1": 1.5, "b1": -0.3, "w2": -2.0, "b2": 0.4, "w3": 1.2, "b3": 0.1}
acts = [np.tanh, np.tanh, lambda t: t]
slopes = [lambda t: 1 - np.tanh(t) ** 2, lambda t: 1 - np.tanh(t) ** 2, lambda t: 1.0]

# forward by hand: keep every z and a
a_h, z_h = [x_in], []
for l in range(3):
    z_h.append(params[f"w{l+1}"] * a_h[-1] + params[f"b{l+1}"])
    a_h.append(acts[l](z_h[-1]))
loss_h = (a_h[3] - y_t) ** 2

# backward by hand: dloss/dz^l = f'(z^l) * dloss/da^l;  dloss/da^{l-1} = w^l * dloss/dz^l
dz_h, dw_h, db_h = [0.0] * 3, [0.0] * 3, [0.0] * 3
dA = 2 * (a_h[3] - y_t)
for l in reversed(range(3)):
    dz_h[l] = slopes[l](z_h[l]) * dA
    dw_h[l] = a_h[l] * dz_h[l]            # eq. 7.1: a^{l-1} * dloss/dz^l
    db_h[l] = dz_h[l]
    dA = params[f"w{l+1}"] * dz_h[l]

# the seven-factor product for w1, written out
factors = [2 * (a_h[3] - y_t), 1.0, params["w3"], slopes[1](z_h[1]), params["w2"], slopes[0](z_h[0]), a_h[0]]
print("factors of dloss/dw1:", np.round(factors, 4), "  product =", np.prod(factors))
""")
nb.code(r"""
# the same network on the engine; retain_grad keeps dloss/dz^l of the inner nodes
P = {k: ag.tensor(v, requires_grad=True, name=k) for k, v in params.items()}
a_t, zs_t = ag.tensor(x_in, name="x"), []
for l, f in enumerate([ag.tanh, ag.tanh, lambda t: t]):
    z_t = P[f"w{l+1}"] * a_t + P[f"b{l+1}"]
    z_t.retain_grad()
    zs_t.append(z_t)
    a_t = f(z_t)
loss_t = (a_t - y_t) ** 2
loss_t.backward()

compare([("loss", loss_t, loss_h)]
        + [(f"dloss/dz{l+1}", zs_t[l].grad, dz_h[l]) for l in range(3)]
        + [(f"dloss/dw{l+1}", P[f"w{l+1}"].grad, dw_h[l]) for l in range(3)]
        + [(f"dloss/dw0_{l+1}", P[f"b{l+1}"].grad, db_h[l]) for l in range(3)]
        + [("7-factor product for w1", P["w1"].grad, np.prod(factors))],
        title="MIT §7.5.1 network: engine vs. eqs. 7.1-7.3 by hand")
""")
nb.md(r"""
A finite-difference check is independent of both: `ag.gradcheck` nudges every parameter by
$\pm\varepsilon$ and compares the slope $(f(p+\varepsilon)-f(p-\varepsilon))/2\varepsilon$ with the
engine's gradient. It returns `True` or raises, naming the parameter that disagrees.
""")
nb.code(r"""
def chain_loss(w1, b1, w2, b2, w3, b3):
    a1 = (w1 * x_in + b1).tanh()
    a2 = (w2 * a1 + b2).tanh()
    return (w3 * a2 + b3 - y_t) ** 2

print("gradcheck:", ag.gradcheck(chain_loss, [ag.tensor(v, requires_grad=True) for v in params.values()]))
""")
nb.md(r"""
The graph of this loss, with values and gradients, and with `formulas=True` every edge labelled by
the local derivative it stands for (the factors of the product above). The chain is a straight line:
every tensor has exactly one consumer, so no gradient is ever the sum of two contributions. That
changes next. (The output layer is the identity, so $z^3$ and $a^3$ are one and the same tensor,
labelled `a3`.)
""")
nb.code(r"""
with ag.viz.record_grads():
    P = {k: ag.tensor(v, requires_grad=True, name=k) for k, v in params.items()}
    a_t = ag.tensor(x_in, name="a0")
    for l, f in enumerate([ag.tanh, ag.tanh, lambda t: t]):
        z_t = P[f"w{l+1}"] * a_t + P[f"b{l+1}"]
        z_t.name = f"z{l+1}"
        a_t = f(z_t)
        a_t.name = f"a{l+1}"
    loss_t = (a_t - y_t) ** 2
    loss_t.name = "loss"
    loss_t.backward(retain_graph=True)
ag.viz.draw(loss_t, formulas=True)
""")

# ---------------------------------------------------------------- 4. fan-out
nb.md(r"""
## 4. Fan-out: a value used twice gets the sum of its gradients

When $y$ depends on $z$ through several intermediate values $x_1,\dots,x_Q$, the chain rule has one
term per intermediate value, and the terms add (Sayed (65.54)-(65.55); the KTH lecture says the same
when it sums over the "children" of a node). In a graph this is *fan-out*: a tensor that feeds two
operations receives one gradient from each, and its gradient is their sum.

The smallest example: $b = a + a$ and $c = b + b$. Each `+` passes its upstream gradient unchanged
to both inputs, so $b$ receives $1 + 1 = 2$ and $a$ receives $2 + 2 = 4$. In other words
$c = 4a$, and $dc/da = 4$: there are four paths from $a$ to $c$, each with slope 1.
""")
nb.code(r"""
a = ag.tensor(3.0, requires_grad=True, name="a")
b = a + a
b.retain_grad()
c = b + b
c.backward()
compare([("dc/db", b.grad, 2.0), ("dc/da", a.grad, 4.0)], title="b = a + a, c = b + b")
""")
nb.md(r"""
`ag.viz.backward_steps` replays the backward pass one node at a time, in the order the engine
visits them: the node being processed, the gradient arriving from above, what each input receives,
and at a fan-out the running sum. Watch $a$'s gradient grow from 2 to 4 in the last frame.
""")
nb.code(r"""
a = ag.tensor(3.0, requires_grad=True, name="a")
b = a + a
b.name = "b"
c = b + b
c.name = "c"
for frame in ag.viz.backward_steps(c):
    print(frame)
    display(frame)
""")
nb.md(r"""
The same graph in the explorer: step through forward and then backward with the buttons, the slider or
the arrow keys, and click any box for its value, gradient, local derivative and VJP with numbers. The
edges into $a$ show the two parts of its gradient and the running sum. (`.save("graph.html")` writes the
page to a file that any browser opens offline.)
""")
nb.code(r"""
ag.viz.explore(c)
""")
nb.md(r"""
The same thing inside a familiar rule: the product rule is fan-out. In $f(x) = x\sin x$ the input $x$
feeds both the multiplication and the sine. Cutting one path at a time with `detach()` (which turns
a tensor into a constant) measures each path's contribution separately:
- through the left factor only: $\sin x$,
- through the sine only: $x\cos x$,
- both together: $\sin x + x\cos x$, the product rule.

If the engine *overwrote* a gradient instead of adding, it would keep only the last path to arrive
and get the derivative wrong.
""")
nb.code(r"""
x0 = 1.3
x = ag.tensor(x0, requires_grad=True)
(g_left,) = ag.grad(x * x.detach().sin(), x)      # path 1: x -> mul
(g_right,) = ag.grad(x.detach() * x.sin(), x)     # path 2: x -> sin -> mul
(g_both,) = ag.grad(x * x.sin(), x)
compare([("path through the left factor", g_left, np.sin(x0)),
         ("path through sin", g_right, x0 * np.cos(x0)),
         ("both paths (engine)", g_both, np.sin(x0) + x0 * np.cos(x0)),
         ("sum of the two paths", g_left + g_right, g_both)], title="x·sin(x): gradients add at fan-out")
""")

# ---------------------------------------------------------------- 5. step by step
nb.md(r"""
## 5. The backward pass, step by step

For a real computation, here the neuron of section 1 (sigmoid and squared loss), `backward_steps`
shows the whole algorithm of the engine (see the docstring of `autograd/engine.py`):
start from the loss with gradient 1; take a node whose consumers have all reported; apply its local
derivative (its *vector-Jacobian product*) to the gradient arriving from above; hand the results to
its inputs, adding where an input already received something. Each frame below is one such step.
""")
nb.code(r"""
x = ag.tensor([1.0, -2.0, 0.5], name="x")
w = ag.tensor([0.3, 0.1, -0.4], requires_grad=True, name="w")
w0 = ag.tensor(0.2, requires_grad=True, name="w0")
xw = x @ w
xw.name = "x·w"
z = xw + w0
z.name = "z"
a = z.sigmoid()
a.name = "a"
err = a - y
err.name = "a - y"
loss = err ** 2
loss.name = "loss"
frames = list(ag.viz.backward_steps(loss))
for frame in frames:
    print(frame)
    display(frame)
""")
# ---------------------------------------------------------------- 6. exercises
nb.md(r"""
## 6. Your turn: write a backward, and let the engine grade it

Every op of the engine is a *primitive*: a forward function on numpy arrays, plus one
vector-Jacobian product (VJP) per input. The VJP receives `g`, the gradient of the loss with respect
to the op's output (the "gradient arriving from above" of section 5), the output `ans` and the
inputs, and returns the gradient with respect to its input. For an op applied element by element,
that is `g` times the local slope:

```python
@ag.primitive
def cube(x):                                   # forward: numpy in, numpy out
    return x ** 3

cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)  # d/dx x^3 = 3x^2, times the upstream g
```

Inside a VJP use only operators (`+ - * / **`), `.sum(axis=...)`, `.T`, `.reshape` and `ag`
functions, so that the same code also runs when the engine differentiates it again.

`ag.check_vjp(op, example_inputs...)` grades the VJP the way a teacher would: at the example and at
random points of the same sign and range, with a random upstream gradient, in float64 and float32,
at the edge points you name, against central differences of the forward (notebook 3 explains how
those are computed and judged). It prints one verdict line, `correct` or what is wrong, and when
the numbers show a common mistake (sign, a constant factor, the input used where the output was
needed, the upstream `g` forgotten) it names it.

The cells below come with a reference solution between `# SOLUTION` and `# END SOLUTION`, so
that this notebook runs as it is. `notebooks/build/student.py` writes the student version, where
each such block is replaced by `raise NotImplementedError`; until it is filled in, the grading cell
reports the VJP as wrong.

**Exercise 1.** Write the VJP of the sigmoid of section 1. Use its own output, $\sigma'(z) = \sigma(z)(1-\sigma(z))$
(Sayed (65.6)).
""")
nb.code(r"""
# EXERCISE 1: the VJP of the sigmoid.  g = dL/d(ans); return dL/dx, same shape as x.
@ag.primitive
def my_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def my_sigmoid_vjp(g, ans, x):
    # SOLUTION
    return g * ans * (1 - ans)
    # END SOLUTION


my_sigmoid.defvjp(my_sigmoid_vjp);      # the ";" hides the primitive that defvjp returns
""")
nb.code(r"""
ag.check_vjp(my_sigmoid, np.array([-3.0, -0.5, 0.2, 1.0, 4.0]), edges=[0.0])
""")
nb.md(r"""
**Exercise 2.** The tanh of section 3: $\tanh'(z) = 1 - \tanh^2(z)$. Write it with the output `ans`,
which the forward has already computed, rather than computing `tanh` again.
""")
nb.code(r"""
# EXERCISE 2: the VJP of tanh.
@ag.primitive
def my_tanh(x):
    return np.tanh(x)


def my_tanh_vjp(g, ans, x):
    # SOLUTION
    return g * (1 - ans ** 2)
    # END SOLUTION


my_tanh.defvjp(my_tanh_vjp);
""")
nb.code(r"""
ag.check_vjp(my_tanh, np.array([-2.0, -0.3, 0.4, 1.5]), edges=[0.0], second_order=True)
""")
nb.md(r"""
`second_order=True` also differentiates your VJP once more (`create_graph=True`, as
`ag.functional.hessian` does) and compares with central differences of the gradient: written with
operators on `ans`, the VJP is itself differentiable, and the second derivative
$-2\tanh(z)(1-\tanh^2 z)$ comes for free.

What a wrong answer looks like: three classic slips in the tanh VJP, each graded. Using the input
where the formula needs the output (`1 - x**2`), forgetting the upstream gradient, and a sign error.
Each verdict names the mistake because the numbers show it: the wrong VJP, evaluated with `x`
replaced by `ans`, gives the right gradient; the wrong result equals the gradient for $g = 1$; it
equals minus the right one.
""")
nb.code(r"""
slips = {"1 - x**2": lambda g, ans, x: g * (1 - x ** 2),
         "forgot g": lambda g, ans, x: 1 - ans ** 2,
         "sign": lambda g, ans, x: g * (ans ** 2 - 1)}
for label, vjp in slips.items():
    wrong_tanh = ag.primitive(np.tanh, name=f"tanh, {label}").defvjp(vjp)
    print(str(ag.check_vjp(wrong_tanh, np.array([-2.0, -0.3, 0.4, 1.5]))).splitlines()[0])
""")

nb.md(r"""
## Summary

- A gradient is a product of local slopes along a path (MIT eqs. 7.1-7.3); back-propagation computes
  the shared part of these products once, from the loss backwards.
- Where a value feeds several operations, the contributions of all paths **add** (Sayed (65.55)).
- The engine reproduced every hand-derived number to rounding error (the tables above), and an
  independent finite-difference check agrees.

Nothing here depends on size. A longer one-dimensional chain multiplies more slopes $(f^l)'$ and
weights $w^l$ together; when these are mostly below one the product shrinks geometrically with depth,
which is the vanishing-gradient problem of notebook 5.
""")

if __name__ == "__main__":
    main(nb, "01_chain_rule.ipynb")
