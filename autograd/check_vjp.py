"""Grade a primitive's VJPs the way a teacher would: ``ag.check_vjp``.

A student who defines a primitive writes two things: the forward (numpy) and,
for every input, a vector-Jacobian product ``vjp(g, ans, *inputs)``, the
gradient of ``sum(g * op(*inputs))`` with respect to that input.  The grader
compares the VJP with the only independent reference there is, central
differences of the forward in float64:

    d/dx_j sum(g * f(x))  ~  (sum(g * f(x + h e_j)) - sum(g * f(x - h e_j))) / 2h

and it does so where students' VJPs usually break:

- at the example inputs and at several random points in the op's domain
  (the same shapes, and the sign and range of the example values, or the
  ``domain=``/``positive=`` given);
- with a random, non-uniform upstream gradient ``g`` (with ``g = 1`` a VJP
  that forgets ``g`` looks right);
- in float64 and in float32 (looser tolerance: the VJP must not fail or lose
  its precision in single precision);
- on broadcast shapes: for every input the op uses element by element
  under numpy broadcasting (the bias of ``x @ W + b``, either side of ``+``),
  every shape that broadcasts to the example's (an axis of length 1, a
  dropped leading axis) and gives the same output shape;
- at named edge points, ``edges=[0.0]``: kinks (ReLU at 0, max with ties) and
  other special values.  At a kink the derivative does not exist; any value
  between the left and the right slope (a subgradient) is accepted there, and
  this is how every point is judged: the one-sided slopes bracket the answer;
- with ``second_order=True``, through ``create_graph=True``: the derivative of
  the engine's own gradient against central differences of that gradient.

The obtained gradient is taken through the public path every user takes,
``ag.grad(op(*xs), xs, grad_outputs=g)``.  Comparisons are relative to the
largest expected entry (``max |obtained - expected| / max |expected|``), the
same measure as the notebooks' tables: an error of 1e-12 next to entries of
size 1 is rounding, not a wrong element.

When a check fails, the report names the argument, the first wrong element
with its index, the expected and obtained values, and, only when the numbers
show it, the common mistake behind it:

- sign flipped: obtained == -expected;
- constant factor k: obtained == k * expected (k is printed);
- transposed: the VJP's result, transposed, is the gradient (matmul-like);
- not summed over the broadcast axes: the raw VJP (called directly) returns a
  larger array, and summing it over some axes gives the gradient;
- input used where the output was needed, or the reverse (ops with one
  input): the VJP called with x and ans exchanged gives the gradient;
- forgot the upstream gradient g: obtained == the gradient for g = 1;
- and plainly: the VJP raised, returned the wrong shape, or NaN/inf.

What is and is not a broadcast mistake.  The engine sums a VJP's result over
the axes numpy broadcasting added or stretched (``unbroadcast``), exactly as
for the built-in ``+``, whose VJP simply returns ``g``.  So a linear layer
``op(x, W, b) = x @ W + b`` whose VJP for ``b`` returns ``g`` (shape (n, m)
for b of shape (m,)) gets the right gradient, and the grader calls it
correct, with a note.  Only when the op broadcasts in a way numpy's rules do
not describe (``x + b[:, None]``: b stretched along the LAST axis) does the
engine's sum go over the wrong axis; then the numbers are wrong (or the shape
is) and the grader names the missing sum.

Example::

    @ag.primitive
    def cube(x):
        return x ** 3
    cube.defvjp(lambda g, ans, x: g * 3 * x)          # wrong: should be 3 x^2
    report = ag.check_vjp(cube, np.array([0.5, 1.5, -2.0]))
    bool(report)     # False
    print(report)
    # check_vjp(cube): wrong: argument x: gradient of x differs from central differences
    #   at the example inputs (float64): first wrong element x[0]: expected 0.0942977, obtained 0.188595
    #   relative error 1.5 (max |obtained - expected| / max |expected|; allowed 1e-05)
    #   8 of 8 checks failed (tried: float64, float32)
"""
import inspect
import itertools

import numpy as np

from .creation import tensor
from .engine import grad
from .graph import no_grad
from .primitive import Primitive
from .tensor import Tensor

H = 1e-6                                        # step of the central differences (float64)
RTOL = {"float64": 1e-5, "float32": 2e-3}       # allowed error / max |expected|
SECOND_ORDER_RTOL = 1e-4


# ------------------------------------------------------------------ the report

class VJPReport:
    """The grader's verdict.  Truthy only when every check passed.

    ``str(report)``: the verdict line, then the details of the first failed
    check (and notes).  Attributes: ``ok``, ``checks`` (number run),
    ``failed`` (number failed), ``kinds`` (what was tried), ``verdict``,
    ``details`` (list of lines), ``argument`` (name of the first wrong
    argument or None), ``diagnosis``: None when correct, else one of
    "sign", "factor", "transposed", "broadcast", "input for output",
    "output for input", "forgot g" (a named mistake), "differs" (the plain
    comparison), "kink" (outside the one-sided slopes where they differ),
    "shape", "nan", "error", "second order".
    """

    def __init__(self, name):
        self.name = name
        self.checks = 0
        self.failed = 0
        self.kinds = []
        self.first = None           # the first failed check: see _failure
        self.notes = []
        self._noted = set()

    def _kind(self, kind):
        if kind not in self.kinds:
            self.kinds.append(kind)

    def _record(self, kind, ok, failure=None):
        self.checks += 1
        self._kind(kind)
        if not ok:
            self.failed += 1
            if self.first is None:
                self.first = failure

    def _note(self, key, text):
        """One note per key (an argument), however many checks would repeat it."""
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append(text)

    @property
    def ok(self):
        return self.checks > 0 and self.failed == 0

    @property
    def diagnosis(self):
        return self.first["diagnosis"] if self.first else None

    @property
    def argument(self):
        return self.first["argument"] if self.first else None

    @property
    def verdict(self):
        if self.ok:
            return f"check_vjp({self.name}): correct ({self.checks} checks: {', '.join(self._kind_words())})"
        return f"check_vjp({self.name}): wrong: {self.first['headline']}"

    def _kind_words(self):
        """float64, float32, broadcast, N edge points, second order: what was tried."""
        words = [k for k in self.kinds if not k.startswith("edge") and k != "second order"]
        edges = sum(1 for k in self.kinds if k.startswith("edge"))
        if edges:
            words.append(f"{edges} edge point{'s' if edges > 1 else ''}")
        return words + [k for k in self.kinds if k == "second order"]

    @property
    def details(self):
        lines = []
        if self.first:
            lines += self.first["lines"]
            lines.append(f"{self.failed} of {self.checks} checks failed "
                         f"(tried: {', '.join(self._kind_words())})")
        return lines + [f"note: {n}" for n in self.notes]

    def __bool__(self):
        return self.ok

    def __str__(self):
        return "\n".join([self.verdict] + ["  " + line for line in self.details])

    __repr__ = __str__


# ------------------------------------------------------------------ entry point

def check_vjp(op, *example_inputs, domain=None, positive=False, edges=(), second_order=False,
              trials=3, broadcast=True, kwargs=None, seed=0):
    """Grade the VJPs of primitive ``op`` at ``example_inputs``; return a :class:`VJPReport`.

    ``op``: made with ``@ag.primitive`` and ``.defvjp``.  ``example_inputs``:
    one array (or number) per positional input; floating inputs are checked,
    integer ones (labels, indices) are passed through unchanged.

    Options:
      ``domain=(lo, hi)`` random points uniform in [lo, hi] (or a list, one
      (lo, hi) or None per input); ``positive=True`` keeps random points > 0;
      without either, points keep the sign and range of the examples.
      ``edges=[0.0, ...]``: special points; a number fills every floating
      input with it, a tuple gives one value or array per input (None: keep
      the example).  ``second_order=True``: also check the create_graph path.
      ``trials``: random points besides the examples.  ``broadcast=False``:
      skip broadcast shapes.  ``kwargs``: keyword options for ``op``.

    Each check costs two forward evaluations per input entry, so keep the
    examples small (tens of entries): a mistake shows on a 4 x 3 matrix.

        @ag.primitive
        def sigmoid(x):
            return 1 / (1 + np.exp(-x))
        sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans))
        ag.check_vjp(sigmoid, np.array([-1.0, 0.5, 2.0]), edges=[0.0])
        # check_vjp(sigmoid): correct (10 checks: float64, float32, 1 edge point)
    """
    if not isinstance(op, Primitive):
        raise TypeError(f"check_vjp grades a primitive made with @ag.primitive and .defvjp; "
                        f"got {type(op).__name__} {getattr(op, '__name__', op)!r}")
    xs = [_as_array(x) for x in example_inputs]
    if len(op.vjps) != len(xs):
        raise TypeError(f"check_vjp({op.name}): {len(xs)} example inputs but {len(op.vjps)} VJPs "
                        f"(defvjp needs one per positional input, None for an input without gradient)")
    grader = _Grader(op, xs, kwargs or {}, np.random.default_rng(seed))
    try:
        grader.reference_output()
    except Exception as err:          # a forward that fails at the examples cannot be graded
        raise ValueError(f"check_vjp({op.name}): the forward fails at the example inputs: "
                         f"{type(err).__name__}: {err}") from None
    for label, point, edge in grader.points(domain, positive, trials, edges):
        for dtype in ("float64", "float32"):
            grader.first_order(point, label, dtype, "edge " + label if edge else dtype)
    if broadcast:
        for label, point in grader.broadcast_points(domain, positive):
            grader.first_order(point, label, "float64", "broadcast")
    if second_order and grader.report.ok:
        for label, point, _ in grader.points(domain, positive, trials, ()):
            grader.second_order(point, label)
    return grader.report


def _as_array(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _is_float(a):
    return a.dtype.kind == "f"


def _argument_names(op, n):
    try:
        names = [p.name for p in inspect.signature(op.forward).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return names[:n] + [f"argument {i}" for i in range(len(names), n)]


# ------------------------------------------------------------------ the grader

class _Grader:
    """Holds the op and the examples; runs one check at a time into ``self.report``."""

    def __init__(self, op, examples, kwargs, rng):
        self.op, self.examples, self.kwargs, self.rng = op, examples, kwargs, rng
        self.report = VJPReport(op.name)
        self.names = _argument_names(op, len(examples))
        self.checked = [i for i, x in enumerate(examples) if _is_float(x) and op.vjps[i] is not None]
        if not self.checked:
            raise TypeError(f"check_vjp({op.name}): no floating-point input with a VJP to check")

    # -------------------------------------------------------------- points

    def reference_output(self):
        self.out_shape = self.forward(self.examples).shape

    def points(self, domain, positive, trials, edges):
        """(label, inputs, is_edge): the examples, random points, then the edge points."""
        yield "the example inputs", list(self.examples), False
        for t in range(trials):
            yield f"random point {t + 1}", [self.random_like(i, x.shape, domain, positive)
                                            for i, x in enumerate(self.examples)], False
        for k, edge in enumerate(edges):
            yield self.edge_label(k, edge), self.edge_point(edge), True

    def random_like(self, i, shape, domain, positive):
        x = self.examples[i]
        if not _is_float(x):
            return x
        lo, hi = _domain_of(x, domain[i] if isinstance(domain, list) else domain, positive)
        return self.rng.uniform(lo, hi, size=shape)

    def edge_point(self, edge):
        values = edge if isinstance(edge, (tuple, list)) else [edge] * len(self.examples)
        point = []
        for x, v in zip(self.examples, values):
            if v is None or not _is_float(x):
                point.append(x)
            else:
                point.append(np.broadcast_to(np.asarray(v, dtype=np.float64), x.shape).copy())
        return point

    def edge_label(self, k, edge):
        if not np.isscalar(edge):
            return f"edge point {k + 1}"
        if len(self.checked) == 1:
            return f"{self.names[self.checked[0]]}={edge:g}"
        return f"edge point {k + 1} (all inputs {edge:g})"

    def broadcast_points(self, domain, positive):
        """Each checked input in turn gets a shape that broadcasts to its example shape."""
        for i in self.checked:
            if not self.broadcasts(i):
                continue
            for shape in _broadcast_shapes(self.examples[i].shape):
                point = list(self.examples)
                point[i] = self.random_like(i, shape, domain, positive)
                try:
                    accepted = self.forward(point).shape == self.out_shape
                except Exception:          # the forward rejects this shape: not a broadcasting op there
                    accepted = False
                if accepted:
                    yield f"broadcast {self.names[i]} of shape {shape}", point

    def broadcasts(self, i, probes=6):
        """Does the op use input i element by element, numpy-broadcast to the output?

        True when changing one element of x_i changes only the outputs that
        element lands on under broadcasting (b[j] in x @ W + b: column j).
        matmul's inputs are not such inputs, although x @ W also runs for a W
        of shape (k, 1): trying that shape would grade a VJP on a case the op
        does not mean to support.
        """
        x = self.examples[i]
        try:
            np.broadcast_to(x, self.out_shape)
        except ValueError:
            return False
        base = self.forward(self.examples)
        for j in list(np.ndindex(*x.shape))[:probes]:
            moved = x.astype(np.float64)             # a copy
            moved[j] += 0.5
            changed = self.forward(_replace(self.examples, i, moved)) != base
            onehot = np.zeros(x.shape, dtype=bool)
            onehot[j] = True
            if np.any(changed & ~np.broadcast_to(onehot, self.out_shape)):
                return False
        return True

    # -------------------------------------------------------------- evaluation

    def forward(self, xs):
        with no_grad():
            return np.asarray(self.op(*[tensor(x) for x in xs], **self.kwargs).numpy(), dtype=np.float64)

    def upstream(self, shape):
        """A random, non-uniform upstream gradient; a scalar one is kept away from +-1."""
        if shape == ():
            return np.asarray(self.rng.choice([-1.0, 1.0]) * self.rng.uniform(1.3, 2.5))
        return self.rng.standard_normal(shape)

    def numeric(self, xs, i, g):
        """Central differences of sum(g * f) in x_i, with the one-sided slopes bracketing them."""
        x = xs[i].astype(np.float64)
        base = float(np.sum(g * self.forward(xs)))
        central, left, right = (np.zeros(x.shape) for _ in range(3))
        for j in np.ndindex(*x.shape):
            up, down = x.copy(), x.copy()
            up[j] += H
            down[j] -= H
            f_up = float(np.sum(g * self.forward(_replace(xs, i, up))))
            f_down = float(np.sum(g * self.forward(_replace(xs, i, down))))
            central[j] = (f_up - f_down) / (2 * H)
            right[j], left[j] = (f_up - base) / H, (base - f_down) / H
        return central, np.minimum(left, right), np.maximum(left, right)

    def engine_vjps(self, xs, g, dtype, create_graph=False):
        """The gradients through the public path: ag.grad(op(*xs), xs, grad_outputs=g)."""
        ts = [tensor(x.astype(dtype), requires_grad=k in self.checked) if _is_float(x) else tensor(x)
              for k, x in enumerate(xs)]
        out = self.op(*ts, **self.kwargs)
        gs = grad(out, [ts[k] for k in self.checked], grad_outputs=tensor(g.astype(dtype)),
                  create_graph=create_graph, allow_unused=True)
        return ts, gs

    def raw_vjp(self, i, xs, g, ans=None, swap_x=None):
        """Call the VJP for input i directly (no engine, no unbroadcast); numpy result."""
        with no_grad():
            ins = [tensor(x) for x in xs]
            if swap_x is not None:
                ins[i] = tensor(swap_x)
            a = self.forward(xs) if ans is None else ans
            out = self.op.vjps[i](tensor(g), tensor(a), *ins, **self.kwargs)
        return _to_numpy(out)

    # -------------------------------------------------------------- one check

    def first_order(self, point, label, dtype, kind):
        xs = [x.astype(dtype) if _is_float(x) else x for x in point]
        g = self.upstream(self.out_shape).astype(dtype)
        exact = [x.astype(np.float64) if _is_float(x) else x for x in xs]     # float32 values, held exactly
        g64 = g.astype(np.float64)
        where = f"{label} ({dtype})"
        try:
            _, obtained = self.engine_vjps(xs, g, dtype)
            obtained = [None if o is None else o.numpy().astype(np.float64) for o in obtained]
        except Exception as err:
            obtained, engine_error = None, err
        for k, i in enumerate(self.checked):
            expected, lo, hi = self.numeric(exact, i, g64)
            if obtained is None:
                failure = self.explain_error(i, exact, g64, expected, engine_error, where)
                self.report._record(kind, False, failure)
                continue
            o = np.zeros_like(expected) if obtained[k] is None else obtained[k]
            ok = _within(o, lo, hi, expected, RTOL[dtype])
            if ok and kind != "broadcast":     # on broadcast shapes the engine's sum is the point
                self.note_shape(i, exact, g64)
            failure = None if ok else self.explain(i, exact, g64, o, expected, lo, hi, RTOL[dtype], where)
            self.report._record(kind, ok, failure)

    def note_shape(self, i, xs, g):
        """Say so when the engine had to sum a right VJP's result to the input's shape."""
        try:
            raw = self.raw_vjp(i, xs, g)
        except Exception:
            return
        if raw is not None and raw.shape != xs[i].shape:
            self.report._note(
                i, f"the VJP for {self.names[i]} returns shape {raw.shape} for an input of shape "
                f"{xs[i].shape}; the engine summed it over the broadcast axes (as for +), "
                f"so the gradient is right")

    def second_order(self, point, label):
        """d/dx <w, grad(<g, f(x)>, x)> from create_graph against central differences of grad."""
        xs = [x.astype(np.float64) if _is_float(x) else x for x in point]
        g = self.upstream(self.out_shape)
        ws = [self.rng.standard_normal(xs[i].shape) for i in self.checked]

        def phi(values):
            _, gs = self.engine_vjps(values, g, "float64")
            return sum(float(np.sum(w * (0 if v is None else v.numpy()))) for w, v in zip(ws, gs))

        where = f"{label} (float64, create_graph=True)"
        try:
            ts, gs = self.engine_vjps(xs, g, "float64", create_graph=True)
            s = sum((v * w).sum() for v, w in zip(gs, ws) if v is not None)
            wrt = [ts[i] for i in self.checked]
            if isinstance(s, Tensor) and s.requires_grad:
                obtained = [np.zeros(xs[i].shape) if o is None else o.numpy()
                            for i, o in zip(self.checked, grad(s, wrt, allow_unused=True))]
            else:                       # the gradient does not depend on the inputs (a linear op)
                obtained = [np.zeros(xs[i].shape) for i in self.checked]
        except Exception as err:
            for i in self.checked:
                self.report._record("second order", False, _failure(
                    self.names[i], ("error", f"the VJP for {self.names[i]} fails under create_graph=True: "
                                             f"{type(err).__name__}: {err}"),
                    [f"at {where}: a VJP must use only operators and ag functions to be differentiable"]))
            return
        for k, i in enumerate(self.checked):
            expected = np.zeros(xs[i].shape)
            for j in np.ndindex(*xs[i].shape):
                up, down = xs[i].copy(), xs[i].copy()
                up[j] += H
                down[j] -= H
                expected[j] = (phi(_replace(xs, i, up)) - phi(_replace(xs, i, down))) / (2 * H)
            ok = _within(obtained[k], expected, expected, expected, SECOND_ORDER_RTOL)
            failure = None
            if not ok:
                failure = _failure(self.names[i], (
                    "second order", f"second derivative of {self.names[i]} (create_graph) differs "
                                    f"from central differences of the gradient"),
                    _mismatch_lines(self.names[i], obtained[k], expected, where, SECOND_ORDER_RTOL))
            self.report._record("second order", ok, failure)

    # -------------------------------------------------------------- diagnosis
    # Each mistake test returns (code, sentence) or None; the code is report.diagnosis.

    def explain_error(self, i, xs, g, expected, err, where):
        """The engine path raised: call the VJP directly to say why."""
        name = self.names[i]
        try:
            raw = self.raw_vjp(i, xs, g)
        except Exception as raw_err:
            return _failure(name, ("error", f"the VJP for {name} raised {type(raw_err).__name__}: {raw_err}"),
                            [f"at {where}"])
        found = self.shape_mistake(i, raw, expected, RTOL["float64"] * _scale(expected))
        if found:
            return _failure(name, found, [f"at {where}: backward raised {type(err).__name__}: {err}"])
        return _failure(name, ("error", f"backward failed: {type(err).__name__}: {err}"), [f"at {where}"])

    def shape_mistake(self, i, raw, expected, tol):
        """Name a VJP result of the wrong shape: transposed, not summed, or just wrong."""
        shape = expected.shape
        if raw is None:
            return "error", f"the VJP for {self.names[i]} returned None"
        if raw.shape == shape:
            return None
        if raw.ndim == 2 and raw.T.shape == shape and _close(raw.T, expected, tol):
            return "transposed", f"transposed: the VJP returns shape {raw.shape}; its transpose is the gradient"
        axes = _summing_axes(raw, expected, tol)
        if axes is not None:
            return "broadcast", (f"not summed over the broadcast axes: the VJP returns shape {raw.shape} "
                                 f"for an input of shape {shape}; summing it over axis {axes} gives the gradient")
        return "shape", f"wrong shape: the VJP returns shape {raw.shape} for an input of shape {shape}"

    def explain(self, i, xs, g, o, expected, lo, hi, rtol, where):
        """A failed comparison: where, by how much, and the mistake if the numbers name one."""
        name = self.names[i]
        tol = rtol * _scale(expected)
        if o.shape != expected.shape:
            lines = [f"at {where}: the gradient has shape {o.shape} for an input of shape {expected.shape}"]
        elif not np.all(np.isfinite(o)):
            j = tuple(int(n) for n in np.argwhere(~np.isfinite(o))[0])
            return _failure(name, ("nan", f"NaN/inf in the gradient of {name}"),
                            [f"at {where}: {_index(name, j)} = {o[j]} (expected {expected[j]:.6g})"])
        else:
            lines = _mismatch_lines(name, o, expected, where, rtol, lo, hi)
            if np.any(hi - lo > tol):       # a kink: the central difference is no derivative there
                return _failure(name, ("kink", f"gradient of {name} outside the one-sided slopes "
                                               f"at a kink"), lines)
        found = self.name_mistake(i, xs, g, o, expected, tol)
        if found is None and o.shape != expected.shape:
            found = "shape", f"wrong shape: the gradient has shape {o.shape} for an input of shape {expected.shape}"
        if found is None:
            found = "differs", f"gradient of {name} differs from central differences"
        return _failure(name, found, lines)

    def name_mistake(self, i, xs, g, o, expected, tol):
        """The common mistakes, each tested against the numbers; None when none fits."""
        try:
            raw = self.raw_vjp(i, xs, g)
        except Exception:
            raw = None
        if raw is not None and raw.shape != expected.shape:
            found = self.shape_mistake(i, raw, expected, tol)
            if found[0] != "shape":
                return found
        if o.shape != expected.shape:
            return None
        if _close(o, -expected, tol):
            return "sign", "sign flipped: obtained == -expected"
        ones, _, _ = self.numeric(xs, i, np.ones_like(g))
        if _close(o, ones, max(tol, tol * _scale(ones) / _scale(expected))):
            return "forgot g", "forgot the upstream gradient g: obtained == the gradient for g = 1"
        if o.ndim == 2 and o.shape[0] == o.shape[1] and _close(o, expected.T, tol):
            return "transposed", "transposed: obtained == expected.T"
        swapped = self.swapped_roles(xs, g, expected, tol)
        if swapped:
            return swapped
        k = float(np.sum(o * expected) / np.sum(expected * expected)) if np.any(expected) else 0.0
        if abs(k) > 1e-8 and not np.isclose(k, 1.0) and _close(o, k * expected, tol * max(1.0, abs(k))):
            return "factor", f"off by a constant factor k = {_nice(k)}: obtained == k * expected"
        return None

    def swapped_roles(self, xs, g, expected, tol):
        """One-input ops: does the VJP give the gradient with x or ans replaced by the other?"""
        if len(self.examples) != 1:
            return None
        x, ans = xs[0], self.forward(xs)
        if ans.shape != x.shape:
            return None
        try:
            x_replaced = self.raw_vjp(0, xs, g, swap_x=ans)      # its formula, evaluated at ans
            ans_replaced = self.raw_vjp(0, xs, g, ans=x)         # its formula, evaluated at x
        except Exception:
            return None
        if x_replaced.shape == x.shape and _close(x_replaced, expected, tol):
            return "input for output", ("input used where the output was needed: the VJP is right "
                                        "when x is replaced by ans = op(x)")
        if ans_replaced.shape == x.shape and _close(ans_replaced, expected, tol):
            return "output for input", ("output used where the input was needed: the VJP is right "
                                        "when ans is replaced by x")
        return None


# ------------------------------------------------------------------ small helpers

def _domain_of(x, domain, positive):
    """(lo, hi) for random points like the example x: given, or its sign and range widened."""
    if domain is not None:
        return domain
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    width = hi - lo
    a, b = lo - width / 2, hi + width / 2
    if positive or x.min() > 0:
        a = max(a, (x.min() / 2) if x.min() > 0 else 0.1)
        b = max(b, a + 1.0)
    elif x.max() < 0:
        b = min(b, x.max() / 2)
    return a, b


def _broadcast_shapes(shape):
    """Shapes that broadcast to ``shape``: one axis of length 1, or the leading axis dropped."""
    found = []
    for ax, n in enumerate(shape):
        if n > 1:
            found.append(shape[:ax] + (1,) + shape[ax + 1:])
    if len(shape) >= 1:
        found.append(shape[1:])
    return [s for s in dict.fromkeys(found) if s != shape]


def _replace(xs, i, value):
    out = list(xs)
    out[i] = value
    return out


def _to_numpy(v):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return v.numpy().astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def _scale(e):
    """The size tolerances are relative to: max |expected|, but at least 1e-6, so that
    a gradient that is zero up to the central difference's own error (x**3 at 0 gives
    2.6e-13, not 0) is compared with an absolute floor, not with that noise."""
    return max(float(np.max(np.abs(e), initial=0.0)), 1e-6)


def _within(o, lo, hi, expected, rtol):
    """Every element within tol of the bracket [lo, hi] of the one-sided slopes."""
    if o.shape != expected.shape:
        return False
    tol = rtol * _scale(expected)
    gap = np.maximum(lo - o, 0) + np.maximum(o - hi, 0)
    return bool(np.all(np.isfinite(o)) and np.all(gap <= tol))


def _close(a, b, tol):
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol))


def _summing_axes(raw, expected, tol):
    """The axes over which summing ``raw`` gives ``expected`` (shape and values), or None."""
    for r in range(1, raw.ndim + 1):
        for axes in itertools.combinations(range(raw.ndim), r):
            for keep in (False, True):
                s = raw.sum(axis=axes, keepdims=keep)
                if s.shape == expected.shape and _close(s, expected, tol):
                    return axes[0] if len(axes) == 1 else axes
    return None


def _nice(k):
    """k as a short number, and as a simple fraction when it is one (0.5 -> 1/2)."""
    for den in range(1, 13):
        num = round(k * den)
        if num and abs(k * den - num) < 1e-6 * den:
            return f"{num}/{den}" if den > 1 else f"{num}"
    return f"{k:.4g}"


def _mismatch_lines(name, o, expected, where, rtol, lo=None, hi=None):
    """Where the first wrong element is, with expected and obtained, and the relative error."""
    lo = expected if lo is None else lo
    hi = expected if hi is None else hi
    tol = rtol * _scale(expected)
    gap = np.maximum(lo - o, 0) + np.maximum(o - hi, 0)
    j = tuple(int(n) for n in np.argwhere(gap > tol)[0])
    rel = float(np.max(np.abs(o - expected))) / _scale(expected)
    want = f"{expected[j]:.6g}" if hi[j] - lo[j] <= tol else f"between {lo[j]:.6g} and {hi[j]:.6g} (a kink)"
    return [f"at {where}: first wrong element {_index(name, j)}: expected {want}, obtained {o[j]:.6g}",
            f"relative error {rel:.3g} (max |obtained - expected| / max |expected|; allowed {rtol:g})"]


def _index(name, j):
    return f"{name}[{', '.join(map(str, j))}]" if j else name


def _failure(argument, found, lines):
    """A failed check: found = (diagnosis code, sentence); the sentence heads the verdict."""
    code, sentence = found
    return {"argument": argument, "headline": f"argument {argument}: {sentence}",
            "lines": lines, "diagnosis": code}
