"""Builds notebooks/09_beyond_chains.ipynb (run: .venv/bin/python notebooks/build/nb09_beyond_chains.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()

nb.md(r"""
# 9. Beyond a chain of layers: tied weights and shared networks

Every network so far was a chain, `nn.Sequential(layer, layer, ...)`, where each parameter is used
exactly once. The engine never relied on that. It records whatever operations run, in whatever
arrangement, and back-propagates through the resulting graph; when one tensor is used in several
places, the gradients arriving from each use are *added* (the fan-out rule of notebook 1). Two
architectures from Sayed's chapter 65 are built on exactly that:

1. **an autoencoder with tied weights** (Sayed, Example 65.4 and Problem 65.16): the decoder uses the
   transpose of the encoder's matrix, so one $W$ appears twice in the graph. With the nonlinearities
   removed it becomes PCA (Example 65.5, Eqs. 65.103-65.109), which we verify numerically;
2. **a Siamese network** (Problem 65.22): one network applied to two inputs, and a loss on the pair of
   outputs, so every weight receives gradient through two branches.

Neither fits `nn.Sequential`; both are a few lines as an `nn.Module` or a plain function, and the
engine differentiates them like anything else. As everywhere, each gradient is checked against a
derivation by hand.
""")

nb.code(r"""
import time
import numpy as np
import matplotlib.pyplot as plt

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad import optim

T0 = time.perf_counter()
plt.rcParams.update({"figure.dpi": 90})
""" + COMPARE)

nb.md(r"""
The data: scikit-learn's 8x8 handwritten digits through `nn.data.load_digits()`, split into about 1,440
training and 360 test images, each a row of 64 pixels in $[0, 1]$.
""")

nb.code(r"""
(X_train, y_train), (X_test, y_test) = nn.data.load_digits()
N, M = X_train.shape
print(f"{N} training and {len(X_test)} test images of {M} pixels")


def show_images(rows, titles, cmap="gray_r", vmin=0, vmax=1, size=1.0):
    # A grid of 8x8 images: rows is a list of arrays (n_images, 64), one per row of the grid.
    fig, ax = plt.subplots(len(rows), len(rows[0]), figsize=(size * len(rows[0]), size * 1.15 * len(rows)),
                           squeeze=False)
    for r, (imgs, title) in enumerate(zip(rows, titles)):
        for c, img in enumerate(imgs):
            ax[r, c].imshow(img.reshape(8, 8), cmap=cmap, vmin=vmin, vmax=vmax)
            ax[r, c].axis("off")
        ax[r, 0].set_title(title, fontsize=9, loc="left")
    plt.tight_layout()
""")

nb.md(r"""
## 1. PCA is a linear autoencoder with tied weights

Example 65.5 starts from features that are centred and scaled to unit variance (Sayed's
procedure 57.6), collects them as the rows of $H$ ($N\times M$), and takes the singular value decomposition
$H = V\,[\Sigma;\,0]\,U^\top$ (65.108). Keeping the $M'$ leading right singular vectors $U_1$ ($M\times M'$),
PCA encodes $h' = U_1^\top h$ and decodes $\hat h = U_1 h'$ (65.105): an autoencoder with weights
$W_1 = U_1$, $W_2 = U_1^\top$, no nonlinearities, and tied matrices. By the Eckart-Young theorem
(65.107, 65.109) $\hat H = H U_1 U_1^\top$ is the best rank-$M'$ approximation of $H$, so its error
$\|H - \hat H\|_F^2$ equals the sum of the discarded squared singular values.

So train the autoencoder instead of computing the SVD: minimise
$$J(W) = \tfrac1N\,\|H - H W W^\top\|_F^2, \qquad W \in \mathbb R^{M\times M'},$$
from a random start. $W$ appears twice, so its gradient has two terms: with $R = H - HWW^\top$,
$$\nabla J = -\tfrac2N\big(H^\top R\,W + R^\top H\,W\big),$$
the first from the encoder's use of $W$, the second from the decoder's $W^\top$.
""")

nb.code(r"""
k = 8                                                     # M', the size of the code
mean, std = X_train.mean(0), X_train.std(0)
std[std == 0] = 1.0                                       # pixels that are always blank stay 0
H = (X_train - mean) / std                                # Sayed's (57.6): centre, then scale
U = np.linalg.svd(H, full_matrices=False)[2].T            # right singular vectors, as columns
U1 = U[:, :k]
sing = np.linalg.svd(H, compute_uv=False)
pca_error = np.sum((H - H @ U1 @ U1.T) ** 2) / N


class LinearTiedAutoencoder(nn.Module):
    # h -> h W -> (h W) W^T: encoder and decoder share the one matrix W.
    def __init__(self, n_in, n_code):
        super().__init__()
        self.W = nn.Parameter(0.1 * ag.get_rng().standard_normal((n_in, n_code)))

    def forward(self, h):
        return (h @ self.W) @ self.W.T


ag.manual_seed(0)
linear_ae = LinearTiedAutoencoder(M, k)
Ht = ag.tensor(H)
R_ = H - H @ linear_ae.W.numpy() @ linear_ae.W.numpy().T
J = ((Ht - linear_ae(Ht)) ** 2).sum() / N
J.backward()
W0 = linear_ae.W.numpy()
compare([("J(W) at the random start", J, np.sum(R_ ** 2) / N),
         ("dJ/dW (both uses of W)", linear_ae.W.grad, -2 / N * (H.T @ R_ @ W0 + R_.T @ H @ W0)),
         ("PCA error = sum of discarded sigma^2 / N", pca_error, np.sum(sing[k:] ** 2) / N)],
        title="the tied linear autoencoder: value and gradient")
""")

nb.code(r"""
opt = optim.Adam(linear_ae.parameters(), lr=0.01)
history = []
for step in range(400):
    J = ((Ht - linear_ae(Ht)) ** 2).sum() / N
    opt.zero_grad()
    J.backward()
    opt.step()
    history.append(J.item())
J_final = (((Ht - linear_ae(Ht)) ** 2).sum() / N).item()

W = linear_ae.W.numpy()
Q = np.linalg.qr(W)[0]                                    # an orthonormal basis of span(W)
cosines = np.linalg.svd(Q.T @ U1, compute_uv=False)       # cosines of the principal angles
compare([("trained autoencoder error vs PCA error (65.109)", J_final, pca_error),
         ("singular values of W (orthonormal columns: all 1)", np.linalg.svd(W, compute_uv=False), np.ones(k)),
         ("cosines of the angles between span(W) and span(U1)", cosines, np.ones(k))],
        tol=1e-8, title="after 400 Adam steps: the autoencoder has found PCA's subspace")

plt.figure(figsize=(6, 3))
plt.semilogy(np.array(history) - pca_error + 1e-16)
plt.xlabel("Adam step")
plt.ylabel("J(W) - PCA error")
plt.title("training the tied linear autoencoder")
plt.grid(alpha=0.3)
plt.tight_layout()
""")

nb.md(r"""
The trained $W$ has orthonormal columns spanning exactly PCA's subspace, and the reconstruction error is
the Eckart-Young minimum. What gradient descent does *not* recover is $U_1$ itself: any $W = U_1 Q$ with an
orthogonal $k\times k$ matrix $Q$ gives the same $WW^\top$ and the same error, so the autoencoder's code
is a rotation of PCA's. The pictures show it: the columns of $U_1$ are ordered by variance and
interpretable one by one; the columns of $W$ are mixtures of them.
""")

nb.code(r"""
lim = np.abs(np.concatenate([U1, W])).max()
show_images([U1.T, W.T], ["columns of U1 (PCA)", "columns of W (autoencoder)"],
            cmap="RdBu_r", vmin=-lim, vmax=lim)
print("U1^T W is orthogonal: largest entry of |Q^T Q - I| =",
      np.abs((U1.T @ W).T @ (U1.T @ W) - np.eye(k)).max().round(12))
""")

nb.md(r"""
## 2. A nonlinear autoencoder with tied weights (Problem 65.16)

Problem 65.16 keeps the tie $W_2 = W_1^\top$ but puts sigmoids on both layers, for features in
$(0, 1)$, and trains with the regularized cross-entropy. In our row convention, for a batch $H$:
$$Y = \sigma(HW + b_1)\ \ \text{(encode, Eq. 65.101)},\qquad \hat H = \sigma(YW^\top + b_2)\ \ \text{(decode, Eq. 65.102)},$$
$$\mathcal P = \rho\|W\|_F^2 - \frac1N\sum_{n}\sum_{m}\Big(h_{nm}\ln\hat h_{nm} + (1-h_{nm})\ln(1-\hat h_{nm})\Big).$$

**By hand.** With a sigmoid output and the cross-entropy, the sensitivity of the output layer's
pre-activation is simply $D_2 = (\hat H - H)/N$ (the two-class case of Sayed's $\delta_L = \hat\gamma - \gamma$).
It reaches the hidden layer through $W^\top$, so $D_1 = (D_2 W)\odot Y\odot(1-Y)$. The matrix $W$ collects
one term from each of its two uses, plus the penalty:
$$\frac{\partial\mathcal P}{\partial W} = \underbrace{H^\top D_1}_{\text{encoder}} + \underbrace{D_2^\top Y}_{\text{decoder}} + 2\rho W,
\qquad \frac{\partial\mathcal P}{\partial b_1} = \textstyle\sum_n D_1,\qquad \frac{\partial\mathcal P}{\partial b_2} = \sum_n D_2 .$$

To see the two terms separately in the engine, the forward function takes the encoder's and the
decoder's matrix as two arguments: the module passes `self.W` twice, and for the check we pass a
detached copy (`W.detach()`, a constant to the engine) in one place or the other, so that only one
path carries gradient. The engine works on the logits and uses `BCEWithLogitsLoss`, the numerically
stable form of the same risk.
""")

nb.code(r"""
RHO = 1e-4


def tied_forward(h, W_enc, W_dec, b_enc, b_dec):
    # Logits of the reconstruction: sigmoid(h W_enc + b_enc) W_dec^T + b_dec.
    return (h @ W_enc + b_enc).sigmoid() @ W_dec.T + b_dec


class TiedAutoencoder(nn.Module):
    def __init__(self, n_in, n_code):
        super().__init__()
        self.W = nn.Parameter(ag.get_rng().standard_normal((n_in, n_code)) / np.sqrt(n_in))
        self.b_enc = nn.Parameter(np.zeros(n_code))
        self.b_dec = nn.Parameter(np.zeros(n_in))

    def encode(self, h):
        return (h @ self.W + self.b_enc).sigmoid()

    def forward(self, h):
        return tied_forward(h, self.W, self.W, self.b_enc, self.b_dec)     # the same W, used twice


def risk(logits, h, W):
    return nn.BCEWithLogitsLoss(reduction="sum")(logits, h) / len(h) + RHO * (W * W).sum()


ag.manual_seed(0)
ae = TiedAutoencoder(M, k)
h = ag.tensor(X_train[:100])
grads = {}
for path, (enc, dec) in {"both": (ae.W, ae.W), "encoder": (ae.W, ae.W.detach()),
                         "decoder": (ae.W.detach(), ae.W)}.items():
    ae.zero_grad()
    risk(tied_forward(h, enc, dec, ae.b_enc, ae.b_dec), h, ae.W).backward()
    grads[path] = {name: p.grad.numpy().copy() for name, p in ae.named_parameters()}

Hn, Wn = X_train[:100], ae.W.numpy()
Y = 1 / (1 + np.exp(-(Hn @ Wn)))                          # b_enc = b_dec = 0 at the start
H_hat = 1 / (1 + np.exp(-(Y @ Wn.T)))
D2 = (H_hat - Hn) / len(Hn)
D1 = (D2 @ Wn) * Y * (1 - Y)
compare([("dP/dW, encoder path only (+ penalty)", grads["encoder"]["W"], Hn.T @ D1 + 2 * RHO * Wn),
         ("dP/dW, decoder path only (+ penalty)", grads["decoder"]["W"], D2.T @ Y + 2 * RHO * Wn),
         ("dP/dW, W used twice", grads["both"]["W"], Hn.T @ D1 + D2.T @ Y + 2 * RHO * Wn),
         ("dP/db_enc", grads["both"]["b_enc"], D1.sum(0)),
         ("dP/db_dec", grads["both"]["b_dec"], D2.sum(0))],
        title="tied sigmoid autoencoder: engine vs hand, 100 digits")
""")

nb.md(r"""
In the recorded graph $W$ is one leaf with four outgoing edges: into the encoder's `matmul`, into the
`transpose` that feeds the decoder, and twice into the `mul` of the penalty $W \odot W$. Backward adds
what comes back along all of them (here for a tiny model: 4 pixels, a code of 2, 3 images).
""")

nb.code(r"""
small = TiedAutoencoder(4, 2)
with ag.viz.record_grads():
    loss = risk(small(ag.tensor(X_train[:3, :4])), ag.tensor(X_train[:3, :4]), small.W)
    loss.backward()
ag.viz.draw(loss, model=small, show_values=False)
""")

nb.md(r"""
Now train it, for codes of 4, 8 and 16 units, with Adam on mini-batches of 64, and compare its
reconstructions of the *test* digits with PCA's. For a fair comparison both are measured the same way,
as the squared error in pixel space per image, and PCA here works on the centred (not standardized)
pixels, which is the version that minimises exactly this error.
""")

nb.code(r"""
def pca_reconstruct(X, k):
    mu = X_train.mean(0)
    V = np.linalg.svd(X_train - mu, full_matrices=False)[2][:k].T
    return (X - mu) @ V @ V.T + mu


def train_autoencoder(k, epochs=60):
    ag.manual_seed(0)
    model = TiedAutoencoder(M, k)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        for xb, _ in nn.data.DataLoader(X_train, y_train, batch_size=64, seed=epoch):
            loss = risk(model(xb), xb, model.W)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def reconstruct(model, X):
    with ag.no_grad():
        return model(ag.tensor(X)).sigmoid().numpy()


per_image = lambda R: np.sum((R - X_test) ** 2) / len(X_test)
codes = [4, 8, 16]
models = {k_: train_autoencoder(k_) for k_ in codes}
ks = np.arange(1, 25)
plt.figure(figsize=(6, 3.4))
plt.plot(ks, [per_image(pca_reconstruct(X_test, k_)) for k_ in ks], ".-", label="PCA")
plt.plot(codes, [per_image(reconstruct(models[k_], X_test)) for k_ in codes], "s", ms=8,
         label="tied sigmoid autoencoder")
plt.xlabel("size of the code")
plt.ylabel("squared error per test image")
plt.grid(alpha=0.3)
plt.legend()
plt.tight_layout()
for k_ in codes:
    print(f"code size {k_:2d}: PCA {per_image(pca_reconstruct(X_test, k_)):.3f}   "
          f"autoencoder {per_image(reconstruct(models[k_], X_test)):.3f}")
""")

nb.code(r"""
show_images([X_test[:12], pca_reconstruct(X_test[:12], 8), reconstruct(models[8], X_test[:12])],
            ["test digits", "PCA, 8 components", "tied sigmoid autoencoder, 8 units"])
""")

nb.md(r"""
The nonlinear autoencoder comes within about 15-40% of PCA's error at every code size, never better, in
line with Sayed's remark after Example 65.5 that PCA's modelling capability is comparable to that of autoencoders
with nonlinearities. Its bounded sigmoid code (8 numbers in $(0,1)$) is also a more constrained
representation than PCA's 8 unbounded coordinates. A bigger run (deeper encoders, longer training, more
data) is where nonlinear autoencoders pull ahead.

## 3. A Siamese network (Problem 65.22)

Two images go through *the same* network, giving two embeddings $\hat\gamma^{(1)}, \hat\gamma^{(2)}\in\mathbb R^Q$,
and the prediction is their cosine similarity
$$\hat\gamma = \cos\angle(\hat\gamma^{(1)},\hat\gamma^{(2)}) = \frac{(\hat\gamma^{(1)})^\top\hat\gamma^{(2)}}{\|\hat\gamma^{(1)}\|\,\|\hat\gamma^{(2)}\|},$$
trained towards $\gamma = +1$ for a matching pair and $-1$ for a non-matching one, with the risk
$\rho\sum_\ell\|W_\ell\|_F^2 + \frac1N\sum_n(\gamma(n) - \hat\gamma(n))^2$. In Sayed's story the pairs are
signatures, genuine or forged; ours are two digits, the same digit or not.

One change: the problem asks for sigmoid units in the last layer, but then every embedding has positive
entries, the cosine of two such vectors can never be negative, and the target $-1$ is out of reach. We
use tanh in the last layer, which keeps everything else of the problem and lets the cosine span $[-1, 1]$.

The cosine is defined once with `@ag.composite("cosine")`, so it shows up in pictures as one named op.
""")

nb.code(r"""
@ag.composite("cosine")
def cosine(u, v):
    # Row-wise cosine similarity of two batches of embeddings.
    return (u * v).sum(axis=1) / ((u * u).sum(axis=1).sqrt() * (v * v).sum(axis=1).sqrt())


def make_pairs(X, y, n, rng):
    # n pairs of row indices, half of them the same digit (target +1), half different (-1).
    first = rng.integers(0, len(y), n)
    same = rng.random(n) < 0.5
    second = np.array([rng.choice(np.flatnonzero((y == y[i]) == s)) for i, s in zip(first, same)])
    return first, second, np.where(same, 1.0, -1.0)


rng = np.random.default_rng(0)
pairs_train = make_pairs(X_train, y_train, 6000, rng)
pairs_test = make_pairs(X_test, y_test, 1000, rng)
ag.manual_seed(0)
embed = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 16), nn.Tanh())     # Q = 16


def pair_risk(net, X, pairs, idx, rho=RHO):
    first, second, target = pairs
    c = cosine(net(ag.tensor(X[first[idx]])), net(ag.tensor(X[second[idx]])))
    weights = [p for n_, p in net.named_parameters() if n_.endswith("weight")]
    return ((ag.tensor(target[idx]) - c) ** 2).mean() + rho * nn.functional.l2_penalty(weights)


with ag.viz.record_grads():
    loss = pair_risk(embed, X_train, pairs_train, np.arange(2))
    loss.backward()
ag.viz.draw(loss, model=embed, show_values=False, depth=0)     # each call of the network as one box
""")

nb.md(r"""
The picture is the whole point: the module's parameters (`0.weight`, `0.bias`, `2.weight`, `2.bias`)
are single leaves, each feeding both calls of the network (drawn as `Sequential` and
`Sequential (call 2)`, each collapsed into one box by `depth=0`; `depth=1` opens them into their
four layers, in a picture twice as large), and the cosine joins the two branches.

**By hand.** For one pair, write $u$, $v$ for the embeddings and $c$ for their cosine. Then
$$\frac{\partial c}{\partial u} = \frac{v}{\|u\|\|v\|} - c\,\frac{u}{\|u\|^2},\qquad
\frac{\partial c}{\partial v} = \frac{u}{\|u\|\|v\|} - c\,\frac{v}{\|v\|^2},\qquad
\frac{\partial(\gamma - c)^2}{\partial c} = -2(\gamma - c).$$
From $\partial\mathcal P/\partial u$ each branch back-propagates as in any two-layer tanh network
($\delta_2 = \partial\mathcal P/\partial u \odot (1-u^2)$, $\partial W_2 \mathrel{+}= a_1^\top\delta_2$,
$\delta_1 = (\delta_2 W_2^\top)\odot(1-a_1^2)$, $\partial W_1 \mathrel{+}= h^\top\delta_1$), and the shared
parameters receive the **sum** of the two branches' contributions (Problem 65.22 asks exactly for this).

The engine's side, branch by branch: evaluating one branch with gradient recording switched off
(`ag.set_grad_enabled(False)`) turns its embedding into a constant, so backward then reaches the
parameters only through the other branch.
""")

nb.code(r"""
def branch_by_hand(net, h, upstream):
    # Back-propagate dP/d(embedding) through Linear-Tanh-Linear-Tanh; returns gradients by parameter name.
    W1, b1, W2, b2 = (p.numpy() for _, p in net.named_parameters())
    a1 = np.tanh(h @ W1.T + b1)            # weights are (out, in)
    out = np.tanh(a1 @ W2.T + b2)
    d2 = upstream * (1 - out ** 2)
    d1 = (d2 @ W2) * (1 - a1 ** 2)
    return {"0.weight": d1.T @ h, "0.bias": d1.sum(0), "2.weight": d2.T @ a1, "2.bias": d2.sum(0)}


idx = np.arange(32)
first, second, target = pairs_train
h1, h2, g = X_train[first[idx]], X_train[second[idx]], target[idx]

engine = {}
for which in ["both", "branch 1", "branch 2"]:
    embed.zero_grad()
    with ag.set_grad_enabled(which != "branch 2"):      # recorded, or computed as a constant
        u = embed(ag.tensor(h1))
    with ag.set_grad_enabled(which != "branch 1"):
        v = embed(ag.tensor(h2))
    ((ag.tensor(g) - cosine(u, v)) ** 2).mean().backward()
    engine[which] = {name: p.grad.numpy().copy() for name, p in embed.named_parameters()}

with ag.no_grad():
    U_, V_ = embed(ag.tensor(h1)).numpy(), embed(ag.tensor(h2)).numpy()
nu, nv = np.linalg.norm(U_, axis=1, keepdims=True), np.linalg.norm(V_, axis=1, keepdims=True)
c = np.sum(U_ * V_, axis=1, keepdims=True) / (nu * nv)
dc = -2 * (g[:, None] - c) / len(g)                      # d(mean (gamma - c)^2) / dc
hand1 = branch_by_hand(embed, h1, dc * (V_ / (nu * nv) - c * U_ / nu ** 2))
hand2 = branch_by_hand(embed, h2, dc * (U_ / (nu * nv) - c * V_ / nv ** 2))
rows = []
for name in hand1:
    rows.append((f"{name}: branch 1 only", engine["branch 1"][name], hand1[name]))
    rows.append((f"{name}: branch 2 only", engine["branch 2"][name], hand2[name]))
    rows.append((f"{name}: shared (sum)", engine["both"][name], hand1[name] + hand2[name]))
compare(rows, title="Siamese network, 32 pairs: each branch and their sum (penalty left out)")
""")

nb.md(r"""
Training: Adam on mini-batches of 64 pairs, 15 passes over 6,000 training pairs.
""")

nb.code(r"""
opt = optim.Adam(embed.parameters(), lr=0.01)
for epoch in range(15):
    order = rng.permutation(len(pairs_train[2]))
    for start in range(0, len(order), 64):
        loss = pair_risk(embed, X_train, pairs_train, order[start:start + 64])
        opt.zero_grad()
        loss.backward()
        opt.step()


def pair_cosines(X, pairs):
    with ag.no_grad():
        return cosine(embed(ag.tensor(X[pairs[0]])), embed(ag.tensor(X[pairs[1]]))).numpy()


c_train, c_test = pair_cosines(X_train, pairs_train), pair_cosines(X_test, pairs_test)
thresholds = np.linspace(-1, 1, 201)
best = thresholds[np.argmax([np.mean((c_train > t) == (pairs_train[2] > 0)) for t in thresholds])]
accuracy = np.mean((c_test > best) == (pairs_test[2] > 0))
print(f"threshold chosen on the training pairs: {best:.2f}; test pairs judged correctly: {accuracy:.1%}")

# One-shot classification: one reference image per digit, pick the most similar.
with ag.no_grad():
    refs = np.array([np.flatnonzero(y_train == d)[0] for d in range(10)])
    E_ref = embed(ag.tensor(X_train[refs])).numpy()
    E_test = embed(ag.tensor(X_test)).numpy()
    E_train = embed(ag.tensor(X_train)).numpy()
unit = lambda E: E / np.linalg.norm(E, axis=1, keepdims=True)
one_shot = np.mean((unit(E_test) @ unit(E_ref).T).argmax(1) == y_test)
print(f"one reference image per digit, nearest by cosine: {one_shot:.1%} of the test digits classified correctly")

fig, ax = plt.subplots(1, 2, figsize=(11, 3.6))
ax[0].hist(c_test[pairs_test[2] > 0], bins=40, range=(-1, 1), alpha=0.7, label="same digit")
ax[0].hist(c_test[pairs_test[2] < 0], bins=40, range=(-1, 1), alpha=0.7, label="different digits")
ax[0].axvline(best, color="k", ls="--", label="threshold")
ax[0].set(xlabel="cosine of the two embeddings", title="test pairs")
ax[0].legend(fontsize=8)
centres = unit(np.array([unit(E_train)[y_train == d].mean(0) for d in range(10)]))
im = ax[1].imshow(centres @ centres.T, cmap="RdBu_r", vmin=-1, vmax=1)
ax[1].set(xticks=range(10), yticks=range(10), title="cosine between the digits' mean embeddings")
plt.colorbar(im, ax=ax[1])
plt.tight_layout()
""")

nb.md(r"""
The network was never told which digit an image shows, only whether two images show the same one.
Still, it arranged the digits in directions of $\mathbb R^{16}$ that are far apart (the mean embeddings
of different digits mostly have cosines near or below zero; the exceptions are digits that look alike),
and with one reference image per class it
classifies most test digits correctly. Note where the training signal cannot be met: for ten unit
vectors $e_1..e_{10}$ (one direction per digit), $0 \le \|\sum_i e_i\|^2 = 10 + \sum_{i\ne j} e_i^\top e_j$, so the
average cosine between different digits is at least $-1/9$, in any dimension. The target $-1$ for every
non-matching pair is out of reach and the risk stays well above zero. Sayed's variants (Problems
65.23-65.24) replace the cosine by a learned comparison, which is not bound by this geometry.

**What a bigger run would show.** With many more pairs, a wider embedding and longer training, the
same-digit and different-digit histograms separate further; on real signature or face data this is the
set-up of one-shot verification (Bromley et al., 1994; Koch et al., 2015, cited by Sayed).

## Summary

Nothing in this notebook needed a new feature of the engine. A module is only a *naming scope* for the
operations it records; calling it twice records its operations twice, with the same leaf tensors as inputs,
and using a matrix twice makes one leaf with two outgoing edges. Back-propagation over that graph adds the
contributions, which is exactly what the derivations by hand did. Any computation built from the engine's
operations, chain or not, is differentiated the same way.

**Exercises.** (1) Untie the linear autoencoder ($W_2$ a separate matrix): does it still reach the PCA error?
Is $W_2 = W_1^\top$ at the end? (2) Replace the cosine by the absolute difference and a logistic output
(Problem 65.23) and train with the cross-entropy. (3) Make the autoencoder *denoising* (Example 65.4):
drop 30% of the input pixels with `nn.Dropout` and reconstruct the clean image.
""")

nb.answers(("Answer (1): the untied linear autoencoder", r"""
It reaches the PCA error, but $W_2 \ne W_1^\top$. Give the decoder its own matrix, $h \mapsto (hW_1)W_2$ with
$W_2$ of shape $k\times M$ (drawn like $W_1$), and train it as in section 1 (400 Adam steps, learning rate
0.01): the error is 28.589687 against PCA's 28.589686, a relative gap of $1.6\cdot10^{-8}$. But
$\|W_2 - W_1^\top\|/\|W_1\| = 0.54$, and neither matrix has orthonormal columns or rows any more (singular
values of $W_1$ from 0.65 to 1.15, of $W_2$ from 0.87 to 1.62); 2,000 steps change none of this. The reason:
the error depends only on the product $W_1W_2$, and $(W_1C)(C^{-1}W_2)$ is the same product for every
invertible $k\times k$ matrix $C$, so nothing pulls $W_2$ towards $W_1^\top$. What training does fix is
$W_2W_1 = I$ (to $5\cdot10^{-7}$), so $W_1W_2$ is a projection, and the rows of $W_2$ span PCA's subspace
(all principal cosines with $U_1$ are 1 to six digits): PCA's subspace in another basis. Tying the weights
is what makes the basis orthonormal.
"""), ("Answer (2): absolute difference and a logistic output", r"""
Score a pair by the probability that it shows the same digit, $\sigma(a^\top|u - v| + c)$, with a new
`nn.Linear(16, 1)` for $a$ and $c$, and train with the cross-entropy on the labels 1 (same) and 0 (different):

```python
head = nn.Linear(16, 1)                       # a, c; add head.parameters() to the optimizer's
weights = [p for n_, p in embed.named_parameters() if n_.endswith("weight")]
def same_logit(X, pairs, idx):
    u, v = embed(ag.tensor(X[pairs[0][idx]])), embed(ag.tensor(X[pairs[1][idx]]))
    return head((u - v).abs()).reshape(-1)
loss = nn.BCEWithLogitsLoss()(same_logit(X_train, pairs_train, idx),
                              ag.tensor((pairs_train[2][idx] > 0) * 1.0)) + RHO * nn.functional.l2_penalty(weights)
```

With a fresh embedding network (`ag.manual_seed(0)`), the head's parameters added to Adam's, and the same
15 passes over the same pairs, 90.5% of the test pairs are judged correctly at probability 1/2, against
92.4% for the cosine version above: the two do about equally well, and the logistic output needs no
threshold chosen afterwards. The shared weights work as before: each branch's gradient is added.
"""), ("Answer (3): a denoising autoencoder", r"""
Corrupt the input, keep the clean image as the target: in `train_autoencoder`, the loss becomes
`risk(model(drop(xb)), xb, model.W)` with `drop = nn.Dropout(0.3)` (which also scales the kept pixels
by $1/0.7$). With a code of 8 units, the squared error per test image:

| model | clean input | 30% of the pixels set to 0 |
|:--|--:|--:|
| tied sigmoid autoencoder (section 3) | 1.871 | 2.538 |
| denoising, the same, trained on dropped pixels | 1.984 | 2.395 |
| PCA, 8 components | 1.570 | 2.732 |

(The same 30% of the pixels of each test image are dropped for all three; given the kept pixels scaled by
$1/0.7$, as in its training, the denoising autoencoder scores 2.417.) It gives up a little on clean images
to do better on damaged ones: it has learned to make up for missing pixels.
"""))

nb.code(r"""
print(f"notebook ran in {time.perf_counter() - T0:.1f} s")
""")

if __name__ == "__main__":
    main(nb, "09_beyond_chains.ipynb")
