"""Primitives: a numpy forward with one vector-Jacobian product (VJP) per input.

Calling a primitive on Tensors runs the numpy forward and, when an input
requires grad (and grad mode is on), records a :class:`~.graph.Node`: the op,
its input Tensors and its output array, which is all its VJPs need later.
Defining a new primitive is the same for users as for the built-in ops::

    from chaingrad import autograd as ag

    @ag.primitive
    def cube(x):
        return x ** 3
    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)   # one VJP per input: (g, ans, *inputs)

    x = ag.tensor(2.0, requires_grad=True)
    cube(x).backward()          # x.grad == 12

The forward receives and returns numpy arrays.  A VJP is written once and runs
in two modes: in an ordinary backward, ``g``, ``ans`` and the inputs are numpy
arrays and the VJP is plain numpy arithmetic; under ``create_graph=True`` they
are Tensors and the same code is recorded, so the gradient can be
differentiated again.  VJPs therefore use operators, the methods arrays and
Tensors share (``sum``, ``reshape``, ``T``...) and other primitives, which
follow their arguments: arrays in, arrays out (only inside a backward);
Tensors in, Tensors out.
"""
import functools

from . import backend
from .backend import xp
from .errors import AnomalyError, ShapeError, shape_str, user_frame
from .graph import _NO_KWARGS, Node, _state
from .tensor import Tensor


class Primitive:
    """A numpy function with a VJP per argument.  See the module docstring.

    Tensor arguments are passed positionally; everything else (axis, shape,
    index) by keyword, and keywords are handed to the VJPs unchanged.

    ``linear=True`` says the VJPs do not read the input *values* or the output,
    only shapes (sum, reshape, indexing...): no in-place check is needed then.
    ``differentiable=False`` marks ops whose output never requires grad
    (comparisons, argmax).  ``promotes=True`` marks ops that combine their
    inputs element by element (arithmetic, comparisons, matmul, cat): inputs
    of different dtypes are first cast to one (``result_type``).  Other ops,
    a user's included, get their inputs as they are (labels stay integers).

    Each derivative is stated once, where the op is defined: ``defvjp`` takes,
    besides the VJPs, the inputs' names in formulas (``inputs=("a", "b")``;
    one input is ``x``, the output is always ``y``, the upstream gradient
    ``g``) and per input the text ``(local derivative, VJP)`` that pictures
    (``formulas=True``) and ``ag.viz.explain`` show.
    """

    def __init__(self, forward, name=None, linear=False, differentiable=True, promotes=False):
        functools.update_wrapper(self, forward)
        self.forward = forward
        self.name = name or forward.__name__
        self.linear = linear
        self.differentiable = differentiable
        self.promotes = promotes
        self.vjps = ()
        self.vjp_all = None
        self.inputs = ("x",)
        self.formulas = ()

    def defvjp(self, *vjps, inputs=None, formulas=None):
        """Give one VJP per positional argument (None where there is no gradient).

        Optional, for pictures and ``explain``: ``inputs``, the arguments' names
        in formulas, and ``formulas``, per argument ``(local derivative, VJP)``
        as text, e.g. ``formulas=[("1 - y²", "g·(1 - y²)")]`` for tanh.
        """
        if inputs is not None and len(inputs) != len(vjps):
            raise ValueError(f"defvjp({self.name}): {len(vjps)} VJPs but {len(inputs)} input names")
        if formulas is not None and len(formulas) != len(vjps):
            raise ValueError(f"defvjp({self.name}): {len(vjps)} VJPs but {len(formulas)} formulas")
        self.vjps = vjps
        if inputs is not None:
            self.inputs = tuple(inputs)
        elif len(vjps) != 1:
            self.inputs = tuple(f"x{i}" for i in range(len(vjps)))
        self.formulas = tuple(formulas) if formulas is not None else ()
        return self

    def defvjp_all(self, vjp_all, formula=None):
        """Give one function ``(g, ans, *inputs) -> [gradient per input]`` for ops with
        any number of inputs (cat, stack), where one call beats one call per input.
        ``formula``: ``(local derivative, VJP)`` as text, the same for every input."""
        self.vjp_all = vjp_all
        self.inputs = None
        self.formulas = (formula,) if formula is not None else ()
        return self

    def formula(self, i):
        """``(local derivative, VJP)`` of input ``i`` as text, or None when not given."""
        if self.vjp_all is not None:
            return self.formulas[0] if self.formulas else None
        return self.formulas[i] if i < len(self.formulas) else None

    def input_names(self, n):
        """The names of ``n`` inputs in formulas: x, or a and b, or x0, x1..."""
        if self.inputs is not None and len(self.inputs) == n:
            return self.inputs
        return ("x",) if n == 1 else tuple(f"x{i}" for i in range(n))

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *args, **kwargs):
        # The hot path of every forward computation: keep it lean.
        for a in args:
            if not isinstance(a, Tensor):
                if _state.arrays and not any(isinstance(b, Tensor) for b in args):
                    return self.forward(*args, **kwargs)    # inside a plain backward: arrays in, arrays out
                args = _as_tensors(args)
                break
        arrays = [t._data for t in args]
        if self.promotes and not _same_dtype(arrays):
            arrays = promote(arrays)
        try:
            out = self.forward(*arrays, **kwargs)
        except (ValueError, IndexError, TypeError) as err:
            raise _op_error(self, err, args) from err
        if not isinstance(out, _ARRAYS):
            out = xp.asarray(out)
        if _state.anomaly:
            check_finite(self, out, "output")
        result = Tensor._wrap(out)
        if self.differentiable and _state.grad_enabled:
            for t in args:
                if t._node is not None:       # some input requires grad: record
                    result._node = Node(self, args, out, kwargs or _NO_KWARGS)
                    break
        if type(out) is xp.ndarray and out.base is not None:
            result._base = _viewed_owner(out, args)
        return result

# A 0-d result of numpy arithmetic is a numpy scalar, and stays one: arithmetic on
# numpy scalars is ~10x faster than on 0-d arrays (88 ns against 880 ns for a multiply).
_ARRAYS = (xp.ndarray, xp.generic)


def _same_dtype(arrays):
    """Do all the arrays have one dtype?  (Numpy scalars of one type do: asking a
    numpy scalar for its dtype costs more than the scalar arithmetic itself.)"""
    kind = type(arrays[0])
    if kind is not xp.ndarray:
        for a in arrays:
            if type(a) is not kind:
                break
        else:
            return True
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype != dtype:
            return False
    return True


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def result_type(arrays):
    """The dtype of an op on ``arrays`` of different dtypes, by PyTorch's rule.

    Categories rank bool < integer < float < complex.  The operands with
    dimensions decide, unless a 0-d operand is of a higher category: so a 0-d
    float64 tensor does not make a float32 array float64, and an integer
    array never raises a float array's precision (numpy would give float64
    in both cases).  Within the deciding operands, numpy's promotion.
    """
    def top(group):
        return max((_CATEGORY[a.dtype.kind] for a in group), default=-1)
    dims = [a for a in arrays if a.ndim > 0]
    zero_d = [a for a in arrays if a.ndim == 0]
    deciding = dims if top(dims) >= top(zero_d) else zero_d
    rank = top(deciding)
    return xp.result_type(*[a.dtype for a in deciding if _CATEGORY[a.dtype.kind] == rank])


def promote(arrays):
    """Cast ``arrays`` to their common dtype (``result_type``); bool masks stay bool."""
    dtype = result_type(arrays)
    return [a if a.dtype == dtype or (a.dtype.kind == "b" and dtype.kind != "b") else a.astype(dtype)
            for a in arrays]


def _viewed_owner(out, args):
    """The input whose memory ``out`` views (reshape, transpose, slicing), so that the
    two share one version counter: writing into either is seen by the other's saved uses."""
    for t in args:
        data = t._data
        if type(data) is xp.ndarray and (out.base is data or out.base is data.base):
            return t._version_owner()
    return None


def _op_error(op, err, tensors):
    """Re-raise a numpy error with the op's name, the input shapes and the user's line."""
    shapes = " and ".join(shape_str(xp.shape(t._data)) for t in tensors)
    msg = str(err)
    if msg.startswith(op.name + ": "):
        msg = msg[len(op.name) + 2:]
    msg = f"{op.name}: {msg} (input shape{'s' if len(tensors) > 1 else ''} {shapes}) at {user_frame()}"
    kind = type(err) if type(err) in (IndexError, TypeError) else ShapeError
    return kind(msg)


def primitive(fn=None, *, name=None, linear=False, differentiable=True, promotes=False):
    """Decorator making a numpy function into a :class:`Primitive` (see module docstring)."""
    if fn is None:
        return lambda f: Primitive(f, name=name, linear=linear, differentiable=differentiable,
                                   promotes=promotes)
    return Primitive(fn, name=name, linear=linear, differentiable=differentiable, promotes=promotes)


def check_finite(op, arr, what):
    """Under ``detect_anomaly``: raise at the first NaN/Inf, naming the op and the user's line."""
    if arr.dtype.kind in "fc" and not xp.isfinite(arr).all():
        bad = "nan" if xp.isnan(arr).any() else "inf"
        raise AnomalyError(
            f"detect_anomaly: op '{op.name}' produced {bad} in its {what} at {user_frame()}")


def _as_tensors(args):
    """Tensors stay; numbers and arrays become constants.  Python numbers take the
    dtype of the first floating Tensor argument, so ``x32 * 2.0`` stays float32."""
    like = None
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._data.dtype
            if dtype.kind == "f":
                like = dtype
                break
    return tuple([a if isinstance(a, Tensor) else _constant(a, like) for a in args])


def _constant(value, like):
    # Python (and numpy) numbers adapt to the tensor, as in PyTorch; bools do not (True * x).
    if like is not None and isinstance(value, (float, int)) and not isinstance(value, bool):
        return Tensor._wrap(like.type(value))
    return Tensor._wrap(backend.asarray(value))
