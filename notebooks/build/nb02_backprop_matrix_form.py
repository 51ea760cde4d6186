"""Builds notebooks/02_backprop_matrix_form.ipynb (run: .venv/bin/python notebooks/build/nb02_backprop_matrix_form.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()
nb.md(r"""
# 2. Back-propagation in matrix form

Notebook 1 followed single numbers through a chain. Real layers hold vectors and matrices, and the
chain rule becomes a product of matrices whose shapes must fit. This notebook checks those shapes,
writes the whole backward pass of a $k$-layer classifier by hand in numpy, looks at the local
Jacobians the lecture notes draw node by node, and uses the engine's `ag.functional` to check
Sayed's sensitivity recursions and (optionally, §5) second derivatives.

**Reading.** MIT notes ch. 7 §7.5.2-7.5.3 (eqs. 7.4-7.8). KTH DD2424 lecture 4 (k-layer networks):
local Jacobians and the "aggregated backward pass for a k-layer network". Sayed ch. 65 §65.4
(sensitivity factors, eqs. 65.52-65.80) and Problems 65.9, 65.10 and 65.12.

Conventions differ between the texts; we say at each step whose we use:

| text | a layer computes | weight shape |
|:--|:--|:--|
| MIT notes | $Z^l = W^{l\top} A^{l-1} + W_0^l$ (columns) | $m^l \times n^l$ (inputs x outputs) |
| Sayed | $z_{\ell+1} = W_\ell^\top y_\ell - \theta_\ell$ (columns) | $n_\ell \times n_{\ell+1}$ (inputs x outputs) |
| KTH | $s = W x + b$ (columns) | outputs x inputs |
| our `nn.Linear` | `X @ W.T + b` (a batch of rows) | outputs x inputs, like KTH and PyTorch |

So `nn.Linear.weight` is KTH's $W$ as it stands, and the transpose of MIT's and Sayed's $W$: their
$W^\top$ is our `weight`, and their $W$ is our `weight.T`. This notebook's own derivations (sections 1
to 3) follow MIT's notes, with $W$ of shape inputs x outputs; the exercises use `nn.Linear`'s layout.
""")
nb.code(r"""
%matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
from chaingrad import autograd as ag
from chaingrad.autograd.functional import jacobian, hessian

ag.manual_seed(0)
rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)
""" + COMPARE)

# ------------------------------------------------------------------ 1. shapes
nb.md(r"""
## 1. The shapes in equations 7.4-7.6

For one example and a layer with $m^l$ inputs and $n^l$ outputs, the notes state

$$
\underbrace{\frac{\partial\,\text{loss}}{\partial W^l}}_{m^l\times n^l}
= \underbrace{A^{l-1}}_{m^l\times 1}\;\underbrace{\Big(\frac{\partial\,\text{loss}}{\partial Z^l}\Big)^{\!\top}}_{1\times n^l}
\quad(7.4),
\qquad
\frac{\partial\,\text{loss}}{\partial Z^l}
= \frac{\partial A^l}{\partial Z^l}\, W^{l+1}\, \frac{\partial A^{l+1}}{\partial Z^{l+1}} \cdots
  W^{L}\, \frac{\partial A^L}{\partial Z^L}\,\frac{\partial\,\text{loss}}{\partial A^L}
\quad(7.6).
$$

The notes' convention (their Appendix A) puts the variable we differentiate *by* first: the $(i,j)$
entry of $\partial A/\partial Z$ is $\partial A_j/\partial Z_i$. `ag.functional.jacobian(f, x)`
uses the other common convention, entry $(i, j)$ = $\partial f_i/\partial x_j$ (shape
`f(x).shape + x.shape`), so below we transpose its result to get the notes' matrices.

We build a 3-layer network with sizes $4 \to 5 \to 3 \to 2$, $\tanh$ hidden layers, a linear output
and the squared loss, for one example written as a column vector exactly as in the notes.
""")
nb.code(r"""
sizes = [4, 5, 3, 2]
L = len(sizes) - 1
Ws = [ag.tensor(rng.normal(0, 1 / np.sqrt(m), (m, n)), requires_grad=True, name=f"W{l+1}")
      for l, (m, n) in enumerate(zip(sizes[:-1], sizes[1:]))]
W0s = [ag.tensor(rng.normal(0, 1, (n, 1)), requires_grad=True, name=f"W0_{l+1}") for l, n in enumerate(sizes[1:])]
fs = [ag.tanh, ag.tanh, lambda t: t]
x = rng.normal(size=(sizes[0], 1))
y = rng.normal(size=(sizes[-1], 1))

A, As, Zs = ag.tensor(x), [ag.tensor(x)], []
for l in range(L):
    Z = Ws[l].T @ A + W0s[l]          # Z^l = W^lT A^{l-1} + W0^l
    Z.retain_grad()
    A = fs[l](Z)
    Zs.append(Z); As.append(A)
loss = ((A - y) ** 2).sum()
loss.backward()

dA_dZ = [jacobian(fs[l], Zs[l].detach().reshape(-1)).numpy().T for l in range(L)]   # notes' layout
dloss_dAL = 2 * (As[-1].numpy() - y)

rows = ["| l | W^l | A^(l-1) | dloss/dZ^l | dA^l/dZ^l | dloss/dW^l (engine) |",
        "|--|--|--|--|--|--|"]
for l in range(L):
    rows.append(f"| {l+1} | {Ws[l].shape} | {As[l].shape} | {Zs[l].grad.shape} | {dA_dZ[l].shape} | {Ws[l].grad.shape} |")
display(Markdown("\n".join(rows)))
""")
nb.md(r"""
Every product in (7.4) and (7.6) has matching inner dimensions: $(m^l\times1)(1\times n^l)$ gives
$m^l\times n^l$, the shape of $W^l$, and in (7.6) each $W^{l+1}$ ($n^l\times n^{l+1}$) sits between an
$n^l\times n^l$ and an $n^{l+1}\times n^{l+1}$ Jacobian. Now the values: multiply out (7.6) with the
Jacobian matrices and compare with what the engine delivered to $Z^l$, then (7.4). Both columns
come from the engine, in two different ways: on the left what `backward` delivered, on the right the
products (7.6) and (7.4) in numpy of the local Jacobians $\partial A^l/\partial Z^l$ that
`ag.functional.jacobian` computed (section 3 checks such Jacobians against closed forms).
""")
nb.code(r"""
checks = []
for l in range(L):
    prod = dA_dZ[l]
    for k in range(l + 1, L):
        prod = prod @ Ws[k].numpy() @ dA_dZ[k]
    dZ_hand = prod @ dloss_dAL                           # eq. 7.6, one matrix product
    checks.append((f"dloss/dZ{l+1}: backward vs (7.6)", Zs[l].grad, dZ_hand))
    checks.append((f"dloss/dW{l+1}: backward vs (7.4)", Ws[l].grad, As[l].numpy() @ dZ_hand.T))
    checks.append((f"dloss/dW0_{l+1}: backward vs (7.6)", W0s[l].grad, dZ_hand))
compare(checks, tol=1e-12, title="Eqs. 7.4 and 7.6 multiplied out vs. the engine's backward")
""")
nb.md(r"""
With a **batch** the examples become the rows of a matrix, `Z = A_prev @ W + W0` (MIT's $W$;
`nn.Linear` stores $W^\top$ as `weight` and computes `A_prev @ weight.T + b`, the same numbers),
and (7.4) becomes a sum of one outer product per example: $\partial J/\partial W = A_{\text{prev}}^\top G$,
where row $b$ of $G$ is $\partial J/\partial Z$ for example $b$. One matrix product does all examples
at once; that is the reason for writing everything in matrix form.
""")
nb.code(r"""
B = 16
Xb = rng.normal(size=(B, 4))
W = ag.tensor(rng.normal(size=(4, 5)), requires_grad=True)
Zb = ag.tensor(Xb) @ W
Zb.retain_grad()
J = Zb.tanh().sum()
J.backward()
outer_sum = sum(np.outer(Xb[b], Zb.grad.numpy()[b]) for b in range(B))
compare([("dJ/dW: backward vs sum of B outer products with the engine's G", W.grad, outer_sum),
         ("dJ/dW: backward vs A_prev^T G with the engine's G", W.grad, Xb.T @ Zb.grad.numpy())],
        title="Batch form of (7.4): the engine's dJ/dW vs numpy products of its dJ/dZ")
""")

# ------------------------------------------------------------------ 2. KTH k-layer
nb.md(r"""
## 2. The KTH aggregated backward pass for a $k$-layer network

The KTH lecture writes a $k$-layer classifier with ReLU hidden layers, a softmax output, the
cross-entropy loss and an $L_2$ penalty:

$$
s^{(i)} = W_i x^{(i-1)} + b_i,\quad x^{(i)} = \max(0, s^{(i)}),\quad
p = \operatorname{softmax}(s^{(k)}),\quad
J = -\log(y^\top p) + \lambda \sum_{i=1}^k \|W_i\|^2 ,
$$

with $x^{(0)} = x$, $y$ one-hot, and $W_i$ of shape (outputs x inputs). Its backward pass carries a
**row** vector $g = \partial J/\partial s$ downwards:

1. start with $g = -\dfrac{y^\top}{y^\top p}\big(\operatorname{diag}(p) - p p^\top\big)$, which simplifies to $(p - y)^\top$;
2. for $i = k, \dots, 1$: $\ \partial J/\partial b_i = g$, $\ \partial J/\partial W_i = g^\top x^{(i-1)\top} + 2\lambda W_i$;
3. then, if $i > 1$: $g \leftarrow g\,W_i$ (now $g = \partial J/\partial x^{(i-1)}$) and
   $g \leftarrow g\,\operatorname{diag}(\operatorname{Ind}(s^{(i-1)} > 0))$ (now $g = \partial J/\partial s^{(i-1)}$).

The mask in step 3 must be that of the layer *below*, $s^{(i-1)}$, because $g$ has just been moved
there; one of the lecture's slides prints $s^{(i)}$ at this spot, and the shapes would not even match
unless two layers have the same width.

For a mini-batch the lecture sums the per-example gradients and divides by the batch size before
adding the penalty's gradient $2\lambda W_i$. Below this is written once in numpy, vectorised over a
batch (each row of `G` is one example's $g$), and compared with the engine.
""")
nb.code(r"""
def kth_forward(Ws, bs, X):
    # X: (n, d) rows; KTH's W_i is (out, in), so a row batch goes X @ W_i.T
    xs, ss = [X], []
    for i, (W, b) in enumerate(zip(Ws, bs)):
        s = xs[-1] @ W.T + b
        ss.append(s)
        if i < len(Ws) - 1:
            xs.append(np.maximum(0, s))
    S = ss[-1]
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return xs, ss, P


def kth_backward(Ws, bs, X, Y, lam):
    # Y: (n, C) one-hot.  Returns dJ/dW_i, dJ/db_i for J = mean cross-entropy + lam * sum ||W_i||^2
    n = X.shape[0]
    xs, ss, P = kth_forward(Ws, bs, X)
    G = P - Y                                       # step 1, all examples at once
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        dbs[i] = G.sum(axis=0) / n                  # step 2
        dWs[i] = G.T @ xs[i] / n + 2 * lam * Ws[i]
        if i > 0:
            G = G @ Ws[i]                           # step 3: to x^(i-1) ...
            G = G * (ss[i - 1] > 0)                 # ... and through its ReLU
    return dWs, dbs, P


k_sizes = [10, 20, 15, 12, 5]          # d = 10 inputs, three hidden layers, C = 5 classes: k = 4
n, lam = 32, 0.01
Ws_np = [rng.normal(0, np.sqrt(2 / a), (b, a)) for a, b in zip(k_sizes[:-1], k_sizes[1:])]
bs_np = [rng.normal(0, 0.1, b) for b in k_sizes[1:]]
X = rng.normal(size=(n, k_sizes[0]))
labels = rng.integers(0, k_sizes[-1], n)
Y = np.eye(k_sizes[-1])[labels]

dWs_hand, dbs_hand, P = kth_backward(Ws_np, bs_np, X, Y, lam)

# the first step, literally as printed, for example 0
p0, y0 = P[0], Y[0]
g_literal = -(y0 / (y0 @ p0)) @ (np.diag(p0) - np.outer(p0, p0))
print("literal g for example 0:", g_literal, "\n      p - y, example 0:", p0 - y0)
""")
nb.code(r"""
# the engine: only the forward pass and the loss are written
Wt = [ag.tensor(W, requires_grad=True, name=f"W{i+1}") for i, W in enumerate(Ws_np)]
bt = [ag.tensor(b, requires_grad=True, name=f"b{i+1}") for i, b in enumerate(bs_np)]
h = ag.tensor(X, name="X")
for i in range(len(Wt)):
    with ag.scope(f"layer {i+1}", kind="module"):      # only names the ops, for the picture
        s = h @ Wt[i].T + bt[i]
        h = s.relu() if i < len(Wt) - 1 else s
with ag.scope("cross-entropy + L2 penalty", kind="module"):
    J = -s.log_softmax(axis=1)[np.arange(n), labels].mean() + lam * sum((W ** 2).sum() for W in Wt)
J.backward(retain_graph=True)

rows = [("numpy vs numpy: step 1 as printed vs p - y", g_literal, p0 - y0)]
for i in range(len(Wt)):
    rows += [(f"dJ/dW{i+1}: engine vs numpy pass", Wt[i].grad, dWs_hand[i]),
             (f"dJ/db{i+1}: engine vs numpy pass", bt[i].grad, dbs_hand[i])]
compare(rows, tol=1e-12, title="KTH aggregated backward pass (numpy) vs. the engine, k = 4")
""")
nb.md(r"""
The hand-written pass needs one line per layer because the lecture did the calculus: it knew that
softmax followed by cross-entropy collapses to $p - y$ and that ReLU's Jacobian is a 0/1 diagonal.
The engine knows neither fact in advance; it chains the local derivatives of `matmul`, `relu`,
`log_softmax`, indexing and `mean`, and lands on the same numbers.

Here is the graph it recorded for this loss, values and gradients summarised by min/mean/max when
large. Each `ag.scope` (which only labels the ops recorded inside it) is drawn as one box: with
`depth=0` a scope becomes a single node with its input and output shapes. Drawn open, the 4 layers
and the loss have over 40 ops and the picture is several thousand pixels wide; the next cell opens
just the last layer and the loss of a batch of 2, where every op fits on a screen.
""")
nb.code(r"""
ag.viz.draw(J, depth=0)
""")
nb.code(r"""
x3 = ag.tensor(kth_forward(Ws_np, bs_np, X[:2])[0][-1], name="x3 (2 examples)")
W4 = ag.tensor(Ws_np[3], requires_grad=True, name="W4")
b4 = ag.tensor(bs_np[3], requires_grad=True, name="b4")
with ag.viz.record_grads():
    with ag.scope("layer 4", kind="module"):
        s4 = x3 @ W4.T + b4
    with ag.scope("cross-entropy", kind="module"):
        J4 = -s4.log_softmax(axis=1)[np.arange(2), labels[:2]].mean()
    J4.backward(retain_graph=True)
ag.viz.draw(J4, max_values=4)
""")

# ------------------------------------------------------------------ 3. local Jacobians
nb.md(r"""
## 3. Local Jacobians, node by node

The lecture derives the backward pass of a 2-layer network one node at a time: for each node it
writes the *local Jacobian* with respect to the node below, then multiplies. For
$s_1 = W_1x + b_1$, $h = \max(0, s_1)$, $s = W_2 h + b_2$, $p = \operatorname{softmax}(s)$:

| local Jacobian | closed form | size |
|:--|:--|:--|
| $\partial p/\partial s$ | $\operatorname{diag}(p) - pp^\top$ (also Sayed (65.69)) | $C\times C$ |
| $\partial s/\partial h$ | $W_2$ | $C\times m$ |
| $\partial h/\partial s_1$ | $\operatorname{diag}(\operatorname{Ind}(s_1>0))$ | $m\times m$ |
| $\partial s_1/\partial b_1$ | $I_m$ | $m\times m$ |
| $\partial s_1/\partial\operatorname{vec}(W_1)$ | $I_m\otimes x^\top$ ($\operatorname{vec}$ stacks the rows of $W_1$) | $m\times md$ |

(here in the usual layout, row = output entry, which is also `jacobian`'s). The engine computes each
one from the forward function alone.
""")
nb.code(r"""
d, m, C = 4, 6, 3
W1 = rng.normal(size=(m, d)); b1 = rng.normal(size=m)
W2 = rng.normal(size=(C, m)); b2 = rng.normal(size=C)
x = rng.normal(size=d)
s1 = W1 @ x + b1; hvec = np.maximum(0, s1); s = W2 @ hvec + b2
p = np.exp(s - s.max()); p /= p.sum()

J_p_s = jacobian(lambda t: t.softmax(), s).numpy()
J_s_h = jacobian(lambda t: ag.tensor(W2) @ t + b2, hvec).numpy()
J_h_s1 = jacobian(lambda t: t.relu(), s1).numpy()
J_s1_b1 = jacobian(lambda t: ag.tensor(W1) @ x + t, b1).numpy()
J_s1_W1 = jacobian(lambda t: t.reshape(m, d) @ x + b1, W1.reshape(-1)).numpy()

compare([("dp/ds", J_p_s, np.diag(p) - np.outer(p, p)),
         ("ds/dh", J_s_h, W2),
         ("dh/ds1", J_h_s1, np.diag((s1 > 0).astype(float))),
         ("ds1/db1", J_s1_b1, np.eye(m)),
         ("ds1/dvec(W1)", J_s1_W1, np.kron(np.eye(m), x[None, :]))], tol=1e-14,
        title="Local Jacobians: ag.functional.jacobian vs. closed form")

fig, axs = plt.subplots(1, 5, figsize=(15, 3.2), gridspec_kw={"width_ratios": [3, 6, 6, 6, 24]})
for ax, M_, t in zip(axs, [J_p_s, J_s_h, J_h_s1, J_s1_b1, J_s1_W1],
                     ["dp/ds", "ds/dh = W2", "dh/ds1", "ds1/db1 = I", r"ds1/dvec(W1) = I $\otimes$ x$^T$"]):
    lim = np.abs(M_).max()
    ax.imshow(M_, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(t, fontsize=10); ax.set_xticks([]); ax.set_yticks([])
plt.suptitle("local Jacobians (red > 0 > blue, white = 0)"); plt.tight_layout(); plt.show()
""")
nb.md(r"""
Chaining them reproduces the gradient: with the loss $J = -\log p_c$ for true class $c$,
$\partial J/\partial p$ is the row vector with $-1/p_c$ in place $c$, and

$$
\frac{\partial J}{\partial \operatorname{vec}(W_1)} =
\frac{\partial J}{\partial p}\,\frac{\partial p}{\partial s}\,\frac{\partial s}{\partial h}\,
\frac{\partial h}{\partial s_1}\,\frac{\partial s_1}{\partial \operatorname{vec}(W_1)} .
$$

The engine never builds these matrices. Each op's VJP multiplies the incoming row vector by its
Jacobian *implicitly*: for `relu` a mask, for `matmul` another matmul, and for
$\partial s_1/\partial \operatorname{vec}(W_1)$, which is almost all zeros, just the outer product
$g^\top x^\top$. For a layer of $m = 500$ units on $d = 500$ inputs
(the width of the KTH lecture's initialization experiment in notebook 5, not a size of this two-layer
example), that Jacobian alone would have
$500 \times 250{,}000$ entries (1 GB in float64), while the outer product has $250{,}000$.
""")
nb.code(r"""
c = 1
dJ_dp = np.zeros(C); dJ_dp[c] = -1 / p[c]
chained = dJ_dp @ J_p_s @ J_s_h @ J_h_s1 @ J_s1_W1          # a row of length m*d

W1_t = ag.tensor(W1, requires_grad=True)
loss = -(ag.tensor(W2) @ (W1_t @ x + b1).relu() + b2).log_softmax()[c]
loss.backward()
compare([("dJ/dW1: backward vs product of the 5 Jacobians", W1_t.grad, chained.reshape(m, d)),
         ("dJ/dW1: backward vs outer product g^T x^T, g = dJ/ds1 from 4 of them", W1_t.grad,
          np.outer(dJ_dp @ J_p_s @ J_s_h @ J_h_s1, x))], tol=1e-12,
        title="Chaining local Jacobians (computed by ag.functional.jacobian, checked above)")
""")

# ------------------------------------------------------------------ 4. Sayed sensitivities
nb.md(r"""
## 4. Sensitivity of the output to the input: Sayed Problems 65.9 and 65.10

Sayed numbers layers from the input ($\ell = 1$, where $y_1 = h$) to the output ($\ell = L$) and writes
$z_{\ell+1} = W_\ell^\top y_\ell - \theta_\ell$, $y_{\ell+1} = f(z_{\ell+1})$, with a softmax output
$\hat\gamma = \operatorname{softmax}(z_L)$. Problems 65.9 and 65.10 ask how the outputs change with the
*input* $h$: the $Q\times M$ Jacobian $\Lambda_L = \partial\hat\gamma/\partial h$. There are two
ways to get it, and they are the two modes of automatic differentiation.

**Backwards, one output at a time (65.9).** Fix an output $q$ and let
$\lambda^q_\ell(j) = \partial\hat\gamma(q)/\partial z_\ell(j)$. At the top, by the softmax
Jacobian (65.69), $\lambda^q_L = \hat\gamma(q)\,(e_q - \hat\gamma)$. Going down one layer works like
the sensitivity recursion (65.61): $\lambda^q_\ell = f'(z_\ell)\odot(W_\ell\,\lambda^q_{\ell+1})$,
and the input layer has no activation, so $\lambda^q_1 = W_1\lambda^q_2$: row $q$ of $\Lambda_L$.
With ReLU the factor $f'(z_\ell)$ is the 0/1 mask $\operatorname{Ind}(z_\ell > 0)$, so the recursion
just switches off the inactive units.

**Forwards, all inputs at once (65.10).** Let $\Lambda_\ell = \partial y_\ell/\partial h$
($n_\ell \times M$). Then $\Lambda_1 = I_M$, and the chain rule gives
$\Lambda_{\ell+1} = \operatorname{diag}(f'(z_{\ell+1}))\,W_\ell^\top\,\Lambda_\ell$ for the hidden
layers and $\Lambda_L = (\operatorname{diag}(\hat\gamma) - \hat\gamma\hat\gamma^\top)W_{L-1}^\top\Lambda_{L-1}$
at the softmax output.

The backward recursion runs $Q$ times and carries a vector; the forward one runs once and carries
an $n_\ell\times M$ matrix. Reverse mode is cheaper when there are fewer outputs than inputs, and a
training loss has exactly one output: that is why back-propagation runs backwards.
""")
nb.code(r"""
S_sizes = [5, 7, 6, 3]                  # n_1 = M = 5 inputs, two hidden layers, Q = 3 outputs: L = 4
L4 = len(S_sizes)
SW = [rng.normal(0, 1 / np.sqrt(a), (a, b)) for a, b in zip(S_sizes[:-1], S_sizes[1:])]   # W_l: n_l x n_{l+1}
Sth = [rng.normal(0, 0.5, b) for b in S_sizes[1:]]
h_in = rng.normal(size=S_sizes[0])
ACTS = {"tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2, ag.tanh),
        "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float), ag.relu)}


def sayed_net(h, act):
    # engine version: returns gamma_hat; h is a Tensor
    y = h
    for l in range(L4 - 2):
        y = ACTS[act][2](y @ SW[l] - Sth[l])          # row-vector form of W^T y - theta
    return (y @ SW[-1] - Sth[-1]).softmax()


rows = []
for act in ACTS:
    f, fp, _ = ACTS[act]
    ys, zs = [h_in], [None]                           # zs[l] = z_{l+1} in Sayed's numbering
    for l in range(L4 - 1):
        zs.append(SW[l].T @ ys[-1] - Sth[l])
        ys.append(f(zs[-1]) if l < L4 - 2 else np.exp(zs[-1]) / np.exp(zs[-1]).sum())
    g_hat = ys[-1]
    Qn = len(g_hat)
    # 65.9: one backward recursion per output q
    Lam_rows = []
    for q in range(Qn):
        lam = g_hat[q] * (np.eye(Qn)[q] - g_hat)      # lambda_L^q
        for l in range(L4 - 2, 0, -1):                # lambda_l = f'(z_l) * (W_l lambda_{l+1}), l = L-1..2
            lam = fp(zs[l]) * (SW[l] @ lam)
        Lam_rows.append(SW[0] @ lam)                  # lambda_1^q = W_1 lambda_2^q
    # 65.10: one forward recursion carrying an n_l x M matrix
    Lam = np.eye(S_sizes[0])
    for l in range(L4 - 1):
        D = np.diag(fp(zs[l + 1])) if l < L4 - 2 else np.diag(g_hat) - np.outer(g_hat, g_hat)
        Lam = D @ SW[l].T @ Lam
    J_engine = jacobian(lambda t: sayed_net(t, act), h_in)
    rows += [(f"{act}: 65.9 rows  vs engine jacobian", J_engine, np.array(Lam_rows)),
             (f"{act}: 65.10 Lambda_L vs engine jacobian", J_engine, Lam)]
compare(rows, tol=1e-13, title="d gamma_hat / d h  (Q x M = 3 x 5)")
""")
nb.md(r"""
The internal sensitivities can be checked too: $\lambda_\ell^q$ is the gradient of one output entry
$\hat\gamma(q)$ with respect to an *intermediate* tensor $z_\ell$, which `ag.grad` returns when the
intermediate tensor is passed as an input.
""")
nb.code(r"""
f, fp, agf = ACTS["tanh"]
h_t = ag.tensor(h_in, requires_grad=True)
z_t, y_t = [], h_t
for l in range(L4 - 1):
    z_t.append(y_t @ SW[l] - Sth[l])
    y_t = agf(z_t[-1]) if l < L4 - 2 else z_t[-1].softmax()
q = 2
grads = ag.grad(y_t[q], z_t + [h_t])          # d gamma_hat(q) / d z_2, z_3, z_4 and d h
# by hand, keeping every lambda
zn = [zt.numpy() for zt in z_t]
lam = {L4: y_t.numpy()[q] * (np.eye(3)[q] - y_t.numpy())}
for l in range(L4 - 1, 1, -1):
    lam[l] = fp(zn[l - 2]) * (SW[l - 1] @ lam[l + 1])
lam[1] = SW[0] @ lam[2]
compare([(f"lambda_{l}^q (q={q})", grads[l - 2], lam[l]) for l in range(2, L4 + 1)]
        + [(f"lambda_1^q = d gamma_hat(q)/dh", grads[-1], lam[1])], tol=1e-13,
        title="Problem 65.9: every sensitivity vector")
""")

# ------------------------------------------------------------------ 5. second derivatives
nb.md(r"""
## 5. Second derivatives: Sayed Problem 65.12 (optional)

*This section can be skipped on a first reading: nothing later in the course builds on it, and the
exercises in §6 do not use it.*

Problem 65.12 asks for the second derivative of the loss with respect to one weight
$w^{(\ell)}_{ij}$ (the weight from node $i$ of layer $\ell$ to node $j$ of layer $\ell+1$), and gives
the matrix of all of them as

$$
\frac{\partial^2 \mathcal Q}{\partial W_\ell^2} \overset{?}{=}
(y_\ell\odot y_\ell)\,\big\{f''(z_{\ell+1})\odot(W_{\ell+1}\,\delta_{\ell+2})\big\}^\top ,
$$

where $\delta$ are the sensitivities (65.52). `ag.functional.hessian` gives the exact answer: it
differentiates the gradient a second time (`create_graph=True`), and the diagonal of the Hessian
with respect to $\operatorname{vec}(W_\ell)$ holds exactly these numbers.

Let us first derive what to expect. The weight $w^{(\ell)}_{ij}$ enters the loss only through
$z_{\ell+1}(j) = \dots + w^{(\ell)}_{ij} y_\ell(i)$, linearly, and $y_\ell$ does not depend on it; so
$\partial^2\mathcal Q/\partial (w^{(\ell)}_{ij})^2 = y_\ell(i)^2\,[H_{\ell+1}]_{jj}$ with
$H_\ell = \partial^2 \mathcal Q/\partial z_\ell^2$, the Hessian with respect to the pre-activations.
Differentiating $\delta_\ell = f'(z_\ell)\odot(W_\ell\delta_{\ell+1})$ (65.61) once more gives a
backward recursion for it:

$$
H_\ell = \operatorname{diag}(f'(z_\ell))\,W_\ell H_{\ell+1}W_\ell^\top\operatorname{diag}(f'(z_\ell))
+ \operatorname{diag}\big(f''(z_\ell)\odot(W_\ell\delta_{\ell+1})\big),
$$

starting from $H_L = \operatorname{diag}\big(2f'(z_L)^2 + 2(\hat\gamma-\gamma)\odot f''(z_L)\big)$ for the
squared error $\|\gamma-\hat\gamma\|^2$ with activation $f$ at the output, or
$H_L = \operatorname{diag}(\hat\gamma) - \hat\gamma\hat\gamma^\top$ for softmax with cross-entropy.
The printed formula is the **second** term of $H_{\ell+1}$ only; the first, which involves the
curvature $H_{\ell+2}$ further up, is missing. Bias derivatives (Problem 65.13) are the same with
$y_\ell(i)^2$ replaced by 1. The engine settles it:
""")
nb.code(r"""
T_sizes = [3, 4, 4, 2]                  # L = 4 layers: W_1 (3x4), W_2 (4x4), W_3 (4x2)
TW = [rng.normal(0, 1, (a, b)) for a, b in zip(T_sizes[:-1], T_sizes[1:])]
Tth = [rng.normal(0, 0.5, b) for b in T_sizes[1:]]
h0 = rng.normal(size=T_sizes[0])
gamma = np.array([1.0, -1.0])           # least squares: +-1 targets with tanh outputs
r_true = 0                              # cross-entropy: true class
f, fp, fpp = np.tanh, (lambda z: 1 - np.tanh(z) ** 2), (lambda z: -2 * np.tanh(z) * (1 - np.tanh(z) ** 2))


def risk(Wl, ell, kind, theta=None):
    # Q(gamma, h) as a function of W_ell (and optionally theta_ell), on the engine
    y = ag.tensor(h0)
    for l in range(3):
        W = Wl if l == ell - 1 else TW[l]
        th = theta if (theta is not None and l == ell - 1) else Tth[l]
        z = y @ W - th
        if l < 2:
            y = z.tanh()
    if kind == "ls":
        return ((gamma - z.tanh()) ** 2).sum()
    return -z.log_softmax()[r_true]


def by_hand(ell, kind):
    ys, zs = [h0], [None]
    for l in range(3):
        zs.append(TW[l].T @ ys[-1] - Tth[l])
        ys.append(f(zs[-1]))
    ys = {l + 1: v for l, v in enumerate(ys)}            # Sayed's numbering: y_1 = h
    zs = {l + 1: v for l, v in enumerate(zs)}
    W = {l + 1: w for l, w in enumerate(TW)}
    zL = zs[4]
    if kind == "ls":
        g_hat = f(zL)
        delta = {4: 2 * (g_hat - gamma) * fp(zL)}                             # (65.56)
        H = {4: np.diag(2 * fp(zL) ** 2 + 2 * (g_hat - gamma) * fpp(zL))}
    else:
        g_hat = np.exp(zL - zL.max()); g_hat /= g_hat.sum()
        delta = {4: g_hat - np.eye(2)[r_true]}
        H = {4: np.diag(g_hat) - np.outer(g_hat, g_hat)}
    for l in (3, 2):
        delta[l] = fp(zs[l]) * (W[l] @ delta[l + 1])                           # (65.61)
        Dl = np.diag(fp(zs[l]))
        H[l] = Dl @ W[l] @ H[l + 1] @ W[l].T @ Dl + np.diag(fpp(zs[l]) * (W[l] @ delta[l + 1]))
    book = np.outer(ys[ell] ** 2, fpp(zs[ell + 1]) * (W[ell + 1] @ delta[ell + 2]))   # as printed
    full = np.outer(ys[ell] ** 2, np.diag(H[ell + 1]))
    D = np.diag(fp(zs[ell + 1]))
    dropped = np.outer(ys[ell] ** 2, np.diag(D @ W[ell + 1] @ H[ell + 2] @ W[ell + 1].T @ D))
    return book, full, dropped, np.diag(H[ell + 1])


rows, gaps, size = [], [], []
for kind in ("ls", "ce"):
    for ell in (1, 2):
        shape = TW[ell - 1].shape
        Hw = hessian(lambda v: risk(v.reshape(*shape), ell, kind), TW[ell - 1].reshape(-1)).numpy()
        diag_engine = np.diag(Hw).reshape(shape)
        Ht = hessian(lambda t: risk(TW[ell - 1], ell, kind, theta=t), Tth[ell - 1]).numpy()
        book, full, dropped, Hdiag = by_hand(ell, kind)
        name = {"ls": "least squares", "ce": "cross-entropy"}[kind]
        rows += [(f"{name}, d2Q/dW{ell}^2: engine vs. complete formula", diag_engine, full),
                 (f"{name}, d2Q/dtheta{ell}^2 (65.13): engine vs. diag H", np.diag(Ht), Hdiag)]
        gaps.append((f"{name}, W{ell}: (engine - printed) vs dropped term by hand", diag_engine - book, dropped))
        size.append(np.abs(diag_engine - book).max() / np.abs(diag_engine).max())
compare(rows, tol=1e-12, title="Diagonal second derivatives: ag.functional.hessian vs. the complete recursion")
compare(gaps, tol=1e-12, title="What the expression printed in Problem 65.12 leaves out "
                               "(left column: engine minus the printed expression)")
print("largest gap between engine and printed expression, relative to the largest entry:", np.round(size, 2))
""")
nb.md(r"""
The complete recursion matches the engine to rounding error, for both risks and both layers, and
the gap between the engine and the printed expression is exactly the dropped term
$y_\ell(i)^2 f'(z_{\ell+1}(j))^2\,[W_{\ell+1}H_{\ell+2}W_{\ell+1}^\top]_{jj}$, which is not small
(last line of the output). The Gauss-Newton approximation does roughly the opposite: it keeps the
curvature carried down from the loss and drops the $f''$ terms. A check like
this costs three lines with `ag.functional.hessian`, which is a good reason to run it before trusting
any second-order derivation, including one in a textbook.

## Summary

- Eqs. 7.4-7.6 hold with the shapes of the table in §1; with a batch of rows and MIT's $W$ (7.4)
  becomes `A_prev.T @ G`, summing one outer product per example; `nn.Linear` stores the transpose,
  so its `weight.grad` is `G.T @ A_prev`.
- The KTH aggregated backward pass, a dozen lines of numpy, reproduces the engine's gradients for a
  4-layer ReLU/softmax/cross-entropy network with $L_2$ penalty to about $10^{-16}$.
- Local Jacobians explain each step, but the engine only ever multiplies by them implicitly (VJPs).
- Sayed's sensitivity recursions (65.9 backwards, 65.10 forwards) both give $\partial\hat\gamma/\partial h$;
  `ag.functional.jacobian` and `ag.grad` with intermediate inputs confirm every vector.
- (Optional) For second derivatives (65.12) the engine confirms a complete recursion and shows what the printed
  expression leaves out.

Bigger sizes change nothing here except time: the hand pass and the engine agree to rounding error
for any widths. The forward recursion of 65.10 would grow like $n_\ell\times M$ per layer, which is
why nobody uses it to train networks with many inputs.
""")

# ------------------------------------------------------------------ 6. exercises
nb.md(r"""
## 6. Exercises: two backward passes, graded

Section 3 said the engine multiplies by each Jacobian *implicitly*. Now you write two of those
implicit products yourself, as primitives (notebook 1, section 6, shows how `@ag.primitive`,
`defvjp` and `ag.check_vjp` work). A VJP receives the upstream gradient `g` (the shape of the
output), the output `ans` and the inputs, and returns the gradient for one input, in that input's
shape.

**Exercise 1: softmax cross-entropy.** For logits $Z$ ($n\times C$, one row per example) and integer
labels $y$, the loss is $\ell = -\frac1n\sum_b \log \operatorname{softmax}(Z_b)_{y_b}$. KTH's step 1
(section 2) gives its gradient: $\partial\ell/\partial Z = (P - Y)/n$ with $P$ the row-wise softmax
and $Y$ the one-hot labels. The output is a scalar, so `g` is a scalar too; don't forget it. The
labels are passed by keyword (`y=`), so they reach the VJP unchanged and get no gradient.
""")
nb.code(r"""
# EXERCISE 1: the VJP of the mean softmax cross-entropy with respect to the logits Z.
@ag.primitive
def softmax_ce(Z, y=None):
    Zs = Z - Z.max(axis=1, keepdims=True)                  # shift for stability: softmax is unchanged
    logP = Zs - np.log(np.exp(Zs).sum(axis=1, keepdims=True))
    return -logP[np.arange(len(y)), y].mean()


def softmax_ce_vjp(g, ans, Z, y=None):
    # SOLUTION
    E = ag.exp(Z - Z.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)
    Y = np.eye(Z.shape[1])[y]
    return g * (P - Y) / Z.shape[0]
    # END SOLUTION


softmax_ce.defvjp(softmax_ce_vjp);
""")
nb.code(r"""
Z_ex = np.array([[1.0, -0.5, 0.3], [0.2, 2.0, -1.0], [-0.7, 0.1, 0.4], [1.5, 1.4, -0.2]])
ag.check_vjp(softmax_ce, Z_ex, kwargs={"y": np.array([0, 1, 2, 1])})
""")
nb.md(r"""
**Exercise 2: a linear layer with its bias.** `linear(X, W, b) = X @ W.T + b`, as `ag.linear` and
`nn.Linear`, with $X$ ($n\times m$), $W$ ($k\times m$, outputs x inputs) and $b$ of shape $(k,)$,
added to every row: broadcasting uses $b$ $n$ times, so its gradient is the sum of the $n$ rows of `g`
(fan-out, notebook 1). Write the three VJPs (section 1 gives the first two for MIT's $W$, which is our
`W.T`: (7.4) in batch form is `A_prev.T @ G`, so transpose it).
""")
nb.code(r"""
# EXERCISE 2: the three VJPs of a linear layer.
@ag.primitive
def linear(X, W, b):
    return X @ W.T + b


def linear_vjp_X(g, ans, X, W, b):
    # SOLUTION
    return g @ W
    # END SOLUTION


def linear_vjp_W(g, ans, X, W, b):
    # SOLUTION
    return g.T @ X
    # END SOLUTION


def linear_vjp_b(g, ans, X, W, b):
    # SOLUTION
    return g.sum(axis=0)
    # END SOLUTION


linear.defvjp(linear_vjp_X, linear_vjp_W, linear_vjp_b);
""")
nb.code(r"""
X_ex = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.4], [-0.8, 0.9, 0.1], [0.2, -0.6, 1.1]])
W_ex = np.array([[0.3, 1.1, -0.5], [-0.2, 0.4, 0.9]])      # (out, in) = (2, 3)
ag.check_vjp(linear, X_ex, W_ex, np.array([0.1, -0.3]))
""")
nb.md(r"""
"broadcast" in the verdict: the grader also passed a bias of shape `(1,)` and `()`, which
`X @ W.T + b` broadcasts just as well. It did not try other shapes for `X` and `W`: changing one entry
of `W` changes a whole column of the output, so `linear` does not use them element by element, and a
`W` of shape `(1, 3)`, which the forward would accept, is a different layer, not a broadcast.

Two mistakes and their verdicts. The first swaps the roles in $\partial\ell/\partial W$ and gets an
$m\times k$ matrix (`X.T @ g`, right for MIT's layout): the grader sees that its transpose is the gradient. The second returns `g` for the
bias: the engine sums a VJP's result over the axes that numpy broadcasting added, as it does for the
built-in `+` (whose VJP is just `g`), so the gradient is right after all and the grader says so, with
a note. A forgotten sum is only wrong when the op stretches $b$ along an axis numpy would not
(`x + b[:, None]`), and then `check_vjp` names it.

Each demo keeps the other two VJPs right by taking them from the *reference* solution, not from
your cell above: `reference.solutions` (in `notebooks/reference.py`) runs this notebook's exercise
cells as its build script writes them, solutions included, without touching your definitions. So in
the student version the demo shows these verdicts before your own answer works.
""")
nb.code(r"""
import reference
ref = reference.solutions("nb02_backprop_matrix_form", globals())   # ref.linear_vjp_X, ...: the reference VJPs
swapped = ag.primitive(lambda X, W, b: X @ W.T + b, name="linear, X.T @ g").defvjp(
    ref.linear_vjp_X, lambda g, ans, X, W, b: X.T @ g, ref.linear_vjp_b)
print(str(ag.check_vjp(swapped, X_ex, W_ex, np.array([0.1, -0.3]))).splitlines()[0], "\n")
unsummed = ag.primitive(lambda X, W, b: X @ W.T + b, name="linear, db = g").defvjp(
    ref.linear_vjp_X, ref.linear_vjp_W, lambda g, ans, X, W, b: g)
print(ag.check_vjp(unsummed, X_ex, W_ex, np.array([0.1, -0.3])))
""")


if __name__ == "__main__":
    main(nb, "02_backprop_matrix_form.ipynb")
