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
    np.cumprod(x)           # TypeError: np.cumprod on a Tensor that requires grad ...
    np.cumprod(x.detach())  # array([1., 2.]): no gradient asked for, numpy runs
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


@_ufunc(xp.logaddexp2)
@composite("logaddexp2")
def logaddexp2(x, y):
    # log2(2^x + 2^y) = m + log2(2^(x-m) + 2^(y-m)), m = max(x, y), as logaddexp.
    m = ops.maximum(x, y)
    return m + ops.log(2.0 ** (_t(x) - m) + 2.0 ** (_t(y) - m)) / xp.log(2.0)


def _ignoring_nan(first_wins):
    """np.fmax / np.fmin: the larger (smaller) of two, where a NaN loses to a number.
    At a tie the gradient goes to the first argument, as in PyTorch's fmax/fmin."""
    def pick(x, y):
        a, b = _arrays(x), _arrays(y)
        take_x = xp.isnan(b) | first_wins(a, b)
        return ops.where(take_x, x, y)
    return pick


_ufunc(xp.fmax)(composite("fmax")(_ignoring_nan(lambda a, b: a >= b)))
_ufunc(xp.fmin)(composite("fmin")(_ignoring_nan(lambda a, b: a <= b)))


@_ufunc(xp.deg2rad, xp.radians)
def deg2rad(x):
    return _t(x) * (xp.pi / 180.0)


@_ufunc(xp.rad2deg, xp.degrees)
def rad2deg(x):
    return _t(x) * (180.0 / xp.pi)


@_ufunc(xp.conjugate)
def conjugate(x):
    return _t(x)            # a real tensor is its own conjugate (complex ones cannot require grad)


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
    """numpy's dot: a scalar scales; otherwise the sum over a's last axis and b's second-to-last
    (b's only axis if 1-D), which is matmul up to 2-D and a tensordot beyond."""
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim <= 2 and b.ndim <= 2:
        return ops.matmul(a, b)
    return tensordot(a, b, ([a.ndim - 1], [max(b.ndim - 2, 0)]))


@implements(xp.inner)
def inner(a, b):
    a, b = _up_to_matrices(a, b, "use ag.matmul with .transpose")
    return a * b if a.ndim == 0 or b.ndim == 0 else ops.matmul(a, b.T)     # sums over both last axes


@implements(xp.outer)
def outer(a, b):
    return _t(a).reshape(-1, 1) * _t(b).reshape(1, -1)


@implements(xp.trace)
def trace(a, offset=0, axis1=0, axis2=1):
    return diagonal(a, offset, axis1, axis2).sum(axis=-1)


@implements(xp.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal of the (axis1, axis2) planes, as numpy puts it: a new last axis."""
    a = _t(a)
    if a.ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    axis1, axis2 = axis1 % a.ndim, axis2 % a.ndim
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    moved = ops.transpose(a, tuple(rest + [axis1, axis2]))
    rows, cols = xp.nonzero(xp.eye(*moved.shape[-2:], k=offset, dtype=bool))     # that diagonal's positions
    return moved[(Ellipsis, rows, cols)]


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


def _atleast_3d(arys):
    """np.atleast_3d: 0-d -> (1, 1, 1), (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    outs = []
    for a in map(_t, arys):
        if a.ndim == 0:
            a = a.reshape(1, 1, 1)
        elif a.ndim == 1:
            a = a.reshape(1, -1, 1)
        elif a.ndim == 2:
            a = a.reshape(a.shape + (1,))
        outs.append(a)
    return outs[0] if len(outs) == 1 else outs


implements(xp.atleast_3d)(_atleast_3d)


# The stacks iterate over ``tup``: a Tensor there gives its rows (0-d tensors from a 1-D one),
# which numpy's rule makes at least 1-D (hstack) or 2-D (vstack) before joining.
@implements(xp.vstack)
def vstack(tup):
    return ops.cat([_at_least(2)([a]) for a in tup], axis=0)


@implements(xp.hstack)
def hstack(tup):
    arrs = [_at_least(1)([a]) for a in tup]
    return ops.cat(arrs, axis=0 if arrs and arrs[0].ndim == 1 else 1)


@implements(xp.column_stack)
def column_stack(tup):
    return ops.cat([_t(a).reshape(-1, 1) if _t(a).ndim < 2 else a for a in tup], axis=1)


# numpy's split family: n equal pieces (array_split: nearly equal) or cuts at indices.  The
# method t.split and ag.split are PyTorch's (pieces of a size); these keep numpy's meaning.
def _numpy_split(ary, indices_or_sections, axis, equal):
    ary = _t(ary)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (int, xp.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if equal and n % sections:
            raise ValueError(f"array split does not result in an equal division: axis {axis} of length {n} "
                             f"into {sections} parts (np.array_split allows unequal parts)")
        size, extra = divmod(n, sections)
        sizes = [size + 1] * extra + [size] * (sections - extra)
    else:
        cuts = [0] + [min(max(int(i) + (n if int(i) < 0 else 0), 0), n) for i in indices_or_sections] + [n]
        sizes = [max(hi - lo, 0) for lo, hi in zip(cuts[:-1], cuts[1:])]
        starts = cuts[:-1]
        return [ary[(slice(None),) * (axis % ary.ndim) + (slice(lo, lo + size),)] for lo, size in zip(starts, sizes)]
    return list(ops.split(ary, sizes, axis))


@implements(xp.split)
def split(ary, indices_or_sections, axis=0):
    return _numpy_split(ary, indices_or_sections, axis, equal=True)


@implements(xp.array_split)
def array_split(ary, indices_or_sections, axis=0):
    return _numpy_split(ary, indices_or_sections, axis, equal=False)


def _split_along(axis, min_ndim, name):
    def split_fn(ary, indices_or_sections):
        ary = _t(ary)
        if ary.ndim < min_ndim:
            raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
        along = 0 if (name == "hsplit" and ary.ndim == 1) else axis
        return _numpy_split(ary, indices_or_sections, along, equal=True)
    return split_fn


implements(xp.vsplit)(_split_along(0, 2, "vsplit"))
implements(xp.hsplit)(_split_along(1, 1, "hsplit"))
implements(xp.dsplit)(_split_along(2, 3, "dsplit"))


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


# ---- complex parts of real tensors (complex tensors cannot require grad) -------------------------
@implements(xp.real, xp.real_if_close)
def real(val):
    return _t(val)


@implements(xp.imag)
def imag(val):
    return _t(val) * 0.0            # zero, and still in the graph: its gradient is zero, not missing


@implements(xp.angle)
def angle(z, deg=False):
    z = _t(z)                       # pi for negative numbers, 0 otherwise: piecewise constant
    return z * 0.0 + xp.where(z.data < 0, 180.0 if deg else xp.pi, 0.0).astype(z.dtype)


# ---- scans, products, einsum and what is built on it -----------------------------------------------
@implements(xp.einsum)
def einsum(operands, optimize=False):
    # optimize= changes the order of the products only, never the value: accepted, ignored
    return ops.einsum(*operands)


@implements(xp.tensordot)
def tensordot(a, b, axes=2):
    """Sum over ``axes`` of ``a`` and ``b`` (an int n: a's last n with b's first n), as one einsum."""
    a, b = _t(a), _t(b)
    if isinstance(axes, (int, xp.integer)):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(int(axes)))
    else:
        axes_a, axes_b = ([x] if isinstance(x, (int, xp.integer)) else list(x) for x in axes)
    return ops.einsum(_contraction(a.ndim, b.ndim, [x % a.ndim for x in axes_a], [x % b.ndim for x in axes_b]), a, b)


def _contraction(ndim_a, ndim_b, axes_a, axes_b):
    """The einsum subscripts of tensordot: shared letters on the summed axes, the others in order."""
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    sub_a = [next(letters) for _ in range(ndim_a)]
    sub_b = [None] * ndim_b
    for i, j in zip(axes_a, axes_b):
        sub_b[j] = sub_a[i]
    sub_b = [c or next(letters) for c in sub_b]
    out = [c for i, c in enumerate(sub_a) if i not in axes_a] + [c for j, c in enumerate(sub_b) if j not in axes_b]
    return "".join(sub_a) + "," + "".join(sub_b) + "->" + "".join(out)


@implements(xp.kron)
def kron(a, b):
    """Every product a_i b_j, laid out in blocks: axes interleaved (a0, b0, a1, b1...) then merged."""
    a, b = _t(a), _t(b)
    n = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (n - a.ndim) + a.shape)
    b = b.reshape((1,) * (n - b.ndim) + b.shape)
    grid = a.reshape(tuple(v for d in a.shape for v in (d, 1))) * b.reshape(tuple(v for d in b.shape for v in (1, d)))
    return grid.reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


@implements(xp.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or the z component of 2-vectors, or 2- with 3-vectors)
    along ``axisa``/``axisb`` (``axis`` sets all three), the result's vectors along ``axisc``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    if a.shape[-1] == b.shape[-1] == 2:
        return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    x, y = a[..., 0], a[..., 1]
    z = a[..., 2] if a.shape[-1] == 3 else 0.0          # a 2-vector is a 3-vector with z = 0
    u, v = b[..., 0], b[..., 1]
    w = b[..., 2] if b.shape[-1] == 3 else 0.0
    out = ops.stack([y * w - z * v, z * u - x * w, x * v - y * u], axis=-1)
    return moveaxis(out, -1, axisc)


# ---- triangles, diagonals, rolls and rotations: masks and index arithmetic ---------------------------
@implements(xp.tril)
def tril(m, k=0):
    m = _t(m)
    return m * xp.tri(*m.shape[-2:], k=k, dtype=bool)        # the mask is a constant: g passes inside


@implements(xp.triu)
def triu(m, k=0):
    m = _t(m)
    return m * ~xp.tri(*m.shape[-2:], k=k - 1, dtype=bool)


@implements(xp.diag)
def diag(v, k=0):
    """A 1-D ``v``: the matrix with v on diagonal ``k`` (scattered into zeros); 2-D: that diagonal."""
    v = _t(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = v.shape[0] + abs(k)
    rows, cols = xp.nonzero(xp.eye(n, k=k, dtype=bool))
    return ops.shape._scatter_add(v, shape=(n, n), index=(rows, cols))


@implements(xp.roll)
def roll(a, shift, axis=None):
    a = _t(a)
    if axis is None:
        return roll(a.reshape(-1), shift, 0).reshape(a.shape)
    shifts = (shift,) if isinstance(shift, (int, xp.integer)) else tuple(shift)
    axes = (axis,) if isinstance(axis, (int, xp.integer)) else tuple(axis)
    for s, ax in zip(*xp.broadcast_arrays(shifts, axes)):
        n = a.shape[ax]
        a = a[(slice(None),) * (int(ax) % a.ndim) + ((xp.arange(n) - int(s)) % n,)]
    return a


@implements(xp.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """Rotation by 90 degrees k times in the plane ``axes``: flips and a swap, as numpy does it."""
    m = _t(m)
    k %= 4
    a0, a1 = axes
    if k == 0:
        return m
    if k == 2:
        return ops.flip(ops.flip(m, a0), a1)
    perm = list(range(m.ndim))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return ops.transpose(ops.flip(m, a1), tuple(perm))
    return ops.flip(ops.transpose(m, tuple(perm)), a1)


@implements(xp.flipud)
def flipud(m):
    return ops.flip(m, 0)


@implements(xp.fliplr)
def fliplr(m):
    return ops.flip(m, 1)


@implements(xp.rollaxis)
def rollaxis(a, axis, start=0):
    """numpy's rollaxis as a permutation: ``axis`` moves to position ``start``."""
    a = _t(a)
    n = a.ndim
    axis %= n
    start = start + n if start < 0 else start
    if axis < start:
        start -= 1
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return ops.transpose(a, tuple(order))


@implements(xp.partition)
def partition(a, kth, axis=-1):
    """numpy's partition: the values at numpy's own argpartition order (one gather)."""
    a = _t(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    return take_along_axis(a, xp.argpartition(a.data, kth, axis=axis), axis)


@implements(xp.select)
def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, else ``default``: nested wheres, last to first."""
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = ops.where(_arrays(cond), choice, out)
    return _t(out)


@implements(xp.gradient)
def gradient(f, varargs=(), axis=None, edge_order=1):      # (numpy's *varargs, bound by name)
    """Central differences inside, one-sided at the ends (numpy's rule, edge_order=1), per axis."""
    f = _t(f)
    if edge_order != 1:
        raise _Unsupported("edge_order=2", "edge_order=1 (the default) is the engine version")
    axes = list(range(f.ndim)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    if not varargs:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and xp.ndim(varargs[0]) == 0:
        spacing = [varargs[0]] * len(axes)
    elif all(xp.ndim(v) == 0 for v in varargs):
        spacing = list(varargs)
    else:
        raise _Unsupported("coordinate arrays as spacing", "give one number per axis as the spacing")
    outs = []
    for ax, dx in zip(axes, spacing):
        ax %= f.ndim
        at = lambda s: f[(slice(None),) * ax + (s,)]        # noqa: E731  (a slice along ax)
        inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
        first = (at(slice(1, 2)) - at(slice(0, 1))) / dx
        last = (at(slice(-1, None)) - at(slice(-2, -1))) / dx
        outs.append(ops.cat([first, inner, last], axis=ax))
    return outs[0] if len(outs) == 1 else tuple(outs)


@implements(xp.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """Evenly spaced from ``start`` to ``stop`` (tensors: both get gradients), numpy's values."""
    if retstep or dtype is not None or axis != 0:
        raise _Unsupported("retstep=, dtype= or axis=", "leave them out")
    start, stop = _t(start), _t(stop)
    div = (num - 1) if endpoint else num
    dtype = xp.result_type(start.dtype, stop.dtype, xp.float32)      # float32 ends stay float32
    steps = xp.arange(num, dtype=dtype).reshape((num,) + (1,) * max(start.ndim, stop.ndim))
    delta = stop - start
    out = start + (steps / div if div > 0 else steps * 0.0) * delta
    if endpoint and num > 1:            # numpy makes the last value exactly ``stop``
        out = ops.cat([out[:-1], ops.unsqueeze(stop + out[-1] * 0.0, 0)], axis=0)
    return out


@implements(xp.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """NaN and infinities replaced by numbers: those positions get no gradient, the others g."""
    x = _t(x)
    data = x.data
    info = xp.finfo(data.dtype)
    out = ops.where(xp.isnan(data), nan, x)
    out = ops.where(data == xp.inf, info.max if posinf is None else posinf, out)
    return ops.where(data == -xp.inf, info.min if neginf is None else neginf, out)


@implements(xp.append)
def append(arr, values, axis=None):
    if axis is None:
        return ops.cat([_t(arr).reshape(-1), _t(values).reshape(-1)], axis=0)
    return ops.cat([arr, values], axis=axis)


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
    xp.median: "sort with np.sort (supported) and index the middle",
    xp.arctan: "no engine op for arctan yet: define one with @ag.primitive and .defvjp",
}
