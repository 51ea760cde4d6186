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

Tensor inputs come first; the arguments after them are the op's options
(axis, shape...), positional or keyword as in the forward's signature, and
are handed to the VJPs by keyword.  A built-in op also names its spellings
once, in its declaration::

    @primitive(method="exp", numpy=[xp.exp])
    def exp(x): ...

gives ``t.exp()``, ``ag.exp(t)`` and ``np.exp(t)`` (see ``dialects.py``).
"""
import functools
import inspect
import operator

from . import backend, dialects
from .anomaly import check_finite
from .backend import xp
from .errors import ShapeError, shape_str, user_frame
from .graph import NO_OPTIONS, Node, _state
from .tensor import Tensor, array_from

_new = object.__new__

_NDARRAY, _SCALAR = xp.ndarray, xp.generic      # read once: a module attribute costs a lookup per op
_FLOAT_SCALARS = frozenset((xp.float64, xp.float32))   # unary() and binary(): scalar graphs
_SCALAR_TYPES = frozenset(xp.sctypeDict.values())     # every numpy scalar type
_data_of = operator.attrgetter("_data")
_node_of = operator.attrgetter("_node")
_name_of = operator.attrgetter("_name")


class Primitive:
    """A numpy function with a VJP per Tensor input.  See the module docstring.

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

    Spellings (built-in ops; see ``dialects.py``): ``method`` and ``operators``
    name Tensor methods and operators, ``numpy`` the numpy ufuncs and functions
    that run this op, ``torch`` PyTorch's names of options (``{"dim": "axis"}``).
    ``arity`` is the number of Tensor inputs when the op has no VJPs to count;
    ``public`` exports an op without other spellings as ``ag.<name>``.
    """

    def __init__(self, forward, name=None, linear=False, differentiable=True, promotes=False,
                 method=(), operators=(), numpy=(), torch=None, arity=None, public=False):
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
        self.torch_options = dict(torch or {})
        self.spellings = {"method": _names(method), "operators": _names(operators), "numpy": tuple(numpy)}
        self._params = _positional_params(forward)
        self._defaults = _defaults(forward)
        self.variadic = False
        self._set_arity(arity if arity is not None else _required(forward))
        if method or operators or numpy or torch or public:
            dialects.install(Tensor, self, self.spellings["method"], self.spellings["operators"], numpy)
            dialects.DECLARED[self.name] = self

    def _set_arity(self, n):
        """The first ``n`` arguments are Tensor inputs; the forward's other parameters are options."""
        names, rest = self._params
        self.arity = n
        self.option_names = tuple(names[n:]) + rest
        self._option_set = frozenset(self.option_names)

    def defvjp(self, *vjps, inputs=None, formulas=None):
        """Give one VJP per Tensor input (None where there is no gradient).

        Optional, for pictures and ``explain``: ``inputs``, the arguments' names
        in formulas, and ``formulas``, per argument ``(local derivative, VJP)``
        as text, e.g. ``formulas=[("1 - y²", "g·(1 - y²)")]`` for tanh.
        """
        if inputs is not None and len(inputs) != len(vjps):
            raise ValueError(f"defvjp({self.name}): {len(vjps)} VJPs but {len(inputs)} input names")
        if formulas is not None and len(formulas) != len(vjps):
            raise ValueError(f"defvjp({self.name}): {len(vjps)} VJPs but {len(formulas)} formulas")
        names, _ = self._params
        if names and len(vjps) > len(names) and not self._star:
            raise ValueError(f"defvjp({self.name}): {len(vjps)} VJPs but the forward takes "
                             f"{len(names)} positional argument{'s' if len(names) != 1 else ''}")
        self.vjps = vjps
        if inputs is not None:
            self.inputs = tuple(inputs)
        elif len(vjps) != 1:
            self.inputs = tuple(f"x{i}" for i in range(len(vjps)))
        self.formulas = tuple(formulas) if formulas is not None else ()
        self._set_arity(len(vjps))
        return self

    def defvjp_all(self, vjp_all, formula=None):
        """Give one function ``(g, ans, *inputs) -> [gradient per input]`` for ops that take
        a sequence of tensors (cat, stack), where one call beats one call per input.
        ``formula``: ``(local derivative, VJP)`` as text, the same for every input."""
        self.vjp_all = vjp_all
        self.inputs = None
        self.formulas = (formula,) if formula is not None else ()
        self.variadic = True
        return self

    @property
    def _star(self):
        return any(p.kind is p.VAR_POSITIONAL for p in _signature(self.forward).parameters.values())

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

    def __call__(self, *args, **options):
        # The hot path of every forward computation: each line here is paid by every op
        # (workload 1 records 65,077 per step), hence map() over attribute getters, and
        # numbers or arrays among the inputs handled on the exception path.
        if len(args) != self.arity or (options and not options.keys() <= self._option_set):
            args, options = self._bind(args, options)
        if _state.arrays:               # a VJP in a plain backward: arrays in, arrays out
            for a in args:
                if isinstance(a, Tensor):
                    break
            else:
                return self.forward(*args, **options)
        try:
            values = tuple(map(_data_of, args))
        except AttributeError:          # a number or an array among the inputs
            args = _as_tensors(args)
            values = tuple(map(_data_of, args))
        raw = values
        if self.promotes and (len(values) != 2 or type(values[0]) is not type(values[1])
                              or type(values[0]) is _NDARRAY) and not _same_dtype(values):
            values = promote(values)     # (two numpy scalars of one type have one dtype: no call)
        try:
            out = self.forward(*values, **options)
        except (ValueError, IndexError, TypeError) as err:
            raise _op_error(self, err, args) from err
        if type(out) is not _NDARRAY and not isinstance(out, _SCALAR):
            out = xp.asarray(out)
        if _state.anomaly:
            check_finite(self, out, "output")
        result = _new(Tensor)                               # Tensor._wrap(out), inlined
        result._data = out
        result._grad = result._node = result._vc = result._name = None
        if self.differentiable and _state.grad_enabled:
            parents = tuple(map(_node_of, args))
            if parents.count(None) != len(parents):       # some input requires grad: record
                if self.linear or _NDARRAY not in map(type, raw) and type(out) is not _NDARRAY:
                    # nothing here can be written in place later: no version counters
                    node = Node(self, parents, raw, out, options or NO_OPTIONS, None, 0)
                else:
                    node = self._node(args, parents, raw, out, result, options)
                if None in parents and any(map(_name_of, args)):
                    node.labels = tuple(map(_name_of, args))     # named constants, for pictures
                result._node = node
        if type(out) is _NDARRAY and out.base is not None:
            result._vc = _viewed_counter(out, args)
        return result

    # The operators' and methods' shortcut for scalar graphs.  In a graph of 0-d values
    # (micrograd's demo), every value is a numpy float scalar and most calls are an operator
    # or a method without options, so none of the general call's steps for options,
    # numbers, arrays, promotion or version counters applies.  These two build the result
    # and its node directly; anything else, and anomaly mode, takes the general call.
    # Measured under callgrind: a recorded scalar `a * b` 23.9k -> 14.5k instructions,
    # `t.relu()` 29.8k -> 21.7k; workload 1's forward 22.9k -> 15.8k per node.

    def unary(self, x):
        """``op(x)`` for one operand and no options (``-t``, ``t.relu()``)."""
        a = x._data
        if type(a) not in _FLOAT_SCALARS or self.arity != 1 or _state.anomaly:
            return self(x)
        try:
            out = self.forward(a)
        except (ValueError, IndexError, TypeError) as err:
            raise _op_error(self, err, (x,)) from err
        px = x._node
        return self._scalar_result(out, (px,), (a,), px is not None, (x,))

    def binary(self, x, y):
        """``x <op> y`` from an operator (``a * b``, ``2.0 * t``): two operands, no options."""
        try:
            a, b = x._data, y._data
        except AttributeError:              # an array or a number the operator left as it is
            return self(x, y)
        kind = type(a)
        if kind is not type(b) or kind not in _FLOAT_SCALARS or _state.anomaly:
            return self(x, y)
        try:
            out = self.forward(a, b)
        except (ValueError, IndexError, TypeError) as err:
            raise _op_error(self, err, (x, y)) from err
        px, py = x._node, y._node
        return self._scalar_result(out, (px, py), (a, b), px is not None or py is not None, (x, y))

    def _scalar_result(self, out, parents, values, record, inputs):
        """The result Tensor of a scalar call, with its node when ``record``."""
        if type(out) not in _SCALAR_TYPES:
            return self(*inputs)        # an array (t.ravel()) or a Python number: the general call
        result = _new(Tensor)
        result._data = out
        result._grad = result._node = result._vc = result._name = None
        if record and self.differentiable and _state.grad_enabled:
            node = result._node = Node(self, parents, values, out, NO_OPTIONS)
            if None in parents and any(map(_name_of, inputs)):
                node.labels = tuple(map(_name_of, inputs))     # named constants, for pictures
        return result

    def _node(self, args, parents, values, out, result, options):
        """The node of a call that reads ndarrays: it keeps their version counters and the
        counters' sum, so that backward can tell whether one was written in place since."""
        counters, version = [], 0
        for t, v in zip(args, values):
            if type(v) is _NDARRAY:
                c = t._counter()
                counters.append(c)
                version += c.n
        if type(out) is _NDARRAY:
            counters.append(result._counter())
        return Node(self, parents, values, out, options or NO_OPTIONS, counters, version)

    def _bind(self, args, options):
        """Split a call into Tensor inputs and options by the forward's signature,
        PyTorch's option names translated (``dim=`` -> ``axis=``); a mismatch raises."""
        if self.variadic:
            if not args:
                raise TypeError(f"{self.name}(): expected a sequence of tensors as the first argument")
            tensors, extra = tuple(args[0]), args[1:]
            if not tensors:
                raise ValueError(f"{self.name}: expected a non-empty sequence of tensors")
        else:
            if len(args) < self.arity:
                names = ", ".join(self._params[0][:self.arity])
                raise TypeError(f"{self.name}() takes {self.arity} tensor argument"
                                f"{'s' if self.arity != 1 else ''} ({names}), got {len(args)}")
            tensors, extra = args[:self.arity], args[self.arity:]
        if len(extra) > len(self.option_names):
            raise TypeError(f"{self.name}() got {len(extra)} options after its tensor inputs but takes "
                            f"{len(self.option_names)} ({', '.join(self.option_names) or 'none'})")
        bound = dict(zip(self.option_names, extra))
        for key, value in options.items():
            name = self.torch_options.get(key, key)
            if name != key and value is None:
                continue            # PyTorch's dim=None: "not given" where the dialects agree
            if name not in self._option_set:
                raise TypeError(f"{self.name}() got an unexpected option {key}=; it takes "
                                f"{', '.join(n + '=' for n in self.option_names) or 'no options'}")
            if name in bound:
                if name != key and bound[name] is self._defaults.get(name, _NO_DEFAULT):
                    bound[name] = value     # F.softmax(x, -1, dim=1): the default, passed on, then dim
                    continue
                if name != key:
                    raise TypeError(f"{self.name}: got both {name}= (numpy spelling, or a positional "
                                    f"argument) and {key}= (PyTorch spelling); pass one of them")
                raise TypeError(f"{self.name}: got {name}= twice (as a keyword and a positional argument)")
            bound[name] = value
        return tensors, bound


def _names(x):
    return (x,) if isinstance(x, str) else tuple(x)


@functools.lru_cache(maxsize=None)
def _signature(fn):
    return inspect.signature(fn)


def _positional_params(fn):
    """The forward's positional parameter names, and its keyword-only ones."""
    try:
        params = list(_signature(fn).parameters.values())
    except (TypeError, ValueError):          # a builtin without a signature: all inputs
        return (), ()
    positional = tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    keyword = tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)
    return positional, keyword


_NO_DEFAULT = object()


def _defaults(fn):
    try:
        return {p.name: p.default for p in _signature(fn).parameters.values() if p.default is not p.empty}
    except (TypeError, ValueError):
        return {}


def _required(fn):
    """How many leading positional parameters have no default (the Tensor inputs, by default)."""
    try:
        params = list(_signature(fn).parameters.values())
    except (TypeError, ValueError):
        return 1
    n = 0
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty:
            break
        n += 1
    return n


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


def _viewed_counter(out, args):
    """The version counter of the input whose memory ``out`` views (reshape, transpose,
    slicing), so that the two share it: writing into either is seen by the other's saved uses."""
    for t in args:
        data = t._data
        if type(data) is xp.ndarray and (out.base is data or out.base is data.base):
            return t._counter()
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


def primitive(fn=None, **declaration):
    """Decorator making a numpy function into a :class:`Primitive` (see module docstring).

    ``@ag.primitive`` or ``@ag.primitive(name=..., linear=..., ...)`` with the
    keywords of :class:`Primitive`.
    """
    if fn is None:
        return lambda f: Primitive(f, **declaration)
    return Primitive(fn, **declaration)


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
    return Tensor._wrap(backend.store(array_from(value, None, False)))
