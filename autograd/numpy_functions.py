"""numpy functions on Tensors: run the matching engine op, or refuse; never drop a gradient.

numpy hands a Tensor to one of two hooks (NEP 13 and NEP 18): ufuncs
(``np.exp``, ``np.add``...) call ``Tensor.__array_ufunc__``, the other
functions (``np.sum``, ``np.concatenate``, ``np.linalg.norm``...) call
``Tensor.__array_function__``.  Both land here and look the function up in
three tables:

``UFUNCS``       ufunc -> engine op, recorded, the result a Tensor;
``FUNCTIONS``    numpy function -> an engine implementation with numpy's own
                 argument names and numpy's meaning (``np.max`` gives values,
                 ``np.std`` has ``ddof=0``, ``np.transpose`` permutes);
``NO_GRADIENT``  functions whose answer carries no gradient (``np.shape``,
                 ``np.isfinite``, ``np.allclose``, ``np.floor``...): they run on
                 the data and return what numpy returns, whatever the tensor.

Anything else runs on the data and returns an ndarray, as for any array-like,
while no Tensor argument requires grad.  When one does, the ndarray would
silently lose the gradient, so it raises a TypeError naming the function and
how to proceed.  So does an option the engine op does not have (``out=``,
``dtype=``, ``where=``...)::

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    np.sum(x)               # tensor(3., op=sum): recorded
    np.sinh(x)              # (e^x - e^-x) / 2 from engine ops: recorded
    np.cumsum(x)            # TypeError: np.cumsum on a Tensor that requires grad ...
    np.cumsum(x.detach())   # array([1., 3.]): no gradient asked for, numpy runs
"""
from . import ops
from .backend import xp
from .dialects import FUNCTIONS, UFUNCS, implements
from .graph import composite
from .tensor import Tensor


class _Unsupported(Exception):
    """An implementation cannot honour this call: ``what`` names the case, ``hint`` what to do."""

    def __init__(self, what, hint=None):
        super().__init__(what)
        self.what, self.hint = what, hint


# ---- the two entry points (Tensor.__array_ufunc__ / __array_function__ delegate here) ----
def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    return array_ufunc(ufunc, method, inputs, kwargs)


def _array_function(self, func, types, args, kwargs):
    return array_function(func, types, args, kwargs)


# The Tensor answers numpy's two protocols here (see the module docstring).
Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function


def array_ufunc(ufunc, method, inputs, kwargs):
    op = UFUNCS.get(ufunc) if method == "__call__" else None
    if op is not None and not kwargs:
        return op(*inputs)
    if ufunc in NO_GRADIENT_UFUNCS or not _needs_grad(inputs, kwargs):
        return getattr(ufunc, method)(*_arrays(inputs), **_arrays(kwargs))
    if op is not None:
        raise TypeError(_refusal(_name(ufunc), _options(kwargs)))
    raise TypeError(_refusal(_name(ufunc) + ("" if method == "__call__" else "." + method), HINTS.get(ufunc)))


def array_function(func, types, args, kwargs):
    if not all(issubclass(t, (Tensor, xp.ndarray)) for t in types):
        return NotImplemented       # another array type is involved: let it (or numpy) decide
    refusal = HINTS.get(func)
    if func in FUNCTIONS:
        try:
            return _call(func, args, kwargs)
        except _Unsupported as err:
            refusal = err
    if func in NO_GRADIENT or not _needs_grad(args, kwargs):
        return func(*_arrays(args), **_arrays(kwargs))
    raise TypeError(_refusal(_name(func), refusal))


def _call(func, args, kwargs):
    """Call ``func``'s implementation with the arguments bound by numpy's own signature.

    Options the implementation does not take must keep numpy's default; any
    other value raises ``_Unsupported`` naming them.
    """
    impl, signature, known = FUNCTIONS[func]
    given, unsupported = {}, []
    bound = signature.bind(*args, **kwargs).arguments
    first = next(iter(signature.parameters))
    inputs = [bound.pop(first)] if first not in known else []     # the array, passed as the op's input
    for name, value in bound.items():
        param = signature.parameters[name]
        if name in known:
            given[name] = value
        elif param.kind is param.VAR_KEYWORD:
            unsupported += list(value)
        elif not _is_default(value, param):
            unsupported.append(name)
    if unsupported:
        raise _options(unsupported)
    return impl(*inputs, **given)


def _is_default(value, param):
    default = param.default
    return value is default or value is None or (
        isinstance(value, (str, bool, int, float)) and type(value) is type(default) and value == default)


def _needs_grad(args, kwargs):
    return any(isinstance(a, Tensor) and a.requires_grad for a in _flat((args, kwargs)))


def _flat(x):
    if isinstance(x, dict):
        x = tuple(x.values())
    if isinstance(x, (tuple, list)):
        for item in x:
            yield from _flat(item)
    else:
        yield x


def _arrays(x):
    """The same arguments with every Tensor replaced by its ndarray (inside lists too)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, dict):
        return {k: _arrays(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_arrays(v) for v in x)
    return x


def _name(func):
    module = getattr(func, "__module__", None) or "numpy"
    prefix = "np.linalg." if module.endswith("linalg") else "np."
    return prefix + func.__name__


def _options(names):
    listed = ", ".join(n + "=" for n in names)
    return _Unsupported(listed, f"the engine op takes no {listed}: leave it out")


def _refusal(name, why=None):
    """The one-line TypeError message for a numpy call that would drop the gradient.

    ``why`` is an ``_Unsupported`` (a case the engine version does not cover), a
    hint string (a function with no engine version) or None.
    """
    if isinstance(why, _Unsupported):
        name, hint = f"{name} with {why.what}", why.hint
    else:
        hint = why
    hint = hint or "write it with engine ops (ag.sum, ag.exp, ag.where, ...)"
    return (f"{name} on a Tensor that requires grad would return an ndarray without the gradient; "
            f"{hint}, or call it on t.detach().numpy() if no gradient is wanted")


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _ufunc(*ufuncs):
    def register(fn):
        for u in ufuncs:
            UFUNCS[u] = fn
        return fn
    return register


# ---- ufuncs that are compositions of the ops (the ops' own ufuncs come with their declarations) ----
@_ufunc(xp.positive)
def positive(x):
    return _t(x)


@_ufunc(xp.square)
@composite("square")
def square(x):
    return _t(x) * x                        # d x^2 = 2x (both factors send g * x)


@_ufunc(xp.reciprocal)
@composite("reciprocal")
def reciprocal(x):
    return 1.0 / _t(x)


@_ufunc(xp.sinh)
@composite("sinh")
def sinh(x):
    return (ops.exp(x) - ops.exp(-_t(x))) / 2


@_ufunc(xp.cosh)
@composite("cosh")
def cosh(x):
    return (ops.exp(x) + ops.exp(-_t(x))) / 2


@_ufunc(xp.tan)
@composite("tan")
def tan(x):
    return ops.sin(x) / ops.cos(x)


@_ufunc(xp.expm1)
@composite("expm1")
def expm1(x):
    return ops.exp(x) - 1.0


@_ufunc(xp.exp2)
@composite("exp2")
def exp2(x):
    return 2.0 ** _t(x)


@_ufunc(xp.log2)
@composite("log2")
def log2(x):
    return ops.log(x) / xp.log(2.0)


@_ufunc(xp.log10)
@composite("log10")
def log10(x):
    return ops.log(x) / xp.log(10.0)


@_ufunc(xp.hypot)
@composite("hypot")
def hypot(x, y):
    return ops.sqrt(_t(x) * x + _t(y) * y)


@_ufunc(xp.logaddexp)
@composite("logaddexp")
def logaddexp(x, y):
    # log(e^x + e^y) = m + log(e^(x-m) + e^(y-m)) with m = max(x, y): nothing overflows.
    m = ops.maximum(x, y)
    return m + ops.log(ops.exp(_t(x) - m) + ops.exp(_t(y) - m))


@_ufunc(xp.arcsinh)
@composite("arcsinh")
def arcsinh(x):
    return ops.log(x + ops.sqrt(_t(x) * x + 1.0))


@_ufunc(xp.arccosh)
@composite("arccosh")
def arccosh(x):
    return ops.log(x + ops.sqrt(_t(x) * x - 1.0))


@_ufunc(xp.arctanh)
@composite("arctanh")
def arctanh(x):
    return 0.5 * ops.log((1.0 + _t(x)) / (1.0 - _t(x)))


# Piecewise constant or boolean: the gradient is zero (as in PyTorch), so the data answer loses nothing.
NO_GRADIENT_UFUNCS = {
    xp.sign, xp.floor, xp.ceil, xp.trunc, xp.rint, xp.floor_divide, xp.isfinite, xp.isnan, xp.isinf,
    xp.signbit, xp.logical_and, xp.logical_or, xp.logical_not, xp.logical_xor, xp.heaviside,
    xp.bitwise_and, xp.bitwise_or, xp.bitwise_xor, xp.invert,
}


# ---- reductions: sum, mean, max, min, var, std, argmax... come with their declarations -------------
@implements(xp.ptp)
@composite("ptp")
def ptp(a, axis=None, keepdims=False):
    return _t(a).max(axis=axis, keepdims=keepdims) - _t(a).min(axis=axis, keepdims=keepdims)


@implements(xp.average)
@composite("average")
def average(a, axis=None, weights=None, keepdims=False):
    if weights is None:
        return _t(a).mean(axis=axis, keepdims=keepdims)
    if xp.shape(weights) != xp.shape(a):
        raise _Unsupported("weights= of another shape than a", "multiply by weights of a's shape")
    return (_t(a) * weights).sum(axis=axis, keepdims=keepdims) / _t(weights).sum(axis=axis, keepdims=keepdims)


@implements(xp.linalg.norm)
@composite("norm")
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (ord None/2, 1, inf, -inf, p) and the Frobenius norm of matrices."""
    x = _t(x)
    matrix = (axis is None and x.ndim == 2) or (isinstance(axis, tuple) and len(axis) == 2)
    if ord is None or (ord == "fro" and matrix):
        return _two_norm(x, axis, keepdims)
    if matrix:
        raise _Unsupported(f"ord={ord!r} for a matrix", "only the Frobenius norm (ord=None) of a matrix is an engine op")
    out = vector_norm(x, ord, axis, keepdims)
    if out is None:
        raise _Unsupported(f"ord={ord!r}", "use ord None, 1, 2, a positive p, inf or -inf")
    return out


def vector_norm(x, p, axis, keepdims):
    """(sum |x|^p)^(1/p) over ``axis`` (int, tuple or None for all); None for an unsupported ``p``.

    p = 2 is the Euclidean norm, p = inf the largest |x|, -inf the smallest.
    Also behind PyTorch's ``t.norm(p, dim)``.
    """
    if isinstance(p, str) or not p > 0 and p != -xp.inf:
        return None
    if p == 2:
        return _two_norm(x, axis, keepdims)
    if p == xp.inf:
        return ops.abs(x).max(axis=axis, keepdims=keepdims)
    if p == -xp.inf:
        return ops.abs(x).min(axis=axis, keepdims=keepdims)
    if p == 1:
        return ops.abs(x).sum(axis=axis, keepdims=keepdims)
    return (ops.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def _two_norm(x, axis, keepdims):
    # sqrt's derivative is infinite at 0; there the norm's gradient is taken as 0 (as PyTorch).
    squares = (x * x).sum(axis=axis, keepdims=keepdims)
    positive = squares > 0
    return ops.where(positive, ops.sqrt(ops.where(positive, squares, 1.0)), 0.0)


# ---- products ------------------------------------------------------------------------
def _up_to_matrices(a, b, more_axes_hint):
    """Scalars, vectors and matrices as Tensors; arrays of more axes are refused with the hint."""
    a, b = _t(a), _t(b)
    if a.ndim > 2 or b.ndim > 2:
        raise _Unsupported("an array of more than 2 axes", more_axes_hint)
    return a, b


@implements(xp.dot)
def dot(a, b):
    a, b = _up_to_matrices(a, b, "np.dot then sums over a's last and b's second-to-last axis, which no "
                                 "engine op does; ag.matmul is the batched product")
    return a * b if a.ndim == 0 or b.ndim == 0 else ops.matmul(a, b)


@implements(xp.inner)
def inner(a, b):
    a, b = _up_to_matrices(a, b, "use ag.matmul with .transpose")
    return a * b if a.ndim == 0 or b.ndim == 0 else ops.matmul(a, b.T)     # sums over both last axes


@implements(xp.outer)
def outer(a, b):
    return _t(a).reshape(-1, 1) * _t(b).reshape(1, -1)


@implements(xp.trace)
def trace(a, offset=0):
    return diagonal(a, offset).sum()


@implements(xp.diagonal)
def diagonal(a, offset=0):
    a = _t(a)
    if a.ndim != 2:
        raise _Unsupported(f"a {a.ndim}-D array", "the engine version takes a 2-D array")
    rows, cols = xp.nonzero(xp.eye(*a.shape, k=offset, dtype=bool))     # the positions of that diagonal
    return a[rows, cols]


# ---- elementwise functions that are not ufuncs ---------------------------------------------
@implements(xp.clip)
def clip(a, a_min=None, a_max=None, min=None, max=None):
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return _t(a).clamp(lo, hi) if (lo is not None or hi is not None) else _t(a)


@implements(xp.where)
def where(condition, x=None, y=None):
    if x is None and y is None:
        return xp.where(_arrays(condition))     # the indices where true: no gradient
    return ops.where(_arrays(condition), x, y)


# ---- shape ------------------------------------------------------------------------------
@implements(xp.reshape)
def reshape(a, shape):
    return _t(a).reshape(shape)


@implements(xp.ravel)
def ravel(a):
    return _t(a).reshape(-1)


@implements(xp.transpose)
def transpose(a, axes=None):
    return ops.transpose(a, *(() if axes is None else (tuple(axes),)))      # numpy: a permutation


@implements(xp.swapaxes)
def swapaxes(a, axis1, axis2):
    return _t(a).swapaxes(axis1, axis2)


@implements(xp.moveaxis)
def moveaxis(a, source, destination):
    a = _t(a)
    source = [s % a.ndim for s in ((source,) if isinstance(source, int) else source)]
    destination = [d % a.ndim for d in ((destination,) if isinstance(destination, int) else destination)]
    order = [n for n in range(a.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return ops.transpose(a, tuple(order))


@implements(xp.expand_dims)
def expand_dims(a, axis):
    a = _t(a)
    return a.reshape(xp.expand_dims(xp.empty(a.shape, dtype=bool), axis).shape)


def _at_least(ndim):
    """np.atleast_1d / np.atleast_2d: leading axes of length 1 up to ``ndim``."""
    def at_least(arys):
        outs = [_t(a).reshape((1,) * (ndim - _t(a).ndim) + _t(a).shape) if _t(a).ndim < ndim else _t(a)
                for a in arys]
        return outs[0] if len(outs) == 1 else outs
    return at_least


implements(xp.atleast_1d)(_at_least(1))
implements(xp.atleast_2d)(_at_least(2))


@implements(xp.concatenate)
def concatenate(arrays, axis=0):
    if axis is None:
        return ops.cat([_t(a).reshape(-1) for a in arrays], axis=0)
    return ops.cat(arrays, axis=axis)


@implements(xp.vstack)
def vstack(tup):
    return ops.cat([a if _t(a).ndim >= 2 else _t(a).reshape(1, -1) for a in tup], axis=0)


@implements(xp.hstack)
def hstack(tup):
    return ops.cat(tup, axis=0 if all(_t(a).ndim == 1 for a in tup) else 1)


@implements(xp.split)
def split(ary, indices_or_sections, axis=0):
    return ops.split(_t(ary), indices_or_sections, axis)


@implements(xp.pad)
def pad(array, pad_width, mode="constant"):
    if mode != "constant":
        raise _Unsupported(f"mode={mode!r}", "only zero padding (mode='constant') is an engine op")
    return ops.pad(_t(array), pad_width)


# ---- gathering: numpy's index arithmetic, then one getitem (whose VJP scatter-adds) ------------
@implements(xp.take_along_axis)
def take_along_axis(arr, indices, axis):
    arr = _t(arr)
    if axis is None:
        arr, axis = arr.reshape(-1), 0
    index = list(xp.indices(xp.shape(indices), sparse=True))
    index[axis] = _arrays(indices)
    return arr[tuple(index)]


@implements(xp.sort)
def sort(a, axis=-1):
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return take_along_axis(a, xp.argsort(a.data, axis=axis, kind="stable"), axis)


@implements(xp.take)
def take(a, indices, axis=None):
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return a[(slice(None),) * (axis % a.ndim) + (_arrays(indices),)]


@implements(xp.repeat)
def repeat(a, repeats, axis=None):
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    axis %= a.ndim
    return a[(slice(None),) * axis + (xp.repeat(xp.arange(a.shape[axis]), repeats),)]


@implements(xp.tile)
def tile(A, reps):
    A = _t(A)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    n = len(reps) if len(reps) > A.ndim else A.ndim
    A = A.reshape((1,) * (n - A.ndim) + A.shape)
    reps = (1,) * (n - len(reps)) + reps
    return A[xp.ix_(*[xp.arange(size * r) % size for size, r in zip(A.shape, reps)])]


@implements(xp.diff)
def diff(a, n=1, axis=-1):
    a = _t(a)
    axis %= a.ndim
    before = (slice(None),) * axis
    for _ in range(n):
        a = a[before + (slice(1, None),)] - a[before + (slice(None, -1),)]
    return a


# ---- functions whose answer has no gradient: they run on the data, whatever the tensor ------
NO_GRADIENT = {
    xp.shape, xp.ndim, xp.size, xp.allclose, xp.isclose, xp.array_equal, xp.array_equiv,
    xp.count_nonzero, xp.nonzero, xp.flatnonzero, xp.argwhere, xp.argsort, xp.unique, xp.searchsorted,
    xp.any, xp.all, xp.round, xp.around, xp.fix, xp.zeros_like, xp.ones_like, xp.empty_like,
    xp.full_like, xp.result_type, xp.may_share_memory, xp.shares_memory, xp.iscomplexobj,
    xp.isrealobj, xp.bincount, xp.digitize, xp.histogram, xp.array_repr, xp.array_str,
    xp.array2string,
}

# What to write instead, for functions people reach for often.
HINTS = {
    xp.cumsum: "use x @ ag.tensor(np.triu(np.ones((n, n)))) for a cumulative sum along the last axis",
    xp.prod: "for positive x use ag.exp(ag.log(x).sum())",
    xp.einsum: "use ag.matmul, broadcasting (*) and .sum(axis=...)",
    xp.tensordot: "use ag.matmul with .reshape / .transpose",
    xp.median: "sort with np.sort (supported) and index the middle",
    xp.arctan: "no engine op for arctan yet: define one with @ag.primitive and .defvjp",
}
