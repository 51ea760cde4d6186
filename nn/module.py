"""Modules: objects that own parameters and compute with engine ops.

A :class:`Module` keeps its :class:`Parameter` s, buffers (non-trained
state such as batch norm's running statistics) and sub-modules in three
ordered dicts, filled automatically by attribute assignment::

    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.ones((2, 3)))   # registered as parameter "w"
        def forward(self, x):
            return x @ self.w

Names are dotted paths through the tree (``layers.0.weight``), as in
PyTorch, and the same names key :meth:`Module.state_dict`.

A module never defines a backward: ``forward`` is ordinary Tensor code, and
the engine derives the gradient.  ``__call__`` runs ``forward`` inside
``ag.scope(<class name>, kind="module", obj=self)`` so that pictures of the
graph can group the recorded ops by module.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from chaingrad import autograd as ag


class Parameter(ag.Tensor):
    """A Tensor that a Module trains: it always starts as a leaf requiring grad.

    ``Parameter(np.zeros(3))`` copies the data (a parameter owns its memory);
    Python floats and lists take the default float dtype.
    """
    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None, name=None):
        data = data.data if isinstance(data, ag.Tensor) else data
        super().__init__(np.array(ag.Tensor(data, dtype=dtype).data), requires_grad=requires_grad, name=name)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def float_dtype(dtype, who):
    """``dtype`` as a numpy floating dtype (``None``: the default one); ``who`` names the caller in errors."""
    if dtype is None:
        return np.dtype(ag.get_default_dtype())
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{who}: expected a floating dtype (np.float32, 'float64', ...), got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{who}: only floating dtypes are allowed (as in PyTorch), got {dtype}")
    return dtype


class StateDictError(RuntimeError, ValueError):
    """A state dict does not fit the module (missing, unexpected or mis-shaped keys).

    A ``RuntimeError`` as in PyTorch, and a ``ValueError`` because the value is wrong.
    """


def _as_array(value):
    """A state-dict value as an ndarray: Tensors, arrays, and anything with the array protocol.

    PyTorch's tensors convert through ``__array__`` with no torch import here;
    one that requires grad (a Parameter) refuses to, so it is detached first.
    """
    if isinstance(value, ag.Tensor):
        return np.asarray(value.data)
    if hasattr(value, "detach") and getattr(value, "requires_grad", False):
        value = value.detach()
    return np.asarray(value)


def _transposed_hint(keys):
    """What to do about 2-D weights that came transposed (``keys``), or "" when there are none."""
    if not keys:
        return ""
    return (f"{', '.join(map(repr, keys))} look{'s' if len(keys) == 1 else ''} transposed: Linear weights "
            f"are (out_features, in_features) since chaingrad 0.2, as in PyTorch; a file of chaingrad 0.1 "
            f"loads with nn.load(path, model, layout='in_out'), and chaingrad.interop converts PyTorch "
            f"modules")


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer, activation, loss and network.

    Subclasses call ``super().__init__()`` first, assign parameters and
    sub-modules as attributes, and define ``forward``.  Then ``model(x)``
    runs ``forward`` and ``model.parameters()`` finds every parameter.
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration by attribute assignment ------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        params, buffers, mods = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            mods[name] = value
        elif name in buffers:
            # Re-assigning a buffer (e.g. running_mean) keeps it a buffer.
            buffers[name] = value if isinstance(value, ag.Tensor) or value is None else ag.Tensor(value)
        elif (name in params or name in mods) and value is not None:
            kind = "parameter" if name in params else "sub-module"
            raise TypeError(f"{type(self).__name__}.{name} is a {kind}; cannot replace it by a "
                            f"{type(value).__name__} (wrap arrays in nn.Parameter)")
        elif name in params:
            params[name] = None
        elif name in mods:
            mods[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        self.__dict__.pop(name, None)
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the three registries.
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d and name in d[key]:
                return d[key][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for d in (self._parameters, self._buffers, self._modules):
            if name in d:
                del d[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        if param is None:
            self._forget(name)
            self._parameters[name] = None
        else:
            setattr(self, name, param if isinstance(param, Parameter) else Parameter(param))

    def register_buffer(self, name, value):
        """Register state that is saved in ``state_dict`` but not trained (e.g. running means)."""
        self._forget(name)
        self._buffers[name] = value if isinstance(value, ag.Tensor) or value is None else ag.Tensor(value)

    # ---- running -------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        # The scope labels every op recorded by forward with this module (for the pictures).
        with ag.scope(type(self).__name__, kind="module", obj=self):
            return self.forward(*args, **kwargs)

    # ---- walking the tree ------------------------------------------------------
    def named_children(self):
        """Direct sub-modules as ``(name, module)`` pairs."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix="", _seen=None):
        """Every module in the tree, this one first (its name is ``""``); shared modules once."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, m in self.named_children():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """``(dotted name, Parameter)`` pairs; a parameter shared by two modules appears once."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix=""):
        for mod_name, m in self.named_modules(prefix):
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every module (children first, as PyTorch); returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def modules_for_pictures(self):
        """What ``ag.viz`` asks of a model (its one protocol, see ``autograd/viz/model.py``):
        ``(path, module, [(name, parameter), ...])`` for this module (path ``""``) and every
        sub-module, with the parameters each owns itself; a shared module or parameter
        appears once, where ``named_parameters`` names it.  The pictures use it to name
        parameters (``layers.0.weight``), label module calls (``layers.0: Linear``), count
        a collapsed module's parameters and report gradients per layer."""
        seen, out = set(), []
        for path, m in self.named_modules():
            own = []
            for name, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    own.append((name, p))
            out.append((path, m, own))
        return out

    # ---- modes and gradients ------------------------------------------------------
    def train(self, mode=True):
        """Training mode (the default): dropout drops, batch norm uses batch statistics."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: dropout is the identity, batch norm uses running statistics."""
        return self.train(False)

    # ---- dtype -----------------------------------------------------------------------
    def to(self, dtype):
        """Convert every floating parameter and buffer (and its gradient) to ``dtype``; returns self.

        As PyTorch's ``Module.to(dtype)``: in place, so the Parameter objects
        stay the same ones (an optimizer made before keeps working on them).
        Integer buffers are left alone. ``to("cpu")`` is accepted and does
        nothing: chaingrad computes on the CPU only.
        """
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        dtype = float_dtype(dtype, f"{type(self).__name__}.to")
        with ag.no_grad():
            for t in self._state_tensors().values():
                if t.dtype.kind == "f" and t.dtype != dtype:
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad.data = t.grad.data.astype(dtype)
        return self

    def float(self):
        """``to(np.float32)``."""
        return self.to(np.float32)

    def double(self):
        """``to(np.float64)``."""
        return self.to(np.float64)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients (``p.grad = None``): backward accumulates, so clear between steps.

        ``set_to_none=False`` fills existing gradients with zeros instead (as PyTorch).
        """
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = ag.zeros_like(p.grad.detach())

    # ---- saving state ------------------------------------------------------------------
    def state_dict(self):
        """A snapshot ``{dotted name: ndarray copy}`` of every parameter and buffer.

        The names are PyTorch's (``0.weight``, ``layers.0.bias``,
        ``1.running_mean``).  The arrays are copies, so the snapshot does not
        change when training goes on.
        """
        return OrderedDict((k, np.array(t.data)) for k, t in self._state_tensors().items())

    # Keys of other libraries' state dicts that this module accepts and skips on loading.
    ignored_state = ()

    def _ignored_state_keys(self):
        """``{dotted name}`` of every ``ignored_state`` entry in this module tree."""
        return {f"{mod_name}.{name}" if mod_name else name
                for mod_name, m in self.named_modules() for name in m.ignored_state}

    def _state_tensors(self):
        """``{dotted name: Tensor}`` for every parameter and buffer (the live tensors, not copies)."""
        out = OrderedDict()
        for mod_name, m in self.named_modules():
            for name, t in list(m._parameters.items()) + list(m._buffers.items()):
                if t is not None:
                    out[f"{mod_name}.{name}" if mod_name else name] = t
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of ``state_dict`` (ndarrays or Tensors) into this module, in place.

        Everything is checked before anything is written: with ``strict=True``
        every key must match, and in any case every shape must; otherwise a
        :class:`StateDictError` names the missing, unexpected and mis-shaped
        keys and the module is left untouched.  Returns
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        A PyTorch state dict loads as it is, its Linear weights being (out,
        in) like ours: values may be torch tensors (read through the array
        protocol; torch is not imported), and the keys a module declares in
        ``ignored_state`` (BatchNorm1d's ``num_batches_tracked``) are
        accepted and skipped.
        """
        own = self._state_tensors()
        skipped = self._ignored_state_keys()
        given = OrderedDict()
        problems = []
        for k, v in state_dict.items():
            if k in skipped:
                continue
            arr = _as_array(v)
            if arr.dtype.kind not in "biuf":
                problems.append(f"{k!r} holds {arr.dtype} data, not numbers")
            given[k] = arr
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        shapes = [f"{k!r}: expected shape {own[k].shape}, got {given[k].shape}"
                  for k in own if k in given and given[k].shape != own[k].shape]
        transposed = [k for k in own if k in given and own[k].ndim == 2 and own[k].shape != given[k].shape
                      and given[k].shape == own[k].shape[::-1]]
        if missing and strict:
            problems.append("missing keys: " + ", ".join(map(repr, missing)))
        if unexpected and strict:
            problems.append("unexpected keys: " + ", ".join(map(repr, unexpected)))
        if shapes:
            problems.append("mis-shaped keys: " + "; ".join(shapes))
        if transposed:
            problems.append(_transposed_hint(transposed))
        if problems:
            raise StateDictError(f"load_state_dict into {type(self).__name__} failed, nothing was "
                                 f"changed:\n  " + "\n  ".join(problems))
        with ag.no_grad():
            for k, t in own.items():
                if k in given:
                    t.copy_(given[k].astype(t.dtype, copy=False))   # in place: optimizers keep their references
        return IncompatibleKeys(missing, unexpected)

    # ---- printing --------------------------------------------------------------------
    def extra_repr(self):
        """The text between the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"


class ModuleList(Module):
    """A list of modules whose parameters are registered (names ``"0"``, ``"1"``, ...).

    Unlike Sequential it has no forward: the owner decides how to use them.
    """

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def _add(self, name, m):
        if not isinstance(m, Module):
            raise TypeError(f"{type(self).__name__}: {name} is a {type(m).__name__}, not an nn.Module")
        self._modules[name] = m

    def append(self, module):
        self._add(str(len(self._modules)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        return list(self._modules.values())[i]


class Sequential(ModuleList):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    Children are named ``"0"``, ``"1"``, ... (or by an OrderedDict's keys), so
    the state dict has ``0.weight``, ``0.bias``, ``2.weight``... as in PyTorch.
    """

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            Module.__init__(self)
            for name, m in modules[0].items():
                self._add(name, m)
        else:
            super().__init__(modules)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*list(self._modules.values())[i])
        return super().__getitem__(i)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x
