"""Builds notebooks/05_activations_init.ipynb (run: .venv/bin/python notebooks/build/nb05_activations_init.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()
nb.md(r"""
# 5. Activations and initialization

Back-propagation multiplies, layer after layer, by the slope of the activation and by a weight
matrix (MIT eq. 7.6, Sayed (65.61)). Whether the gradient that reaches the first layers is useful
therefore depends on two choices made before training starts: the activation function and the scale
of the initial weights. This notebook plots every activation of Sayed's Table 65.1 with the
derivative the engine computes, repeats the KTH lecture's 10-layer experiment with five
initializations, makes Sayed's vanishing-gradient argument (§65.8) visible, and ends with two more
ways to start badly: weights that are all equal (zero or a constant), and dead ReLUs.

**Reading.** Sayed ch. 65: §65.1 and Table 65.1 (eqs. 65.6-65.12), the initialization rules
(65.88)-(65.93), §65.8 "Slowdown in learning" (65.165)-(65.166). KTH lecture 4: the activation
functions' trade-offs and the 10-layer, 500-unit tanh experiment under small, large and Xavier
initialization, and Xavier failing for ReLU. MIT notes §7.3 (activations) and §7.6 (initialization).
""")
nb.code(r"""
%matplotlib inline
import time
import numpy as np
import matplotlib.pyplot as plt
from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.nn import functional as F
from chaingrad import optim

np.set_printoptions(precision=4, suppress=True)
""" + COMPARE)

# ------------------------------------------------------------------ 1. Table 65.1
nb.md(r"""
## 1. The activations of Sayed's Table 65.1 and their derivatives

For each activation we evaluate $f$ on a grid and let the engine differentiate: because $f$ acts
element by element, one `backward` of $\sum_k f(z_k)$ gives $f'(z_k)$ at every grid point
(notebook 1, §2). The dashed lines are the derivatives written by hand:

| activation | $f(z)$ | $f'(z)$ by hand |
|:--|:--|:--|
| sigmoid | $1/(1+e^{-z})$ | $f(z)(1-f(z))$ (65.6) |
| softplus | $\ln(1+e^{z})$ | $1/(1+e^{-z})$, the sigmoid |
| tanh | $\tanh z$ | $1-\tanh^2 z$ (65.7) |
| scaled tanh | $a\tanh(bz)$, $a=1.7159$, $b=2/3$ (65.10) | $ab\,(1-\tanh^2(bz))$ |
| ReLU | $\max(0,z)$ | $1$ for $z>0$, $0$ for $z<0$ (65.11) |
| leaky ReLU | $z$ or $0.01z$ | $1$ or $0.01$ (65.12) |
| ELU ($\alpha = 1$) | $z$ or $\alpha(e^z-1)$ | $1$ or $\alpha e^z$ |
| no activation | $z$ | $1$ |

The grid avoids $z = 0$, where ReLU and its relatives have a kink; that point gets its own table.
""")
nb.code(r"""
def sig(z): return 1 / (1 + np.exp(-z))


A, B = 1.7159, 2 / 3
table = {   # name: (engine function, hand derivative)
    "sigmoid": (F.sigmoid, lambda z: sig(z) * (1 - sig(z))),
    "softplus": (F.softplus, sig),
    "tanh": (F.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "scaled tanh": (F.scaled_tanh, lambda z: A * B * (1 - np.tanh(B * z) ** 2)),
    "ReLU": (F.relu, lambda z: (z > 0).astype(float)),
    "leaky ReLU": (F.leaky_relu, lambda z: np.where(z > 0, 1.0, 0.01)),
    "ELU": (F.elu, lambda z: np.where(z > 0, 1.0, np.exp(z))),
    "no activation": (F.identity, np.ones_like),
}
z_np = np.linspace(-4, 4, 160)                # 160 points: 0 is not on the grid
fig, axs = plt.subplots(2, 4, figsize=(15, 6.5))
rows = []
for ax, (name, (f, df_hand)) in zip(axs.ravel(), table.items()):
    z = ag.tensor(z_np, requires_grad=True)
    fz = f(z)
    fz.sum().backward()
    ax.axhline(0, color="0.8", lw=0.8); ax.axvline(0, color="0.8", lw=0.8)
    ax.plot(z_np, fz.numpy(), "C0", lw=2, label="f(z)")
    ax.plot(z_np, z.grad.numpy(), "C3", lw=2, label="f'(z), engine")
    ax.plot(z_np[::6], df_hand(z_np[::6]), "k.", ms=5, label="f'(z), by hand")
    ax.set_title(name); ax.set_ylim(-2, 4.2)
    rows.append((f"{name}: f'", z.grad, df_hand(z_np)))
axs[0, 0].legend(loc="upper left", fontsize=8)
plt.suptitle("Sayed, Table 65.1: activations (blue) and their derivatives (red: engine, dots: by hand)")
plt.tight_layout(); plt.show()

zz = np.linspace(-6, 6, 121)
rows += [("sigmoid(z) = (1 + tanh(z/2))/2  (65.8, Prob. 65.2)", F.sigmoid(zz), 0.5 * (1 + np.tanh(zz / 2)))]
compare(rows, tol=1e-14, title="Derivatives on the grid: engine vs. by hand")
compare([("scaled tanh at z = -1, 1  (65.10)", F.scaled_tanh(np.array([-1.0, 1.0])), [-1.0, 1.0])], tol=1e-5,
        title="A rounded constant: a = 1.7159 makes f(1) = 1 only to about 3e-6")
""")
nb.md(r"""
(The second table has its own, looser tolerance because the constant $a = 1.7159$ is $1/\tanh(2/3)$
rounded to four decimals; every row of the first agrees to rounding error, $10^{-14}$.) In §65.8 the book restates the tanh
derivative as $1/\cosh(x)$; that is a misprint for $1/\cosh^2(x)$, which equals $1-\tanh^2 x$ of
(65.7) and is what the engine computes.

At $z = 0$ ReLU, leaky ReLU and ELU have a kink, and a library has to pick a number. The engine
follows PyTorch; Sayed states his conventions in (65.11) and (65.12):
""")
nb.code(r"""
at0 = {"ReLU": 0.0, "leaky ReLU": 0.0, "ELU": 1.0}          # Sayed's value at 0 (ELU: both sides are 1)
lines = ["| activation | engine f'(0) | Sayed's convention | note |", "|--|--|--|--|"]
notes = {"ReLU": "same (65.11)",
         "leaky ReLU": "engine uses the left slope 0.01 (PyTorch); (65.12) sets 0, outside the range [0.01, 1] of slopes at the kink",
         "ELU": "no kink for alpha = 1"}
for name, book in at0.items():
    z = ag.tensor(0.0, requires_grad=True)
    table[name][0](z).backward()
    lines.append(f"| {name} | {z.grad.item():g} | {book:g} | {notes[name]} |")
display(Markdown("\n".join(lines)))
""")
nb.md(r"""
The plots already show the main trade-offs the KTH lecture lists. Sigmoid and tanh **saturate**: for
$|z| \gtrsim 4$ their slopes are nearly zero, and the sigmoid's slope is never more than $1/4$.
ReLU's slope is exactly 1 for $z > 0$ but exactly 0 for $z < 0$ (a unit stuck there stops
learning: a "dead" ReLU). Leaky ReLU and ELU keep a small slope on the left.
""")

# ------------------------------------------------------------------ 2. KTH experiment
nb.md(r"""
## 2. The KTH experiment: ten tanh layers of 500 units

The lecture's set-up: random inputs of dimension 500 with entries $\mathcal N(0,1)$ (we take a
batch of 500), ten
fully connected layers of 500 units with $\tanh$, no biases, and three ways to draw the weights:

- small: $W_{ij}\sim\mathcal N(0, 0.01^2)$;
- large: $W_{ij}\sim\mathcal N(0, 1)$;
- Xavier: $W_{ij}\sim\mathcal N(0, 1/500)$, i.e. standard deviation $1/\sqrt{500}$. With equal fan-in
  and fan-out this is Glorot's rule and also the $\mathcal N(0, 1/n_\ell)$ of Sayed (65.89) and of
  the MIT notes' SGD-NEURAL-NET. **A note on reading the slide:** it writes $N(w; 0, 1/\sqrt{500})$, and
  on its other slides the second argument is a variance ($N(w; 0, .01^2)$, $N(w; 0, 1^2)$). Read the same
  way, $1/\sqrt{500}$ would be a variance, a standard deviation of $500^{-1/4}\approx0.21$, which makes
  $500\,\sigma_w^2 = \sqrt{500} \approx 22$ and saturates about half of the
  tanh units by layer 10 (printed after the experiment). We read it as the standard deviation: that is
  the rule the slide names, Glorot and Bengio's variance $1/n$;

and then the same network with ReLU, with Xavier and with He's $\mathcal N(0, 2/500)$.

Why the scale matters: a unit of layer $\ell+1$ sums 500 products $w_{ij}\,y_\ell(i)$, so its
pre-activation has variance about $500\,\sigma_w^2\,\sigma_y^2$ (Sayed (65.90)-(65.92) make the
same argument). With $\sigma_w = 0.01$ that factor is $0.05$ and the signal shrinks every layer;
with $\sigma_w = 1$ it is 500 and tanh saturates at $\pm1$; with $\sigma_w^2 = 1/500$ it is 1.
ReLU zeroes half of its inputs, which halves the variance each layer, so He doubles $\sigma_w^2$
to compensate.

The lecture stops at the forward pass and asks what happens backwards. We also run the backward
pass, from a random upstream gradient $\partial J/\partial y_{10}\sim\mathcal N(0,1)$ (any loss
would do; this one does not prefer a direction), and record for every layer the sensitivity
$\delta_\ell = \partial J/\partial z_\ell$ (Sayed's (65.52): the gradient with respect to the
pre-activation, after the activation's slope) and the weight gradient $\partial J/\partial W_\ell$.
The network has the lecture's full size; it takes about a second per initialization here.
""")
nb.code(r"""
D, DEPTH, N = 500, 10, 500
rng = np.random.default_rng(0)
X = rng.normal(size=(N, D))
G_top = rng.normal(size=(N, D))
configs = {   # name: (activation, std of the weights)
    "tanh, N(0, 0.01²)": ("tanh", 0.01),
    "tanh, N(0, 1)": ("tanh", 1.0),
    "tanh, Xavier N(0, 1/500)": ("tanh", 1 / np.sqrt(D)),
    "ReLU, Xavier N(0, 1/500)": ("relu", 1 / np.sqrt(D)),
    "ReLU, He N(0, 2/500)": ("relu", np.sqrt(2 / D)),
}


def run(act, std, seed=0):
    ag.manual_seed(seed)
    layers = []
    for _ in range(DEPTH):
        lin = nn.Linear(D, D, bias=False)
        nn.init.normal_(lin.weight, 0.0, std)
        layers += [lin, nn.Tanh() if act == "tanh" else nn.ReLU()]
    net = nn.Sequential(*layers)
    h, outs, zs = ag.tensor(X), [], []
    for k in range(0, len(layers), 2):
        z = net[k](h)
        z.retain_grad()                   # keep delta_l = dJ/dz_l for the histograms
        h = net[k + 1](z)
        zs.append(z); outs.append(h)
    h.backward(ag.tensor(G_top))
    return (net, [o.numpy() for o in outs], [z.grad.numpy() for z in zs],
            [net[k].weight.grad.numpy() for k in range(0, len(layers), 2)])


start = time.perf_counter()
results = {name: run(*cfg) for name, cfg in configs.items()}
print(f"5 networks, forward and backward, in {time.perf_counter() - start:.1f} s")

# The slide's N(0, 1/sqrt(500)) read literally, as a variance: forward pass only.
h = X
for _ in range(DEPTH):
    h = np.tanh(h @ (rng.normal(size=(D, D)) * 500 ** -0.25))
print(f"variance 1/sqrt(500) instead: {np.mean(np.abs(h) > 0.99):.0%} of the layer-10 units beyond |y| = 0.99"
      f" (Xavier: {np.mean(np.abs(results['tanh, Xavier N(0, 1/500)'][1][-1]) > 0.99):.0%})")
""")
nb.code(r"""
def ticks(lo, hi):
    return [-12, -6, 0, 6] if (lo, hi) == (-14, 8) else [round(lo, 2), round(hi, 2)]


SAMPLE = np.random.default_rng(1).choice(N * D, 50_000, replace=False)   # histograms of 50,000 entries per layer


def hist_grid(values, title, xlim_fn, xlabel=None, color="C0", note_zeros=False):
    fig, axs = plt.subplots(len(configs), DEPTH, figsize=(17, 1.35 * len(configs) + 0.7), sharey="row")
    for r, (name, res) in enumerate(results.items()):
        vals = values(res)
        lo, hi = xlim_fn(name, vals)
        for l in range(DEPTH):
            ax, v = axs[r, l], vals[l]
            counts, edges = np.histogram(np.clip(v, lo, hi), bins=60, range=(lo, hi))
            ax.stairs(counts / max(counts.sum(), 1), edges, fill=True, color=color)
            ax.set_xticks(ticks(lo, hi))
            ax.tick_params(labelsize=6); ax.set_yticks([])
            if r == 0:
                ax.set_title(f"layer {l + 1}", fontsize=9)
            zeros = np.mean(res[2][l] == 0)
            label = (f"{zeros:.0%} are 0" if zeros else "") if note_zeros else f"std {v.std():.1e}"
            ax.text(0.98, 0.95, label, transform=ax.transAxes, ha="right", va="top", fontsize=6.5,
                    bbox=dict(fc="white", ec="none", alpha=0.8, pad=0.5))
        axs[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if xlabel:
        fig.supxlabel(xlabel, fontsize=9)
    plt.suptitle(title); plt.tight_layout(); plt.show()


hist_grid(lambda res: [a.ravel()[SAMPLE] for a in res[1]], "activations y_l per layer (KTH lecture 4)",
          lambda name, v: (-1.05, 1.05) if "tanh" in name else (0.0, 3.5 * v[0].std()))
""")
nb.md(r"""
What the lecture shows, reproduced:

- **small** weights: the activations collapse towards zero layer by layer (the std drops by about
  $0.01\sqrt{500}\approx0.22$ per layer) until they are all essentially 0;
- **large** weights: almost every unit is saturated at $-1$ or $+1$;
- **Xavier**: a healthy spread in every layer (slowly narrowing, because tanh is below its
  tangent line);
- **ReLU with Xavier**: the spread halves in variance every layer, and by layer 10 the activations
  are about $2^{-4.5}\approx 0.04$ of their first-layer size (nine halvings of the variance); **He** keeps them at the same scale. (In the ReLU
  rows the tall bar at 0 is the half of the units that are off.)

Now the backward pass. The sensitivities $\delta_\ell$ span many orders of magnitude, so the
histograms show $\log_{10}|\delta_\ell|$ (one shared axis from $10^{-14}$, where everything smaller
is piled up at the left edge, to $10^{8}$; entries that are exactly 0, from inactive ReLUs, are left
out and counted in the corner):
""")
nb.code(r"""
def log_abs(res):
    return [np.log10(np.abs(d[d != 0])) for d in (d.ravel()[SAMPLE] for d in res[2])]


hist_grid(log_abs, "sensitivities delta_l = dJ/dz_l per layer, from a random upstream gradient at layer 10",
          lambda name, v: (-14, 8), xlabel="log10 |delta_l|", color="C3", note_zeros=True)
""")
nb.code(r"""
fig, axs = plt.subplots(1, 3, figsize=(16, 4))
for name, (net, acts, grads, wgrads) in results.items():
    ls = "-" if "tanh" in name else "--"
    axs[0].plot(range(1, DEPTH + 1), [a.std() for a in acts], ls, marker="o", label=name)
    axs[1].plot(range(1, DEPTH + 1), [np.sqrt(np.mean(g ** 2)) for g in grads], ls, marker="o", label=name)
    axs[2].plot(range(1, DEPTH + 1), [np.linalg.norm(g) for g in wgrads], ls, marker="o", label=name)
for ax, t in zip(axs, ["std of activations y_l", "rms of sensitivity delta_l = dJ/dz_l", "norm of weight gradient dJ/dW_l"]):
    ax.set_yscale("log"); ax.set_xlabel("layer l"); ax.set_title(t)
axs[0].legend(fontsize=8)
plt.tight_layout(); plt.show()
""")
nb.md(r"""
Reading the histograms and the three panels together (note the log scales):

- **small** init: the sensitivities *also* shrink going backwards, by the same factor per layer as
  the forward signal, because both are multiplied by the same small $W$. The weight gradient
  $\partial J/\partial W_\ell = y_{\ell-1}^\top\delta_\ell$ (eq. 7.4, rows) multiplies the two: near
  the output the inputs $y_{\ell-1}$ are nearly zero, near the input the sensitivities are, and
  every layer's weight gradient comes out equally tiny (about $10^{-2}$, against hundreds to tens of
  thousands for the other initializations).
- **large** init: the lecture concludes that the gradients will be all zero. Per unit that is
  almost right: most units are saturated, their slope $\tanh'(z)$ is below $10^{-14}$ (and for
  $|z| > 19$, where $\tanh z$ rounds to exactly $\pm1$, it is exactly 0), and their $\delta$ piles
  up at the left edge of the histograms or is counted as 0. But the few units that are not saturated
  pass the gradient on, multiplied by weights of size 1 summed over 500 inputs. The typical size
  therefore **grows** about $\sqrt{500\,\mathbb E[\tanh'(z)^2]}\approx3.5$ times per layer towards
  the input, and the first layer's weight gradient is $10^{5}$ times the last one's. Either way the
  gradient is useless: a few enormous entries among zeros, an exploding rather than a vanishing
  gradient.
- **Xavier** (tanh) and **He** (ReLU): activations and sensitivities keep their scale in both
  directions, and every layer gets a comparable weight gradient. **ReLU with Xavier** loses a factor
  $\sqrt2$ per layer forwards *and* backwards; the weight gradients stay level only because the two
  losses cancel in the product $y_{\ell-1}^\top\delta_\ell$.

A check on the engine's numbers: for this network the backward recursion (65.61) is two lines of
numpy per layer, $\delta_\ell = f'(z_\ell)\odot g_\ell$ with $g_\ell = \partial J/\partial y_\ell$, and
$g_{\ell-1} = \delta_\ell W_\ell^\top$ (rows), with $f'(z) = 1-y^2$ for tanh and $\operatorname{Ind}(y>0)$
for ReLU. Our `nn.Linear` stores Sayed's $W_\ell^\top$ as `weight`, shape (out, in), so in code
the two lines read `g = delta @ weight` and `dW = delta.T @ y`.
""")
nb.code(r"""
rows = []
for name in ["tanh, Xavier N(0, 1/500)", "tanh, N(0, 1)", "ReLU, He N(0, 2/500)"]:
    net, acts, grads, wgrads = results[name]
    g = G_top
    for l in reversed(range(DEPTH)):
        W = net[2 * l].weight.numpy()
        delta = g * ((1 - acts[l] ** 2) if "tanh" in name else (acts[l] > 0))
        dW = delta.T @ (acts[l - 1] if l > 0 else X)     # (out, in), as weight.grad
        if l in (0, DEPTH - 1):
            rows += [(f"{name}: delta_{l+1}", grads[l], delta), (f"{name}: dJ/dW{l+1}", wgrads[l], dW)]
        g = delta @ W                                  # W is (out, in): Sayed's W_l^T
compare(rows, tol=1e-6, title="Backward recursion (65.61) in numpy vs. the engine, last and first layer")
""")

# ------------------------------------------------------------------ 3. Sayed 65.8
nb.md(r"""
## 3. Vanishing gradients made visible (Sayed §65.8)

Sayed's argument: unrolling the backward recursion, the sensitivity of layer $\ell$ contains the
product of activation slopes of all the layers above it,

$$
\delta_\ell \;\propto\; f'(z_\ell)\,f'(z_{\ell+1})\cdots f'(z_L) \qquad (65.165),
$$

and since $0 \le f' \le 1/4$ for the sigmoid and $0 \le f' \le 1$ for tanh (65.166), such a product is
small; it gets smaller the further a layer is from the output, so early layers learn slowest. With
ReLU the active units have slope exactly 1, so the product does not shrink (the inactive ones pass
nothing, which is ReLU's own problem). A softmax output with cross-entropy has the boundary sensitivity
$\delta_L = \hat\gamma - \gamma$ ((65.144) and Table 65.2), without the last factor $f'(z_L)$, but the factors
of the hidden layers remain.

The experiment: an 8-layer network of width 32 on the two moons, with the initialization of Sayed
(65.88)-(65.89) (`nn.Linear`'s default), the same seed for each activation, a softmax output and
cross-entropy. First, a picture of a smaller version of it (4 layers of width 4, sigmoid): nodes
are coloured by the size of their gradient. Note how the colour fades towards the input.
""")
nb.code(r"""
Xm, ym = nn.data.make_moons(200, noise=0.15, seed=0)
ag.manual_seed(0)
small = nn.MLP([2, 4, 4, 4, 4, 2], activation="sigmoid")
with ag.viz.record_grads():
    loss = nn.CrossEntropyLoss()(small(ag.tensor(Xm, name="x")), ym)
    loss.backward()
ag.viz.draw(loss, model=small, color_by="grad")
""")
nb.code(r"""
print(ag.viz.grad_report(small))
""")
nb.md(r"""
Now the 8-layer networks. Left: the gradient norm of each layer's weights at initialization (the
dashed line falls by the factor 4 per layer that the sigmoid's bound $f'\le1/4$ allows, starting
from the last hidden layer). Middle: after 300 steps of plain SGD, how far each layer's weights have
moved relative to their initial size. Right: the training loss.
""")
nb.code(r"""
WIDTH, LAYERS, STEPS, LR = 32, 8, 300, 0.1
sizes = [2] + [WIDTH] * LAYERS + [2]


def weight_grad_norms(net):
    return np.array([np.linalg.norm(m.weight.grad.numpy()) for m in net.modules() if isinstance(m, nn.Linear)])


fig, axs = plt.subplots(1, 3, figsize=(16, 4))
moved, start = {}, time.perf_counter()
for act in ["sigmoid", "tanh", "relu"]:
    ag.manual_seed(0)
    net = nn.MLP(sizes, activation=act)
    W0 = [m.weight.numpy().copy() for m in net.modules() if isinstance(m, nn.Linear)]
    opt = optim.SGD(net.parameters(), lr=LR)
    curve = []
    for step in range(STEPS):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(net(ag.tensor(Xm)), ym)
        loss.backward()
        if step == 0:
            g0 = weight_grad_norms(net)
        opt.step()
        curve.append(loss.item())
    Wt = [m.weight.numpy() for m in net.modules() if isinstance(m, nn.Linear)]
    moved[act] = np.array([np.linalg.norm(b - a) / np.linalg.norm(a) for a, b in zip(W0, Wt)])
    layers_ = np.arange(1, len(g0) + 1)
    axs[0].plot(layers_, g0, marker="o", label=act)
    axs[1].plot(layers_, moved[act], marker="o", label=act)
    axs[2].plot(curve, label=act)
    if act == "sigmoid":
        axs[0].plot(layers_[:-1], g0[-2] * 4.0 ** -(len(g0) - 1 - layers_[:-1]), "k--", lw=1, label="4^-(L-l)")
print(f"three 8-layer networks, {STEPS} steps each, in {time.perf_counter() - start:.1f} s")
axs[0].set_title("|dJ/dW_l| at initialization"); axs[1].set_title(f"|W_l(t={STEPS}) - W_l(0)| / |W_l(0)|")
axs[2].set_title("training loss")
for ax in axs[:2]:
    ax.set_yscale("log"); ax.set_xlabel("layer l (1 = input side)")
axs[2].set_yscale("log"); axs[2].set_xlabel("SGD step")
for ax in axs: ax.legend(fontsize=8)
plt.tight_layout(); plt.show()
print("ratio of weight movement, last layer / first layer (two digits: see below):",
      ", ".join(f"{k} {v[-1] / v[0]:.2g}" for k, v in moved.items()))
""")
nb.md(r"""
The sigmoid network's weight gradients fall by a factor of about 6 per layer towards the input:
a factor of about a million between its last and its first layer. That is even steeper than the
dashed line, which is what the bound $f' \le 1/4$ alone would give; the slopes actually average
about 0.2 (printed at the end of this section), and $0.2^{-1} \approx 5$. After 300 steps the
sigmoid network's first four layers have moved by less than 0.01% of their size, its last layer by
about half, and its loss is stuck at $\ln 2 \approx 0.693$, the loss of a coin toss. Tanh and ReLU
lose some gradient towards the input too with this initialization (roughly a factor of 2 per
layer), but every one of their layers moves by about 10% or more and both networks learn (with the
occasional spike: full-batch SGD with a fixed step on an 8-layer network is not smooth). Those spikes make
the tanh and ReLU runs sensitive to the last bits of the arithmetic: the runs are seeded and repeat
exactly, but a different order of additions inside the engine moves their printed ratios by several per
cent (we have seen 5.8 and 6.1 for tanh with two versions of the engine, and 3.5 since `nn.Linear` stores
its weights (out, in), which draws the same seeded numbers into other places), so they are printed to two
digits; the sigmoid's ratio, of order $10^4$, does not depend on such details. Nothing is
wrong with the sigmoid network's gradient; it is simply the product (65.165) of many slopes that
are each at most 1/4.

To check the engine against the recursion itself, here is one example through the 8-layer sigmoid
network at initialization: $\delta_L = \hat\gamma - \gamma$ for softmax with cross-entropy, then
$\delta_\ell = f'(z_\ell)\odot(\delta_{\ell+1}W_{\ell}^\top)$ in row form, against the engine's
$\partial J/\partial z_\ell$ (kept with `retain_grad`).
""")
nb.code(r"""
ag.manual_seed(0)
net = nn.MLP(sizes, activation="sigmoid")
lins = [m for m in net.modules() if isinstance(m, nn.Linear)]
x0, c0 = Xm[:1], ym[:1]
h, zs = ag.tensor(x0), []
for k, lin in enumerate(lins):
    z = lin(h)
    z.retain_grad()
    zs.append(z)
    h = z.sigmoid() if k < len(lins) - 1 else z
loss = nn.CrossEntropyLoss()(h, c0)
loss.backward()

zn = [z.numpy() for z in zs]
p = np.exp(zn[-1] - zn[-1].max()); p /= p.sum()
delta = p - np.eye(2)[c0]                               # (65.144), softmax with cross-entropy: no f'(z_L)
deltas = {len(lins) - 1: delta}
for k in range(len(lins) - 2, -1, -1):
    s = sig(zn[k])
    delta = s * (1 - s) * (delta @ lins[k + 1].weight.numpy())       # (65.61) for rows; weight is (out, in)
    deltas[k] = delta
compare([(f"delta_{k + 1}", zs[k].grad, deltas[k]) for k in range(len(lins))], tol=1e-14,
        title="Sensitivities of the 8-layer sigmoid network: engine vs. recursion (65.61)")
slopes = np.array([np.mean(sig(z) * (1 - sig(z))) for z in zn[:-1]])
print("mean sigmoid slope per hidden layer:", np.round(slopes, 3), "(never above 1/4)")
""")
# ------------------------------------------------------------------ 4. symmetry and dead units
nb.md(r"""
## 4. Two more ways to start badly: symmetry and dead units

**Zero and constant initialization.** The KTH lecture asks what happens when every weight starts at
zero, and the MIT notes (§7.6) warn that units which start with the same weights tend to stay alike.
Both are exact statements. With every weight and bias zero, a tanh network outputs zero in every
hidden layer, so every weight gradient is zero ($\partial J/\partial W_\ell = y_{\ell-1}^\top\delta_\ell$, and
either $y_{\ell-1}$ or $\delta_\ell$ vanishes); only the output bias can learn, and the loss stays at
$\ln 2$. With every weight equal to the same non-zero constant, the hidden units of a layer compute the
same function, receive the same gradient and take the same step, forever: the layer of 8 units trains
like a layer of one. The test below trains a $2\to8\to8\to2$ tanh network on the two moons for 300
Adam steps from three starts, and measures how different the units of each layer have become (the largest
spread across the rows of the layer's `weight`, one row per unit, which is 0 when all units are copies).
""")
nb.code(r"""
def train_moons(net, steps=300, lr=0.01):
    opt = optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(net(ag.tensor(Xm)), ym)
        loss.backward()
        opt.step()
    with ag.no_grad():
        accuracy = (net(ag.tensor(Xm)).numpy().argmax(1) == ym).mean()
    return loss.item(), accuracy


def start_from(weight_value, seed=0):
    # weight_value None: the default random initialization; else every weight = weight_value, biases 0
    ag.manual_seed(seed)
    net = nn.MLP([2, 8, 8, 2], activation="tanh")
    if weight_value is not None:
        for m in net.modules():
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
                nn.init.constant_(m.weight, weight_value)
    return net


lines = ["| start | loss after 300 steps | training accuracy | spread of layer 1's units | spread of layer 2's units |",
         "|:--|--:|--:|--:|--:|"]
for label, value in [("all weights 0", 0.0), ("all weights 0.3", 0.3), ("random, N(0, 1/m)", None)]:
    net = start_from(value)
    loss, accuracy = train_moons(net)
    spread = [np.ptp(net.layers[k].weight.numpy(), axis=0).max() for k in (0, 2)]
    lines.append(f"| {label} | {loss:.4f} | {accuracy:.1%} | {spread[0]:.3g} | {spread[1]:.3g} |")
    if value is not None:
        assert spread == [0.0, 0.0]          # exactly: the copies never part
display(Markdown("\n".join(lines)))
""")
nb.md(r"""
The zero start never leaves $\ln 2 \approx 0.6931$ (a coin toss); the constant start learns what a network
with one unit per layer can, one bent line through the moons, and its units are still exact copies after
300 steps, to the last bit; only the random start breaks the symmetry and separates the moons. Random initialization is not a refinement: it is what
makes the width of a layer count.

**Dead ReLUs, and the slightly positive bias.** A ReLU unit whose pre-activation is negative on every
example passes no gradient to its weights (KTH: "dead ReLU will never activate, never update parameter
weights"). Behind a ReLU layer every input is $\ge 0$, so a unit whose incoming weights are mostly
negative can be dead from the first step. The lecture's practical advice is to initialize the biases
slightly positive. We count the dead units of a $2\to32\to32\to32\to2$ ReLU network on the two moons at
initialization, weights $N(0, 1/m)$, with the biases set to 0, 0.01 and 0.1, over 20 random starts, and
check on one start that a dead unit's weights get exactly zero gradient.
""")
nb.code(r"""
def dead_units(net, X):
    # per hidden ReLU layer: units that are 0 on every row of X
    counts, h = [], ag.tensor(X)
    with ag.no_grad():
        for layer in net.layers:
            h = layer(h)
            if isinstance(layer, nn.ReLU):
                counts.append(int((h.numpy() <= 0).all(axis=0).sum()))
    return counts


def relu_net(bias, seed):
    ag.manual_seed(seed)
    net = nn.MLP([2, 32, 32, 32, 2], activation="relu")
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.bias, bias)
    return net


lines = ["| bias at start | dead units per hidden layer (sum over 20 starts) | share of the 1,920 hidden units |",
         "|--:|:--|--:|"]
for bias in (0.0, 0.01, 0.1):
    counts = np.array([dead_units(relu_net(bias, seed), Xm) for seed in range(20)]).sum(axis=0)
    lines.append(f"| {bias:g} | {counts.tolist()} | {counts.sum() / (20 * 3 * 32):.1%} |")
display(Markdown("\n".join(lines)))

net = relu_net(0.0, seed=0)
nn.CrossEntropyLoss()(net(ag.tensor(Xm)), ym).backward()
with ag.no_grad():
    z2 = net.layers[2](net.layers[1](net.layers[0](ag.tensor(Xm)))).numpy()
dead = (z2 <= 0).all(axis=0)
g = net.layers[2].weight.grad.numpy()
print(f"layer 2: {dead.sum()} dead units; largest |gradient| of their incoming weights: "
      f"{np.abs(g[dead]).max(initial=0):g}; of the live units' weights: {np.abs(g[~dead]).max():.3g}")
""")
nb.md(r"""
The first hidden layer sees the raw, centred inputs and has no dead units; the deeper layers, fed only
non-negative numbers, lose a few units per start with zero biases. A bias of 0.1 roughly halves their
number; 0.01 helps a little. The gradient printout
is the reason it matters: a dead unit's weights get exactly zero gradient, so, unless the units below
it change enough to wake it, it stays dead, and its share of the layer is wasted.
""")

# ------------------------------------------------------------------ 5. uniform inits, zig-zag
nb.md(r"""
## 5. Sayed's uniform initializations, and outputs that are not centred

Besides the Gaussian (65.89), Sayed lists three uniform rules (65.93a-c): $U[\pm 1/\sqrt{n_\ell}]$,
$U[\pm\sqrt6/\sqrt{n_\ell + n_{\ell+1}}]$ recommended for tanh, and four times that range for the sigmoid.
A uniform $U[-a, a]$ has variance $a^2/3$, so the first has variance $1/(3n)$, a third of (65.89); the
second (Glorot's uniform rule, `nn.init.xavier_uniform_`) has $2/(n_\ell+n_{\ell+1})$, which is $1/n$ for
the KTH layers; the third has 16 times that, because the sigmoid's slope at 0 is $1/4$ instead of tanh's
1, and its pre-activations need four times the spread to pass the signal on. The samples drawn by `nn.init`
against these variances, then the KTH network (forward only, 10 layers of 500) under each rule:
""")
nb.code(r"""
n = D
uniform_rules = {"(65.93a) U[±1/√n], tanh": ("tanh", 1 / np.sqrt(n)),
                 "(65.93b) U[±√6/√(2n)], tanh": ("tanh", np.sqrt(6 / (2 * n))),
                 "(65.93b) U[±√6/√(2n)], sigmoid": ("sigmoid", np.sqrt(6 / (2 * n))),
                 "(65.93c) U[±4√6/√(2n)], sigmoid": ("sigmoid", 4 * np.sqrt(6 / (2 * n)))}
ag.manual_seed(0)
w = ag.zeros((n, n))
nn.init.xavier_uniform_(w)
sampled = [("nn.init.xavier_uniform_ (500, 500): variance", w.numpy().var(), 1 / n)]
for label, (_, a) in uniform_rules.items():
    nn.init.uniform_(w, -a, a)
    sampled.append((f"nn.init.uniform_ for {label}: variance", w.numpy().var(), a ** 2 / 3))
compare(sampled, tol=2e-4, title="Sampled variance (engine's nn.init, 250,000 draws) vs. a²/3 (tolerance: sampling error)")

rng_u = np.random.default_rng(2)
lines = ["| rule | std of y at layer 1 | at layer 5 | at layer 10 | share of units with slope < 1/10 of the maximum, layer 10 |",
         "|:--|--:|--:|--:|--:|"]
for label, (act, a) in uniform_rules.items():
    h, stds = X[:250], []                           # 250 of the 500 inputs are plenty here
    for _ in range(DEPTH):
        z = h @ rng_u.uniform(-a, a, size=(n, n))
        h = np.tanh(z) if act == "tanh" else 1 / (1 + np.exp(-z))
        stds.append(h.std())
    slope = 1 - h ** 2 if act == "tanh" else h * (1 - h) * 4      # relative to the maximum slope (1, 1/4)
    lines.append(f"| {label} | {stds[0]:.3f} | {stds[4]:.3f} | {stds[9]:.3f} | {np.mean(slope < 0.1):.0%} |")
display(Markdown("\n".join(lines)))
""")
nb.md(r"""
For tanh, (65.93b) keeps the spread, as Xavier's Gaussian did in section 2, while (65.93a), with a third
of the variance, shrinks it by a factor of about $1/\sqrt3$ per layer, a milder version of the small
initialization. The sigmoid's outputs lie in $(0, 1)$ around $1/2$, so what carries the signal is their
spread around $1/2$. With (65.93b) the units stay in their nearly linear middle and the spread is small
(about 0.12); the four-times-wider range of (65.93c) makes for a spread of about 0.34 at every depth, at
the price of some saturation (the last column). Both keep the spread roughly constant after the first layer.

**The zig-zag.** The KTH lecture adds a second cost of outputs that are not centred: a unit fed by sigmoid
outputs $y \ge 0$ gets, for one example, the weight gradient $\delta_j\,y$, a vector whose entries all
have the sign of $\delta_j$. So each example can only push all of that unit's incoming weights up, or all
of them down; reaching weights of mixed signs takes a zig-zag of such steps. Counted on the two moons,
per example, for every unit of the second layer of a $2\to32\to32\to32\to2$ network, and the effect on
training (full-batch SGD, learning rate 1), against the same network with the sigmoid shifted to be centred,
$\sigma(z) - 1/2 = \tfrac12\tanh(z/2)$:
""")
nb.code(r"""
class CenteredSigmoid(nn.Module):
    # sigma(z) - 1/2 = tanh(z/2) / 2: the same shape, centred on 0
    def forward(self, x):
        return x.sigmoid() - 0.5


def sigmoid_net(activation):
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 32), activation(), nn.Linear(32, 32), activation(),
                         nn.Linear(32, 32), activation(), nn.Linear(32, 2))


for label, activation in [("sigmoid", nn.Sigmoid), ("centred sigmoid", CenteredSigmoid)]:
    net = sigmoid_net(activation)
    one_signed = []
    for i in range(50):                              # per-example gradients of the second layer's weights
        net.zero_grad()
        nn.CrossEntropyLoss()(net(ag.tensor(Xm[i:i + 1])), ym[i:i + 1]).backward()
        G = net[2].weight.grad.numpy()               # (out, in): row j is delta_j times the layer's input y
        one_signed += [bool(np.all(G[j] >= 0) or np.all(G[j] <= 0)) for j in range(G.shape[0])]
    opt = optim.SGD(net.parameters(), lr=1.0)
    curve = []
    for _ in range(300):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(net(ag.tensor(Xm)), ym)
        loss.backward()
        opt.step()
        curve.append(loss.item())
    print(f"{label:16} per-example weight gradients of one sign: {np.mean(one_signed):.0%};   "
          f"loss after 30, 100, 300 steps: {curve[29]:.3f}, {curve[99]:.3f}, {curve[299]:.3f}")
""")
nb.md(r"""
Every per-example gradient row (one unit's incoming weights) of the sigmoid network has a single sign, and none of the centred
network's does: the restriction is exact. Its cost in training is real but modest here, a faster start for
the centred network and nearly the same loss after 300 steps, because the next layer's bias can absorb
the common offset of $1/2$; it is one reason, among those of section 3, why tanh and ReLU displaced the
sigmoid in hidden layers.
""")

nb.md(r"""
## Summary

- The engine's derivatives of all eight activations of Table 65.1 match the hand formulas; at the
  kink $z = 0$ it follows PyTorch's conventions (ReLU: 0, as Sayed (65.11); leaky ReLU: 0.01, where
  (65.12) prints 0).
- The KTH experiment, at full size: $\mathcal N(0, 0.01^2)$ kills the activations and, backwards,
  the sensitivities; $\mathcal N(0,1)$ saturates the units, and the gradient that still gets through
  explodes towards the input; Xavier keeps tanh healthy in both directions; with ReLU, Xavier
  shrinks the signal by $\sqrt2$ per layer and He keeps it. Our numpy recursion reproduces the
  engine's gradients.
- Sayed's vanishing-gradient product (65.165) is visible in the gradient norms per layer: sigmoid
  networks lose about a factor of four or more per layer, so their first layers learn far more
  slowly than their last ones.
- Zero or constant weights keep every unit of a layer an exact copy of the others (zero weights: no
  weight learns at all); random initialization is what breaks the symmetry. Behind a ReLU layer, units
  can be dead from the start and get exactly zero gradient; a slightly positive bias reduces their number.
- Sayed's uniform rules (65.93a-c) have the variances $a^2/3$ that `nn.init` reproduces; with the sigmoid,
  whose outputs are centred on $1/2$, every per-example weight gradient of the next layer has one sign.

**Bigger runs.** More layers make every effect stronger: with 20 sigmoid layers of width 32 the
first layer's weight gradient at initialization is about $10^{-15}$, next to $0.2$ for the last
layer. He initialization keeps a 20- or even 50-layer ReLU network's weight gradients within about one
order of magnitude from the first layer to the last, but only with **zero biases**, as in He's analysis:
`nn.Linear`'s default biases, drawn $N(0, 1)$, add variance in every layer that the weights' $2/m$
does not account for, and the spread grows to two or three orders of magnitude (the cell below measures
both, width 32, on the two moons, five seeds each; the median ratio of the largest to the smallest
layer's gradient norm is about 10 with zero biases, about 100 and 300 with the default ones). Training the 8-layer networks above
for 3000 steps instead of 300 takes both the tanh and the ReLU network to a training loss near zero
(about $10^{-3}$ and $10^{-4}$ in our runs), while the sigmoid network is still at $\ln 2$.
Batch normalization
(notebook 7) is the standard remedy that makes the choice of initialization much less critical.
""")
nb.code(r"""
def he_relu_net(depth, zero_biases, seed, width=32):
    # He's N(0, 2/m) weights; biases either zero (He's analysis) or nn.Linear's default N(0, 1)
    ag.manual_seed(seed)
    net = nn.MLP([2] + [width] * depth + [2], activation="relu")
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, np.sqrt(2 / m.in_features))
            if zero_biases:
                nn.init.zeros_(m.bias)
    return net


lines = ["| depth | biases | largest / smallest weight-gradient norm over the layers, five seeds | median |",
         "|--:|:--|:--|--:|"]
for depth in (20, 50):
    for zero_biases in (True, False):
        spreads = []
        for seed in range(5):
            net = he_relu_net(depth, zero_biases, seed)
            nn.CrossEntropyLoss()(net(ag.tensor(Xm)), ym).backward()
            norms = [np.linalg.norm(m.weight.grad.numpy()) for m in net.modules() if isinstance(m, nn.Linear)]
            spreads.append(max(norms) / min(norms))
        lines.append(f"| {depth} | {'zero' if zero_biases else 'default N(0, 1)'} | "
                     f"{', '.join(f'{r:.0f}' for r in spreads)} | {np.median(spreads):.0f} |")
display(Markdown("\n".join(lines)))
""")

if __name__ == "__main__":
    main(nb, "05_activations_init.ipynb")
