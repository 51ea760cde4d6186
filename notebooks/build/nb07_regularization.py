"""Builds notebooks/07_regularization.ipynb (run: .venv/bin/python notebooks/build/nb07_regularization.py)."""
from nbtools import COMPARE, Notebook, main

nb = Notebook()

nb.md(r"""
# 7. Regularization: weight decay, early stopping, noise, dropout, batch normalization

A network with many more weights than data points can fit the training set exactly, noise
included, and then predict badly everywhere else. The MIT notes (6.036, ch. 7, section 7.8) group the
remedies into three families, and this notebook takes them in that order:

1. **close relatives of ridge regression** (section 7.8.1): weight decay, early stopping, and noise
   added to the inputs; early stopping with *pocket variables* as in Sayed, ch. 65, Example 65.2
   (listing 65.94);
2. **dropout** (section 7.8.2; Sayed, section 65.6, Eqs. 65.120-65.124), and how it behaves in training
   and at test time; exercise 1: its backward, graded;
3. **batch normalization** (section 7.8.3; Sayed, section 65.9, Eqs. 65.167-65.187; KTH lecture 4):
   running averages for test time, its backward pass derived by the engine next to the MIT
   closed form and the KTH graph derivation, and what it does to the deep tanh network of
   notebook 5; exercises 2-5: its backward through the graph and in closed form, then layer
   normalization, from engine ops and in closed form, all graded.

Every method is computed with the engine and checked against the formula of the text.
""")

nb.code(r"""
import time
import numpy as np
import matplotlib.pyplot as plt

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad import optim
from chaingrad.nn import functional as F

T0 = time.perf_counter()
plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})
""" + COMPARE)

nb.md(r"""
## 0. A problem that invites over-fitting

Forty points of the two-moons data with plenty of noise, a validation set of 500 more from the same
source, and a network with two hidden tanh layers of 64 units (about 4,400 weights): ample room to
memorize forty points.

`fit` below is the one training loop of the first half: full-batch Adam on the cross-entropy, and
every 10 steps the training and validation cross-entropy are recorded in evaluation mode
(`net.eval()`, which matters once dropout is in the network). Its options switch on each regularizer.
""")

nb.code(r"""
X_train, y_train = nn.data.make_moons(40, noise=0.3, seed=0)
X_val, y_val = nn.data.make_moons(500, noise=0.3, seed=1)
criterion = nn.CrossEntropyLoss()


def make_net(p_drop=0.0):
    ag.manual_seed(1)                    # the same initial weights for every experiment
    drop = [nn.Dropout(p_drop)] if p_drop else []
    return nn.Sequential(nn.Linear(2, 64), nn.Tanh(), *drop, nn.Linear(64, 64), nn.Tanh(), *drop,
                         nn.Linear(64, 2))


def weights(net):
    # The weight matrices only: like Sayed's rho ||W||^2, we do not penalise the biases.
    return [p for name, p in net.named_parameters() if name.endswith("weight")]


def evaluate(net, X, y):
    net.eval()
    with ag.no_grad():
        return criterion(net(ag.tensor(X)), y).item()


def accuracy(net, X=X_val, y=y_val):
    net.eval()
    with ag.no_grad():
        return (net(ag.tensor(X)).numpy().argmax(1) == y).mean()


def fit(net, steps=600, lr=0.01, lam=0.0, noise=0.0, stopper=None, every=10):
    # Full-batch Adam; lam: weight decay lam ||W||^2; noise: std of the noise added to the inputs.
    opt = optim.Adam(net.parameters(), lr=lr)
    hist = {"step": [], "train": [], "val": [], "norm": []}
    for step in range(steps + 1):
        if step % every == 0:
            hist["step"].append(step)
            hist["train"].append(evaluate(net, X_train, y_train))
            hist["val"].append(evaluate(net, X_val, y_val))
            hist["norm"].append(np.sqrt(sum((w.numpy() ** 2).sum() for w in weights(net))))
            if stopper is not None and stopper(hist["val"][-1], net):
                break
        if step == steps:
            break
        net.train()
        x = X_train + noise * ag.get_rng().standard_normal(X_train.shape) if noise else X_train
        loss = criterion(net(ag.tensor(x)), y_train)
        if lam:
            loss = loss + lam * F.l2_penalty(weights(net))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: np.array(v) for k, v in hist.items()}


g1, g2 = np.meshgrid(np.linspace(-2, 3, 150), np.linspace(-1.5, 2, 120))
plane = np.column_stack([g1.ravel(), g2.ravel()])


def boundary(ax, net, title):
    # Probability of class 1 over the plane, its 0.5 contour, and the training points.
    net.eval()
    with ag.no_grad():
        prob = net(ag.tensor(plane)).softmax(axis=1).numpy()[:, 1].reshape(g1.shape)
    ax.contourf(g1, g2, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(g1, g2, prob, levels=[0.5], colors="k", linewidths=1)
    ax.scatter(*X_train.T, c=y_train, cmap="RdBu_r", edgecolors="k", s=20)
    ax.set(title=title, xticks=[], yticks=[])


def report(name, net):
    print(f"{name:22} training loss {evaluate(net, X_train, y_train):.3f}   "
          f"validation loss {evaluate(net, X_val, y_val):.3f}   validation accuracy {accuracy(net):.1%}")


plain = make_net()
h_plain = fit(plain)
report("no regularization", plain)
""")

nb.md(r"""
## 1. Weight decay

Add $\lambda\|W\|^2$ to the loss (MIT notes, section 7.8.1; Sayed's risks 65.47 and 65.127 write it
$\rho\|W_\ell\|_F^2$). Its gradient is $2\lambda W$, so a gradient step becomes
$$W_t = W_{t-1}(1 - 2\lambda\eta) - \eta\,\nabla_W \mathcal L(W_{t-1}):$$
first shrink ("decay") every weight by the factor $1-2\lambda\eta$, then take the usual step. The same
factor appears in Sayed's listings (e.g. 65.150, with $\rho$ for $\lambda$ and $\mu$ for $\eta$).

The earlier edition of the MIT notes (ch. 8) prints the factor as $1-\lambda\eta$ for the same objective
$J(W) + \lambda\|W\|^2$: it writes the penalty's gradient as $\lambda W$. That is the gradient of
$\tfrac{\lambda}{2}\|W\|^2$, not of $\lambda\|W\|^2$; with the objective as printed the factor is
$1-2\lambda\eta$, as in ch. 7. Both factors occur in practice: PyTorch's `weight_decay` (and ours) is the
$\lambda$ of the $\tfrac{\lambda}{2}\|W\|^2$ convention, so it gives ch. 8's $1-\lambda\eta$; the last rows
below check that too.

Two ways to get this update from the library, both checked against the formula for one step of our
network: (a) add `lam * F.l2_penalty(weights)` to the loss and let the engine differentiate it;
(b) leave the loss alone and give `optim.SGD` the option `weight_decay`, which adds
`weight_decay * W` to the gradient, so `weight_decay` $= 2\lambda$. Each row compares the weights
after one step of the library with the formula evaluated in numpy on the engine's gradient of the
unpenalized loss.
""")

nb.code(r"""
lam, eta = 0.05, 0.1
x = ag.tensor(X_train)


def one_step(net, use_penalty, weight_decay=0.0):
    params = weights(net)
    opt = optim.SGD(params, lr=eta, weight_decay=weight_decay)
    loss = criterion(net(x), y_train)
    if use_penalty:
        loss = loss + lam * F.l2_penalty(params)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return [w.numpy().copy() for w in params]


net = make_net()
W0 = [w.numpy().copy() for w in weights(net)]
criterion(net(x), y_train).backward()
by_hand = [w0 * (1 - 2 * lam * eta) - eta * w.grad.numpy() for w0, w in zip(W0, weights(net))]
penalty = one_step(make_net(), use_penalty=True)
decay = one_step(make_net(), use_penalty=False, weight_decay=2 * lam)
decay_ch8 = one_step(make_net(), use_penalty=False, weight_decay=lam)
by_hand_ch8 = [w0 * (1 - lam * eta) - eta * w.grad.numpy() for w0, w in zip(W0, weights(net))]
compare([(f"layer {i}: loss + lam * l2_penalty vs (1 - 2 lam eta)", a, h)
         for i, (a, h) in enumerate(zip(penalty, by_hand))] +
        [(f"layer {i}: SGD(weight_decay=2 lam) vs (1 - 2 lam eta)", a, h)
         for i, (a, h) in enumerate(zip(decay, by_hand))] +
        [(f"layer {i}: SGD(weight_decay=lam) vs ch. 8's (1 - lam eta)", a, h)
         for i, (a, h) in enumerate(zip(decay_ch8, by_hand_ch8))],
        title="one step: the library's weights vs W (1 - 2 lam eta) - eta grad L (numpy, engine's grad L)")
""")

nb.md(r"""
Now the over-fitting problem with two values of $\lambda$. The penalty keeps the weights small, and a
network with small weights stays close to linear in each unit (tanh near 0), so its decision boundary
cannot bend sharply enough to wrap around individual noisy points.
""")

nb.code(r"""
decayed, h_decay = {}, {}
for lam_ in [1e-3, 1e-2]:
    decayed[lam_] = make_net()
    h_decay[lam_] = fit(decayed[lam_], lam=lam_)
    report(f"weight decay {lam_:g}", decayed[lam_])

fig, ax = plt.subplots(1, 4, figsize=(14, 3.3))
boundary(ax[0], plain, "lambda = 0")
boundary(ax[1], decayed[1e-2], "lambda = 0.01")
for label, h in [("lambda = 0", h_plain)] + [(f"lambda = {k:g}", v) for k, v in h_decay.items()]:
    ax[2].plot(h["step"], h["val"], label=label)
    ax[3].plot(h["step"], h["norm"], label=label)
ax[2].set(xlabel="step", title="validation loss", ylim=(0.2, 1.2))
ax[3].set(xlabel="step", title="norm of all weights")
ax[3].legend(fontsize=8)
plt.tight_layout()
""")

nb.md(r"""
Without decay the weights keep growing, the boundary curls around single points, and the
validation loss climbs steadily after an early minimum: the network becomes confidently wrong on the
validation points that sit on the "other" side. With $\lambda = 0.01$ the weights settle at a small norm,
the boundary stays smooth, and the validation loss stays at its minimum.

## 2. Early stopping with pocket weights

Early stopping (MIT 7.8.1; Sayed Example 65.2) exploits the shape of the unregularized validation
curve: keep a copy of the weights with the best validation loss seen so far, Sayed's *pocket
variables*, and return those. `optim.EarlyStopping(patience, restore_best=True)` is that procedure
plus a rule for when to give up: stop after `patience` evaluations in a row without improvement, and
copy the pocket back into the network.

The check: we run the unregularized training again, keeping a pocket by hand exactly as listing 65.94
does (when the validation loss beats the best so far, copy the weights), and compare it with the weights
`EarlyStopping` restored.
""")

nb.code(r"""
# Listing (65.94) by hand, on a fresh run of the same (deterministic) training.
net = make_net()
opt = optim.Adam(net.parameters(), lr=0.01)
R_p, pocket, pocket_step = np.inf, None, None
for step in range(601):
    if step % 10 == 0:
        R_v = evaluate(net, X_val, y_val)
        if R_v < R_p:
            R_p, pocket, pocket_step = R_v, {k: v.copy() for k, v in net.state_dict().items()}, step
    net.train()
    loss = criterion(net(ag.tensor(X_train)), y_train)
    opt.zero_grad()
    loss.backward()
    opt.step()

# The library: stop after 10 evaluations (100 steps) without improvement, restore the best weights.
stopped = make_net()
stopper = optim.EarlyStopping(patience=10, restore_best=True)
h_stop = fit(stopped, stopper=stopper)
restored = stopped.state_dict()
print(f"EarlyStopping: best at evaluation {stopper.best_epoch} (step {10 * stopper.best_epoch}), "
      f"stopped at step {h_stop['step'][-1]}; pocket by hand: step {pocket_step}")
compare([(f"{k}: EarlyStopping vs hand pocket", restored[k], pocket[k]) for k in pocket] +
        [("validation loss: restored net vs hand pocket's R_p", evaluate(stopped, X_val, y_val), R_p)],
        title="EarlyStopping's restored weights vs the pocket of listing 65.94 (both run on the engine)")
""")

nb.code(r"""
fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
ax[0].semilogy(h_plain["step"], h_plain["train"], label="training loss")
ax[0].semilogy(h_plain["step"], h_plain["val"], label="validation loss")
ax[0].axvline(pocket_step, color="C2", label=f"pocket (step {pocket_step})")
ax[0].axvline(h_stop["step"][-1], color="C3", ls="--", label=f"stopped (step {h_stop['step'][-1]})")
ax[0].set(xlabel="step", title="the unregularized run")
ax[0].legend(fontsize=8)
boundary(ax[1], plain, "after 600 steps")
boundary(ax[2], stopped, f"pocket weights (step {pocket_step})")
plt.tight_layout()
report("early stopping", stopped)
""")

nb.md(r"""
The pocket network was caught before it learned the noise. Early stopping costs only a validation
set, and it acts like a penalty on the weights: they start small and grow during training (see the
norm plot above), so stopping early keeps them small, the effect weight decay buys explicitly.

## 3. Noise on the inputs

The third relative of ridge regression (MIT 7.8.1, after Bishop, 1995): add fresh zero-mean noise to
every input before each gradient step. For a *linear* model $h(x) = w^\top x + b$ and squared error this
is exactly ridge regression in expectation. Write $x+n$ with $\mathbb E[n]=0$ and
$\mathbb E[nn^\top]=\sigma^2 I$; then
$$\mathbb E_n\big[(w^\top(x+n) + b - y)^2\big] = (w^\top x + b - y)^2 + 2(w^\top x + b - y)\,w^\top\mathbb E[n]
+ w^\top \mathbb E[nn^\top] w = (w^\top x + b - y)^2 + \sigma^2\|w\|^2 .$$

Because the loss is quadratic in $n$, only the noise's mean and covariance matter. So we can check
the identity *exactly*, without Monte Carlo error: use the $2d$ noise vectors $\pm\sigma\sqrt d\,e_i$,
whose mean is 0 and covariance exactly $\sigma^2 I$. The engine differentiates the averaged noisy
loss; the hand side is the gradient of the ridge objective,
$\frac{2}{N}X^\top r + 2\sigma^2 w$ and $\frac{2}{N}\sum r$ with residuals $r = Xw + b - y$.
""")

nb.code(r"""
rng = np.random.default_rng(0)
d, N, sigma = 3, 10, 0.4
Xl = rng.standard_normal((N, d))
yl = rng.standard_normal(N)
w = ag.tensor(rng.standard_normal(d), requires_grad=True)
b = ag.tensor(0.3, requires_grad=True)

noise_set = sigma * np.sqrt(d) * np.concatenate([np.eye(d), -np.eye(d)])   # mean 0, covariance sigma^2 I
assert np.allclose(noise_set.mean(0), 0)
assert np.allclose(noise_set.T @ noise_set / len(noise_set), sigma ** 2 * np.eye(d))
noisy = [(((ag.tensor(Xl + n) @ w + b) - ag.tensor(yl)) ** 2).mean() for n in noise_set]
expected_loss = sum(noisy[1:], noisy[0]) / len(noisy)
expected_loss.backward()

r = Xl @ w.numpy() + b.item() - yl
compare([("E[noisy loss]", expected_loss, np.mean(r ** 2) + sigma ** 2 * np.sum(w.numpy() ** 2)),
         ("d/dw", w.grad, 2 / N * Xl.T @ r + 2 * sigma ** 2 * w.numpy()),
         ("d/db", b.grad, 2 / N * r.sum())],
        title="input noise = ridge penalty sigma^2 ||w||^2 (linear model, squared error)")
""")

nb.md(r"""
For a network and the cross-entropy the identity holds only approximately, for small noise, but the
effect is similar: a boundary cannot wrap tightly around points that keep moving.
""")

nb.code(r"""
noisy_net = make_net()
h_noise = fit(noisy_net, noise=0.2)
report("input noise 0.2", noisy_net)
""")

nb.md(r"""
## 4. Dropout: training versus test

Dropout (MIT 7.8.2; Sayed 65.6) perturbs the network instead of the data: in every training step each
unit is switched off with probability $p$ and the others carry on. Sayed draws a Bernoulli vector $a_\ell$
per layer and mini-batch (Eq. 65.120) and feeds $y_\ell \odot a_\ell$ forward (Eq. 65.121); in the backward
pass the same mask zeroes the corresponding sensitivities, so a sleeping unit's weights get no update
in that step.

**Test time.** The trained network is used with all units on. A unit that was present only a fraction
$1-p$ of the time would now contribute too much, so Sayed scales the weights by the *keep* probability
$1-p$ after training (last line of listing 65.124). (The MIT notes say "multiply by $p$" with $p$ the
drop probability; the factor must be the keep probability, and the two agree only for the usual $p = 1/2$.)
That last line of (65.124) scales the biases $\theta_\ell$ by $1-p_\ell$ as well, although the mask
multiplies only $y_\ell$ in $z_{\ell+1} = W_\ell^\top(y_\ell\odot a_\ell) - \theta_\ell$ and the biases are
never dropped. Averaged over the masks, training sees $\mathbb E[z_{\ell+1}] = (1-p)W_\ell^\top y_\ell -
\theta_\ell$: the test-time network that matches it scales $W_\ell$ and keeps $\theta_\ell$; scaling
$\theta_\ell$ too shifts every pre-activation by $p\,\theta_\ell$. The next cell averages over all $2^4$
masks of a 4-unit layer exactly (no sampling).

`nn.Dropout` uses the equivalent *inverted* form: it divides the surviving activations by $1-p$ during
training and does nothing at test time, so the trained weights are used as they are. (It also draws a
fresh mask for every example of the batch, where Sayed keeps one mask per mini-batch; either way each
unit is kept with probability $1-p$.) In
expectation over the mask $\mathbb E[a/(1-p)] = 1$, so training-mode outputs average to the
test-mode output. Below: the mask and the scaling in training, the identity in evaluation, and the
gradient (mask$/(1-p)$ times the upstream gradient) against the engine.
""")

nb.code(r"""
# z = W^T (y * a) - theta for every one of the 2^4 masks a, weighted by its probability
p_drop, n_in = 0.25, 4
rng_d = np.random.default_rng(65124)
W_d, th_d, y_d = rng_d.standard_normal((n_in, 3)), rng_d.standard_normal(3), rng_d.standard_normal(n_in)
masks = np.array(np.meshgrid(*[[0, 1]] * n_in)).reshape(n_in, -1).T          # 16 x 4
prob = np.prod(np.where(masks == 1, 1 - p_drop, p_drop), axis=1)
z_mean = sum(pr * (W_d.T @ (y_d * a) - th_d) for pr, a in zip(prob, masks))   # exact E[z] in training
print("E[z] over the masks (training):        ", z_mean)
print("test: (1-p) W, theta kept:              ", (1 - p_drop) * W_d.T @ y_d - th_d)
print("test: (1-p) W, (1-p) theta (as 65.124): ", (1 - p_drop) * (W_d.T @ y_d - th_d),
      "  off by p * theta =", p_drop * th_d)
""")

nb.code(r"""
ag.manual_seed(0)
drop = nn.Dropout(p=0.5)
x = ag.tensor(rng.uniform(1, 2, (4, 8)), requires_grad=True)
drop.train()
y1, y2 = drop(x), drop(x)
drop.eval()
y_eval = drop(x)
print("fraction dropped in two training passes:", (y1.numpy() == 0).mean(), (y2.numpy() == 0).mean())
print("the two training masks differ:", bool(((y1.numpy() == 0) != (y2.numpy() == 0)).any()))

upstream = rng.standard_normal(x.shape)
(y1 * ag.tensor(upstream)).sum().backward()
mask = y1.numpy() != 0                       # the entries of x are >= 1, so a zero means "dropped"
compare([("training output", y1, mask * x.numpy() / (1 - 0.5)),
         ("evaluation output", y_eval, x.numpy()),
         ("gradient d(sum R*y)/dx", x.grad, upstream * mask / (1 - 0.5))],
        title="inverted dropout, p = 0.5")

# Average many training-mode passes of a linear layer: they approach the evaluation output.
drop.train()
layer = nn.Linear(8, 3)
with ag.no_grad():
    outs = np.stack([layer(drop(x)).numpy() for _ in range(4000)])
    eval_out = layer(x).numpy()
fig, ax = plt.subplots(1, 2, figsize=(11, 3))
ax[0].imshow(np.vstack([x.numpy(), y1.numpy(), y2.numpy()]), cmap="viridis")
ax[0].set(title="x (rows 1-4), two training passes (5-8, 9-12)", xticks=[], yticks=[])
ax[1].hist(outs[:, 0, 0], bins=40, color="C0", alpha=0.7, label="training-mode outputs of one unit")
ax[1].axvline(eval_out[0, 0], color="C3", label="evaluation output")
ax[1].axvline(outs[:, 0, 0].mean(), color="k", ls="--", label="mean of the training outputs")
ax[1].legend(fontsize=7)
plt.tight_layout()
print(f"mean of 4000 training passes vs evaluation output: max difference "
      f"{np.abs(outs.mean(0) - eval_out).max():.3f} (Monte Carlo; shrinks like 1/sqrt(passes))")
""")

nb.md(r"""
### 4.1 Exercise: dropout's backward, graded

As in cs231n's dropout assignment, write the backward pass yourself. To make dropout a primitive that a
grader can differentiate numerically, the mask is an input: training draws a boolean array `keep` once per
pass (`keep = rng.random(x.shape) >= p`, True where the unit stays), and the forward is
`dropout(x, keep, p)` $=$ `keep * x / (1 - p)`. The backward must use that same mask, and the same scale.

**Exercise 1.** Write the VJP for `x` (`keep` is a mask of booleans: it has no gradient). The grader,
`grade_dropout_backward` from `notebooks/grade_layers.py`, runs `ag.check_vjp` with $p = 0.25$ and names
the usual mistakes: no $1/(1-p)$, $1/p$ instead, a mask other than the forward's, the output `ans` used
in place of the mask.
""")
nb.code(r"""
# EXERCISE 1: the VJP of inverted dropout, for x.
def dropout_forward(x, keep, p=0.5):
    return np.where(keep, x / (1 - p), 0.0)


def dropout_vjp(g, ans, x, keep, p=0.5):
    # SOLUTION
    return g * keep / (1 - p)
    # END SOLUTION


dropout = ag.primitive(dropout_forward, name="dropout").defvjp(dropout_vjp, None)
""")
nb.code(r"""
from grade_layers import grade_dropout_backward
grade_dropout_backward(dropout)
""")
nb.md(r"""
**Question.** The VJP does not contain `x`. What does the backward pass need to keep from the forward, and
what is the second derivative of dropout with respect to `x`?
""")
nb.answers(("Answer: what dropout's backward keeps", r"""
Only the mask (and $p$): for a fixed mask dropout is linear in $x$, $y = \mathrm{keep}\odot x/(1-p)$, so its
Jacobian is the constant diagonal matrix $\mathrm{diag}(\mathrm{keep})/(1-p)$ and the second derivative is zero.
That is why PyTorch's dropout saves the mask for backward and not the input, and why the VJP must not
draw a new one: backward would then send gradient through units that the forward switched off, and
block it at units that were on.
"""))

nb.md(r"""
Dropout on our network, with drop probability 0.5 after each hidden layer, and then all the
regularizers side by side. Losses are measured in evaluation mode, with all units on.
""")

nb.code(r"""
dropped = make_net(p_drop=0.5)
h_drop = fit(dropped)
report("dropout 0.5", dropped)

runs = [("none", plain, h_plain), ("weight decay 0.01", decayed[1e-2], h_decay[1e-2]),
        ("early stopping", stopped, h_stop), ("input noise 0.2", noisy_net, h_noise),
        ("dropout 0.5", dropped, h_drop)]
fig, ax = plt.subplots(1, 4, figsize=(14, 3.3))
boundary(ax[0], noisy_net, "input noise 0.2")
boundary(ax[1], dropped, "dropout 0.5")
for label, _, h in runs:
    ax[2].plot(h["step"], h["val"], label=label)
ax[2].set(xlabel="step", ylim=(0.2, 1.2), title="validation loss")
ax[2].legend(fontsize=7)
ax[3].barh([r[0] for r in runs], [accuracy(r[1]) for r in runs], color=[f"C{i}" for i in range(5)])
ax[3].set(xlim=(0.8, 0.95), title="validation accuracy")
plt.tight_layout()
""")

nb.md(r"""
Every remedy keeps the validation loss well below the unregularized run's final value. The accuracies
differ less than the losses: most of the damage of over-fitting here is over-confidence on the points
that fall on the wrong side, which the cross-entropy punishes and the accuracy does not see. None of
the remedies is free: each has a strength ($\lambda$, the noise level, $p$, the patience) that has to be
chosen on the validation set. A bigger run (several seeds, a grid over the strengths) would show that on a
problem this small the ranking among them changes from seed to seed; what stays is that all of them beat
no regularization.

## 5. Batch normalization

### 5.1 Forward, and the statistics kept for test time

For a mini-batch of pre-activations $Z$ (here one row per example, $K$ rows, one column per unit; the
MIT notes store the transpose), batch normalization standardizes each unit over the batch and then
rescales with learned $G$ and $B$ (MIT 7.8.3; Sayed Eqs. 65.169-65.177; KTH lecture 4):
$$\mu_i = \tfrac1K\sum_j Z_{ji},\quad \sigma_i^2 = \tfrac1K \sum_j (Z_{ji}-\mu_i)^2,\quad
\bar Z_{ji} = \frac{Z_{ji}-\mu_i}{\sqrt{\sigma_i^2+\epsilon}},\quad \hat Z_{ji} = G_i \bar Z_{ji} + B_i .$$
(The MIT notes divide by $\sigma_i + \epsilon$; we, like the KTH lecture, Sayed and PyTorch, put $\epsilon$
under the root. Sayed also uses the unbiased $1/(B-1)$ variance in the forward pass.)

At test time there may be a single example, so there is no batch to average over. During
training the layer therefore keeps running averages of $\mu$ and $\sigma^2$ (Sayed 65.175, with
smoothing $\lambda$; the KTH lecture's "Batch Normalization at Test Time"), and `eval()` uses them instead.
`nn.BatchNorm1d(momentum=0.1)` (PyTorch's default and meaning) updates
$\text{running} \leftarrow 0.9\,\text{running} + 0.1\,\text{batch}$, with the unbiased variance for the running
estimate: that is Sayed's (65.175) with $\lambda = 0.9$. Sayed suggests $\lambda = 0.95$, which is
`momentum=0.05` (last row). Checked over three batches:
""")

nb.code(r"""
ag.manual_seed(0)
bn = nn.BatchNorm1d(3, momentum=0.1)
with ag.no_grad():
    bn.weight.copy_(np.array([1.5, 0.5, 2.0]))
    bn.bias.copy_(np.array([0.1, -0.2, 0.3]))
batches = [rng.normal([1.0, -2.0, 5.0], [1.0, 0.5, 3.0], (8, 3)) for _ in range(3)]

bn.train()
run_mean, run_var = np.zeros(3), np.ones(3)          # the buffers' starting values
for Zb in batches:
    out_train = bn(ag.tensor(Zb))
    run_mean = 0.9 * run_mean + 0.1 * Zb.mean(0)
    run_var = 0.9 * run_var + 0.1 * Zb.var(0, ddof=1)

sayed_bn, sayed_mean = nn.BatchNorm1d(3, momentum=0.05), np.zeros(3)
for Zb in batches:
    sayed_bn(ag.tensor(Zb))
    sayed_mean = 0.95 * sayed_mean + 0.05 * Zb.mean(0)          # (65.175a), lambda = 0.95

bn.eval()
Z_test = rng.normal([1.0, -2.0, 5.0], [1.0, 0.5, 3.0], (1, 3))      # one example: fine in eval mode
out_eval = bn(ag.tensor(Z_test))
G_, B_ = bn.weight.numpy(), bn.bias.numpy()
Zb = batches[-1]
compare([("training output (last batch)", out_train, G_ * (Zb - Zb.mean(0)) / np.sqrt(Zb.var(0) + bn.eps) + B_),
         ("running_mean", bn.running_mean, run_mean),
         ("running_var (unbiased)", bn.running_var, run_var),
         ("eval output, one example", out_eval, G_ * (Z_test - run_mean) / np.sqrt(run_var + bn.eps) + B_),
         ("running_mean, momentum 0.05 (Sayed's lambda = 0.95)", sayed_bn.running_mean, sayed_mean)],
        title="BatchNorm1d: batch statistics in training, running averages in eval")
""")

nb.md(r"""
### 5.2 The backward pass, three ways

`nn.BatchNorm1d` has no backward of its own: it is a composition of `mean`, `sub`, `mul`, `sqrt`,
`div`, `add` and the engine differentiates through all of them, including the dependence of $\mu$
and $\sigma$ on every example of the batch. Here is the recorded graph, first as one named op, then
opened up. The loss weights the output with a random matrix $R$: with an upstream gradient that is
constant down each column, $R_{ji} = c_i$, the loss would be $\sum_i c_i\,(G_i\sum_j \bar Z_{ji} + K B_i)$,
and $\sum_j \bar Z_{ji} = 0$: it would not depend on $Z$ at all, $\partial L/\partial Z$ would be exactly zero,
and the picture would show rounding noise as "the gradient".
""")

nb.code(r"""
Zs = ag.tensor(rng.standard_normal((4, 2)), requires_grad=True, name="Z")
small = nn.BatchNorm1d(2)
with ag.viz.record_grads():
    out = (small(Zs) * ag.tensor(np.random.default_rng(1).standard_normal((4, 2)))).sum()
    out.backward()
ag.viz.draw(out, model=small, max_values=4)
""")

nb.code(r"""
ag.viz.draw(out, model=small, expand_composites=True, show_values=False)
""")

nb.md(r"""
Now the hand derivations. Take any loss whose gradient with respect to the layer's output is a given
matrix $R = \partial L/\partial\hat Z$ (we use $L = \sum R \odot \hat Z$ with a random $R$).

**MIT closed form** (end of section 7.8.3; written there with units as rows, here with examples as rows
and $\sigma_i$ standing for $\sqrt{\sigma_i^2+\epsilon}$, which makes it exact for our forward pass):
$$\frac{\partial L}{\partial Z_{ji}} = \sum_{k=1}^K R_{ki}\, \frac{G_i}{K\sigma_i}
\Big(\delta_{jk}K - 1 - \frac{(Z_{ki}-\mu_i)(Z_{ji}-\mu_i)}{\sigma_i^2}\Big),\qquad
\frac{\partial L}{\partial B_i} = \sum_j R_{ji},\qquad \frac{\partial L}{\partial G_i} = \sum_j R_{ji}\bar Z_{ji}.$$

**KTH graph derivation** (lecture 4, "Gradient Computations for a BN layer"): treat $\mu$ and $v=\sigma^2$
as nodes of the graph. With $g_j = \partial L/\partial \bar Z_{j\cdot} = R_{j\cdot}\odot G$:
$$\frac{\partial L}{\partial v} = -\tfrac12\sum_j g_j \odot (v+\epsilon)^{-3/2}\odot(s_j-\mu),\qquad
\frac{\partial L}{\partial \mu} = -\sum_j g_j\odot(v+\epsilon)^{-1/2}\quad(\text{since } \partial v/\partial\mu = 0),$$
$$\frac{\partial L}{\partial s_j} = g_j\odot(v+\epsilon)^{-1/2} + \frac{2}{K}\,\frac{\partial L}{\partial v}\odot(s_j-\mu)
+ \frac1K\frac{\partial L}{\partial\mu}.$$
The three paths from $s_j$ (direct, through $v$, through $\mu$) are exactly the fan-out the engine sums.
""")

nb.code(r"""
K, n, eps = 8, 5, 1e-5
Zn = rng.normal(2.0, 3.0, (K, n))
Gn, Bn, R = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((K, n))
Z = ag.tensor(Zn, requires_grad=True)
G = ag.tensor(Gn, requires_grad=True)
B = ag.tensor(Bn, requires_grad=True)
(F.batch_norm(Z, weight=G, bias=B, training=True, eps=eps) * ag.tensor(R)).sum().backward()

mu, v = Zn.mean(0), Zn.var(0)
sig, D = np.sqrt(v + eps), Zn - Zn.mean(0)
# MIT: sum over k of R[k, i] * G_i / (K sig_i) * (delta_jk K - 1 - D[k, i] D[j, i] / sig_i^2)
bracket = K * np.eye(K)[:, :, None] - 1 - D[:, None, :] * D[None, :, :] / sig ** 2     # [k, j, i]
mit = np.einsum("ki,i,kji->ji", R, Gn / (K * sig), bracket)
# KTH: through the nodes v_b and mu_b
g = R * Gn
dv = -0.5 * np.sum(g * D, axis=0) * (v + eps) ** -1.5
dmu = -np.sum(g, axis=0) * (v + eps) ** -0.5
kth = g * (v + eps) ** -0.5 + 2 / K * dv * D + dmu / K
compare([("dL/dZ: engine vs MIT closed form", Z.grad, mit),
         ("dL/dZ: engine vs KTH graph derivation", Z.grad, kth),
         ("dL/dG = sum_j R Zbar", G.grad, np.sum(R * D / sig, axis=0)),
         ("dL/dB = sum_j R", B.grad, R.sum(0))],
        title="batch norm backward, K = 8 examples, 5 units")
""")

nb.md(r"""
One consequence you can read off the closed form: each column of $\partial L/\partial Z$ sums to zero.
Adding the same constant to a unit's input for every example of the batch does not change the layer's
output (the mean absorbs it), so the gradient has no component in that direction. Scaling a unit's
inputs changes the output only through $\epsilon$, so the gradient is orthogonal to $Z-\mu$ up to a term of
order $\epsilon$; with $\epsilon = 0$ it would be exactly orthogonal.
""")

nb.code(r"""
print("largest column sum of dL/dZ:            ", np.abs(Z.grad.numpy().sum(0)).max())
print("largest column of dL/dZ . (Z - mu):     ", np.abs((Z.grad.numpy() * D).sum(0)).max(), f"(eps = {eps})")
""")

nb.md(r"""
### 5.2b Exercises: batch norm's backward as a primitive, twice

In the style of cs231n's batch-norm assignment: make batch normalization one primitive,
`batchnorm(Z, G, B)` with a numpy forward, and write its backward yourself, first by walking back
through the graph of small steps, then in closed form. `ag.check_vjp` grades each against central
differences (notebook 1, section 6 introduces it); here it also passes $G$ and $B$ of shape `(1,)`
and `()`, which the forward broadcasts.

**Exercise 2: through the graph.** The forward below is written as a chain of small steps. Go back
through them in reverse order, one line per step, using the local derivative of each: a sum over the
batch sends its gradient to every row; a broadcast (a per-unit value used by every row) receives
the sum over the rows; $\mu$ and $v$ feed several steps, so their gradients add (fan-out). Return
$(\partial L/\partial Z, \partial L/\partial G, \partial L/\partial B)$ for $g = \partial L/\partial \hat Z$.
""")
nb.code(r"""
EPS = 1e-5


def batchnorm_forward(Z, G, B):
    K = Z.shape[0]
    mu = Z.sum(axis=0) / K                  # step 1: mean per unit
    D = Z - mu                              # step 2: centred
    v = (D ** 2).sum(axis=0) / K            # step 3: variance (1/K)
    s = (v + EPS) ** 0.5                    # step 4: standard deviation
    Zbar = D / s                            # step 5: standardized
    return G * Zbar + B                     # step 6: scale and shift


# EXERCISE 2: the backward pass, step by step in reverse (steps 6, 5, 4, 3, 2, 1).
def batchnorm_backward_graph(g, Z, G, B):
    # SOLUTION
    K = Z.shape[0]
    mu = Z.sum(axis=0) / K                  # recompute the forward's intermediates
    D = Z - mu
    v = (D ** 2).sum(axis=0) / K
    s = (v + EPS) ** 0.5
    Zbar = D / s
    dB = g.sum(axis=0)                      # step 6: B is used by every row
    dG = (g * Zbar).sum(axis=0)
    dZbar = g * G
    dD = dZbar / s                          # step 5, through D ...
    ds = -(dZbar * D).sum(axis=0) / s ** 2  # ... and through s (used by every row)
    dv = ds * 0.5 / s                       # step 4
    dD = dD + dv * 2 * D / K                # step 3: D feeds step 5 and step 3, the gradients add
    dmu = -dD.sum(axis=0)                   # step 2, through mu
    dZ = dD + dmu / K                       # step 1: mu = sum / K sends dmu / K to every row
    # END SOLUTION
    return dZ, dG, dB


batchnorm = ag.primitive(batchnorm_forward, name="batchnorm (graph)").defvjp(
    lambda g, ans, Z, G, B: batchnorm_backward_graph(g, Z, G, B)[0],
    lambda g, ans, Z, G, B: batchnorm_backward_graph(g, Z, G, B)[1],
    lambda g, ans, Z, G, B: batchnorm_backward_graph(g, Z, G, B)[2])
""")
nb.code(r"""
Z_ex = np.array([[1.0, -2.0, 5.0], [2.5, -1.5, 1.0], [0.2, -2.6, 7.5], [1.8, -1.9, 3.0], [0.9, -2.2, 6.1]])
ag.check_vjp(batchnorm, Z_ex, np.array([1.5, 0.5, -2.0]), np.array([0.1, -0.2, 0.3]))
""")
nb.md(r"""
**Exercise 3: the closed form.** Simplify the result to one line for $\partial L/\partial Z$, in terms
of $\bar Z$, $g$ and $\sigma = \sqrt{v+\epsilon}$ (cs231n's "alternative" backward; it is the MIT closed
form of 5.2 with the sum over $k$ carried out):
$\partial L/\partial Z = \frac{G}{K\sigma}\big(K g - \sum_k g_k - \bar Z \odot \sum_k g_k\odot\bar Z_k\big)$, sums over
the batch. Fewer steps, fewer intermediate arrays, the same numbers.
""")
nb.code(r"""
# EXERCISE 3: dL/dZ in closed form (dG and dB are as before).
def batchnorm_backward_closed(g, Z, G, B):
    K = Z.shape[0]
    D = Z - Z.sum(axis=0) / K
    s = ((D ** 2).sum(axis=0) / K + EPS) ** 0.5
    Zbar = D / s
    # SOLUTION
    dZ = G / (K * s) * (K * g - g.sum(axis=0) - Zbar * (g * Zbar).sum(axis=0))
    # END SOLUTION
    return dZ, (g * Zbar).sum(axis=0), g.sum(axis=0)


batchnorm_closed = ag.primitive(batchnorm_forward, name="batchnorm (closed form)").defvjp(
    lambda g, ans, Z, G, B: batchnorm_backward_closed(g, Z, G, B)[0],
    lambda g, ans, Z, G, B: batchnorm_backward_closed(g, Z, G, B)[1],
    lambda g, ans, Z, G, B: batchnorm_backward_closed(g, Z, G, B)[2])
""")
nb.code(r"""
ag.check_vjp(batchnorm_closed, Z_ex, np.array([1.5, 0.5, -2.0]), np.array([0.1, -0.2, 0.3]),
             second_order=True)
""")
nb.md(r"""
`second_order=True` differentiates the closed form once more through the engine (the VJP is built
from operators, so it is recorded under `create_graph=True`) and compares with central differences
of the first derivative.
""")

nb.md(r"""
### 5.2c Exercises: layer normalization, from engine ops and in closed form

Batch normalization standardizes each unit over the batch (axis 0). *Layer* normalization (Ba, Kiros and
Hinton, 2016; the normalization of transformers) standardizes each example over its own units, the last
axis: for a row $x$ with $D$ entries, $\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$ with the row's mean $\mu$ and
biased variance $\sigma^2 = \frac1D\sum_j (x_j - \mu)^2$, then $\gamma \odot \hat x + \beta$ with $\gamma$, $\beta$ of
shape $(D,)$. No statistic crosses examples.

**Exercise 4: the forward from engine ops.** Write `layernorm(X, gamma, beta, eps)` with Tensor operations
(means, powers, `ag.sqrt`, broadcasting) for `X` of any shape $(\dots, D)$; backward through your ops then
comes from the engine. The grader, `grade_layernorm_forward`, checks the values on a $(4, 5)$ and a
$(2, 3, 5)$ input with $\epsilon = 0.1$ (large, so that its place shows), then the gradients of $X$, $\gamma$ and
$\beta$ that the engine finds through your ops, against the closed form. It names the usual mistakes: the
wrong axis (axis 0 is batch norm), the unbiased variance, $\epsilon$ outside the root, a statistic computed in
numpy, outside the graph.
""")
nb.code(r"""
# EXERCISE 4: layer norm's forward from engine ops, over the last axis.
def layernorm(X, gamma, beta, eps=1e-5):
    # SOLUTION
    mu = X.mean(axis=-1, keepdims=True)
    var = ((X - mu) ** 2).mean(axis=-1, keepdims=True)
    return (X - mu) / ag.sqrt(var + eps) * gamma + beta
    # END SOLUTION
""")
nb.code(r"""
from grade_layers import grade_layernorm_forward
grade_layernorm_forward(layernorm)
""")
nb.md(r"""
**Exercise 5: the backward in closed form.** Now layer norm as one primitive with a numpy forward, as batch
norm in Exercises 2 and 3, and $\partial L/\partial X$ as one expression. Derive it as Exercise 3's formula was
derived, with two differences: the sums run over the features (axis $-1$) of each row, and $\gamma$ varies
along them, so it cannot be taken out of the sums as batch norm's $G$ can: work with $\hat g = g \odot \gamma$,
the gradient that reaches $\hat x$. The grader, `grade_layernorm_backward`, runs `ag.check_vjp` and, when the
VJP for `X` is wrong, names the usual mistakes (batch norm's formula copied, a missing term, the wrong axis).
""")
nb.answers(("Hint: the result", r"""
Per row, with sums over its $D$ features and $\sigma = \sqrt{\sigma^2 + \epsilon}$:
$\partial L/\partial x = \frac{1}{D\sigma}\big(D\hat g - \sum_j \hat g_j - \hat x \sum_j \hat g_j \hat x_j\big)$.
"""))
nb.code(r"""
# EXERCISE 5: dL/dX of layer norm in closed form (the VJPs of gamma and beta are given).
def layernorm_forward(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=-1, keepdims=True)
    return (X - mu) / np.sqrt(X.var(axis=-1, keepdims=True) + eps) * gamma + beta


def layernorm_vjp_X(g, ans, X, gamma, beta, eps=1e-5):
    D = X.shape[-1]
    s = np.sqrt(X.var(axis=-1, keepdims=True) + eps)              # sigma, one per row
    Xhat = (X - X.mean(axis=-1, keepdims=True)) / s
    # SOLUTION
    gh = g * gamma                                                # the gradient reaching Xhat
    return (D * gh - gh.sum(axis=-1, keepdims=True) - Xhat * (gh * Xhat).sum(axis=-1, keepdims=True)) / (D * s)
    # END SOLUTION


def layernorm_vjp_gamma(g, ans, X, gamma, beta, eps=1e-5):
    Xhat = (X - X.mean(axis=-1, keepdims=True)) / np.sqrt(X.var(axis=-1, keepdims=True) + eps)
    return (g * Xhat).sum(axis=0)


layernorm_closed = ag.primitive(layernorm_forward, name="layernorm (closed form)").defvjp(
    layernorm_vjp_X, layernorm_vjp_gamma, lambda g, ans, X, gamma, beta, eps=1e-5: g.sum(axis=0))
""")
nb.code(r"""
from grade_layers import grade_layernorm_backward
grade_layernorm_backward(layernorm_closed)
""")
nb.md(r"""
The two versions side by side: the engine's gradient through the ops of Exercise 4 against the closed
form of Exercise 5, on a batch of 6 rows of 5 features. This cell takes the reference solutions
(`solutions.reference`), so that it runs before you have written yours. Last row: the difference from
batch norm that matters in practice, a row's output does not depend on the other rows.
""")
nb.code(r"""
import solutions
ref = solutions.reference("nb07_regularization", globals())
X_ln = rng.normal(1.0, 2.0, size=(6, 5))
gamma_ln, beta_ln, R_ln = rng.normal(1.0, 0.5, size=5), rng.normal(0.0, 0.5, size=5), rng.normal(size=(6, 5))
Xt, gt, bt = (ag.tensor(a, requires_grad=True) for a in (X_ln, gamma_ln, beta_ln))
(ref.layernorm(Xt, gt, bt) * ag.tensor(R_ln)).sum().backward()
compare([("dL/dX: engine through Exercise 4 vs closed form (Exercise 5)", Xt.grad,
          ref.layernorm_vjp_X(R_ln, None, X_ln, gamma_ln, beta_ln)),
         ("dL/dgamma", gt.grad, ref.layernorm_vjp_gamma(R_ln, None, X_ln, gamma_ln, beta_ln)),
         ("dL/dbeta", bt.grad, R_ln.sum(axis=0)),
         ("row 0 alone vs row 0 in the batch", ref.layernorm(Xt[:1], gt, bt), ref.layernorm(Xt, gt, bt)[:1])],
        tol=1e-12, title="layer norm: composition of engine ops vs closed form")
print("largest row sum of dL/dX:", np.abs(Xt.grad.numpy().sum(axis=1)).max())
""")
nb.md(r"""
**Question.** Batch norm needs running averages for evaluation (section 5.1) and misbehaves on small
batches (written exercise 2 at the end). Does layer norm need either fix? What does each of the two do
to a batch of a single example?
""")
nb.answers(("Answer: layer norm at test time and on a batch of one", r"""
No. Layer norm's mean and variance come from the example itself, so its output for a row does not depend
on the other rows (the last line of the table): training and evaluation compute the same function, and
there is nothing to average. A batch of one is no special case. Batch norm in training mode on a batch of
one subtracts the example from itself: every unit's centred value is 0, the variance is 0, and the output is
$\beta$ whatever the input. That is one reason it keeps running averages for evaluation, and why
`nn.BatchNorm1d`, like PyTorch's, refuses a training batch of one ("training needs more than one value per
feature").
"""))

nb.md(r"""
### 5.3 Batch normalization and the deep tanh network of notebook 5

Notebook 5 repeated the KTH experiment: 10 tanh layers of 500 units (zero biases) on $N(0,1)$
inputs. With weights drawn from $N(0, 0.01^2)$ the activations shrink layer after layer towards zero;
with $N(0, 1)$ almost every unit saturates at $\pm1$. Put batch normalization between each linear
map and its tanh (where the MIT notes and the KTH lecture put it) and the scale of $W$ no longer
matters: whatever it is, the next nonlinearity sees standardized inputs. Below, one forward and
backward pass of a batch of 200 through the network, with the loss $L = \text{mean}(\text{output}^2)$.
""")

nb.code(r"""
def deep_tanh(std, batchnorm, layers=10, width=500, batch=200):
    # Activations of every layer and the gradient norm of every hidden weight matrix, for one batch.
    ag.manual_seed(0)
    net = nn.MLP([width] * (layers + 1) + [1], activation="tanh", batchnorm=batchnorm)
    for m in net.modules():
        if isinstance(m, nn.Linear):          # the KTH set-up: N(0, std^2) weights, zero biases
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    acts = []
    h = ag.randn(batch, width)
    for m in net.layers:
        h = m(h)
        if isinstance(m, nn.Tanh):
            acts.append(h)
    (h ** 2).mean().backward()
    grads = [np.linalg.norm(m.weight.grad.numpy()) for m in net.modules() if isinstance(m, nn.Linear)][:-1]
    return [a.numpy() for a in acts], grads


fig, ax = plt.subplots(2, 4, figsize=(13, 5.5), sharey="row")
for col, (std, bnorm) in enumerate([(0.01, False), (0.01, True), (1.0, False), (1.0, True)]):
    acts, grads = deep_tanh(std, bnorm)
    for i in (0, 3, 6, 9):
        ax[0, col].hist(acts[i].ravel(), bins=np.linspace(-1, 1, 41), histtype="step", density=True,
                        label=f"layer {i + 1}")
    ax[0, col].set(title=f"W ~ N(0, {std}²){' + batch norm' if bnorm else ''}", yscale="log", ylim=(1e-3, 1e3))
    ax[1, col].semilogy(range(1, 11), [a.std() for a in acts], "o-", label="std of activations")
    ax[1, col].semilogy(range(1, 11), grads, "s-", label="|dL/dW| per layer")
    ax[1, col].set(xlabel="layer", ylim=(1e-16, 1e9))
ax[0, 0].legend(fontsize=7)
ax[1, 0].legend(fontsize=7)
plt.tight_layout()
""")

nb.md(r"""
Top row: histograms of the activations in layers 1, 4, 7 and 10. Bottom row: the standard deviation
of each layer's activations and the norm of each weight matrix's gradient. Without batch normalization
the small initialization sends the activations to zero by a factor of about 5 per layer and the gradients
of *all* layers are of order $10^{-13}$; the large one pins the activations at $\pm1$, and the gradient norms
then differ by a factor of about $10^5$ between the first and the last layer, so no single step size suits
them all. With batch normalization the four columns look nearly alike: the same activation histogram
in every layer and gradients of similar size through the whole depth. (One more property is visible: with
batch normalization the gradient scales like $1/\text{scale}(W)$, since the output does not depend on that
scale at all.)

### 5.4 Training a deep tanh network with and without batch normalization

Last, the effect on learning: a network with 8 hidden tanh layers of 64 units, weights initialized
with the small $N(0, 0.01^2)$, trained on the 8x8 digits with SGD (momentum 0.9, learning rate 0.05,
mini-batches of 64). After training, the batch-norm network is evaluated in `eval()` mode, i.e. with the
running averages, on the held-out digits.
""")

nb.code(r"""
(Xd, yd), (Xd_test, yd_test) = nn.data.load_digits()
criterion = nn.CrossEntropyLoss()


def train_digits(batchnorm, epochs=12):
    ag.manual_seed(0)
    net = nn.MLP([64] + [64] * 8 + [10], activation="tanh", batchnorm=batchnorm)
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for epoch in range(epochs):
        net.train()
        for xb, yb in nn.data.DataLoader(Xd, yd, batch_size=64, seed=epoch):
            loss = criterion(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    net.eval()
    with ag.no_grad():
        acc = (net(ag.tensor(Xd_test)).numpy().argmax(1) == yd_test).mean()
    return np.array(losses), acc


fig, ax = plt.subplots(figsize=(7, 3.4))
for bnorm in (False, True):
    losses, acc = train_digits(bnorm)
    label = f"{'with' if bnorm else 'without'} batch norm: test accuracy {acc:.1%}"
    ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=label)
    print(label)
ax.set(xlabel="mini-batch step", ylabel="training loss (moving average of 10)", title="8 hidden tanh layers, W ~ N(0, 0.01²)")
ax.legend(fontsize=8)
plt.tight_layout()
""")

nb.md(r"""
Without batch normalization the loss sits at $\ln 10 \approx 2.3$: the signal dies in the first layers, so
the output is the same for every digit and the gradients of the early layers are vanishingly small.
With batch normalization the same network, from the same bad start, learns. A longer run or a
well-chosen initialization (notebook 5) would let the plain network learn too; batch normalization
makes the result far less sensitive to that choice, one of the benefits the KTH lecture lists.

**Exercises.** (1) Show from the closed form that $\sum_j \partial L/\partial Z_{ji} = 0$.
(2) Train the batch-norm network and evaluate it in *training* mode on test batches of size 2, then 64:
why do the accuracies differ? (3) Replace the input noise of section 3 by dropout on the *input* layer
(Sayed suggests $p \approx 0.1$ there): which regularizer does it resemble?
""")

nb.answers(("Answer (1): the columns of ∂L/∂Z sum to zero", r"""
Sum the closed form of 5.2b over the batch, for one unit (the factor $G/(K\sigma)$ is the same for all rows):
$$\sum_j \Big(K g_j - \sum_k g_k - \bar Z_j \sum_k g_k \bar Z_k\Big)
= K\sum_k g_k - K\sum_k g_k - \Big(\sum_j \bar Z_j\Big)\Big(\sum_k g_k\bar Z_k\Big) = 0,$$
because $\sum_j \bar Z_j = \sum_j (Z_j - \mu)/\sigma = 0$: the standardized values of a batch are centred.
The cell after 5.2 measured it: the largest column sum is $1.1\cdot10^{-16}$, rounding.
"""), ("Answer (2): training mode on test batches of 2 and of 64", r"""
In training mode a batch-norm layer standardizes each unit with the mean and variance of the batch it
is given, not with the running averages, so the output for one image depends on the other images of its
batch. With two images per batch each unit sees two values and turns them into about $-1$ and $+1$
($\pm(a-b)/2 \,/\, \sqrt{((a-b)/2)^2 + \epsilon}$): all that is left is which of the two is larger, unit by unit.
Measured on the batch-norm network of 5.4 after `train_digits(True)` (test digits in order, whole
batches only, `net.train()` and `ag.no_grad()`):

| test batch size | 2 | 8 | 64 | `eval()` mode |
|:--|--:|--:|--:|--:|
| accuracy | 46.4% | 77.3% | 91.2% | 95.3% |

The larger the batch, the closer its statistics come to the running averages, and the accuracy to
that of `eval()` mode. Hence `net.eval()` before testing: the prediction for an image must not depend on
which images happen to share its batch.
"""), ("Answer (3): dropout on the inputs", r"""
It resembles the input noise of section 3, and so weight decay. Inverted dropout multiplies each input
by $m_j/(1-p)$ with $m_j = 0$ with probability $p$ and 1 otherwise: zero-mean noise again, but
*multiplicative*, of variance $\frac{p}{1-p}x_j^2$. For a linear model and the squared error, the
calculation of section 3 gives, in expectation over the masks,
$$\mathbb E\big[(w^\top (m\odot x)/(1-p) + b - y)^2\big] = (w^\top x + b - y)^2 + \frac{p}{1-p}\sum_j w_j^2 x_j^2$$
(exact: summed over all $2^4$ masks of a random 4-input example, both sides are 0.48188982). Averaged
over the data this is weight decay with a penalty on each weight in proportion to the mean square of
its input: ridge regression on inputs scaled to the same size.
Trained as in section 3 (600 full-batch Adam steps) with `nn.Dropout(p)` in front of the same
network, `nn.Sequential(nn.Dropout(p), nn.Linear(2, 64), nn.Tanh(), ...)`:

| regularizer | validation loss | validation accuracy |
|:--|--:|--:|
| none | 0.816 | 89.2% |
| input noise 0.2 | 0.311 | 89.0% |
| input dropout 0.1 | 0.446 | 88.6% |
| input dropout 0.2 | 0.422 | 88.2% |
| input dropout 0.5 | 0.412 | 84.2% |

Like the others it cures the over-confidence (the loss); with only two inputs, though, every drop
removes half of what the network sees, and at $p = 0.5$ (both inputs gone a quarter of the time) it costs
accuracy.
"""))

nb.code(r"""
print(f"notebook ran in {time.perf_counter() - T0:.1f} s")
""")

if __name__ == "__main__":
    main(nb, "07_regularization.ipynb")
