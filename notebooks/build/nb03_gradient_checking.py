"""Builds notebooks/03_gradient_checking.ipynb (run: .venv/bin/python notebooks/build/nb03_gradient_checking.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()
nb.md(r"""
# 3. Gradient checking: how to trust a backward pass

Notebooks 0, 1 and 2 asked you to write VJPs and let `ag.check_vjp` grade them against finite
differences (notebook 7 will again). A finite difference is itself a computation with errors, so a grader needs answers to
four questions, and this notebook works each one out with numbers:

1. **How to measure the error**: relative to what, and why not element by element.
2. **Which step $h$**: too large and the slope is a secant, too small and rounding eats it; the
   best $h$ differs between float64 and float32.
3. **What to do at kinks** (ReLU at 0, a max with ties), where the derivative does not exist, and
   what one element at a time cannot see at a kink of several variables.
4. **Which tolerance in float32 and in float64.**

**Reading.** cs231n's notes on gradient checking (relative error, kinks, "use double precision")
and its `gradient_check.py`; the MIT notes ch. 7 (derivatives as the thing back-propagation
computes); Sayed ch. 65 (the derivatives of Table 65.1 used below).
""")
nb.code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
from chaingrad import autograd as ag

ag.manual_seed(0)
rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=False)
""" + COMPARE)

# ---------------------------------------------------------------- 1. relative error
nb.md(r"""
## 1. Relative error, and relative to what

A gradient check compares the analytic gradient $a$ (the engine's, or your VJP's) with a numeric one
$n$. An absolute error $|a - n| = 10^{-6}$ says nothing by itself: for a gradient of size $10^{4}$ it is
rounding, for a gradient of size $10^{-5}$ it is a 10% error. So the error must be divided by the size
of the gradient. Below, the same function at two scales, $f_c(x) = c\sum\tanh(x)$: the absolute errors
differ by $10^{8}$, the relative errors are the same.
""")
nb.code(r"""
def central(f, x, h=1e-6):
    # the numeric gradient of a scalar f by central differences, one coordinate at a time
    grad = np.zeros_like(x)
    for j in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[j] = h
        grad[j] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


x0 = rng.normal(size=6)
for c in (1e-4, 1e4):
    analytic = c * (1 - np.tanh(x0) ** 2)
    numeric = central(lambda x: c * np.tanh(x).sum(), x0)
    err = np.abs(analytic - numeric).max()
    print(f"c = {c:g}:  max |a - n| = {err:.1e}   max |a - n| / max |n| = {err / np.abs(numeric).max():.1e}")
""")
nb.md(r"""
Relative to *what*, though? cs231n divides element by element, $|a_j - n_j| / \max(|a_j|, |n_j|)$.
That fails when an entry of the gradient is (nearly) zero: both sides are then pure rounding, and
their ratio can be anything. The sigmoid's gradient at $x = 30$ is $9\cdot10^{-14}$; the numeric
derivative there is rounding noise of order $\epsilon/h \approx 10^{-10}$.

The notebooks' tables and `ag.check_vjp` use the *norm-wise* relative error
$$\text{rel} = \frac{\max_j |a_j - n_j|}{\max_j |n_j|},$$
the error on the scale of the whole gradient: an entry that is $10^{-10}$ next to entries of size
$0.2$ is right, whatever its own ratio.
""")
nb.code(r"""
x1 = np.array([-1.0, 0.5, 2.0, 30.0])
s = 1 / (1 + np.exp(-x1))
analytic = s * (1 - s)
numeric = central(lambda x: (1 / (1 + np.exp(-x))).sum(), x1)
elementwise = np.abs(analytic - numeric) / np.maximum(np.abs(analytic), np.abs(numeric))
print("analytic      ", analytic)
print("numeric       ", numeric)
print("element-wise relative error", elementwise)
print(f"norm-wise relative error    {np.abs(analytic - numeric).max() / np.abs(numeric).max():.1e}")
""")

# ---------------------------------------------------------------- 2. the step h
nb.md(r"""
## 2. The step $h$

Two errors pull in opposite directions. **Truncation**: by Taylor's theorem the forward difference
$(f(x+h) - f(x))/h$ is off by about $\frac h2|f''|$, the central difference $(f(x+h) - f(x-h))/2h$ only by
$\frac{h^2}{6}|f'''|$ (the $f''$ terms cancel). **Rounding**: $f$ is computed with a relative error of
about the machine epsilon $\varepsilon$ ($2.2\cdot10^{-16}$ in float64, $1.2\cdot10^{-7}$ in float32), and
dividing the difference of two such values by $h$ amplifies it to about $\varepsilon|f|/h$.

Minimising the sum gives the best step: for the central difference $h^\ast \approx \varepsilon^{1/3}$
(about $6\cdot10^{-6}$ in float64, $5\cdot10^{-3}$ in float32) with an error of about $\varepsilon^{2/3}$; for
the forward difference $h^\ast\approx\varepsilon^{1/2}$ with error $\varepsilon^{1/2}$. Measured for
$f = \tanh$ at 50 random points, where $f'(x) = 1 - \tanh^2 x$ exactly (the median of the relative
errors, for each $h$):
""")
nb.code(r"""
hs = np.logspace(-14, 0, 57)
x_at = rng.uniform(-1.5, 1.5, 50)              # 50 points: one point alone gives a noisy curve
exact = 1 - np.tanh(x_at) ** 2


def fd_errors(dtype, kind):
    # the median over the 50 points of |numeric - exact| / |exact|, for every h
    errs = []
    for h in hs:
        x, hh = x_at.astype(dtype), dtype(h)
        up, down = np.tanh(x + hh), (np.tanh(x - hh) if kind == "central" else np.tanh(x))
        step = ((x + hh) - (x - hh) if kind == "central" else (x + hh) - x).astype(np.float64)  # as taken
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.abs((up - down).astype(np.float64) / step - exact) / exact
        errs.append(np.median(np.where(step == 0, np.inf, err)))
    return np.array(errs)


fig, ax = plt.subplots(figsize=(8, 4.2))
best = {}
for dtype, color in ((np.float64, "C0"), (np.float32, "C3")):
    for kind, style in (("central", "-"), ("forward", "--")):
        e = fd_errors(dtype, kind)
        ax.loglog(hs, e, style, color=color, label=f"{kind}, {dtype.__name__}")
        i = np.nanargmin(e)
        best[(dtype.__name__, kind)] = (hs[i], e[i])
for eps, color in ((np.finfo(np.float64).eps, "C0"), (np.finfo(np.float32).eps, "C3")):
    ax.axvline(eps ** (1 / 3), color=color, lw=0.8, alpha=0.6)
ax.set(xlabel="step h", ylabel="median relative error", ylim=(1e-13, 1),
       title="tanh' at 50 points: error against h (vertical lines: eps^(1/3))")
ax.legend(fontsize=8)
plt.tight_layout(); plt.show()
for (dt, kind), (h, e) in best.items():
    print(f"{dt:8} {kind:8} best h = {h:.0e}, median relative error {e:.1e}")
""")
nb.md(r"""
Each curve is a V: to the right of its minimum the slope is $h^2$ (central) or $h$ (forward), the
truncation error; to the left it is $1/h$, rounding. Consequences for a grader:

- **Compute the numeric gradient in float64, with the central difference.** Its error near
  $h = 10^{-6}$ is about $10^{-11}$ relative, far below any mistake worth finding. A float32 numeric
  gradient is accurate only to a few $10^{-6}$ at its best $h$, and to about $10^{-2}$ at float64's
  $h = 10^{-6}$: no reference at all. `check_vjp` evaluates the forward in float64 with $h = 10^{-6}$ even when it
  checks a float32 VJP.
- $h$ must be small relative to the *curvature scale* of $f$; `check_vjp` draws random points at the
  scale of the examples you give it, so give examples of the size the op is used at.
""")

# ---------------------------------------------------------------- 3. kinks
nb.md(r"""
## 3. Kinks: ReLU at 0, max with ties

At $x = 0$ ReLU has no derivative: the slope is 0 on the left and 1 on the right. Any value in
$[0, 1]$ is a *subgradient*, and an engine has to pick one (ours, like PyTorch, picks 0). The central
difference straddles the kink and returns the average, $0.5$: comparing it with 0 would fail a
correct VJP.

Worse, a kink does not need to be *at* the point: at $x = 10^{-7}$ with $h = 10^{-6}$ the central
difference still straddles it and returns $0.55$, while the true derivative is 1. cs231n's advice is
to watch for this; a grader can do better. The one-sided slopes $(f(x+h) - f(x))/h$ and
$(f(x) - f(x-h))/h$ cost no extra evaluation (they reuse $f(x\pm h)$ and one $f(x)$), and
**every correct answer lies between them**: the derivative at a smooth point, any subgradient at a
kink of one variable, and the true slope near one. `check_vjp` accepts a value when it is within
tolerance of that interval. At smooth points the interval has width $h|f''|$, so this is the ordinary
test there. (At a kink of *several* variables the interval is not enough: see the end of this section.)
""")
nb.code(r"""
def slopes(f, x, h=1e-6):
    left, right = (f(x) - f(x - h)) / h, (f(x + h) - f(x)) / h
    return (f(x + h) - f(x - h)) / (2 * h), min(left, right), max(left, right)


relu = lambda t: max(t, 0.0)
for at in (0.0, 1e-7, -1e-7, 0.3):
    x = ag.tensor(at, requires_grad=True)
    (eng,) = ag.grad(ag.relu(x), x)
    c, lo, hi = slopes(relu, at)
    print(f"x = {at:8.0e}: engine {eng.item():.2f}   central {c:.2f}   one-sided interval [{lo:.2f}, {hi:.2f}]")
""")
nb.md(r"""
A max with ties is a kink in several variables at once. `ag.maximum(a, b)` at $a = b$ splits the
gradient evenly, $\frac12$ each (the API's rule for ties); the one-sided slopes are 0 and 1 for each
argument. Name such points with `edges=`; the grader then tries them in both precisions. A VJP that
gives 2 at ReLU's kink (outside $[0, 1]$) fails exactly there:
""")
nb.code(r"""
x_ex = np.array([-1.5, -0.2, 0.4, 2.0])
print(ag.check_vjp(ag.relu, x_ex, edges=[0.0]))
print(ag.check_vjp(ag.maximum, x_ex, x_ex[::-1], edges=[(x_ex, x_ex)]))

bad_relu = ag.primitive(lambda x: np.maximum(x, 0), name="relu, slope 2 at 0").defvjp(
    lambda g, ans, x: g * ((x > 0) + 2.0 * (x == 0)))
print(ag.check_vjp(bad_relu, x_ex, edges=[0.0]))
""")
nb.md(r"""
**A kink of several variables.** Element by element, the interval accepts more than subgradients.
Take the max of the row $(3, 3)$ with $g = 1$: moving either element alone up raises the max at
slope 1, moving it down leaves the max alone, so each element's interval is $[0, 1]$. The answer
$(1, 1)$, "the full $g$ to every tied element", passes both intervals, yet it is no subgradient:
moving *both* elements up raises the max at slope 1, not $1 + 1 = 2$. A subgradient $s$ of the max
satisfies $s \cdot d$ = the slope along $d$ when every tied element moves together, so its entries
over the tie sum to $g$: $(\frac12, \frac12)$ and $(1, 0)$ are right, $(1, 1)$ is not.

So `check_vjp` does a second, directional check wherever elements have two different one-sided
slopes: it finds which of them are tied (moving two together changes the output at a slope other
than the sum of their own slopes: a max's tied elements do, a ReLU's kinks do not), moves each tie
together, and requires the gradient's sum over the tie to lie between the two slopes along it.
""")
nb.code(r"""
def phi(x):                                   # sum(g * row_max(x)) with g = 1
    return x.max(axis=1).sum()


ties = np.array([[1.0, 3.0, 3.0], [2.0, 0.5, -1.0]])
h = 1e-6
for j in [(0, 1), (0, 2)]:
    e = np.zeros_like(ties)
    e[j] = h
    print(f"x{list(j)} alone: slopes {(phi(ties) - phi(ties - e)) / h:.2f} (down) and "
          f"{(phi(ties + e) - phi(ties)) / h:.2f} (up)")
both = np.zeros_like(ties)
both[0, 1:] = h
print(f"x[0, 1] and x[0, 2] together: slopes {(phi(ties) - phi(ties - both)) / h:.2f} and "
      f"{(phi(ties + both) - phi(ties)) / h:.2f}\n")


@ag.primitive
def row_max(x):
    return x.max(axis=1)


def full_g_to_each_tie(g, ans, x):
    return g[:, None] * (x == ans[:, None])              # (1, 1) on the tie: no subgradient


def ties_share_g(g, ans, x):
    tied = x == ans[:, None]
    return g[:, None] * tied / tied.sum(axis=1, keepdims=True)


for vjp in (full_g_to_each_tie, ties_share_g):
    row_max.defvjp(vjp)
    print(vjp.__name__, "->", ag.check_vjp(row_max, ties, edges=[0.0]), "\n")
""")

# ---------------------------------------------------------------- 4. float32 vs float64
nb.md(r"""
## 4. Tolerances in float64 and float32

What error does a *correct* VJP show? In float64 it is the numeric reference's error, about $10^{-11}$
to $10^{-9}$ relative (section 2). In float32 it is the VJP's own rounding: every operation adds a relative error
up to $6\cdot10^{-8}$, and they accumulate and get amplified by cancellation (batch norm's
$Kg - \sum g - \dots$; notebook 7 derives it, here it is only a test case). Measured for a few correct VJPs, at 200 random points each:
""")
nb.code(r"""
def rel_error(op, xs, dtype):
    # norm-wise relative error of the engine's VJP in dtype against float64 central differences
    ts = [ag.tensor(x.astype(dtype), requires_grad=True) for x in xs]
    g = rng.standard_normal(op(*ts).shape)
    grads = ag.grad(op(*ts), ts, grad_outputs=ag.tensor(g.astype(dtype)))
    exact = [x.astype(dtype).astype(np.float64) for x in xs]
    worst = 0.0
    for i, gi in enumerate(grads):
        def f(v):
            args = [ag.tensor(v if k == i else e) for k, e in enumerate(exact)]
            return float((op(*args).numpy() * g).sum())
        n = central(f, exact[i])
        worst = max(worst, np.abs(gi.numpy() - n).max() / np.abs(n).max())
    return worst


def batchnorm(Z):
    D = Z - Z.mean(axis=0)
    return D / (D.var(axis=0) + 1e-5) ** 0.5


cases = {"tanh": (ag.tanh, [(8,)]), "sigmoid": (ag.sigmoid, [(8,)]), "matmul": (ag.matmul, [(4, 3), (3, 2)]),
         "log_softmax": (lambda z: z.log_softmax(axis=1), [(4, 5)]), "batch norm": (batchnorm, [(6, 3)])}
errors = {}
for name, (op, shapes) in cases.items():
    for dtype in (np.float64, np.float32):
        errors[(name, dtype.__name__)] = [rel_error(op, [rng.normal(0, 2, s) for s in shapes], dtype)
                                          for _ in range(200)]
fig, ax = plt.subplots(figsize=(8, 3.6))
for k, (name, _) in enumerate(cases.items()):
    for dtype, color in (("float64", "C0"), ("float32", "C3")):
        e = np.array(errors[(name, dtype)])
        ax.scatter(np.full(len(e), k) + (0.15 if dtype == "float32" else -0.15) + rng.uniform(-0.05, 0.05, len(e)),
                   np.maximum(e, 1e-17), s=4, color=color, label=dtype if k == 0 else None)
ax.axhline(1e-5, color="C0", ls="--", lw=1, label="check_vjp's float64 tolerance")
ax.axhline(2e-3, color="C3", ls="--", lw=1, label="check_vjp's float32 tolerance")
ax.set(yscale="log", xticks=range(len(cases)), xticklabels=list(cases), ylabel="relative error",
       title="correct VJPs: relative error against float64 central differences")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.tight_layout(); plt.show()
for name in cases:
    print(f"{name:12} largest relative error: float64 {max(errors[(name, 'float64')]):.1e}, "
          f"float32 {max(errors[(name, 'float32')]):.1e}")
""")
nb.md(r"""
The float64 errors lie between $10^{-11}$ and $10^{-8}$ (the numeric reference's own error) and the
float32 ones between $10^{-8}$ and $10^{-6}$ (the VJP's rounding). The grader's tolerances sit more
than three orders of magnitude above what correct VJPs show and stay far below what a mistake does: a sign, a factor, a transposition or a missing term changes the
gradient by a relative amount of order 1.

Why check float32 at all, if the formula is the same? Because a VJP can be right as mathematics and
still fail in single precision. The classic: a softmax computed as `exp(Z) / exp(Z).sum()` without
subtracting the maximum. In float64, `exp` overflows only above 709; in float32 above 88. With logits
around 90 the float64 check passes and the float32 check finds inf/inf = NaN:
""")
nb.code(r"""
@ag.primitive
def ce_loss(Z, y=None):
    Zs = Z - Z.max(axis=1, keepdims=True)
    return -(Zs - np.log(np.exp(Zs).sum(axis=1, keepdims=True)))[np.arange(len(y)), y].mean()


def unshifted_vjp(g, ans, Z, y=None):
    E = ag.exp(Z)                                  # no shift: overflows in float32 for Z > 88
    return g * (E / E.sum(axis=1, keepdims=True) - np.eye(Z.shape[1])[y]) / Z.shape[0]


ce_loss.defvjp(unshifted_vjp)
big_logits = np.array([[90.0, 85.0, 91.0], [80.0, 92.0, 89.0]])
with np.errstate(over="ignore", invalid="ignore"):
    print(ag.check_vjp(ce_loss, big_logits, kwargs={"y": np.array([2, 1])}))
""")

# ---------------------------------------------------------------- summary
nb.md(r"""
## Summary: what `ag.check_vjp` does, and why

| choice | why |
|:--|:--|
| numeric reference: central differences of the forward in float64, $h = 10^{-6}$ | error $\approx 10^{-10}$ (section 2); float32 differences are no reference |
| error measured norm-wise, $\max_j\lvert a_j - n_j\rvert / \max_j\lvert n_j\rvert$ | scale-free, and near-zero entries do not produce false alarms (section 1) |
| accepted: within tolerance of the interval of the one-sided slopes | every subgradient passes at a kink, and the true slope near one (section 3) |
| at a tie, the sum over the tied elements against the slope along the tie | the interval alone accepts the full $g$ for every tied element (section 3) |
| tolerance $10^{-5}$ in float64, $2\cdot10^{-3}$ in float32 | three orders above correct VJPs, far below mistakes (section 4) |
| random points at the examples' sign and scale, random non-uniform upstream $g$ | with $g = 1$ a VJP that forgets $g$ looks right |
| float32 as well as float64 | overflow and cancellation show only in single precision |
| broadcast shapes for inputs the op uses element by element | the bias of `X @ W.T + b`: the engine sums the gradient over the broadcast axes |
| `second_order=True`: the VJP differentiated again (`create_graph`) | a VJP written with engine ops gives higher derivatives for free; check that it does |

And when the comparison fails, the grader tries the common mistakes one by one and names one only
when it reproduces the VJP's result: on the numbers (sign, a constant factor, a transposition, the
right gradient shifted by one place, a forgotten upstream $g$), and by running your VJP again on
changed arguments (a square factor transposed, its sums over another axis, $g$ with a new axis,
integer labels plus or minus one, input and output exchanged). With `strict=True` (notebook 0's
exercise) a VJP must also sum over the broadcast axes itself: "not summed over axis 0".
""")

if __name__ == "__main__":
    main(nb, "03_gradient_checking.ipynb")
