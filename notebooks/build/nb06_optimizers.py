"""Builds notebooks/06_optimizers.ipynb (run: .venv/bin/python notebooks/build/nb06_optimizers.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()

nb.md(r"""
# 6. Optimizers: from running averages to Adam

Gradient descent needs one number from us, the step size $\eta$, and that number is hard to choose:
too small and nothing happens, too large and the iterates bounce or blow up. The MIT notes
(6.036, ch. 7, section 7.7.2) add a second worry: in a deep network the gradients of different
layers can differ by orders of magnitude (the product of Jacobians in Eq. 7.6), so one step size
for all weights is a poor compromise. Their answer is to give every weight its own, self-tuning
step, and the tool for that is the *running average*.

This notebook follows the notes' order:

1. running averages and why they need a bias correction (section 7.7.2.1);
2. a 2-D valley that is steep in one direction and flat in the other, and every optimizer in `optim`
   checked on it against its update rule written out by hand;
3. the trajectories on that valley of plain gradient descent, momentum (7.7.2.2), the notes'
   "adadelta" (7.7.2.3, which is the method usually called RMSprop), Zeiler's Adadelta, and Adam
   (7.7.2.4; also Sayed, ch. 65, Example 65.3, Eqs. 65.95-65.98), each at its best step size;
4. what the bias correction does to Adam's first steps;
5. the same optimizers training a small network, as loss curves;
6. one example, a mini-batch or the whole batch per step (section 7.7.1), per pass and per second.
7. exercises: SGD with momentum, RMSprop and Adam written by you, graded step by step against `optim`.

Everything runs on our engine: the loss is an `ag.Tensor` expression, `backward()` fills `.grad`,
and an `optim` object moves the parameters.
""")

nb.code(r"""
import time
import numpy as np
import matplotlib.pyplot as plt

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad import optim

T0 = time.perf_counter()
plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})
""" + COMPARE)

nb.md(r"""
## 1. Running averages

Given a sequence $a_1, a_2, \dots$ the notes define $A_0 = 0$ and
$A_t = \gamma_t A_{t-1} + (1-\gamma_t)\,a_t$ (section 7.7.2.1). With a constant $\gamma$, unrolling the
recursion gives $A_T = \sum_{t=1}^{T} \gamma^{T-t}(1-\gamma)\,a_t$: recent terms weigh most, and the
weights decay geometrically into the past, so $A_T$ "remembers" roughly the last $1/(1-\gamma)$ terms.
With $\gamma_t = (t-1)/t$ instead, the same recursion produces the ordinary mean of $a_1..a_T$.

**The bias.** The weights $\gamma^{T-t}(1-\gamma)$ add up to $1-\gamma^T$, not to 1, because the missing
mass $\gamma^T$ sits on the fake starting value $A_0 = 0$. Early on, when $\gamma^T$ is still large,
$A_T$ is pulled towards zero. Dividing by $1-\gamma^T$ restores weights that sum to one; this is exactly
the correction Adam applies (notes, 7.7.2.4; Sayed, Eq. 65.98 folds it into the step size).
For a constant sequence $a_t = c$ the uncorrected average is $c(1-\gamma^T)$ and the corrected one
is exactly $c$.

Below, the recursion is compared with the unrolled sum, the $\gamma_t=(t-1)/t$ average with the
arithmetic mean, and the corrected average of a constant sequence with the constant.
""")

nb.code(r"""
rng = np.random.default_rng(0)
T = 200
t = np.arange(1, T + 1)
a = 2.0 + np.sin(t / 15) + 0.8 * rng.standard_normal(T)   # a slowly moving signal plus noise


def running_average(a, gamma):
    '''A_t = gamma_t A_{t-1} + (1 - gamma_t) a_t with A_0 = 0; gamma may be a number or a function of t.'''
    A, out = 0.0, []
    for step, x in enumerate(a, start=1):
        g = gamma(step) if callable(gamma) else gamma
        A = g * A + (1 - g) * x
        out.append(A)
    return np.array(out)


gamma = 0.9
rec = running_average(a, gamma)
unrolled = np.array([np.sum(gamma ** (T_ - t[:T_]) * (1 - gamma) * a[:T_]) for T_ in t])
true_mean = running_average(a, lambda s: (s - 1) / s)
const = running_average(np.full(T, 3.0), 0.99)
compare([
    ("recursion vs unrolled sum, gamma = 0.9", rec, unrolled),
    ("gamma_t = (t-1)/t vs cumulative mean", true_mean, np.cumsum(a) / t),
    ("constant 3, gamma = 0.99: A_t vs 3(1 - 0.99^t)", const, 3 * (1 - 0.99 ** t)),
    ("constant 3, bias-corrected A_t / (1 - 0.99^t) vs 3", const / (1 - 0.99 ** t), np.full(T, 3.0)),
], title="No engine yet: numpy against numpy, the recursion (first column) against the closed form "
         "of each row (second column)")
""")

nb.code(r"""
fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
ax[0].plot(t, a, ".", ms=3, color="0.6", label="data $a_t$")
for g, c in [(0.5, "C0"), (0.9, "C1"), (0.99, "C3")]:
    ax[0].plot(t, running_average(a, g), color=c, label=rf"$\gamma={g}$")
ax[0].plot(t, running_average(a, 0.99) / (1 - 0.99 ** t), "--", color="C3", label=r"$\gamma=0.99$, corrected")
ax[0].set(xlabel="t", title="running averages of a noisy signal")
ax[0].legend(fontsize=8, ncol=2)
for g, c in [(0.9, "C1"), (0.99, "C3"), (0.999, "C4")]:
    ax[1].plot(t, 1 - g ** t, color=c, label=rf"$1-\gamma^t$, $\gamma={g}$")
ax[1].set(xlabel="t", ylim=(0, 1.05), title="total weight on real data (the bias)")
ax[1].legend(fontsize=8)
plt.tight_layout()
""")

nb.md(r"""
Small $\gamma$ follows the data closely but keeps its noise; $\gamma = 0.99$ is smooth but lags and,
without correction, starts far too low (red solid line). The right panel is the whole story of the bias:
with $\gamma = 0.999$, the value Adam uses for squared gradients, the raw average still carries only
about 18% of its proper weight after 200 steps.

## 2. A valley that is steep one way and flat the other

Our test surface is the quadratic
$$f(w) = \tfrac12\, w^\top A\, w, \qquad A = \mathrm{diag}(1, 50),$$
so $\nabla f(w) = A w$ and the Hessian is $A$. The condition number is $\kappa = 50$: one direction is
fifty times more curved than the other. First, the engine's gradient and Hessian against these hand formulas.
""")

nb.code(r"""
A = np.diag([1.0, 50.0])


def f(w):
    '''f(w) = 1/2 w^T A w, written with engine ops so it works on Tensors.'''
    return 0.5 * (w * (ag.tensor(A) @ w)).sum()


w = ag.tensor([-4.5, 2.0], requires_grad=True, name="w")
loss = f(w)
loss.backward()
H = ag.functional.hessian(f, ag.tensor([-4.5, 2.0]))
compare([
    ("f(w) at w = (-4.5, 2)", loss, 0.5 * (20.25 + 50 * 4.0)),
    ("gradient, hand: A w", w.grad, A @ np.array([-4.5, 2.0])),
    ("Hessian, hand: A", H, A),
])
""")

nb.md(r"""
The engine records the loss as a small graph; after `backward()` every node carries its gradient.
The optimizer only ever sees the leaf `w` and its `.grad`.
""")

nb.code(r"""
ag.viz.draw(loss)
""")

nb.md(r"""
### Plain gradient descent has a closed form here

With $w_t = w_{t-1} - \eta A w_{t-1} = (I - \eta A)\,w_{t-1}$, each coordinate shrinks by its own factor:
$w_{t,i} = (1-\eta\lambda_i)^t\, w_{0,i}$. Stability needs $|1-\eta\lambda_i| < 1$ for the steep direction,
i.e. $\eta < 2/50 = 0.04$; the flat direction then shrinks by a factor of at least $1 - 0.04 = 0.96$ per
step, no faster. That is the trouble with ill-conditioning: the steep direction caps the step, the flat
direction pays for it.

For momentum the notes' rule (7.7.2.2) is $V_t = \gamma V_{t-1} + \eta\nabla f(W_{t-1})$,
$W_t = W_{t-1} - V_t$. Our `optim.SGD(momentum=...)` follows PyTorch, $b_t = \mu b_{t-1} + g_t$,
$w_t = w_{t-1} - \eta\, b_t$; with $V_t = \eta b_t$ the two are the same rule. On the quadratic each
coordinate follows a linear recursion in the pair $(w_t, V_t)$:
$$\begin{pmatrix} w_t \\ V_t\end{pmatrix} =
\begin{pmatrix} 1-\eta\lambda_i & -\gamma \\ \eta\lambda_i & \gamma \end{pmatrix}
\begin{pmatrix} w_{t-1} \\ V_{t-1}\end{pmatrix},$$
so the trajectory is a matrix power. Both closed forms against `optim.SGD`:
""")

nb.code(r"""
def run(make_opt, steps, f=f, w0=(-4.5, 2.0)):
    '''Minimise f from w0 with an optim optimizer; return the path (steps+1, 2) and the losses.'''
    w = ag.tensor(list(w0), requires_grad=True)
    opt = make_opt([w])
    path, losses = [w.numpy().copy()], [f(w).item()]
    for _ in range(steps):
        opt.zero_grad()
        loss = f(w)
        loss.backward()
        opt.step()
        path.append(w.numpy().copy())
        losses.append(f(w).item())
    return np.array(path), np.array(losses)


steps, lam, w0 = 40, np.diag(A), np.array([-4.5, 2.0])
eta = 0.035
gd_path, _ = run(lambda p: optim.SGD(p, lr=eta), steps)
gd_hand = (1 - eta * lam) ** np.arange(steps + 1)[:, None] * w0

eta_m, gam = 0.01, 0.9
mom_path, _ = run(lambda p: optim.SGD(p, lr=eta_m, momentum=gam), steps)
mom_hand = np.empty((steps + 1, 2))
for i in range(2):
    M = np.array([[1 - eta_m * lam[i], -gam], [eta_m * lam[i], gam]])
    mom_hand[:, i] = [(np.linalg.matrix_power(M, k) @ [w0[i], 0.0])[0] for k in range(steps + 1)]
compare([
    ("gradient descent, w_40 (first coordinate)", gd_path[-1, 0], gd_hand[-1, 0]),
    ("gradient descent, whole path vs (1 - eta lambda)^t w_0", gd_path, gd_hand),
    ("momentum, whole path vs matrix power", mom_path, mom_hand),
])
""")

nb.md(r"""
### Every optimizer against its update rule written by hand

Now the adaptive methods. The hand versions below are the formulas of the texts in numpy, with one
convention fixed: the notes put $\epsilon$ inside the square root ($\eta/\sqrt{G+\epsilon}$), while
`optim` (like PyTorch) adds it after the root ($\eta/(\sqrt{G}+\epsilon)$). The two agree closely only while
$\sqrt G \gg \sqrt\epsilon$: with $\epsilon = 10^{-8}$ and gradients of size $10^{-2}$ the steps differ by
0.005%, but at $|g| \approx \sqrt\epsilon = 10^{-4}$ by a factor $\sqrt2$, and below that the notes' step
shrinks in proportion to $|g|$ while the library's stays near $\eta$ (measured after the table). We write
the hand rules the library's way so that the comparison can be exact.

* **RMSprop, the notes' "adadelta"** (7.7.2.3): $G_t = \gamma G_{t-1} + (1-\gamma)g_t^2$,
  $w_t = w_{t-1} - \eta\, g_t/(\sqrt{G_t}+\epsilon)$. Each weight's step is divided by the recent size of its
  own gradient, so steep and flat coordinates move at similar speeds. (`optim.RMSprop`, with `alpha` $=\gamma$.)
* **Adadelta** (Zeiler, 2012; not in the course texts, and the method the notes' name really belongs
  to): it also keeps $D_t$, a running average of the squared *updates*, and steps by
  $\Delta_t = \sqrt{D_{t-1}+\epsilon}\,/\sqrt{G_t+\epsilon}\; g_t$, then $D_t = \rho D_{t-1} + (1-\rho)\Delta_t^2$,
  $w_t = w_{t-1} - \eta\Delta_t$. The ratio has the units of $w$, so in principle no step size is needed
  ($\eta = 1$); the price is a very timid start, since $D_0 = 0$ makes the first steps about $\sqrt\epsilon$.
* **Adam** (notes 7.7.2.4; Sayed Example 65.3): running averages $m_t$ of $g_t$ and $v_t$ of $g_t^2$ with
  $B_1 = 0.9$, $B_2 = 0.999$, both bias-corrected as in section 1, and
  $w_t = w_{t-1} - \eta\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)$: the direction of momentum, the scaling of RMSprop.
  This is the library's form. The notes write $\sqrt{\hat v_t + \epsilon}$; Sayed (65.98) folds both
  corrections into the step size, $\mu\sqrt{1-\beta_2^{t}}/(1-\beta_1^{t})$, and adds $\epsilon$ to the root of
  the *uncorrected* $v_t$. Dividing through by $\sqrt{1-\beta_2^t}$ shows that Sayed's rule is the library's
  with $\epsilon$ replaced by $\epsilon/\sqrt{1-\beta_2^t}$: about 32 times larger at the first step, the same
  once $\beta_2^t$ has died out. The table checks his form separately.
""")

nb.code(r"""
def hand_optimizer(name, lr, steps, grad=lambda w: A @ w, w0=(-4.5, 2.0), **hp):
    '''The update rules of the texts in plain numpy, with the gradient given by hand.'''
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    m = v = V = G = D = np.zeros(2)
    for t in range(1, steps + 1):
        g = grad(w)
        if name == "sgd":
            w = w - lr * g
        elif name == "momentum":                         # notes 7.7.2.2
            V = hp["gamma"] * V + lr * g
            w = w - V
        elif name == "rmsprop":                          # notes 7.7.2.3 ("adadelta")
            G = hp["gamma"] * G + (1 - hp["gamma"]) * g ** 2
            w = w - lr * g / (np.sqrt(G) + hp["eps"])
        elif name == "adadelta":                         # Zeiler 2012
            G = hp["rho"] * G + (1 - hp["rho"]) * g ** 2
            delta = np.sqrt(D + hp["eps"]) / np.sqrt(G + hp["eps"]) * g
            D = hp["rho"] * D + (1 - hp["rho"]) * delta ** 2
            w = w - lr * delta
        elif name == "adam":                             # notes 7.7.2.4, eps after the root (the library's form)
            b1, b2 = hp["betas"]
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + hp["eps"])
        elif name == "adam_sayed":                       # Sayed (65.96)-(65.98): corrections in the step size,
            b1, b2 = hp["betas"]                         # eps added to the root of the uncorrected v
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (hp["eps"] + np.sqrt(v))
        path.append(w.copy())
    return np.array(path)


# name: (optim constructor, hand rule name, learning rate, hyperparameters in the hand rule's words)
OPTIMIZERS = {
    "SGD":      (lambda p, lr: optim.SGD(p, lr=lr),                       "sgd",      {}),
    "momentum": (lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),         "momentum", {"gamma": 0.9}),
    "RMSprop":  (lambda p, lr: optim.RMSprop(p, lr=lr, alpha=0.9, eps=1e-8), "rmsprop", {"gamma": 0.9, "eps": 1e-8}),
    "Adadelta": (lambda p, lr: optim.Adadelta(p, lr=lr, rho=0.9, eps=1e-6), "adadelta", {"rho": 0.9, "eps": 1e-6}),
    "Adam":     (lambda p, lr: optim.Adam(p, lr=lr, betas=(0.9, 0.999), eps=1e-8), "adam",
                 {"betas": (0.9, 0.999), "eps": 1e-8}),
}

rows = []
for name, (make, rule, hp) in OPTIMIZERS.items():
    lr = 0.02
    engine_path, _ = run(lambda p: make(p, lr), 30)
    rows.append((f"{name}: 30 steps, lr = {lr}", engine_path, hand_optimizer(rule, lr, 30, **hp)))
compare(rows, title="optim (engine gradients) vs. the update rules in numpy (gradient A w by hand)")

adam_hp = OPTIMIZERS["Adam"][2]
compare([("optim.Adam vs. Sayed's form (65.98), 30 steps", run(lambda p: OPTIMIZERS["Adam"][0](p, 0.02), 30)[0],
          hand_optimizer("adam_sayed", 0.02, 30, **adam_hp))], tol=1e-6,
        title="Sayed's Adam: equal up to where eps sits (not to rounding error)")
""")

nb.md(r"""
**Where $\epsilon$ sits.** Feed Adam a constant gradient $g$: the bias-corrected averages are exactly $g$
and $g^2$, so the step is $\eta\,|g|/(|g| + \epsilon)$ in the library's form, $\eta\,|g|/\sqrt{g^2+\epsilon}$ in
the notes' and $\eta\,|g|/(|g| + \epsilon/\sqrt{1-\beta_2^t})$ in Sayed's. The first step of `optim.Adam`
against the first formula, then all three as a function of $|g|$:
""")
nb.code(r"""
eps, lr = 1e-8, 0.01
sizes = np.array([1e-2, 1e-4, 1e-6, 1e-8, 1e-10])
first_steps = []
for g_ in sizes:
    w = ag.tensor([0.0], requires_grad=True)
    opt = optim.Adam([w], lr=lr, eps=eps)
    (g_ * w).sum().backward()
    opt.step()
    first_steps.append(-w.item() / lr)
compare([("first Adam step / lr for |g| = 1e-2 ... 1e-10", np.array(first_steps), sizes / (sizes + eps))],
        title="optim.Adam vs. |g| / (|g| + eps)")

g_grid = np.geomspace(1e-12, 1, 200)
plt.figure(figsize=(6.5, 3.4))
plt.loglog(g_grid, g_grid / (g_grid + eps), label=r"optim, PyTorch: $|g|/(|g|+\epsilon)$")
plt.loglog(g_grid, g_grid / np.sqrt(g_grid ** 2 + eps), label=r"MIT notes: $|g|/\sqrt{g^2+\epsilon}$")
plt.loglog(g_grid, g_grid / (g_grid + eps / np.sqrt(1 - 0.999)), "--",
           label=r"Sayed (65.98), first step: $\epsilon/\sqrt{1-\beta_2}$")
plt.axvline(np.sqrt(eps), color="0.6", lw=0.8)
plt.xlabel("gradient size |g|"); plt.ylabel("step / lr"); plt.ylim(1e-5, 2)
plt.title(r"Adam's step for a constant gradient, $\epsilon = 10^{-8}$"); plt.legend(fontsize=8)
plt.tight_layout(); plt.show()
for g_ in (1e-2, 1e-4, 1e-6):
    print(f"|g| = {g_:.0e}: step/lr {g_ / (g_ + eps):.6f} (library), {g_ / np.sqrt(g_ ** 2 + eps):.6f} (notes)")
""")
nb.md(r"""
The three agree for gradients well above $\sqrt\epsilon = 10^{-4}$ (grey line) and part ways below it: the
notes' Adam takes steps proportional to $|g|$ there, like plain gradient descent with step $\eta/\sqrt\epsilon$,
while the library's keeps a step of about $\eta$ down to $|g| \approx \epsilon$. Gradients of $10^{-6}$ are not
exotic: the first layers of the sigmoid network in notebook 5 get about that much, or less. With the notes'
placement such a layer barely moves; with the library's it moves as fast as any other.
""")

nb.md(r"""
The engine computes $\nabla f$ by back-propagation and `optim` applies the rule; the hand version
uses $A w$ and the printed formulas. They agree to rounding error, step after step.

## 3. Trajectories on the valley

A fair race needs a fair step size for each method. For each optimizer we try 23 learning rates
from $10^{-3}$ to 30, run 100 steps, and score a run by the average of $\log_{10} f$ over its last
10 steps (a run that ends above where it started scores $+\infty$). We do this on the valley above and
on the same valley rotated by 45°, $A_{\text{rot}} = R A R^\top$, started from the rotated starting point
$R w_0$: the same problem in a turned coordinate system. First the scores against the learning rate:
how forgiving is each method?
""")

nb.code(r"""
R = np.array([[np.cos(np.pi / 4), -np.sin(np.pi / 4)], [np.sin(np.pi / 4), np.cos(np.pi / 4)]])
A_rot = R @ A @ R.T


def f_rot(w):
    return 0.5 * (w * (ag.tensor(A_rot) @ w)).sum()


w0 = np.array([-4.5, 2.0])
valleys = {"axis-aligned": (f, A, w0), "rotated 45°": (f_rot, A_rot, R @ w0)}
grid = np.geomspace(1e-3, 30, 23)


def score(losses):
    '''Mean log10 loss over the last 10 steps; +inf for a run that diverged.'''
    if not np.all(np.isfinite(losses)) or losses[-1] > losses[0]:
        return np.inf
    return np.mean(np.log10(losses[-10:] + 1e-300))


scores = {}
for valley, (fv, _, start) in valleys.items():
    for name, (make, _, _) in OPTIMIZERS.items():
        with np.errstate(all="ignore"):
            scores[valley, name] = np.array([score(run(lambda p: make(p, lr), 100, f=fv, w0=start)[1])
                                             for lr in grid])

fig, ax = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
for k, valley in enumerate(valleys):
    for name in OPTIMIZERS:
        ax[k].semilogx(grid, scores[valley, name], ".-", label=name)
    ax[k].set(title=valley, xlabel="learning rate", ylim=(-6.5, 2.5))
ax[0].set_ylabel(r"mean $\log_{10} f$, steps 91-100")
for a in ax:
    for limit in (2 / 50, 2 * 1.9 / 50):
        a.axvline(limit, color="0.5", ls=":", lw=1)
ax[1].legend(fontsize=8)
plt.tight_layout(); plt.show()


def spectral_radius(eta, lam=50.0, gamma=0.9):
    return max(abs(np.linalg.eigvals(np.array([[1 - eta * lam, -gamma], [eta * lam, gamma]]))))


print("momentum, spectral radius at lr 0.075 and 0.077:", round(spectral_radius(0.075), 4),
      round(spectral_radius(0.077), 4))
for valley in valleys:
    for name in OPTIMIZERS:
        good = grid[scores[valley, name] < -2]
        span = f"{good.min():.3g} to {good.max():.3g}" if len(good) else "none"
        print(f"{valley:13} {name:9} lr with f < 1e-2 after 100 steps: {span:>16}   "
              f"best lr {grid[np.argmin(scores[valley, name])]:.3g}")
""")

nb.md(r"""
Gradient descent works only below its stability limit $\eta < 2/\lambda_{\max} = 0.04$ (the missing points
diverged). Heavy-ball momentum has a larger one: the characteristic polynomial of the $2\times2$ matrix of
section 2 is $\mu^2 - (1 + \gamma - \eta\lambda)\mu + \gamma$, which has the root $\mu = -1$ when
$\eta\lambda = 2(1+\gamma)$, so with $\gamma = 0.9$ momentum is stable up to $2(1+\gamma)/\lambda_{\max} = 0.076$,
and its curve does continue past 0.04 (dotted lines: the two limits; the printed spectral radii check the
second one). Which learning rates bring $f$ below $10^{-2}$ after 100 steps, method by method:
""")

nb.md(r"""
Only Adam is forgiving on this problem: it brings $f$ below $10^{-2}$ for learning rates from about 0.1
to 7 on the axis-aligned valley, close to two decades (0.7 to 4.6 when rotated). RMSprop, although it goes
lowest of all at its best rate, gets there only between about 0.07 and 0.11, and for no rate at all on the
rotated valley; above about 3 it ends higher than it started. Its steps have a size of about $\eta$ in every
coordinate whatever the gradient, so near the minimum it keeps bouncing at a scale set by $\eta$ (the paths
below show it). Adam hovers too, but its running average $m_t$ lets gradients of alternating sign partly
cancel, and over a wide range of rates it stays near $f \approx 10^{-3}$.
Now the paths over the contour lines of $f$, for each method with the smallest learning rate that scores
within 0.5 of its best:
""")

nb.code(r"""
# The smallest rate that scores within half a decade of the best: a huge step that happens to land well is luck.
best = {key: grid[np.argmax(s <= s.min() + 0.5)] for key, s in scores.items()}
fig, ax = plt.subplots(2, 2, figsize=(11, 10))
g1, g2 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-5, 5, 200))
pts = np.stack([g1.ravel(), g2.ravel()])                     # every grid point at once, for the contours
for k, (valley, (fv, Q, start)) in enumerate(valleys.items()):
    for name, (make, _, _) in OPTIMIZERS.items():
        lr = best[valley, name]
        path, losses = run(lambda p: make(p, lr), 100, f=fv, w0=start)
        label = f"{name} (lr {lr:.3g})"
        ax[0, k].plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=label)
        ax[1, k].semilogy(losses, label=label)
    Z = 0.5 * np.einsum("in,ij,jn->n", pts, Q, pts).reshape(g1.shape)
    ax[0, k].contour(g1, g2, Z, levels=np.geomspace(0.05, 150, 12), colors="0.75", linewidths=0.7)
    ax[0, k].plot(0, 0, "k*", ms=10)
    ax[0, k].set(title=valley, xlim=(-5, 5), ylim=(-5, 5), aspect="equal")
    ax[1, k].set(title=f"{valley}: f(w_t)", xlabel="step", ylim=(1e-9, 1e3))
    ax[0, k].legend(fontsize=7, loc="lower right")
plt.tight_layout()
""")

nb.md(r"""
What the pictures say:

* **Gradient descent** is held back by the steep direction: its step must stay below
  $2/\lambda_{\max}$, so after a quick drop (the steep coordinate is solved in a few steps) the flat
  coordinate creeps along at a factor $1-\eta\lambda_{\min} \approx 0.97$ per step: the straight line in the
  log plot.
* **Momentum** adds up successive gradients: the components that flip sign across the valley cancel, the
  ones along the valley accumulate. It overshoots and spirals in. With $\gamma = 0.9$ the spiral cannot
  shrink faster than $\sqrt{\gamma} \approx 0.95$ per step (the modulus of the complex eigenvalues of the
  $2\times2$ matrix above), which is why its curve wiggles down a fixed slope.
* **RMSprop** and **Adam** divide each coordinate by the size of its own gradient. On the axis-aligned
  valley that undoes the ill-conditioning: the first steps run diagonally, at the same speed in both
  coordinates. Near the minimum the normalised step no longer shrinks with the gradient, so Adam hovers
  and oscillates at a scale set by $\eta$.
* **Adadelta** starts with steps of about $\sqrt{\epsilon}\,\eta$ and needs $\eta$ in the tens to get
  anywhere in 100 steps; it was designed for long noisy runs, not short deterministic ones.
* **Rotate the problem** and gradient descent and momentum produce *exactly the same* loss curves (their
  updates are rotation-invariant: they only use $g$ as a vector). The per-coordinate methods do not: in the
  rotated frame every coordinate mixes steep and flat, their advantage is gone, and RMSprop even has a
  burst of instability near the end. Adaptive methods rescale axes; they do not know the curvature.

""")

nb.md(r"""
## 4. What bias correction does to Adam's first steps

Feed Adam a constant gradient $g$ (a linear function $f(w) = c\,w$). With correction,
$\hat m_t = g$ and $\hat v_t = g^2$ at every step, so each step is exactly $\eta$ (times the sign of $c$, up to
$\epsilon$). Without correction the first step is $\eta (1-B_1)/\sqrt{1-B_2} \approx 3.16\,\eta$ and the
step size wanders for about a thousand steps, until $B_2^t$ has died out. `optim.Adam` against the
corrected hand value, then the uncorrected rule for contrast:
""")

nb.code(r"""
c, lr, n = 3.0, 0.01, 2000
w = ag.tensor([0.0], requires_grad=True)
opt = optim.Adam([w], lr=lr)
positions = [0.0]
for _ in range(n):
    opt.zero_grad()
    (c * w).sum().backward()
    opt.step()
    positions.append(w.item())
engine_steps = -np.diff(positions)

b1, b2, eps = 0.9, 0.999, 1e-8
tt = np.arange(1, n + 1)
m = c * (1 - b1 ** tt)                               # running averages of a constant, closed form
v = c ** 2 * (1 - b2 ** tt)
corrected = lr * (m / (1 - b1 ** tt)) / (np.sqrt(v / (1 - b2 ** tt)) + eps)
uncorrected = lr * m / (np.sqrt(v) + eps)
compare([("Adam step sizes, 2000 steps, vs hand (corrected)", engine_steps, corrected),
         ("first step, vs lr c / (c + eps)", engine_steps[0], lr * c / (c + eps))])

plt.figure(figsize=(6.5, 3.2))
plt.semilogx(tt, engine_steps / lr, label="optim.Adam (bias-corrected)")
plt.semilogx(tt, uncorrected / lr, "--", label="same rule without correction")
plt.axhline(1.0, color="k", lw=0.5)
plt.xlabel("step t")
plt.ylabel("step / lr")
plt.legend()
plt.title("Adam on a constant gradient")
plt.tight_layout()
""")

nb.md(r"""
Without the correction the first step is already three times too long, and it gets worse: $m$
recovers from its zero start within ~10 steps while $v$ needs ~1000, so around step 10 the step is
about 6.5 times the intended one, and it takes a thousand steps to settle. On this line that is harmless;
in a deep network it is a jolt at the moment the weights are most fragile.

## 5. Training curves on a real network

Finally the optimizers on the job they were made for: a small network (2-32-32-3, tanh) learning
the three-armed spiral data from `nn.data`. All runs start from the *same* initial weights
(copied with `state_dict`) and see the same mini-batches, so only the update rule differs.
The step sizes are common defaults, not tuned.
""")

nb.code(r"""
X, y = nn.data.make_spirals(300, classes=3, noise=0.2, seed=0)
ag.manual_seed(0)
net = nn.MLP([2, 32, 32, 3], activation="tanh")
start = {k: v.copy() for k, v in net.state_dict().items()}      # the same initial weights for every run
criterion = nn.CrossEntropyLoss()
settings = {
    "SGD (lr 0.1)":               lambda p: optim.SGD(p, lr=0.1),
    "momentum (lr 0.1, 0.9)":     lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "RMSprop (lr 0.01)":          lambda p: optim.RMSprop(p, lr=0.01),
    "Adadelta (lr 1.0)":          lambda p: optim.Adadelta(p, lr=1.0),
    "Adam (lr 0.01)":             lambda p: optim.Adam(p, lr=0.01),
}
epochs = 60
curves = {}
for name, make in settings.items():
    net.load_state_dict(start)
    opt = make(net.parameters())
    loader = nn.data.DataLoader(X, y, batch_size=32, shuffle=True, seed=1)
    history = []
    for epoch in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = criterion(net(xb), yb)
            loss.backward()
            opt.step()
        with ag.no_grad():
            logits = net(ag.tensor(X))
            history.append((criterion(logits, y).item(), (logits.numpy().argmax(1) == y).mean()))
    curves[name] = np.array(history)
    print(f"{name:26} loss {history[-1][0]:.3f}   training accuracy {history[-1][1]:.1%}")

fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
for name, h in curves.items():
    ax[0].semilogy(h[:, 0], label=name)
    ax[1].plot(h[:, 1], label=name)
ax[0].set(xlabel="epoch", title="training loss (full data set)")
ax[1].set(xlabel="epoch", title="training accuracy")
ax[1].legend(fontsize=8)
plt.tight_layout()
""")

nb.md(r"""
The adaptive methods (Adam, RMSprop) fit the spirals within a few dozen epochs and momentum is close
behind; plain SGD with the same budget is still working through the flat early phase. Adadelta, with
no step size to tune, is slow here for the same reason as on the valley: its steps start tiny.

**What a bigger run would show.** Train ten times longer and every method except plain SGD fits the
training set; with a tuned step size and a decaying schedule (`optim.lr_scheduler`) SGD with momentum
usually ends up as good as Adam, and on many large problems generalises as well or better. Adam's
advantage is speed and robustness to the choice of $\eta$, not a better final answer.

**Exercises.** (1) Show that the notes' two momentum formulations (with $V_t$ and with $M_t$) coincide when
$\eta = \eta'(1-\gamma)$. (2) In section 3, increase the condition number to 200: which methods suffer?
(3) What single running average does Adam's $\hat m_t$ equal, with which decay (the notes' study question)?
""")

nb.answers(("Answer (1): the two momentum formulations", r"""
The notes' second form is a running average of the gradients (section 1) with step size $\eta'$:
$M_0 = 0$, $M_t = \gamma M_{t-1} + (1-\gamma)\nabla f(W_{t-1})$, $W_t = W_{t-1} - \eta' M_t$.
Claim: with $\eta = \eta'(1-\gamma)$, $V_t = \eta' M_t$ at every step, so both take the same steps.
By induction: $V_0 = \eta' M_0 = 0$; if $V_{t-1} = \eta' M_{t-1}$ and the weights so far agree (so the
gradients agree), then
$\eta' M_t = \gamma\,\eta' M_{t-1} + \eta'(1-\gamma)\nabla f(W_{t-1}) = \gamma V_{t-1} + \eta\nabla f(W_{t-1}) = V_t$,
and $W_t = W_{t-1} - V_t = W_{t-1} - \eta' M_t$. (Fed the same 50 random gradients with $\gamma = 0.9$,
$\eta' = 0.1$, the two recursions give weights that agree to $2\cdot10^{-16}$.) So momentum steps along
an average of recent gradients, with the step $\eta' = \eta/(1-\gamma)$: ten times $\eta$ for
$\gamma = 0.9$ once the gradient is steady.
"""), ("Answer (2): condition number 200", r"""
Set `A = np.diag([1.0, 200.0])` in section 2 and run sections 2 and 3 again, skipping the `compare`
tables of section 2 (the first has $f(w_0)$ for $\kappa = 50$ written in; in the others plain gradient
descent's steps 0.035 and 0.02 are above the new limit $2/200 = 0.01$, and the engine's and the hand's
paths both blow up, far apart). The scores (mean $\log_{10} f$ over steps 91-100 at
the best learning rate), at $\kappa = 50 \to 200$:

| valley | SGD | momentum | RMSprop | Adadelta | Adam |
|:--|--:|--:|--:|--:|--:|
| axis-aligned | -1.23 → 0.46 | -2.91 → -2.09 | -5.57 → -5.57 | -3.06 → -3.06 | -3.04 → -2.48 |
| rotated 45° | -1.23 → 0.46 | -2.91 → -2.09 | -1.63 → 0.16 | 0.41 → 0.80 | -2.87 → -2.02 |

- **Gradient descent and momentum suffer**, as section 2 predicts: the steep direction caps the step
  at $2/\lambda_{\max} = 0.01$ (momentum: $2(1+\gamma)/\lambda_{\max} = 0.019$), and the flat direction then
  shrinks by a factor of at least $0.99$ per step. Gradient descent ends with $f \approx 3$; the rates
  with which momentum gets below $f = 10^{-2}$ narrow from 0.004-0.043 to 0.004-0.0065.
- **On the axis-aligned valley RMSprop and Adadelta do not notice**: they divide each coordinate's
  step by the size of its own gradient, so the curvature of that coordinate cancels. Adam's steps
  cancel it too; it still gets below $10^{-2}$ for rates 0.11 to 4.6 (7.4 before), and its score falls a
  little because it hovers near the minimum at a scale set by $\eta$, and $f$ now counts the steep
  coordinate 200 times instead of 50.
- **Rotated, the per-coordinate methods lose that protection**: every coordinate mixes steep and flat.
  Adam gets below $10^{-2}$ at only one rate of the grid (2.88), and RMSprop and Adadelta fail worse
  than at $\kappa = 50$.
"""), ("Answer (3): Adam's m̂ as a running average", r"""
$\hat m_t$ is the running average of the gradients with the decay that changes with $t$,
$\gamma_t = \dfrac{\beta_1 - \beta_1^t}{1 - \beta_1^t}$, i.e. $\hat m_t = \gamma_t \hat m_{t-1} + (1-\gamma_t)\,g_t$.
From $m_t = \beta_1 m_{t-1} + (1-\beta_1)g_t$ and $\hat m_t = m_t/(1-\beta_1^t)$:
$\hat m_t = \frac{\beta_1(1-\beta_1^{t-1})}{1-\beta_1^t}\,\hat m_{t-1} + \frac{1-\beta_1}{1-\beta_1^t}\,g_t$, and the two
coefficients add up to one. With $\beta_1 = 0.9$: $\gamma_1 = 0$ (the first gradient is taken as it is, no
bias towards 0), $\gamma_2 = 0.474$, $\gamma_3 = 0.631$, and $\gamma_t \to 0.9$ ($0.8999973$ at $t = 100$):
early on it is close to the plain mean of section 1 ($\gamma_t = (t-1)/t$), later the usual average with
decay $\beta_1$. (Checked on 50 random gradients: equal to $2\cdot10^{-16}$.) The same holds for $\hat v_t$
with $\beta_2$.
"""))

nb.md(r"""
## 6. Batch, mini-batch or one example at a time (MIT notes §7.7.1)

Before any of these methods there is a simpler choice: how many examples go into each gradient. The notes
compare *batch* gradient descent (all $n$ examples per step: the exact gradient, but one step per pass over
the data), *stochastic* gradient descent (one example per step: $n$ noisy steps per pass) and
*mini-batches* of $K$ examples, drawn by shuffling and cutting (their MINI-BATCH-SGD). The experiment: the
spiral network of section 5 from the same initial weights, plain SGD on the mean loss of each batch with
$\eta = 0.1$, and the full batch also with $\eta = 0.3$ (the exact gradient tolerates a larger step). Each
regime gets a number of passes that costs roughly the same time (12 passes for $K = 1$, 300 for the full
batch); after every pass we record the loss on the whole training set and the wall-clock time.
""")
nb.code(r"""
def train_batches(K, lr, passes):
    net.load_state_dict(start)
    opt = optim.SGD(net.parameters(), lr=lr)
    loader = nn.data.DataLoader(X, y, batch_size=K, shuffle=True, seed=2)
    losses, seconds, t0 = [], [], time.perf_counter()
    for _ in range(passes):
        for xb, yb in loader:                    # MINI-BATCH-SGD: shuffle, then ceil(n/K) updates
            opt.zero_grad()
            criterion(net(xb), yb).backward()
            opt.step()
        with ag.no_grad():
            losses.append(criterion(net(ag.tensor(X)), y).item())
        seconds.append(time.perf_counter() - t0)
    return np.array(losses), np.array(seconds)


n = len(y)
regimes = {"one example (K = 1), lr 0.1": (1, 0.1, 12), "mini-batch K = 10, lr 0.1": (10, 0.1, 30),
           "mini-batch K = 50, lr 0.1": (50, 0.1, 100), f"batch (K = n = {n}), lr 0.1": (n, 0.1, 300),
           f"batch (K = n = {n}), lr 0.3": (n, 0.3, 300)}
batch_runs = {name: train_batches(*setting) for name, setting in regimes.items()}
fig, ax = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for name, (losses, seconds) in batch_runs.items():
    ax[0].plot(np.arange(1, len(losses) + 1), losses, ".-", ms=3, label=name)
    ax[1].plot(seconds, losses, ".-", ms=3, label=name)
ax[0].set(xlabel="passes over the data (each example used once per pass)", ylabel="training loss",
          xscale="log", title="per pass")
ax[1].set(xlabel="seconds", title="per second of this engine")
ax[0].legend(fontsize=8)
plt.tight_layout(); plt.show()
for name, (losses, seconds) in batch_runs.items():
    K = regimes[name][0]
    print(f"{name:30} loss after 1 pass {losses[0]:.3f}, after 12 passes {losses[11]:.3f}, "
          f"at the end {losses[-1]:.3f}   ({seconds[-1] / (len(seconds) * -(-n // K)) * 1000:.2f} ms per step, "
          f"{len(seconds) * -(-n // K)} steps)")
""")
nb.md(r"""
Per pass, one example at a time wins by far: it takes $n = 300$ small steps per pass against the full
batch's single exact one, and after 12 passes its loss is far below the full batch's (printed above). It is
also the noisiest curve, jumping up and down from pass to pass, as the notes warn ("competing" directions,
which a decreasing step size would average out). Per second the picture turns: one step of this engine costs
a millisecond or less, and not much more for the full batch than for one example (the printed times:
the full batch about twice the single example's step, not 300 times), since most of the time goes into Python bookkeeping rather
than arithmetic, so a pass with $K = 1$ costs as much as a hundred full-batch passes. In the first fraction
of a second the full batch with the larger step and the mini-batches make the most progress; one example at a time
gets lower only given several times longer. Mini-batches are the compromise the notes recommend, and on
vectorised hardware the reason is even stronger: a batch of examples costs little more than one.
(The times, and so the right-hand panel, vary with the load of the machine; the per-pass panel does not.)
""")


nb.md(r"""
## 7. Exercises: the update rules, graded

Now write the three rules yourself, in the style of cs231n's `optim.py`: a function takes the parameter
`w`, its gradient `dw` and a dict `state` that lives from one call to the next, and returns the new `w`.
Keep the state under `optim`'s names (the ones `state_dict()` saves), so that what you keep is what the
library keeps. Each grader, from `notebooks/grade_layers.py`, runs your function and the `optim`
optimizer side by side for 6 steps from the same `w` on the same gradients, halving the learning rate at
step 4 as a scheduler would, and after every step compares each state entry and the parameter. It names the
first step and the quantity that differ and, when the numbers show it, the mistake (it knows the usual
ones: a missing bias correction, $\epsilon$ inside the root, a dampened buffer, ...).

**Exercise 1: SGD with momentum**, as `optim.SGD(params, lr, momentum)` (PyTorch's rule, dampening 0):
$b_1 = g_1$, then $b_t = \mu\, b_{t-1} + g_t$, and $w_t = w_{t-1} - \eta\, b_t$, with the buffer $b$ in
`state["momentum_buffer"]`. (Section 2's hand rule keeps $V_t = \eta\, b_t$ instead, which is the same while
$\eta$ does not change.)
""")
nb.code(r"""
# EXERCISE 1: one step of SGD with momentum; return the new w.
def sgd_momentum(w, dw, state, lr=0.1, momentum=0.9):
    # SOLUTION
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = dw.copy()                      # b_1 = g_1
    else:
        state["momentum_buffer"] = momentum * state["momentum_buffer"] + dw
    return w - lr * state["momentum_buffer"]
    # END SOLUTION
""")
nb.code(r"""
from grade_layers import grade_sgd_momentum
grade_sgd_momentum(sgd_momentum)
""")
nb.md(r"""
**Question.** cs231n's assignment keeps a velocity $v_t = \mu v_{t-1} - \eta g_t$ and steps $w_t = w_{t-1} + v_t$.
Does it take the same steps as `optim.SGD`? Say why before you open the answer; the grader's verdict on it
follows.
""")
nb.answers(("Answer: cs231n's velocity", r"""
While $\eta$ is constant, yes: by induction $v_t = -\eta\, b_t$ ($v_1 = -\eta g_1 = -\eta b_1$, and
$\mu v_{t-1} - \eta g_t = -\eta(\mu b_{t-1} + g_t)$), so $w$ moves by the same $-\eta\, b_t$. The state differs
(it holds $-\eta\, b$), and when a scheduler changes $\eta$ the two part: `optim.SGD` multiplies the whole
buffer, old gradients included, by the new $\eta$, while the velocity keeps each old gradient with the $\eta$
of its own step. From step 4 on, where the grader halves $\eta$, the parameters differ.
"""))
nb.code(r"""
def sgd_cs231n(w, dw, state, lr=0.1, momentum=0.9):
    v = state.get("momentum_buffer", np.zeros_like(w))
    state["momentum_buffer"] = momentum * v - lr * dw              # the velocity v = mu v - lr g
    return w + state["momentum_buffer"]


print(grade_sgd_momentum(sgd_cs231n))
""")
nb.md(r"""
**Exercise 2: RMSprop**, as `optim.RMSprop(params, lr, alpha, eps)` (section 2's rule):
$G_t = \alpha\, G_{t-1} + (1-\alpha)\, g_t^2$ from $G_0 = 0$ (`state["square_avg"]`), and
$w_t = w_{t-1} - \eta\, g_t / (\sqrt{G_t} + \epsilon)$. The grader uses $\epsilon = 10^{-3}$, large, so that
where $\epsilon$ sits shows in the numbers.
""")
nb.code(r"""
# EXERCISE 2: one step of RMSprop; return the new w.
def rmsprop(w, dw, state, lr=0.01, alpha=0.99, eps=1e-8):
    if not state:
        state["square_avg"] = np.zeros_like(w)                    # G_0 = 0
    # SOLUTION
    state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * dw ** 2
    return w - lr * dw / (np.sqrt(state["square_avg"]) + eps)
    # END SOLUTION
""")
nb.code(r"""
from grade_layers import grade_rmsprop
grade_rmsprop(rmsprop)
""")
nb.md(r"""
**Question.** $G$ starts at zero, as Adam's averages do, but RMSprop has no bias correction. How long is its
first step with the default $\alpha = 0.99$ (take $\epsilon \to 0$)? What would a correction $G_t/(1-\alpha^t)$
change?
""")
nb.answers(("Answer: RMSprop's first step", r"""
$G_1 = (1-\alpha)\, g_1^2$, so the first step is $\eta\,|g_1| / (\sqrt{1-\alpha}\,|g_1|) = \eta/\sqrt{1-\alpha} = 10\,\eta$
in every coordinate with a nonzero gradient, whatever its size. For a constant gradient the step is
$\eta/\sqrt{1-\alpha^t}$: $3.2\,\eta$ at step 10, $1.26\,\eta$ at step 100, within 3% of $\eta$ from step 300. With
the correction, $G_1/(1-\alpha) = g_1^2$ and the first step is $\eta$, as in Adam (section 4). `optim.RMSprop`,
like PyTorch's, has no correction: a smaller $\eta$ or a warm-up of the learning rate keeps those first steps
in check.
"""))
nb.md(r"""
**Exercise 3: Adam**, as `optim.Adam(params, lr, betas, eps)`: $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$ and
$v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$ from zero (`state["exp_avg"]`, `state["exp_avg_sq"]`), the step count
$t$ in `state["step"]` (1 at the first step), $\hat m_t = m_t/(1-\beta_1^t)$, $\hat v_t = v_t/(1-\beta_2^t)$, and
$w_t = w_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$.
""")
nb.code(r"""
# EXERCISE 3: one step of Adam; return the new w.
def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
    b1, b2 = betas
    # SOLUTION
    state["step"] += 1                                            # t = 1 at the first step
    t = state["step"]
    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * dw
    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * dw ** 2
    m_hat = state["exp_avg"] / (1 - b1 ** t)
    v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    # END SOLUTION
""")
nb.code(r"""
from grade_layers import grade_adam
grade_adam(adam)
""")
nb.md(r"""
**Question.** With the bias correction, how far does Adam's first step move each weight (take
$\epsilon \to 0$)? What does that make of the learning rate?
""")
nb.answers(("Answer: Adam's first step", r"""
$\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so the first step is $\eta\, g_1/|g_1|$: every weight with a nonzero
gradient moves by exactly $\eta$, against the sign of its gradient, however large or small that gradient is.
$\eta$ is a step length in the units of the weights, not a multiplier of the gradient (section 4 shows the
same for a constant gradient at every step). Without the correction the first step would be
$\eta(1-\beta_1)/\sqrt{1-\beta_2} \approx 3.16\,\eta$.
"""))
nb.md(r"""
Two slips and the grader's verdicts: the step count read before it is increased (so $t = 0$ in the bias
correction of the first step), and $\epsilon$ inside the square root.
""")
nb.code(r"""
def adam_slip(t_from_zero=False, eps_inside=False):
    def adam(w, dw, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
        b1, b2 = betas
        t = state["step"] if t_from_zero else state["step"] + 1
        state["step"] += 1
        state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * dw
        state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * dw ** 2
        m_hat, v_hat = state["exp_avg"] / (1 - b1 ** t), state["exp_avg_sq"] / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps)
    return adam


for slip in ({"t_from_zero": True}, {"eps_inside": True}):
    print(str(grade_adam(adam_slip(**slip))).splitlines()[0], "\n")
""")

nb.code(r"""
print(f"notebook ran in {time.perf_counter() - T0:.1f} s")
""")

if __name__ == "__main__":
    main(nb, "06_optimizers.ipynb")
