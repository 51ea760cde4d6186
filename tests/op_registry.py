"""ONE registry of op cases; every test level reads it (in the style of minitorch's testing.py).

A case says, for one primitive (or one way of calling it):

- ``fn``: a function of Tensors, written with chaingrad;
- ``np_fn`` and ``torch_fn``: the same function for ndarrays and for torch tensors;
- ``shapes``: the input shapes (one case per broadcasting variant);
- ``domain``: where each input is drawn from, e.g. ``"positive"`` for log,
  ``"nonzero"`` away from the kink of abs/relu, ``"grid"``/``"grid_half"`` for
  maximum/minimum so that the two inputs never tie (ties have their own tests).

Adding a case here tests it everywhere: forward against numpy in float32 and
float64 (tests/test_ops.py), gradcheck and gradgradcheck (test_ops.py), values,
gradients and Hessian-vector products against PyTorch
(tests/test_torch_reference.py).  The tables ``BINARY`` and ``REDUCTIONS`` are
also swept by tests/test_broadcasting.py and tests/test_reductions.py.
"""
import zlib
from dataclasses import dataclass, field

import numpy as np

from chaingrad import autograd as ag
from optional import optional

torch = optional("torch")      # the torch column; without torch the cases still serve test_ops.py


@dataclass(frozen=True)
class Case:
    name: str
    fn: object                 # Tensors -> Tensor (or a list of Tensors)
    np_fn: object              # ndarrays -> ndarray (or a list)
    torch_fn: object           # torch tensors -> torch tensor (or a list)
    shapes: tuple              # one shape per input
    domain: tuple              # one domain name per input (see sample)
    differentiable: bool = True
    keeps_dtype: bool = True   # float32 in -> float32 out (False only for astype)
    check: dict = field(default_factory=dict)   # extra gradcheck keywords (tolerances)
    order: int = 2             # central-difference checks up to this derivative order
    torch_order: int = 2       # compare with torch up to this derivative order

    @property
    def id(self):
        return f"{self.name}{list(self.shapes)}".replace(" ", "")

    def inputs(self, dtype=np.float64, seed=0):
        """Deterministic inputs in the case's domain (the same for every test level)."""
        rng = np.random.default_rng(zlib.crc32(self.id.encode()) + seed)
        return [sample(d, s, rng).astype(dtype) for d, s in zip(self.domain, self.shapes)]


def sample(domain, shape, rng):
    """Draw an array of ``shape`` from a named domain."""
    size = int(np.prod(shape))
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":                     # log, sqrt, the base of pow
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":                         # log1p on (-1, 1)
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "nonzero":                      # abs, relu, divisors: away from 0
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)
    if domain == "clip":                         # clip(-0.5, 0.5): away from both kinks
        x = rng.uniform(-1.5, 1.5, shape)
        return np.where(np.abs(np.abs(x) - 0.5) < 0.1, x + 0.2 * np.sign(x), x)
    if domain == "with_zero":                   # exact zeros, for derivatives defined there
        return np.where(rng.random(shape) < 0.4, 0.0, rng.standard_normal(shape))
    if domain == "nonneg_zero":                  # the base of x ** y with y differentiated
        return np.where(rng.random(shape) < 0.4, 0.0, rng.uniform(0.5, 2.0, shape))
    if domain == "distinct":                     # max/min: no two elements within 0.1
        return (rng.permutation(size) * 0.25 - 0.1 * size).reshape(shape)
    if domain in ("grid", "grid_half"):          # maximum/minimum: x and y are never equal
        offset = 0.15 if domain == "grid_half" else 0.0
        return rng.integers(-4, 5, shape) * 0.3 + offset
    raise ValueError(f"unknown domain {domain!r}")


CASES = []


def case(name, fn, np_fn, torch_fn, variants, domain, **kw):
    """Register one case per shape variant.  ``domain``: one name, or one per input."""
    for shapes in variants:
        shapes = tuple(tuple(s) for s in shapes)
        dom = (domain,) * len(shapes) if isinstance(domain, str) else tuple(domain)
        CASES.append(Case(name, fn, np_fn, torch_fn, shapes, dom, **kw))


# ---------------------------------------------------------------- unary
UNARY_SHAPES = [[(3, 4)], [()], [(2, 1, 3)]]

for _name, _dom in [("neg", "real"), ("exp", "real"), ("log", "positive"), ("log1p", "unit"),
                    ("sqrt", "positive"), ("abs", "nonzero"), ("sin", "real"), ("cos", "real"),
                    ("tanh", "real"), ("sigmoid", "real"), ("relu", "nonzero")]:
    _np = {"relu": lambda a: np.maximum(a, 0), "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
           "neg": np.negative}.get(_name) or getattr(np, _name)
    case(_name, getattr(ag, _name), _np, getattr(torch, _name), UNARY_SHAPES, _dom)

case("clip", lambda x: x.clip(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
     lambda t: t.clamp(-0.5, 0.5), UNARY_SHAPES, "clip")
case("clip_lo", lambda x: ag.clip(x, 0.5, None), lambda a: np.clip(a, 0.5, None),
     lambda t: t.clamp(min=0.5), [[(3, 4)]], "clip")
case("neg_op", lambda x: -x, np.negative, torch.neg, [[(3,)]], "real")
case("abs_op", lambda x: abs(x), np.abs, torch.abs, [[(3,)]], "nonzero")
# astype rounds to float32, so central differences need a wide step.
case("astype_f32", lambda x: x.astype(np.float32), lambda a: a.astype(np.float32),
     lambda t: t.to(torch.float32), [[(3, 4)]], "real", keeps_dtype=False,
     check=dict(eps=1e-2, atol=1e-4))
case("astype_f64", lambda x: x.astype(np.float32).astype("float64") * x,
     lambda a: a.astype(np.float32).astype(np.float64) * a,
     lambda t: t.to(torch.float32).to(torch.float64) * t, [[(2, 3)]], "real", keeps_dtype=False,
     check=dict(eps=1e-2, atol=1e-3))

# ---------------------------------------------------------------- binary, elementwise
BINARY_SHAPES = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (2, 3)], [(3, 1), ()]]

# name -> (chaingrad, numpy, torch, domains).  tests/test_broadcasting.py sweeps this table.
BINARY = {
    "add": (lambda x, y: x + y, np.add, torch.add, ("real", "real")),
    "sub": (lambda x, y: x - y, np.subtract, torch.sub, ("real", "real")),
    "mul": (lambda x, y: x * y, np.multiply, torch.mul, ("real", "real")),
    "div": (lambda x, y: x / y, np.divide, torch.div, ("real", "nonzero")),
    "pow": (lambda x, y: x ** y, np.power, torch.pow, ("positive", "real")),
    "maximum": (ag.maximum, np.maximum, torch.maximum, ("grid", "grid_half")),
    "minimum": (ag.minimum, np.minimum, torch.minimum, ("grid", "grid_half")),
}
for _name, (_f, _np, _t, _dom) in BINARY.items():
    case(_name, _f, _np, _t, BINARY_SHAPES, _dom)

case("add_fn", ag.add, np.add, torch.add, [[(2, 3), (3,)]], "real")
case("sub_fn", ag.sub, np.subtract, torch.sub, [[(2, 3), (3,)]], "real")
case("mul_fn", ag.mul, np.multiply, torch.mul, [[(2, 3), (3,)]], "real")
case("div_fn", ag.div, np.divide, torch.div, [[(2, 3), (3,)]], ("real", "nonzero"))
case("pow_fn", ag.pow, np.power, torch.pow, [[(2, 3), (3,)]], ("positive", "real"))
# Python numbers on either side (they must not upcast float32).
case("radd", lambda x: 2.5 + x, lambda a: 2.5 + a, lambda t: 2.5 + t, [[(3,)]], "real")
case("rsub", lambda x: 1.0 - x, lambda a: 1.0 - a, lambda t: 1.0 - t, [[(3,)]], "real")
case("rmul", lambda x: 3 * x, lambda a: 3 * a, lambda t: 3 * t, [[(3,)]], "real")
case("rdiv", lambda x: 10.0 / x, lambda a: 10.0 / a, lambda t: 10.0 / t, [[(3,)]], "nonzero")
case("pow_const", lambda x: x ** 3, lambda a: a ** 3, lambda t: t ** 3, [[(3, 2)], [()]], "real")
case("pow_half", lambda x: x ** 0.5, np.sqrt, lambda t: t ** 0.5, [[(3,)]], "positive")
case("pow_zero_exp", lambda x: x ** 0.0, lambda a: a ** 0.0, lambda t: t ** 0.0, [[(5,)]], "with_zero")
# At x = 0 the y-derivative x^y log x exists only from the right: first order only.
case("pow_zero_exp_tensor", lambda x, y: x ** (y * 0.0), lambda a, b: a ** (b * 0.0),
     lambda s, t: s ** (t * 0.0), [[(5,), (5,)]], ("nonneg_zero", "real"), order=1, torch_order=1)
case("pow_at_zero", lambda x: x ** 2 + x ** 1, lambda a: a ** 2 + a ** 1, lambda t: t ** 2 + t ** 1,
     [[(5,)]], "with_zero")
case("rpow", lambda x: 2.0 ** x, lambda a: 2.0 ** a, lambda t: 2.0 ** t, [[(3,)]], "real")
# 0 ** y: d/dy = 0^y log 0 is taken as 0 for y > 0, as PyTorch does.  The second
# derivative is 0 too (0 ** y is constant in y), where PyTorch says NaN: checked by
# gradgradcheck only.
case("pow_zero_base", lambda y: ag.Tensor(np.zeros(3, y.dtype)) ** y, lambda b: np.zeros(3, b.dtype) ** b,
     lambda t: torch.zeros(3, dtype=t.dtype) ** t, [[(3,)]], "positive", torch_order=1)

# where: the condition is a constant mask closed over by the case.
_MASKS = {(3, 4): np.arange(12).reshape(3, 4) % 3 == 0, (4,): np.array([True, False, False, True])}
for _m, _xs, _ys in [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((4,), (2, 1, 4), ())]:
    _c = _MASKS[_m]
    case("where", lambda x, y, c=_c: ag.where(c, x, y), lambda a, b, c=_c: np.where(c, a, b),
         lambda s, t, c=_c: torch.where(torch.as_tensor(c), s, t), [[_xs, _ys]], "real")
case("where_tensor_cond", lambda x, y: ag.where(x > 0, x, y), lambda a, b: np.where(a > 0, a, b),
     lambda s, t: torch.where(s > 0, s, t), [[(3, 4), (4,)]], ("nonzero", "real"))

# comparisons: bool out, no gradient; as functions and as operators
for _name, _np_name in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                        ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]:
    case(_name, getattr(ag, _name), getattr(np, _np_name), getattr(torch, _name),
         [[(3, 4), (4,)]], "grid", differentiable=False)
    _op = f"__{_name}__"
    case(_name + "_op", lambda x, y, op=_op: getattr(x, op)(y), lambda a, b, op=_op: getattr(a, op)(b),
         lambda s, t, op=_op: getattr(s, op)(t), [[(2, 3), (2, 3)]], "grid", differentiable=False)
case("clone", lambda x: x.clone() * x, lambda a: a.copy() * a, lambda t: t.clone() * t, [[(3, 4)]], "real")
case("astype_int", lambda x: (x * 3).astype(np.int64), lambda a: (a * 3).astype(np.int64),
     lambda t: (t * 3).to(torch.int64), [[(3, 4)]], "real", differentiable=False)
case("argmax", lambda x: x.argmax(1), lambda a: np.argmax(a, 1), lambda t: torch.argmax(t, 1),
     [[(3, 4)]], "distinct", differentiable=False)
case("argmin", lambda x: ag.argmin(x), lambda a: np.argmin(a), lambda t: torch.argmin(t),
     [[(3, 4)]], "distinct", differentiable=False)


# ---------------------------------------------------------------- reductions
def _tdim(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _np_lse(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


@dataclass(frozen=True)
class Reduction:
    fn: object          # (Tensor, axis, keepdims) -> Tensor
    np_fn: object       # (ndarray, axis, keepdims) -> ndarray
    torch_fn: object    # (torch tensor, axis, keepdims) -> torch tensor
    domain: str
    ddof: int = 0
    axis_none: bool = True   # does the op accept axis=None?


# name -> Reduction.  tests/test_reductions.py sweeps every axis and keepdims.
REDUCTIONS = {
    "sum": Reduction(lambda x, a, k: x.sum(a, k), lambda x, a, k: np.sum(x, a, keepdims=k),
                     lambda t, a, k: t.sum(_tdim(a, t.ndim), keepdim=k), "real"),
    "mean": Reduction(lambda x, a, k: ag.mean(x, a, k), lambda x, a, k: np.mean(x, a, keepdims=k),
                      lambda t, a, k: t.mean(_tdim(a, t.ndim), keepdim=k), "real"),
    "max": Reduction(lambda x, a, k: x.max(a, k), lambda x, a, k: np.max(x, a, keepdims=k),
                     lambda t, a, k: torch.amax(t, _tdim(a, t.ndim), keepdim=k), "distinct"),
    "min": Reduction(lambda x, a, k: ag.min(x, a, k), lambda x, a, k: np.min(x, a, keepdims=k),
                     lambda t, a, k: torch.amin(t, _tdim(a, t.ndim), keepdim=k), "distinct"),
    "var": Reduction(lambda x, a, k: x.var(a, k), lambda x, a, k: np.var(x, a, keepdims=k),
                     lambda t, a, k: torch.var(t, _tdim(a, t.ndim), correction=0, keepdim=k), "real"),
    "var_ddof1": Reduction(lambda x, a, k: ag.var(x, a, k, ddof=1),
                           lambda x, a, k: np.var(x, a, keepdims=k, ddof=1),
                           lambda t, a, k: torch.var(t, _tdim(a, t.ndim), correction=1, keepdim=k),
                           "real", ddof=1),
    "std": Reduction(lambda x, a, k: ag.std(x, a, k), lambda x, a, k: np.std(x, a, keepdims=k),
                     lambda t, a, k: torch.std(t, _tdim(a, t.ndim), correction=0, keepdim=k), "real"),
    "std_ddof1": Reduction(lambda x, a, k: x.std(a, k, ddof=1),
                           lambda x, a, k: np.std(x, a, keepdims=k, ddof=1),
                           lambda t, a, k: torch.std(t, _tdim(a, t.ndim), correction=1, keepdim=k),
                           "real", ddof=1),
    "logsumexp": Reduction(lambda x, a, k: x.logsumexp(a, k), _np_lse,
                           lambda t, a, k: torch.logsumexp(t, a, keepdim=k), "real", axis_none=False),
}

for _name, _r in REDUCTIONS.items():
    for _shape, _axis, _keep in [((3, 4), -1, False), ((2, 3, 4), (0, 2), True), ((5,), 0, False),
                                 ((2, 3), None, False), ((2, 1, 3), 1, True)]:
        if _axis is None and not _r.axis_none:
            continue
        if _r.ddof and _shape[_axis if isinstance(_axis, int) else 0] == 1:
            continue      # n - ddof = 0: no unbiased estimate
        case(f"{_name}(axis={_axis},keepdims={_keep})",
             lambda x, r=_r, a=_axis, k=_keep: r.fn(x, a, k),
             lambda x, r=_r, a=_axis, k=_keep: r.np_fn(x, a, k),
             lambda x, r=_r, a=_axis, k=_keep: r.torch_fn(x, a, k), [[_shape]], _r.domain)
case("sum_0d", lambda x: x.sum(), np.sum, torch.sum, [[()]], "real")
case("sum_default", lambda x: ag.sum(x), np.sum, torch.sum, [[(2, 3)]], "real")
case("mean_default", lambda x: x.mean(), np.mean, torch.mean, [[(2, 3)]], "real")
case("max_default", lambda x: ag.max(x), np.max, torch.amax, [[(2, 3)]], "distinct")


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# name -> (chaingrad, numpy, torch); swept over every axis by tests/test_reductions.py
SOFTMAXES = {
    "softmax": (lambda x, a: x.softmax(a), _np_softmax, lambda t, a: torch.softmax(t, a)),
    "log_softmax": (lambda x, a: ag.log_softmax(x, a), lambda x, a: np.log(_np_softmax(x, a)),
                    lambda t, a: torch.log_softmax(t, a)),
}
for _name, (_f, _np, _t) in SOFTMAXES.items():
    for _shape, _axis in [((3, 4), -1), ((2, 3, 4), 1), ((5,), 0)]:
        case(f"{_name}(axis={_axis})", lambda x, f=_f, a=_axis: f(x, a),
             lambda x, f=_np, a=_axis: f(x, a), lambda x, f=_t, a=_axis: f(x, a), [[_shape]], "real")
# -inf logits (masking) get probability 0 and a finite gradient for the others
_NEG = np.array([[0.0, -np.inf, 0.0], [0.0, 0.0, 0.0]])
case("softmax_masked", lambda x: (x + _NEG.astype(x.dtype)).softmax(-1),
     lambda a: _np_softmax(a + _NEG.astype(a.dtype), -1),
     lambda t: torch.softmax(t + torch.tensor(_NEG, dtype=t.dtype), -1), [[(2, 3)]], "real")
case("softmax_default", ag.softmax, lambda a: _np_softmax(a, -1), lambda t: torch.softmax(t, -1),
     [[(2, 3)]], "real")

# ---------------------------------------------------------------- shape
case("reshape", lambda x: x.reshape(6, -1), lambda a: a.reshape(6, -1),
     lambda t: t.reshape(6, -1), [[(2, 3, 4)]], "real")
case("reshape_tuple", lambda x: ag.reshape(x, (4, 3)), lambda a: a.reshape(4, 3),
     lambda t: t.reshape(4, 3), [[(3, 4)]], "real")
case("reshape_0d", lambda x: x.reshape(1, 1), lambda a: a.reshape(1, 1), lambda t: t.reshape(1, 1),
     [[()]], "real")
case("flatten", lambda x: x.flatten(), lambda a: a.ravel(), lambda t: t.flatten(), [[(2, 3, 2)]], "real")
case("transpose", lambda x: x.transpose(), lambda a: a.transpose(), lambda t: t.permute(2, 1, 0),
     [[(2, 3, 4)]], "real")
case("transpose_neg_axes", lambda x: x.transpose(-1, 0, 1), lambda a: a.transpose(-1, 0, 1),
     lambda t: t.permute(-1, 0, 1), [[(2, 3, 4)]], "real")
case("transpose_axes", lambda x: ag.transpose(x, 1, 2, 0), lambda a: a.transpose(1, 2, 0),
     lambda t: t.permute(1, 2, 0), [[(2, 3, 4)]], "real")
case("T", lambda x: x.T, lambda a: a.T, lambda t: t.T, [[(3, 4)]], "real")
case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), lambda a: np.broadcast_to(a, (2, 3, 4)),
     lambda t: torch.broadcast_to(t, (2, 3, 4)), [[(3, 1)], [(4,)], [()]], "real")
case("squeeze", lambda x: x.squeeze(1), lambda a: a.squeeze(1), lambda t: t.squeeze(1),
     [[(3, 1, 4)]], "real")
case("squeeze_all", lambda x: ag.squeeze(x), lambda a: a.squeeze(), lambda t: t.squeeze(),
     [[(1, 3, 1, 2)]], "real")
case("squeeze_neg", lambda x: x.squeeze(-1), lambda a: a.squeeze(-1), lambda t: t.squeeze(-1),
     [[(3, 1)]], "real")
case("squeeze_tuple", lambda x: x.squeeze((0, 2)), lambda a: a.squeeze((0, 2)),
     lambda t: t.squeeze((0, 2)), [[(1, 3, 1, 2)]], "real")
case("unsqueeze", lambda x: x.unsqueeze(0), lambda a: a[None], lambda t: t.unsqueeze(0),
     [[(3, 4)], [()]], "real")
case("unsqueeze_neg", lambda x: ag.unsqueeze(x, -1), lambda a: a[..., None], lambda t: t.unsqueeze(-1),
     [[(3, 4)]], "real")

# getitem: (label, index for numpy and chaingrad, index for torch)
_I = np.array([0, 2, 0, 0])
_MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
GETITEMS = [
    ("int", 1, 1),
    ("neg_int", -1, -1),
    ("slices", (slice(1, None), slice(None, None, 2)), (slice(1, None), slice(None, None, 2))),
    ("none", (slice(None), None, 1), (slice(None), None, 1)),
    ("ellipsis", (Ellipsis, 1), (Ellipsis, 1)),
    ("int_array_repeats", _I, torch.as_tensor(_I)),
    ("int_list_repeats", [1, 1, 2], [1, 1, 2]),
    ("slice_and_array", (slice(None), np.array([3, 1, 3])), (slice(None), torch.tensor([3, 1, 3]))),
    ("two_arrays", (np.array([[0, 1], [2, 2]]), np.array([1, 1])),
     (torch.tensor([[0, 1], [2, 2]]), torch.tensor([1, 1]))),
    ("bool_mask", _MASK, torch.as_tensor(_MASK)),
    ("bool_rows", np.array([True, False, True]), torch.tensor([True, False, True])),
    ("tensor_index", ag.tensor(np.array([2, 0, 2])), torch.tensor([2, 0, 2])),
]
for _label, _ix, _tix in GETITEMS:
    _np_ix = _ix.data if isinstance(_ix, ag.Tensor) else _ix
    case(f"getitem_{_label}", lambda x, i=_ix: x[i], lambda a, i=_np_ix: a[i],
         lambda t, i=_tix: t[i], [[(3, 4)]], "real")
case("getitem_split_arrays", lambda x: x[[0, 2, 2], :, [1, 3, 1]], lambda a: a[[0, 2, 2], :, [1, 3, 1]],
     lambda t: t[[0, 2, 2], :, [1, 3, 1]], [[(3, 2, 4)]], "real")
case("getitem_neg_step", lambda x: x[::-2, 1:], lambda a: a[::-2, 1:], lambda t: t.flip(0)[::2, 1:],
     [[(5, 3)]], "real")
case("getitem_bool_tensor", lambda x: x[x > 0], lambda a: a[a > 0], lambda t: t[t > 0], [[(3, 4)]], "nonzero")
case("getitem_0d_result", lambda x: x[1, 2] * x[1, 2] + x[0, 0], lambda a: a[1, 2] * a[1, 2] + a[0, 0],
     lambda t: t[1, 2] * t[1, 2] + t[0, 0], [[(3, 4)]], "real")
case("getitem_ellipsis_3d", lambda x: x[..., 1, :], lambda a: a[..., 1, :], lambda t: t[..., 1, :],
     [[(2, 3, 4)]], "real")
case("getitem_fn", lambda x: ag.getitem(x, (0, slice(1, 3))), lambda a: a[0, 1:3],
     lambda t: t[0, 1:3], [[(3, 4)]], "real")

case("cat", lambda x, y, z: ag.cat([x, y, z], axis=1), lambda a, b, c: np.concatenate([a, b, c], 1),
     lambda a, b, c: torch.cat([a, b, c], 1), [[(2, 3), (2, 1), (2, 2)]], "real")
case("cat_axis0", lambda x, y: ag.cat((x, y)), lambda a, b: np.concatenate([a, b]),
     lambda a, b: torch.cat([a, b]), [[(2, 3), (1, 3)]], "real")
case("cat_neg", lambda x, y: ag.cat([x, y], axis=-1), lambda a, b: np.concatenate([a, b], -1),
     lambda a, b: torch.cat([a, b], -1), [[(2, 2, 1), (2, 2, 3)]], "real")
case("cat_same_tensor", lambda x: ag.cat([x, x * 2, x], axis=0),
     lambda a: np.concatenate([a, a * 2, a]), lambda t: torch.cat([t, t * 2, t]), [[(2, 2)]], "real")
case("cat_one", lambda x: ag.cat([x], axis=1), lambda a: np.concatenate([a], 1), lambda t: torch.cat([t], 1),
     [[(2, 3)]], "real")
case("stack", lambda x, y: ag.stack([x, y]), lambda a, b: np.stack([a, b]),
     lambda a, b: torch.stack([a, b]), [[(2, 3), (2, 3)]], "real")
case("stack_neg", lambda x, y, z: ag.stack([x, y, z], axis=-1), lambda a, b, c: np.stack([a, b, c], -1),
     lambda a, b, c: torch.stack([a, b, c], -1), [[(2, 3), (2, 3), (2, 3)]], "real")
# split/chunk: PyTorch's meaning (pieces of a size); np.split keeps numpy's (n pieces, or indices)
case("split_size", lambda x: ag.split(x, 2, dim=1), lambda a: np.split(a, [2], axis=1),
     lambda t: list(torch.split(t, 2, dim=1)), [[(3, 3)]], "real")
case("split_sizes", lambda x: x.split([1, 3, 1]), lambda a: np.split(a, [1, 4]),
     lambda t: list(torch.split(t, [1, 3, 1])), [[(5, 2)]], "real")
case("split_neg_dim", lambda x: x.split(1, -1), lambda a: np.split(a, 3, axis=-1),
     lambda t: list(torch.split(t, 1, dim=-1)), [[(2, 3)]], "real")
case("split_numpy", lambda x: np.split(x, 2, axis=1), lambda a: np.split(a, 2, axis=1),
     lambda t: list(torch.split(t, 2, dim=1)), [[(3, 4)]], "real")
case("split_numpy_indices", lambda x: np.split(x, [1, 3]), lambda a: np.split(a, [1, 3]),
     lambda t: list(torch.tensor_split(t, [1, 3])), [[(5, 2)]], "real")
case("chunk", lambda x: x.chunk(3, dim=1), lambda a: np.split(a, [2, 4], axis=1),
     lambda t: list(torch.chunk(t, 3, dim=1)), [[(2, 5)]], "real")
case("chunk_fn", lambda x: ag.chunk(x, 2), lambda a: np.split(a, 2),
     lambda t: list(torch.chunk(t, 2)), [[(4, 3)]], "real")
case("ravel", lambda x: x.ravel(), np.ravel, torch.ravel, [[(2, 3, 2)], [()]], "real")
case("t", lambda x: x.t(), lambda a: a.T, lambda t: t.t(), [[(3, 4)], [(4,)]], "real")
case("pad", lambda x: ag.pad(x, ((1, 0), (2, 1))), lambda a: np.pad(a, ((1, 0), (2, 1))),
     lambda t: torch.nn.functional.pad(t, (2, 1, 1, 0)), [[(2, 3)]], "real")
case("pad_3d", lambda x: ag.pad(x, ((0, 0), (1, 2), (0, 1))), lambda a: np.pad(a, ((0, 0), (1, 2), (0, 1))),
     lambda t: torch.nn.functional.pad(t, (0, 1, 1, 2)), [[(2, 2, 3)]], "real")
case("pad_int", lambda x: x.pad(1), lambda a: np.pad(a, 1), lambda t: torch.nn.functional.pad(t, (1, 1)),
     [[(3,)]], "real")
case("flip", lambda x: x.flip(1), lambda a: np.flip(a, 1), lambda t: torch.flip(t, (1,)),
     [[(3, 4)]], "real")
case("flip_all", lambda x: ag.flip(x), lambda a: np.flip(a), lambda t: torch.flip(t, (0, 1, 2)),
     [[(2, 3, 2)]], "real")
case("flip_tuple", lambda x: ag.flip(x, (0, -1)), lambda a: np.flip(a, (0, -1)),
     lambda t: torch.flip(t, (0, -1)), [[(2, 3, 2)]], "real")

# ---------------------------------------------------------------- scans, products, ordering
case("cumsum", lambda x: x.cumsum(1), lambda a: np.cumsum(a, 1), lambda t: t.cumsum(1),
     [[(3, 4)], [(2, 3, 2)]], "real")
case("cumsum_dim", lambda x: ag.cumsum(x, dim=-1), lambda a: np.cumsum(a, -1), lambda t: torch.cumsum(t, -1),
     [[(5,)]], "real")
case("cumsum_flat", lambda x: np.cumsum(x), np.cumsum, lambda t: torch.cumsum(t.reshape(-1), 0),
     [[(2, 3)]], "real")
case("prod", lambda x: x.prod(1), lambda a: np.prod(a, 1), lambda t: t.prod(1), [[(3, 4)]], "nonzero")
case("prod_dim_keepdim", lambda x: x.prod(dim=0, keepdim=True), lambda a: np.prod(a, 0, keepdims=True),
     lambda t: t.prod(0, keepdim=True), [[(3, 2)]], "nonzero")
case("prod_all", lambda x: np.prod(x), np.prod, torch.prod, [[(2, 3)], [()]], "nonzero")
case("prod_axes", lambda x: ag.prod(x, (0, 2)), lambda a: np.prod(a, (0, 2)),
     lambda t: t.prod(2).prod(0), [[(2, 3, 2)]], "nonzero")
# zeros among the factors: the gradient is the product of the others, no 0/0 (first and second order)
case("prod_with_zeros", lambda x: x.prod(1), lambda a: np.prod(a, 1), lambda t: t.prod(1),
     [[(4, 3)]], "with_zero")
case("sort", lambda x: x.sort(dim=1).values, lambda a: np.sort(a, 1), lambda t: t.sort(dim=1).values,
     [[(3, 4)]], "distinct")
case("sort_descending", lambda x: ag.sort(x, 0, descending=True)[0], lambda a: -np.sort(-a, 0),
     lambda t: torch.sort(t, 0, descending=True)[0], [[(4, 3)]], "distinct")
case("sort_indices", lambda x: x.sort().indices, lambda a: np.argsort(a, -1),
     lambda t: t.sort().indices, [[(3, 4)]], "distinct", differentiable=False)
case("topk", lambda x: x.topk(2).values, lambda a: -np.sort(-a, -1)[:, :2], lambda t: t.topk(2).values,
     [[(3, 4)]], "distinct")
case("topk_smallest", lambda x: ag.topk(x, 3, dim=0, largest=False)[0], lambda a: np.sort(a, 0)[:3],
     lambda t: torch.topk(t, 3, dim=0, largest=False)[0], [[(5, 2)]], "distinct")
case("topk_indices", lambda x: x.topk(2, dim=0).indices, lambda a: np.argsort(-a, 0)[:2],
     lambda t: t.topk(2, dim=0).indices, [[(4, 3)]], "distinct", differentiable=False)
case("argsort", lambda x: x.argsort(1), lambda a: np.argsort(a, 1), lambda t: t.argsort(1),
     [[(3, 4)]], "distinct", differentiable=False)
case("argsort_descending", lambda x: ag.argsort(x, dim=0, descending=True), lambda a: np.argsort(-a, 0),
     lambda t: torch.argsort(t, 0, descending=True), [[(4, 3)]], "distinct", differentiable=False)
case("sign", lambda x: x.sign() * x, lambda a: np.sign(a) * a, lambda t: t.sign() * t, [[(3, 4)]], "nonzero")
case("remainder", lambda x, y: x % y, np.remainder, torch.remainder,
     [[(3, 4), (3, 4)], [(3, 4), (4,)], [(), (2, 3)]], ("real", "nonzero"))
case("remainder_fn", lambda x: ag.remainder(x, 0.7), lambda a: np.remainder(a, 0.7),
     lambda t: torch.remainder(t, 0.7), [[(5,)]], "real")
case("rmod", lambda y: 2.5 % y, lambda b: 2.5 % b, lambda t: torch.tensor(2.5, dtype=t.dtype) % t,[[(4,)]], "nonzero")

# ---------------------------------------------------------------- einsum
for _spec, _shapes in [("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]),
                       ("ij->j", [(3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]), ("i,j->ij", [(3,), (2,)]),
                       ("ij,ij->i", [(2, 3), (2, 3)]), ("ijk,k->ij", [(2, 3, 4), (4,)]),
                       ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ij,kl", [(2, 3), (2, 2)])]:
    case(f"einsum({_spec})", lambda *xs, s=_spec: ag.einsum(s, *xs), lambda *a, s=_spec: np.einsum(s, *a),
         lambda *t, s=_spec: torch.einsum(s, *t), [_shapes], "real")
case("einsum_numpy", lambda x, y: np.einsum("ik,jk", x, y), lambda a, b: np.einsum("ik,jk", a, b),
     lambda s, t: torch.einsum("ik,jk", s, t), [[(2, 3), (4, 3)]], "real")

# ---------------------------------------------------------------- matmul
case("matmul", lambda x, y: x @ y, np.matmul, torch.matmul,
     [[(4,), (4,)], [(4,), (4, 3)], [(3, 4), (4,)], [(2, 3), (3, 4)], [(2, 3, 4), (2, 4, 2)],
      [(2, 1, 3, 4), (3, 4, 2)], [(4,), (2, 4, 3)], [(2, 3, 4), (4,)], [(1, 3), (2, 3, 2)]], "real")
case("matmul_fn", ag.matmul, np.matmul, torch.matmul, [[(2, 3), (3,)]], "real")
# linear takes PyTorch's layout: weight (out, in), x @ W.T + b; 1-D x, batched x, square weights.
case("linear", ag.linear, lambda a, w, b: a @ w.T + b, torch.nn.functional.linear,
     [[(3, 4), (2, 4), (2,)], [(4,), (2, 4), (2,)], [(2, 3, 4), (2, 4), (2,)], [(3, 4), (2, 4), ()],
      [(3, 3), (3, 3), (3,)]], "real")
case("linear_no_bias", lambda x, w: ag.linear(x, w), lambda a, w: a @ w.T, torch.nn.functional.linear,
     [[(3, 4), (2, 4)], [(4,), (2, 4)], [(2, 3, 4), (2, 4)]], "real")
case("rmatmul_array", lambda y: np.eye(3, dtype=y.dtype)[:2] @ y, lambda b: np.eye(3, dtype=b.dtype)[:2] @ b,
     lambda t: torch.eye(3, dtype=t.dtype)[:2] @ t, [[(3, 2)]], "real")

# ---------------------------------------------------------------- compositions (higher order)
case("chain", lambda x, y: (x * y).tanh().sum(1) ** 2 + (x.exp() / (1 + y ** 2)).mean(),
     lambda a, b: np.tanh(a * b).sum(1) ** 2 + (np.exp(a) / (1 + b ** 2)).mean(),
     lambda s, t: (s * t).tanh().sum(1) ** 2 + (s.exp() / (1 + t ** 2)).mean(), [[(3, 4), (4,)]], "real")
case("fan_out", lambda x: x * x.sin() + x, lambda a: a * np.sin(a) + a,
     lambda t: t * t.sin() + t, [[(3,)]], "real")


# ---------------------------------------------------------------- numpy functions as compositions
# (issue 18: each numpy function that once refused a tensor that requires grad; chaingrad's side is
# the numpy call itself, so the row tests the numpy protocol's route to the engine ops)
_NANS = np.array([0.0, np.nan, np.inf, -np.inf, 0.0, 0.0])
_CONDS = [np.array([True, False, False, True]), np.array([False, True, False, True])]
NUMPY_COMPOSITIONS = [
    # (name, numpy call, torch call, shapes, domain)
    ("np.remainder", lambda x, y: np.remainder(x, y), torch.remainder, [(3, 4), (4,)], ("real", "nonzero")),
    ("np.mod", lambda x: np.mod(x, 0.6), lambda t: torch.remainder(t, 0.6), [(5,)], "real"),
    ("np.logaddexp2", np.logaddexp2, torch.logaddexp2, [(3, 4), (4,)], "real"),
    ("np.fmax", np.fmax, torch.fmax, [(3, 4), (4,)], ("grid", "grid_half")),
    ("np.fmin", np.fmin, torch.fmin, [(3, 4), (3, 4)], ("grid", "grid_half")),
    ("np.deg2rad", np.deg2rad, torch.deg2rad, [(3,)], "real"),
    ("np.radians", np.radians, torch.deg2rad, [(3,)], "real"),
    ("np.rad2deg", np.rad2deg, torch.rad2deg, [(3,)], "real"),
    ("np.degrees", np.degrees, torch.rad2deg, [(3,)], "real"),
    ("np.real", lambda x: np.real(x) * x, lambda t: torch.real(t) * t, [(3,)], "real"),
    ("np.imag", lambda x: np.imag(x) + x, lambda t: t * 0 + t, [(3,)], "real"),
    ("np.conj", lambda x: np.conj(x) * x, lambda t: torch.conj(t) * t, [(3,)], "real"),
    ("np.angle", lambda x: np.angle(x) + x, lambda t: torch.angle(t) + t, [(4,)], "nonzero"),
    ("np.real_if_close", lambda x: np.real_if_close(x) * 2, lambda t: t * 2, [(3,)], "real"),
    ("np.prod", lambda x: np.prod(x, axis=0), lambda t: torch.prod(t, 0), [(3, 2)], "nonzero"),
    ("np.cumsum", lambda x: np.cumsum(x, axis=0), lambda t: torch.cumsum(t, 0), [(3, 2)], "real"),
    ("np.einsum", lambda x, y: np.einsum("ij,j->i", x, y), lambda s, t: torch.einsum("ij,j->i", s, t),
     [(3, 4), (4,)], "real"),
    ("np.tensordot", lambda x, y: np.tensordot(x, y, axes=2), lambda s, t: torch.tensordot(s, t, dims=2),
     [(2, 3, 4), (3, 4, 2)], "real"),
    ("np.tensordot_axes", lambda x, y: np.tensordot(x, y, axes=([0, 2], [1, 0])),
     lambda s, t: torch.tensordot(s, t, dims=([0, 2], [1, 0])), [(2, 3, 4), (4, 2)], "real"),
    ("np.kron", np.kron, torch.kron, [(2, 3), (2, 2)], "real"),
    ("np.kron_1d_2d", np.kron, torch.kron, [(3,), (2, 2)], "real"),
    ("np.cross", np.cross, lambda s, t: torch.linalg.cross(s, t), [(2, 3), (2, 3)], "real"),
    ("np.dot_3d", np.dot, lambda s, t: torch.tensordot(s, t, dims=([2], [1])), [(2, 3, 4), (5, 4, 2)], "real"),
    ("np.dot_3d_1d", np.dot, lambda s, t: s @ t, [(2, 3, 4), (4,)], "real"),
    ("np.trace_3d", lambda x: np.trace(x), lambda t: torch.diagonal(t, 0, 0, 1).sum(-1), [(3, 3, 2)], "real"),
    ("np.trace_4d", lambda x: np.trace(x, 1, 1, 3), lambda t: torch.diagonal(t, 1, 1, 3).sum(-1),
     [(2, 3, 2, 4)], "real"),
    ("np.diagonal_3d", lambda x: np.diagonal(x, -1, 2, 0), lambda t: torch.diagonal(t, -1, 2, 0),
     [(3, 2, 4)], "real"),
    ("np.diag", lambda x: np.diag(x, 1), lambda t: torch.diag(t, 1), [(3,)], "real"),
    ("np.diag_2d", lambda x: np.diag(x, -1), lambda t: torch.diag(t, -1), [(3, 4)], "real"),
    ("np.tril", lambda x: np.tril(x, -1), lambda t: torch.tril(t, -1), [(2, 3, 4)], "real"),
    ("np.triu", lambda x: np.triu(x, 1), lambda t: torch.triu(t, 1), [(4, 3)], "real"),
    ("np.roll", lambda x: np.roll(x, 2, axis=1), lambda t: torch.roll(t, 2, 1), [(3, 4)], "real"),
    ("np.roll_flat", lambda x: np.roll(x, -1), lambda t: torch.roll(t, -1), [(3, 4)], "real"),
    ("np.roll_axes", lambda x: np.roll(x, (1, -2), axis=(0, 1)), lambda t: torch.roll(t, (1, -2), (0, 1)),
     [(3, 4)], "real"),
    ("np.rot90", lambda x: np.rot90(x), lambda t: torch.rot90(t), [(3, 4)], "real"),
    ("np.rot90_k", lambda x: np.rot90(x, 3, axes=(1, 2)), lambda t: torch.rot90(t, 3, (1, 2)), [(2, 3, 4)], "real"),
    ("np.rot90_2", lambda x: np.rot90(x, 2), lambda t: torch.rot90(t, 2), [(3, 4)], "real"),
    ("np.flipud", np.flipud, torch.flipud, [(3, 4)], "real"),
    ("np.fliplr", np.fliplr, torch.fliplr, [(3, 4)], "real"),
    ("np.rollaxis", lambda x: np.rollaxis(x, 2), lambda t: torch.movedim(t, 2, 0), [(2, 3, 4)], "real"),
    ("np.rollaxis_start", lambda x: np.rollaxis(x, 0, 3), lambda t: torch.movedim(t, 0, 2), [(2, 3, 4)], "real"),
    ("np.partition", lambda x: np.partition(x, 1, axis=1)[:, 1], lambda t: torch.sort(t, 1).values[:, 1],
     [(3, 4)], "distinct"),
    ("np.select", lambda x, y: np.select(_CONDS, [x, y], 0.5),
     lambda s, t: torch.where(torch.tensor(_CONDS[0]), s, torch.where(torch.tensor(_CONDS[1]), t, 0.5)),
     [(4,), (4,)], "real"),
    ("np.gradient", lambda x: np.gradient(x), lambda t: list(torch.gradient(t)), [(3, 4)], "real"),
    ("np.gradient_1d", lambda x: np.gradient(x, 0.5), lambda t: torch.gradient(t, spacing=0.5)[0], [(5,)], "real"),
    ("np.linspace", lambda a, b: np.linspace(a, b, 5), lambda s, t: s + torch.linspace(0, 1, 5, dtype=s.dtype)[:, None] * (t - s),
     [(2,), (2,)], "real"),
    ("np.nan_to_num", lambda x: np.nan_to_num(x + _NANS.astype(x.dtype), posinf=3.0, neginf=-2.0) * x,
     lambda t: torch.nan_to_num(t + torch.tensor(_NANS, dtype=t.dtype), posinf=3.0, neginf=-2.0) * t, [(6,)], "real"),
    ("np.append", lambda x, y: np.append(x, y), lambda s, t: torch.cat([s.reshape(-1), t.reshape(-1)]),
     [(2, 2), (3,)], "real"),
    ("np.append_axis", lambda x, y: np.append(x, y, axis=1), lambda s, t: torch.cat([s, t], 1),
     [(2, 2), (2, 3)], "real"),
    ("np.atleast_3d", lambda x: np.atleast_3d(x), torch.atleast_3d, [(4,)], "real"),
    ("np.atleast_3d_2d", lambda x: np.atleast_3d(x), torch.atleast_3d, [(2, 3)], "real"),
    ("np.column_stack", lambda x, y: np.column_stack([x, y]), lambda s, t: torch.column_stack([s, t]),
     [(3,), (3, 2)], "real"),
    ("np.array_split", lambda x: np.array_split(x, 3), lambda t: list(torch.tensor_split(t, 3)), [(7, 2)], "real"),
    ("np.array_split_indices", lambda x: np.array_split(x, [2, 5], axis=1),
     lambda t: list(torch.tensor_split(t, [2, 5], dim=1)), [(2, 6)], "real"),
    ("np.vsplit", lambda x: np.vsplit(x, 2), lambda t: list(torch.vsplit(t, 2)), [(4, 3)], "real"),
    ("np.hsplit", lambda x: np.hsplit(x, [1]), lambda t: list(torch.hsplit(t, [1])), [(2, 3)], "real"),
    ("np.dsplit", lambda x: np.dsplit(x, 2), lambda t: list(torch.dsplit(t, 2)), [(2, 2, 4)], "real"),
    ("np.hstack_1d", lambda x: np.hstack(x), lambda t: torch.hstack(list(t)), [(4,)], "real"),
    ("np.hstack_0d", lambda x, y: np.hstack([x, y]), lambda s, t: torch.hstack([s, t]), [(), ()], "real"),
    ("np.vstack_1d", lambda x: np.vstack(x), lambda t: torch.vstack(list(t)), [(3,)], "real"),
]
for _name, _f, _t, _shapes, _dom in NUMPY_COMPOSITIONS:
    case(_name, _f, _f, _t, [_shapes], _dom)
