"""Grade a primitive's VJPs the way a teacher would: ``ag.check_vjp``.

A student who defines a primitive writes two things: the forward (numpy) and,
for every input, a vector-Jacobian product ``vjp(g, ans, *inputs)``, the
gradient of ``sum(g * op(*inputs))`` with respect to that input.  The grader
compares the VJP with the only independent reference there is: the central
differences of that sum, the forward evaluated in float64 (``numeric.py``,
shared with ``ag.gradcheck``, gives the formula, the step and its error), and
it does so where students' VJPs usually break:

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
  between the left and the right slope (a subgradient) is accepted there:
  the one-sided slopes bracket each element.  At a kink of several variables
  (a tie in a max: moving one tied element up raises the max, moving all of
  them up raises it once) that bracket is too wide: giving the full ``g`` to
  every tied element passes it.  So the tied elements are also moved
  together, and the sum of the gradient over them must match the slope along
  that direction (an even split passes, all to one passes, all to each fails);
- with ``second_order=True``, through ``create_graph=True``: the derivative of
  the engine's own gradient against central differences of that gradient.

The obtained gradient is what the engine makes of the VJP: the public
chain-rule step ``ag.chain_rule(node, g)`` at the node ``op(*xs)`` records,
the step ``backward`` and ``ag.grad`` take at every node (the VJP, the sum
over broadcast axes, the cast to the input's dtype).  It is taken one input
at a time: only that input requires grad, so only its VJP runs, and a
failure is blamed on it.  To name a mistake, the grader also calls the VJP
function itself, with no node and no engine after it.
Comparisons are relative to the largest expected entry (``max |obtained -
expected| / max |expected|``), the same measure as the notebooks' tables.

When a check fails, the report names the argument (as the forward's
signature names it), the first wrong element with its index, the expected
and obtained values, and, only when the numbers show it, the mistake:

- sign flipped: obtained == -expected; constant factor k: obtained == k * expected;
- transposed: the result, transposed, is the gradient; or a transposed
  factor: the VJP is right when another input B is given as B.T
  (``dA = g @ B`` for ``g @ B.T``);
- a wrong axis: the VJP run on arrays whose reductions over axis a (or over
  all axes) go over axis b instead is right (a softmax's inner sum over axis
  0, a variance's mean over all axes), or the VJP is right when ``g`` gets a
  new axis (``g[:, None]``: ``g`` broadcast along the wrong axis);
- off by one: obtained == the gradient shifted by one place along an axis
  (a slice's gradient at the wrong end, an exclusive cumsum), or the VJP is
  right when an integer input (labels, indices) is given plus or minus one;
- not summed over axis k: the VJP returns a larger array whose sum over some
  axes is the gradient;
- input used where the output was needed, or the reverse (ops with one input);
- forgot the upstream gradient g: the result (whatever its shape) is the
  gradient for g = 1;
- and plainly: the VJP raised, returned the wrong shape (fewer dimensions
  than its input included), or NaN/inf.

What is and is not a broadcast mistake.  The engine sums a VJP's result over
the axes numpy broadcasting added or stretched (``unbroadcast``), exactly as
for the built-in ``+``, whose VJP simply returns ``g``.  So by default a
linear layer ``op(x, W, b) = x @ W + b`` whose VJP for ``b`` returns ``g``
gets the right gradient, and the grader calls it correct, with a note.  With
``strict=True`` (for exercises that teach the broadcast sum) the VJP must
return its input's shape itself, and ``db = g`` is wrong: "not summed over
axis 0".

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
from .engine import chain_rule, grad, unbroadcast
from .graph import enable_grad, no_grad
from .numeric import central_differences, difference_quotients
from .primitive import Primitive
from .tensor import Tensor

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
    "sign", "factor", "transposed", "broadcast" (not summed over an axis),
    "axis" (a wrong axis), "off by one", "input for output", "output for
    input", "forgot g" (a named mistake), "differs" (the plain comparison),
    "kink" (outside the one-sided slopes where they differ), "tie" (at a kink
    of several variables, the sum over the tie is wrong), "shape", "nan",
    "error", "second order".
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
              trials=3, broadcast=True, kwargs=None, seed=0, strict=False):
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
      ``strict=True``: every VJP must return its input's shape itself; a
      result the engine would have to sum over broadcast axes is a mistake
      ("not summed over axis 0"), for exercises that teach that sum.

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
    grader = _Grader(op, xs, kwargs or {}, np.random.default_rng(seed), strict)
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


# ------------------------------------------------------------------ one check's numbers

class _Case:
    """One point, one upstream gradient: the numbers every judgement there uses.

    ``xs`` (float64, the checked dtype's values held exactly), ``g`` (float64),
    ``where`` (for the messages), ``rtol``; per input, computed once when first
    needed: the central differences and their one-sided bracket, and the
    gradient for g = 1 (to recognise a forgotten g).
    """

    def __init__(self, grader, xs, g, where, rtol):
        self.grader, self.xs, self.g, self.where, self.rtol = grader, xs, g, where, rtol
        self._numeric, self._ones = {}, {}

    def phi(self, xs, g=None):
        """sum(g * op(*xs)): the scalar whose gradient the VJPs give."""
        return float(np.sum((self.g if g is None else g) * self.grader.forward(xs)))

    def numeric(self, i):
        """(expected, lo, hi, left, right) for input i: central differences and the slopes."""
        if i not in self._numeric:
            central, left, right = difference_quotients(
                lambda v: self.phi(_replace(self.xs, i, v)), self.xs[i])
            self._numeric[i] = (central, np.minimum(left, right), np.maximum(left, right), left, right)
        return self._numeric[i]

    def expected(self, i):
        return self.numeric(i)[0]

    def tol(self, i):
        return self.rtol * _scale(self.expected(i))

    def ones(self, i):
        """The gradient for g = 1: what a VJP that forgot g returns."""
        if i not in self._ones:
            ones = np.ones_like(self.g)
            self._ones[i] = central_differences(lambda v: self.phi(_replace(self.xs, i, v), ones), self.xs[i])
        return self._ones[i]

    def kinks(self, i, least=0.0):
        """The elements of input i where the one-sided slopes differ (by more than
        ``least`` times the gradient's scale, and than the tolerance): kinks."""
        _, lo, hi, _, _ = self.numeric(i)
        return hi - lo > max(self.tol(i), least * _scale(self.expected(i)))

    def fits(self, i, candidate):
        """Is ``candidate`` (a VJP's result, summed back over broadcast axes if need be) right?"""
        if candidate is None:
            return False
        expected, lo, hi, _, _ = self.numeric(i)
        if candidate.shape != expected.shape:
            try:
                candidate = unbroadcast(candidate, expected.shape)
            except (ValueError, TypeError):
                return False
        return _within(candidate, lo, hi, expected, self.rtol)

    def slopes_along(self, direction):
        """(left, right) slopes of phi along ``direction`` ({input: array}), all moved at once."""
        def along(t):
            moved = list(self.xs)
            for i, d in direction.items():
                moved[i] = self.xs[i] + t * d
            return self.phi(moved)
        _, left, right = difference_quotients(along, np.zeros(()))
        return float(left), float(right)


# ------------------------------------------------------------------ the grader

class _Grader:
    """Holds the op and the examples; runs one check at a time into ``self.report``."""

    def __init__(self, op, examples, kwargs, rng, strict=False):
        self.op, self.examples, self.kwargs, self.rng, self.strict = op, examples, kwargs, rng, strict
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

    def output(self, xs):
        with no_grad():
            return np.asarray(self.op(*[tensor(x) for x in xs], **self.kwargs).numpy())

    def forward(self, xs):
        return self.output(xs).astype(np.float64)

    def upstream(self, shape):
        """A random, non-uniform upstream gradient; a scalar one is kept away from +-1."""
        if shape == ():
            return np.asarray(self.rng.choice([-1.0, 1.0]) * self.rng.uniform(1.3, 2.5))
        return self.rng.standard_normal(shape)

    def engine_vjp(self, xs, g, dtype, i):
        """Input i's gradient from the engine, float64 (see :meth:`engine_gradients`).

        Only x_i requires grad, so the engine runs only x_i's VJP: whatever
        goes wrong is that VJP's doing, and the report blames that argument.
        """
        _, (gi,) = self.engine_gradients(xs, g, dtype, [i])
        return _to_numpy(gi)

    def engine_gradients(self, xs, g, dtype, which, create_graph=False):
        """The gradients of inputs ``which`` (in that order) when ``g`` arrives at ``op(*xs)``.

        One chain-rule step, ``ag.chain_rule(node, g)``, at the node the op
        records: what backward and ag.grad do there.  Returns the input
        Tensors and the gradients: arrays, or with ``create_graph`` Tensors
        recorded on the graph (to be differentiated again).
        """
        ts = [tensor(x.astype(dtype), requires_grad=k in which) if _is_float(x) else tensor(x)
              for k, x in enumerate(xs)]
        out = self.op(*ts, **self.kwargs)
        if out._node is None:
            raise RuntimeError(f"the output of {self.op.name} does not require grad")
        g = g.astype(dtype)
        g = tensor(g, dtype=out.dtype) if create_graph else g      # a Tensor g: the step is recorded
        sent = {k: gk for k, _, gk in chain_rule(out._node, g)}
        return ts, [sent[k] for k in which]

    def second_derivatives(self, xs, g, ws, which):
        """d/dx_i sum_k <w_k, grad_k> for i, k in ``which``, through create_graph=True."""
        ts, gs = self.engine_gradients(xs, g, "float64", which, create_graph=True)
        s = sum((v * w).sum() for v, w in zip(gs, ws))
        if not (isinstance(s, Tensor) and s.requires_grad):   # the gradient does not depend on the inputs
            return [np.zeros(xs[i].shape) for i in which]
        return [np.zeros(xs[i].shape) if o is None else o.numpy()
                for i, o in zip(which, grad(s, [ts[i] for i in which], allow_unused=True))]

    def call_vjp(self, i, xs, g, ans=None, view=None, kwargs=None):
        """Call input i's VJP directly on numpy arrays, as a plain backward does, but with no
        engine after it (no sum over broadcast axes): its raw result, float64 (None for None).

        ``view`` (a class) wraps the floating arrays, to run the VJP's own code
        with reductions over another axis; ``kwargs`` replaces the op's options.
        """
        # Not ag.chain_rule: this grades the student's function, not a recorded node.  It needs
        # the raw result (before the engine sums it over broadcast axes) and runs the VJP on
        # arguments no node holds (transposed, shifted, another axis), to name the mistake.
        ans = self.output(xs) if ans is None else ans
        args = [np.asarray(g), np.asarray(ans)] + list(xs)
        if view is not None:
            args = [a.view(view) if a.dtype.kind == "f" else a for a in args]
        if args[0].ndim == 0:
            args[0] = args[0][()]            # a scalar g arrives as a number, as in backward
        with no_grad(), np.errstate(all="ignore"):     # a hypothesis may divide by zero: judged by numbers
            out = self.op.vjps[i](*args, **(self.kwargs if kwargs is None else kwargs))
        return _to_numpy(out)

    def call_vjp_recorded(self, i, xs, g):
        """Call input i's VJP as create_graph=True does: on Tensors, the inputs requiring grad.

        Called directly, not through ag.chain_rule: when the engine's step fails it runs every
        VJP, so its error blames none; called alone, each VJP shows whether it is the one."""
        ins = [tensor(x, requires_grad=k in self.checked) if _is_float(x) else tensor(x)
               for k, x in enumerate(xs)]
        with enable_grad():
            return self.op.vjps[i](tensor(g), tensor(self.output(xs)), *ins, **self.kwargs)

    # -------------------------------------------------------------- one check

    def first_order(self, point, label, dtype, kind):
        """Every checked input's gradient at one point, one upstream g: one check per input."""
        xs = [x.astype(dtype) if _is_float(x) else x for x in point]
        g = self.upstream(self.out_shape).astype(dtype)
        exact = [x.astype(np.float64) if _is_float(x) else x for x in xs]     # float32 values, held exactly
        case = _Case(self, exact, g.astype(np.float64), f"{label} ({dtype})", RTOL[dtype])
        obtained, failures = {}, {}
        for i in self.checked:
            obtained[i], failures[i] = self.judge(case, i, xs, g, dtype, kind)
        if not any(failures.values()):
            tie = self.tie_failure(case, obtained)
            if tie is not None:
                failures[tie[0]] = tie[1]
        for i in self.checked:
            self.report._record(kind, failures[i] is None, failures[i])

    def judge(self, case, i, xs, g, dtype, kind):
        """(the engine's gradient of input i, and None or the failure): element by element."""
        name, shape = self.names[i], xs[i].shape
        try:
            o = self.engine_vjp(xs, g, dtype, i)
        except Exception:
            return None, self.explain_refused(case, i)
        try:
            raw = self.call_vjp(i, xs, g)
        except Exception:        # it ran inside backward; a failure outside it is not the student's
            raw = None
        if raw is not None and raw.shape != shape and (raw.ndim < len(shape) or self.strict):
            # fewer dimensions: a shape mistake even if the engine broadcast it on;
            # strict: a result the engine had to sum is the mistake the exercise is about
            return o, _failure(name, self.shape_mistake(case, i, raw),
                               [f"at {case.where}: the VJP for {name} returns shape {raw.shape} "
                                f"for an input of shape {shape}"])
        expected, lo, hi, _, _ = case.numeric(i)
        if not _within(o, lo, hi, expected, case.rtol):
            return o, self.explain(case, i, o)
        if raw is not None and raw.shape != shape and kind != "broadcast":
            self.report._note(
                i, f"the VJP for {name} returns shape {raw.shape} for an input of shape {shape}; "
                f"the engine summed it over the broadcast axes (as for +), so the gradient is right "
                f"(strict=True would call it a mistake)")
        return o, None

    def tie_failure(self, case, obtained):
        """At a kink of several variables, the sum of the gradient over the tie.

        Each element of a tie alone passes its bracket: for a max over a tied
        row, moving one element up raises the max at slope g and moving it down
        leaves it, so anything in [0, g] passes, and (g, g) too.  But a
        subgradient s of the max satisfies s . d = the slope along d when every
        tied element moves together (d = 1 on the tie): the entries sum to g.
        Ties are found as kink elements whose joint slope is not the sum of
        their own (a relu's kinks are independent; a max's tied elements are
        not).  Returns (input index, failure) or None.
        """
        # 1e-4: a smooth function's slopes differ by h |f''| ~ 1e-6 |f''|; a kink's by about |g|
        kinks = [(i, tuple(int(n) for n in j)) for i in self.checked for j in np.argwhere(case.kinks(i, 1e-4))]
        if len(kinks) < 2:
            return None
        for group in _coupled_groups(case, kinks[:60]):
            direction = {}
            for i, j in group:
                direction.setdefault(i, np.zeros(case.xs[i].shape))[j] = 1.0
            left, right = case.slopes_along(direction)
            total = sum(float(obtained[i][j]) for i, j in group)
            tol = len(group) * max(case.tol(i) for i in direction)
            if min(left, right) - tol <= total <= max(left, right) + tol:
                continue
            names = [self.names[i] for i in direction]
            elements = ", ".join(_index(self.names[i], j) for i, j in group[:4]) + (", ..." if len(group) > 4 else "")
            slope = f"{left:.6g}" if abs(left - right) <= tol else f"between {left:.6g} and {right:.6g}"
            first = group[0][0]
            return first, _failure(names[0], (
                "tie", f"gradient at a tie of {elements} (a kink of several variables) is no "
                       f"subgradient: its entries there sum to {total:.6g}, but moving them together "
                       f"changes sum(g * output) at slope {slope}; the tied elements share the "
                       f"gradient (split it, or give it to one), they do not each get all of it"),
                [f"at {case.where}: the one-sided slopes of each tied element alone accept it; "
                 f"the slope along the tie does not"],
                label="argument" + ("s " + " and ".join(names) if len(names) > 1 else f" {names[0]}"))
        return None

    def second_order(self, point, label):
        """d/dx <w, grad(<g, f(x)>, x)> from create_graph against central differences of grad."""
        xs = [x.astype(np.float64) if _is_float(x) else x for x in point]
        g = self.upstream(self.out_shape)
        ws = [self.rng.standard_normal(xs[i].shape) for i in self.checked]

        def phi(values):
            _, gs = self.engine_gradients(values, g, "float64", self.checked)
            return sum(float(np.sum(w * v)) for w, v in zip(ws, gs))

        where = f"{label} (float64, create_graph=True)"
        try:
            obtained = self.second_derivatives(xs, g, ws, self.checked)
        except Exception:
            # Blame the VJPs that fail when called as create_graph calls them (on Tensors that
            # require grad), in their own words: the engine runs every VJP, so its error blames none.
            for i in self.checked:
                try:
                    self.call_vjp_recorded(i, xs, g)
                    failure = None
                except Exception as err:
                    failure = _failure(self.names[i], (
                        "error", f"the VJP for {self.names[i]} fails under create_graph=True: "
                                 f"{type(err).__name__}: {_own_words(err)}"),
                        [f"at {where}: a VJP must use only operators and ag functions to be differentiable"])
                self.report._record("second order", failure is None, failure)
            if self.report.ok:      # each alone works, together they do not: say so on the first
                self.report._record("second order", False, _failure(self.names[self.checked[0]], (
                    "error", "the VJPs fail together under create_graph=True"), [f"at {where}"]))
            return
        for k, i in enumerate(self.checked):
            expected = central_differences(lambda v: phi(_replace(xs, i, v)), xs[i])
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

    def explain_refused(self, case, i):
        """The engine could not use the VJP's result: call the VJP directly to say why,
        in the student's terms (never the engine's message)."""
        name, shape = self.names[i], case.xs[i].shape
        try:
            raw = self.call_vjp(i, case.xs, case.g)
        except Exception as err:
            raised = f"the VJP for {name} raised {type(err).__name__}: {_own_words(err)}"
            found = self.changed_vjp_mistake(case, i)      # e.g. g not expanded: a broadcasting error
            if found:
                return _failure(name, found, [f"at {case.where}: {raised}"])
            return _failure(name, ("error", raised), [f"at {case.where}"])
        if raw is None:
            return _failure(name, ("error", f"the VJP for {name} returned None"), [f"at {case.where}"])
        if raw.shape != shape:
            return _failure(name, self.shape_mistake(case, i, raw),
                            [f"at {case.where}: the VJP for {name} returns shape {raw.shape} "
                             f"for an input of shape {shape}"])
        return _failure(name, ("error", f"backward could not use the VJP's result for {name} "
                                        f"(shape {raw.shape}, dtype {raw.dtype})"), [f"at {case.where}"])

    def shape_mistake(self, case, i, raw):
        """Name a VJP result of the wrong shape: forgot g, transposed, not summed, a wrong
        axis, or just the wrong shape."""
        shape = case.xs[i].shape
        expected, tol = case.expected(i), case.tol(i)
        got = f"the VJP returns shape {raw.shape} for an input of shape {shape}"
        if raw.shape == shape:
            return None
        if self.forgot_g(case, i, raw):
            return "forgot g", (f"the upstream gradient g is missing: {got}, and it equals the "
                                f"gradient for g = 1; multiply by g")
        if raw.ndim == 2 and raw.T.shape == shape and case.fits(i, raw.T):
            return "transposed", f"transposed: {got}; its transpose is the gradient"
        axes = _summing_axes(raw, expected, tol)
        if axes is not None:
            return "broadcast", f"not summed over {_axes_text(axes)}: {got}; its sum over {_axes_text(axes)} is the gradient"
        found = self.changed_vjp_mistake(case, i)
        if found:
            return found
        if raw.ndim < len(shape):
            return "shape", (f"wrong shape: {got}, fewer dimensions than its input (a VJP returns "
                             f"an array of its input's shape)")
        return "shape", f"wrong shape: {got}"

    def forgot_g(self, case, i, raw):
        """Is the raw result, broadcast or summed to the input's shape, the gradient for g = 1?"""
        ones, shape = case.ones(i), case.xs[i].shape
        tol = max(case.tol(i), case.rtol * _scale(ones))
        try:
            stretched = np.broadcast_to(raw, shape)
        except ValueError:
            stretched = None
        if stretched is not None and _close(stretched, ones, tol):
            return True
        return _summing_axes(raw, ones, tol) is not None

    def explain(self, case, i, o):
        """A failed comparison: where, by how much, and the mistake if the numbers name one."""
        name = self.names[i]
        expected, lo, hi, _, _ = case.numeric(i)
        tol = case.tol(i)
        if o.shape != expected.shape:
            lines = [f"at {case.where}: the gradient has shape {o.shape} for an input of shape {expected.shape}"]
        elif not np.all(np.isfinite(o)):
            j = tuple(int(n) for n in np.argwhere(~np.isfinite(o))[0])
            return _failure(name, ("nan", f"NaN/inf in the gradient of {name}"),
                            [f"at {case.where}: {_index(name, j)} = {o[j]} (expected {expected[j]:.6g})"])
        else:
            lines = _mismatch_lines(name, o, expected, case.where, case.rtol, lo, hi)
            wrong = np.maximum(lo - o, 0) + np.maximum(o - hi, 0) > tol
            if np.all(case.kinks(i)[wrong]):    # only at kinks: the central difference is no derivative there
                return _failure(name, ("kink", f"gradient of {name} outside the one-sided slopes "
                                               f"at a kink"), lines)
        found = self.name_mistake(case, i, o)
        if found is None and o.shape != expected.shape:
            found = "shape", f"wrong shape: the gradient has shape {o.shape} for an input of shape {expected.shape}"
        if found is None:
            found = "differs", f"gradient of {name} differs from central differences"
        return _failure(name, found, lines)

    def name_mistake(self, case, i, o):
        """The common mistakes, each tested against the numbers; None when none fits."""
        expected, tol = case.expected(i), case.tol(i)
        try:
            raw = self.call_vjp(i, case.xs, case.g)
        except Exception:
            raw = None
        if raw is not None and raw.shape != expected.shape:
            found = self.shape_mistake(case, i, raw)
            if found[0] != "shape":
                return found
        if o.shape != expected.shape:
            return None
        if _close(o, -expected, tol):
            return "sign", "sign flipped: obtained == -expected"
        ones = case.ones(i)
        if _close(o, ones, max(tol, case.rtol * _scale(ones))):
            return "forgot g", "forgot the upstream gradient g: obtained == the gradient for g = 1"
        found = self.changed_vjp_mistake(case, i)    # before .T: g broadcast along the wrong axis is both
        if found:
            return found
        if o.ndim == 2 and o.shape[0] == o.shape[1] and _close(o, expected.T, tol):
            return "transposed", "transposed: obtained == expected.T"
        found = self.swapped_roles(case) or _shifted_mistake(o, expected, tol)
        if found:
            return found
        k = float(np.sum(o * expected) / np.sum(expected * expected)) if np.any(expected) else 0.0
        if abs(k) > 1e-8 and not np.isclose(k, 1.0) and _close(o, k * expected, tol * max(1.0, abs(k))):
            return "factor", f"off by a constant factor k = {_nice(k)}: obtained == k * expected"
        return None

    def changed_vjp_mistake(self, case, i):
        """Hypotheses tested by running the student's VJP on changed arguments: it is right
        when one of them changes, so the VJP has that mistake.  None when none fits."""
        try:
            raw = self.call_vjp(i, case.xs, case.g)
        except Exception:
            raw = None
        for test in (self.transposed_factor, self.other_axis, self.g_not_expanded, self.index_off_by_one):
            found = test(case, i, raw)
            if found:
                return found
        return None

    def _right_with(self, case, i, raw, **change):
        """Does input i's VJP, called with ``change``, give the gradient (and differ from ``raw``)?"""
        args = dict(xs=case.xs, g=case.g, ans=self.output(case.xs))
        args.update(change)
        try:
            candidate = self.call_vjp(i, **args)
        except Exception:
            return False
        if candidate is None or (raw is not None and candidate.shape == raw.shape
                                 and np.allclose(candidate, raw, rtol=0, atol=case.tol(i))):
            return False
        return case.fits(i, candidate)

    def transposed_factor(self, case, i, raw):
        """dA = g @ B written for g @ B.T: the VJP is right when a square input is given transposed."""
        for k, x in enumerate(case.xs):
            if _is_float(x) and x.ndim >= 2 and x.shape[-1] == x.shape[-2]:
                if self._right_with(case, i, raw, xs=_replace(case.xs, k, np.swapaxes(x, -1, -2))):
                    n = self.names[k]
                    return "transposed", (f"a transposed factor: the VJP is right when {n} is replaced "
                                          f"by {n}.T; it uses {n} where {n}.T is needed (or the reverse)")
        return None

    def other_axis(self, case, i, raw):
        """The same VJP over another axis: run its own code on arrays whose reductions
        (sum, mean, max...) over axis a, or over all axes, go over axis b instead."""
        ndim = max([np.ndim(x) for x in case.xs] + [case.g.ndim])
        for source in [None] + list(range(ndim)):
            for target in range(ndim):
                for keepdims in (False, True):
                    if source == target or (source is None and keepdims):
                        continue
                    view = type("_OtherAxis", (_OtherAxis,),
                                {"source": source, "target": target, "keepdims": keepdims})
                    if self._right_with(case, i, raw, view=view):
                        if source is None:
                            return "axis", (f"reduces over all axes where axis {target} was meant: the "
                                            f"same VJP with that sum/mean/max over axis {target} "
                                            f"(keepdims=True) is right")
                        return "axis", (f"reduces over axis {source} where axis {target} was meant: the "
                                        f"same VJP over axis {target} is right")
        return None

    def g_not_expanded(self, case, i, raw):
        """g of a reduction broadcast along the wrong axis: right when g gets a new axis k."""
        g = case.g
        if g.ndim >= case.xs[i].ndim:
            return None
        for k in range(g.ndim + 1):
            if self._right_with(case, i, raw, g=np.expand_dims(g, k)):
                index = ", ".join(["None" if a == k else ":" for a in range(g.ndim + 1)])
                return "axis", (f"g is broadcast along the wrong axis: the VJP is right when g gets a new "
                                f"axis {k} (g[{index}], shape {np.expand_dims(g, k).shape}); without it, "
                                f"broadcasting lines g up with the last axes")
        return None

    def index_off_by_one(self, case, i, raw):
        """Labels or indices off by one: the VJP is right when an integer input is given +-1."""
        for k, x in enumerate(case.xs):
            if x.dtype.kind not in "iu":
                continue
            for step in (1, -1):
                if self._right_with(case, i, raw, xs=_replace(case.xs, k, x + step)):
                    return _off_by_one_in(self.names[k], step)
        for key, x in self.kwargs.items():
            if isinstance(x, np.ndarray) and x.dtype.kind in "iu":
                for step in (1, -1):
                    if self._right_with(case, i, raw, kwargs={**self.kwargs, key: x + step}):
                        return _off_by_one_in(key, step)
        return None

    def swapped_roles(self, case):
        """One-input ops: does the VJP give the gradient with x or ans replaced by the other?"""
        if len(self.examples) != 1:
            return None
        xs, g = case.xs, case.g
        x, ans = xs[0], self.forward(xs)
        if ans.shape != x.shape:
            return None
        try:
            x_replaced = self.call_vjp(0, [ans], g, ans=ans)    # its formula, evaluated at ans
            ans_replaced = self.call_vjp(0, xs, g, ans=x)       # its formula, evaluated at x
        except Exception:
            return None
        if x_replaced is not None and case.fits(0, x_replaced):
            return "input for output", ("input used where the output was needed: the VJP is right "
                                        "when x is replaced by ans = op(x)")
        if ans_replaced is not None and case.fits(0, ans_replaced):
            return "output for input", ("output used where the input was needed: the VJP is right "
                                        "when ans is replaced by x")
        return None


class _OtherAxis(np.ndarray):
    """An ndarray whose reductions over axis ``source`` (None: over all axes) run over
    axis ``target`` instead (``keepdims``: keeping the reduced axis).  A student's VJP
    run on such arrays is "the same VJP over another axis", in the student's own code;
    ``_Grader.other_axis`` makes one subclass per hypothesis, setting these three."""
    source, target, keepdims = None, 0, False


def _reduce_over_other_axis(name):
    method = getattr(np.ndarray, name)

    def reduction(self, axis=None, *args, **kwargs):
        if self.source is None:
            matches = axis is None and self.ndim > 1
        else:
            matches = isinstance(axis, (int, np.integer)) and self.ndim > self.source and axis % self.ndim == self.source
        if matches and self.target < self.ndim:
            axis = self.target
            if self.keepdims or self.source is None:      # a full reduction broadcast back needs the axis
                kwargs["keepdims"] = True
        return method(self, axis, *args, **kwargs)
    reduction.__name__ = name
    return reduction


for _name in ("sum", "mean", "max", "min", "prod", "var", "std", "any", "all"):
    setattr(_OtherAxis, _name, _reduce_over_other_axis(_name))


def _coupled_groups(case, kinks):
    """Kink elements grouped into ties: two belong together when moving both at once
    changes phi at a slope other than the sum of their own slopes (union-find)."""
    parent = list(range(len(kinks)))

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in itertools.combinations(range(len(kinks)), 2):
        if root(a) == root(b):
            continue
        (i, j), (k, m) = kinks[a], kinks[b]
        direction = {i: np.zeros(case.xs[i].shape)}
        direction.setdefault(k, np.zeros(case.xs[k].shape))
        direction[i][j] = 1.0
        direction[k][m] = 1.0
        left, right = case.slopes_along(direction)
        _, _, _, left_i, right_i = case.numeric(i)
        _, _, _, left_k, right_k = case.numeric(k)
        tol = max(case.tol(i), case.tol(k))
        if abs(right - right_i[j] - right_k[m]) > tol or abs(left - left_i[j] - left_k[m]) > tol:
            parent[root(a)] = root(b)
    groups = {}
    for a, kink in enumerate(kinks):
        groups.setdefault(root(a), []).append(kink)
    return [group for group in groups.values() if len(group) > 1]


def _shifted(e, step, axis, cyclic):
    """``e`` moved by ``step`` places along ``axis``: zeros where nothing lands, or rolled."""
    if cyclic:
        return np.roll(e, step, axis=axis)
    out = np.zeros_like(e)
    src, dst = [slice(None)] * e.ndim, [slice(None)] * e.ndim
    src[axis], dst[axis] = (slice(None, -step), slice(step, None)) if step > 0 else (slice(-step, None), slice(None, step))
    out[tuple(dst)] = e[tuple(src)]
    return out


def _shifted_mistake(o, expected, tol):
    """Off by one: obtained == the right gradient shifted by one place along an axis."""
    for axis in range(expected.ndim):
        if expected.shape[axis] < 2:
            continue
        for step in (1, -1):
            for cyclic in (False, True):
                moved = _shifted(expected, step, axis, cyclic)
                if _close(o, moved, tol) and not _close(moved, expected, tol):
                    where = "later" if step > 0 else "earlier"
                    return "off by one", (f"off by one: the gradient is the right one shifted by one place "
                                          f"{where} along axis {axis}{' (cyclically)' if cyclic else ''}")
    return None


def _off_by_one_in(name, step):
    uses = f"{name} - 1" if step > 0 else f"{name} + 1"
    given = f"{name} + 1" if step > 0 else f"{name} - 1"
    return "off by one", (f"off by one in {name}: the VJP is right when given {given}, so it uses "
                          f"{uses} where {name} is meant")


def _own_words(err):
    """An error's message without the engine's pointer to where an op was created."""
    return str(err).split(" (op created at")[0]


def _axes_text(axes):
    return f"axis {axes}" if isinstance(axes, int) else f"axes {axes}"


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
    """A VJP's result as a plain float64 ndarray (it may be a Tensor, an array or a number)."""
    if v is None:
        return None
    if isinstance(v, Tensor):
        return v.numpy().astype(np.float64)
    return np.array(v, dtype=np.float64)       # np.array, not asarray: drops an _OtherAxis view


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


def _failure(argument, found, lines, label=None):
    """A failed check: found = (diagnosis code, sentence); the sentence heads the verdict."""
    code, sentence = found
    return {"argument": argument, "headline": f"{label or 'argument ' + argument}: {sentence}",
            "lines": lines, "diagnosis": code}
