"""The names an op answers to, in chaingrad's two dialects, and the tables they fill.

chaingrad speaks numpy and PyTorch.  numpy spellings keep numpy's meaning
(``axis=``, ``keepdims=``, ``t.max(axis)`` gives the values, ``t.std()`` has
``ddof=0``); PyTorch spellings get PyTorch's meaning (``dim=``, ``keepdim=``,
``t.max(dim=1)`` gives ``(values, indices)``, ``t.std(dim=1)`` uses correction 1).
Where the two would mean different things and a call mixes them, it raises
instead of guessing::

    t.sum(dim=1, keepdim=True)      # PyTorch: same as t.sum(axis=1, keepdims=True)
    t.max(1, keepdim=True)          # TypeError: mixes the dialects where they disagree
    t.sum(axis=0, dim=1)            # TypeError: both spellings of the same argument

Each op's declaration (``primitive(..., method=, numpy=, torch=)``) names its
spellings once; declaring it fills the tables below, which the Tensor's
methods, the numpy protocol (``numpy_functions.py``) and the tests read.
This module sits below the ops and knows no Tensor.
"""
import inspect

UFUNCS = {}         # numpy ufunc -> the op (np.exp(t) runs ag.exp)
FUNCTIONS = {}      # numpy function -> (implementation, numpy's signature, the implementation's parameters)
DECLARED = {}       # op name -> the op, for every op declared with its spellings (what ag.* exports)


class _NotGiven:
    """Default of ``dim=``: tells "not passed" apart from an explicit ``dim=None``
    (in PyTorch ``t.std(dim=None)`` means "all axes, correction 1")."""

    def __repr__(self):
        return "<not given>"


NOT_GIVEN = _NotGiven()


def implements(*numpy_functions):
    """Register ``impl`` as the engine version of the given numpy function(s).

    numpy's own signature binds the call (``np.sum(a, axis=None, ..., keepdims=False)``);
    the implementation gets the arguments it names, by numpy's names.
    """
    def register(impl):
        params = inspect.signature(impl).parameters
        for func in numpy_functions:
            FUNCTIONS[func] = (impl, inspect.signature(func), params)
        return impl
    return register


def translate(op, axis, keepdims, dim, keepdim, *, axis_default=None, strict=False,
              numpy_only=(), pytorch_only=()):
    """Map both spellings of "which axes, and keep them?" to numpy's ``(axis, keepdims)``.

    Returns ``(axis, keepdims, pytorch)``; ``pytorch`` is True when the call used
    the PyTorch spelling (``dim=``, ``keepdim=`` or a name in ``pytorch_only``), so
    an op whose two meanings differ (max, min, var, std) can pick PyTorch's.

    Raises TypeError, naming ``op``, when the same argument is given in both
    spellings (``axis=`` and ``dim=``, ``keepdims=`` and ``keepdim=``) and, for
    ``strict`` ops, when a call mixes the dialects at all: ``numpy_only`` and
    ``pytorch_only`` list the other options that were passed (``ddof``,
    ``correction``...).  A positional axis counts as numpy's ``axis``.
    """
    if (dim is NOT_GIVEN or (dim is None and not strict)) and keepdim is None and not pytorch_only:
        return axis, keepdims, False        # the numpy spelling alone: nothing to translate or check
    dim_names_axes = dim is not NOT_GIVEN and dim is not None
    if dim_names_axes and axis is not None and axis != axis_default:
        raise TypeError(f"{op}: got both axis= (numpy spelling) and dim= (PyTorch spelling); pass one of them")
    if keepdim is not None and keepdims:
        raise TypeError(f"{op}: got both keepdims= (numpy spelling) and keepdim= (PyTorch spelling); pass one of them")
    numpy_names = [n for n, given in (("axis= (or a positional axis)", axis is not None and axis != axis_default),
                                      ("keepdims=", bool(keepdims))) if given] + [n + "=" for n in numpy_only]
    pytorch_names = [n for n, given in (("dim=", dim is not NOT_GIVEN), ("keepdim=", keepdim is not None))
                     if given] + [n + "=" for n in pytorch_only]
    if strict and numpy_names and pytorch_names:
        raise TypeError(
            f"{op}: {', '.join(numpy_names)} is numpy's spelling and {', '.join(pytorch_names)} PyTorch's, "
            f"and {op} means different things in the two; write it all numpy (axis=, keepdims=) "
            f"or all PyTorch (dim=, keepdim=)")
    if dim_names_axes:
        axis = dim
    return axis, bool(keepdims or keepdim), bool(pytorch_names)


def function(cls, *, method=(), numpy=(), name=None):
    """Declare a public function that is not a primitive (a composition, or a dispatcher
    between the dialects): it becomes ``ag.<name>``, the Tensor methods ``method`` on
    ``cls`` and the engine version of the numpy functions ``numpy``."""
    def declare(fn):
        methods = (method,) if isinstance(method, str) else tuple(method)
        install(cls, fn, methods, (), numpy)
        fn.spellings = {"method": methods, "operators": (), "numpy": tuple(numpy)}
        DECLARED[name or fn.__name__] = fn
        return fn
    return declare


def install(cls, op, methods=(), operators=(), numpy=()):
    """Give ``op`` its spellings: Tensor methods and operators on ``cls``, numpy entries."""
    for name in methods:
        setattr(cls, name, _method(op, name))
    for name in operators:
        if name in _UNARY:
            setattr(cls, name, _unary(op, name))
        elif name.startswith("__r") and name != "__rshift__":
            setattr(cls, name, _reflected(cls, op, name))
        else:
            setattr(cls, name, _binary(cls, op, name))
    for func in numpy:
        if type(func).__name__ == "ufunc":
            UFUNCS[func] = op
        else:
            implements(func)(op)


# Plain functions, so that Python binds them to the tensor itself (no descriptor of ours
# on the hot path of `a * b`): one call frame between the operator and the op.
def _method(op, name):
    unary = getattr(op, "unary", None)      # a primitive's call without options (t.relu())
    if unary is None:
        def method(self, *args, **options):
            return op(self, *args, **options)
    else:
        def method(self, *args, **options):
            if args or options:
                return op(self, *args, **options)
            return unary(self)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = op.__doc__
    try:                    # help(t.sum) and inspect show the op's own options
        sig = inspect.signature(op)
        params = list(sig.parameters.values())
        if params and params[0].kind is not params[0].VAR_POSITIONAL:
            params[0] = params[0].replace(name="self")
        method.__signature__ = sig.replace(parameters=params)
    except (TypeError, ValueError):
        pass
    return method


_UNARY = {"__neg__", "__abs__", "__invert__"}


def _unary(op, name):
    unary = op.unary
    def method(self):
        return unary(self)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = op.__doc__
    return method


def _number(cls, tensor, value):
    """A Python float or int beside a floating tensor, as a constant of the tensor's dtype
    (``x32 * 2.0`` stays float32, as in PyTorch).  The op would make the same constant
    itself, after an AttributeError on the number: this saves that exception, measured
    under callgrind at 43k -> 30k instructions for ``x + 1.0``.  Beside an integer or
    bool tensor the number stays as it is, for the op's own promotion."""
    dtype = tensor._data.dtype
    if dtype.kind != "f":
        return value
    t = _new(cls)
    t._data, t._grad, t._node, t._vc, t._name = dtype.type(value), None, None, None, None
    return t


_new = object.__new__
_PY_NUMBERS = (float, int)


def _binary(cls, op, name):
    binary = op.binary
    def method(self, other):
        if type(other) in _PY_NUMBERS:
            other = _number(cls, self, other)
        return binary(self, other)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = op.__doc__
    return method


def _reflected(cls, op, name):
    binary = op.binary
    def method(self, other):
        if type(other) in _PY_NUMBERS:
            other = _number(cls, self, other)
        return binary(other, self)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``other {name[3:-2]} self``: {op.name}(other, self)."
    return method
