"""Check analytic gradients against central differences, in float64.

``gradcheck(f, inputs)`` reduces f's output to a scalar L = sum(v * f(x))
with a fixed random v, then compares dL/dx from backward with the central
differences of L (``numeric.py``: the formula, the step and its error) for
every element of every input (or, for large inputs, along a few random
directions first, as HIPS autograd's ``check_grads`` does, and element by
element only to locate a failure).  ``gradgradcheck`` applies the same test
to the gradient itself, which checks the VJPs' own VJPs.
"""
from .backend import store, xp
from .engine import grad
from .graph import enable_grad, no_grad
from .numeric import central_differences
from .tensor import Tensor


class GradcheckError(AssertionError, RuntimeError):
    """The analytic and numerical derivatives disagree (the message says where).

    An AssertionError (a failed check) and a RuntimeError (PyTorch's class for it).
    """


def _prepare(inputs):
    single = isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    xs, check = [], []
    any_marked = any(isinstance(x, Tensor) and x.requires_grad for x in inputs)
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else xp.asarray(x)
        floating = data.dtype.kind == "f"
        wanted = floating and (not any_marked or (isinstance(x, Tensor) and x.requires_grad))
        t = Tensor._wrap(data.astype(xp.float64) if floating else data)
        if wanted:
            t.requires_grad_(True)
        xs.append(t)
        check.append(wanted)
    return xs, check


def _outputs(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _scalar(outs, vs):
    total = None
    for o, v in zip(outs, vs):
        if o.dtype.kind != "f":
            continue
        term = (o.astype(xp.float64) * v).sum()
        total = term if total is None else total + term
    return total


def _evaluate(f, xs, vs):
    with no_grad():
        return float(_scalar(_outputs(f(*xs)), vs).data)


def _with(xs, i, value):
    """The inputs with input i's value replaced (a float64 array from the central differences)."""
    ys = list(xs)
    ys[i] = Tensor._wrap(store(value))
    return ys


def _direction_agrees(f, xs, where, analytic, vs, rng, eps, atol, rtol):
    """Compare the derivative along one random direction d with <analytic gradient, d>."""
    dirs = [rng.standard_normal(xs[i].shape) for i in where]

    def along(t):               # L(x + t d): its derivative at t = 0 is the one along d
        moved = list(xs)
        for i, d in zip(where, dirs):
            moved[i] = Tensor._wrap(xs[i].data + t * d)
        return _evaluate(f, moved, vs)
    numeric = float(central_differences(along, 0.0, eps))
    approx = sum(float(xp.sum(a * d)) for a, d in zip(analytic, dirs))
    return abs(approx - numeric) <= atol + rtol * abs(numeric)


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, max_elementwise=512, seed=0,
              raise_exception=True):
    """Return True if f's gradients match central differences, else raise GradcheckError.

    ``inputs``: a Tensor/array or a sequence of them.  Floating inputs that
    require grad are checked (all floating inputs when none is marked);
    others (integer indices, masks) are passed through unchanged.
    ``raise_exception=False`` returns False instead of raising (as PyTorch).
    """
    try:
        return _gradcheck(f, inputs, eps, atol, rtol, max_elementwise, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck(f, inputs, eps, atol, rtol, max_elementwise, seed):
    rng = xp.random.default_rng(seed)
    xs, check = _prepare(inputs)
    with enable_grad():
        outs = _outputs(f(*xs))
    vs = [rng.standard_normal(o.shape) for o in outs]
    with enable_grad():
        L = _scalar(outs, vs)
    wrt = [x for x, c in zip(xs, check) if c]
    if L is not None and L.requires_grad and wrt:
        analytic = [g.data if g is not None else xp.zeros_like(x.data)
                    for g, x in zip(grad(L, wrt, allow_unused=True), wrt)]
    else:
        analytic = [xp.zeros_like(x.data) for x in wrt]
    where = [i for i, c in enumerate(check) if c]
    total = sum(x.size for x in wrt)
    # Several directions: a single one misses a wrong element whenever its
    # component along that element happens to be small.
    if total > max_elementwise and all(
            _direction_agrees(f, xs, where, analytic, vs, rng, eps, atol, rtol) for _ in range(4)):
        return True
    for k, i in enumerate(where):
        x = xs[i]
        numeric = central_differences(lambda value: _evaluate(f, _with(xs, i, value), vs), x.data, eps)
        difference = abs(xp.asarray(analytic[k], dtype=xp.float64) - numeric)
        wrong = ~(difference <= atol + rtol * abs(numeric))       # a NaN is wrong too
        if wrong.any():
            idx = tuple(int(n) for n in xp.argwhere(wrong)[0])      # the first, in C order
            a, n = float(analytic[k][idx]), float(numeric[idx])
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}), index {idx}: "
                f"analytic gradient {a:.10g} but central differences give {n:.10g} "
                f"(difference {abs(a - n):.3g}, allowed {atol + rtol * abs(n):.3g})")
    if total > max_elementwise:
        raise GradcheckError("gradcheck: the random-direction check failed but no single element did; "
                             "lower eps or raise the tolerances")
    return True


def gradgradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, max_elementwise=512, seed=0,
                  raise_exception=True):
    """Check second derivatives: gradcheck of x -> <w, grad(<v, f(x)>, x)> for fixed random v, w."""
    rng = xp.random.default_rng(seed + 1)
    xs, check = _prepare(inputs)
    with enable_grad():
        outs = _outputs(f(*xs))
    vs = [rng.standard_normal(o.shape) for o in outs]
    ws = [rng.standard_normal(x.shape) for x, c in zip(xs, check) if c]

    def first_derivative(*args):
        # Numerical evaluations pass plain tensors: make them leaves we can differentiate.
        args = [a if not c or a.requires_grad else Tensor._wrap(a.data).requires_grad_(True)
                for a, c in zip(args, check)]
        with enable_grad():
            L = _scalar(_outputs(f(*args)), vs)
            wrt = [a for a, c in zip(args, check) if c]
            if L is None or not L.requires_grad:
                return Tensor(0.0)
            gs = grad(L, wrt, create_graph=True, allow_unused=True)
            total = Tensor(0.0)
            for g, w in zip(gs, ws):
                if g is not None:
                    total = total + (g * w).sum()
            return total

    marked = [Tensor(x.data, requires_grad=True) if c else x for x, c in zip(xs, check)]
    return gradcheck(first_derivative, marked, eps=eps, atol=atol, rtol=rtol,
                     max_elementwise=max_elementwise, seed=seed, raise_exception=raise_exception)
