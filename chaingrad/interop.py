"""Models in and out of PyTorch: ``to_torch``, ``from_torch`` and the state-dict converters under them.

    from chaingrad import interop
    tmodel = interop.to_torch(model)          # a torch.nn.Module computing the same function
    model = interop.from_torch(tmodel)        # and back
    model.load_state_dict(interop.state_dict_from_torch(tmodel.state_dict(), prefix="layers."))

PyTorch is needed by this module only: ``import chaingrad`` never imports it,
and this module imports it when a function is called.

The two libraries name and lay out their state the same way (``0.weight``
of shape (out, in), ``1.running_mean``): a PyTorch state dict loads into
the same chaingrad architecture as it is (``model.load_state_dict`` takes
torch tensors through the array protocol), and so does a
``safetensors.torch`` file through ``nn.load``. What is left for the
converters here:

- **Arrays and torch tensors.** Going out, our arrays become torch tensors
  (copies); coming in, torch tensors become arrays.
- **BatchNorm1d's ``num_batches_tracked``.** PyTorch counts the batches
  seen, and uses the count only when ``momentum=None`` (a cumulative
  average, which chaingrad does not have). Coming in it is dropped (and
  ``load_state_dict`` skips it anyway); going out it is written as 0.
- **The ``layers.`` prefix.** An ``nn.MLP`` keeps its layers in a
  Sequential named ``layers``; its PyTorch counterpart is a plain
  ``torch.nn.Sequential``, whose keys have no prefix. ``prefix=`` adds or
  removes it.

Supported modules, both ways: Linear, BatchNorm1d (with its running
statistics), Dropout, Identity, ReLU, LeakyReLU, ELU, Sigmoid, Tanh,
Softplus, Softmax, LogSoftmax, and Sequential (our MLP becomes a
Sequential). Dtypes (float32, float64) and the training/evaluation mode are
kept. Anything else raises a TypeError naming the module.
"""
from collections import OrderedDict

import numpy as np

from chaingrad import nn

# (our class, torch class name, our attributes -> torch keyword arguments)
_ACTIVATIONS = [
    (nn.Identity, "Identity", {}),
    (nn.ReLU, "ReLU", {}),
    (nn.LeakyReLU, "LeakyReLU", {"negative_slope": "negative_slope"}),
    (nn.ELU, "ELU", {"alpha": "alpha"}),
    (nn.Sigmoid, "Sigmoid", {}),
    (nn.Tanh, "Tanh", {}),
    (nn.Softplus, "Softplus", {}),
    (nn.Softmax, "Softmax", {"axis": "dim"}),
    (nn.LogSoftmax, "LogSoftmax", {"axis": "dim"}),
    (nn.Dropout, "Dropout", {"p": "p"}),
]


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("chaingrad.interop needs PyTorch: pip install torch") from None
    return torch


def _is_batch_counter(key):
    return key == "num_batches_tracked" or key.endswith(".num_batches_tracked")


# ---- state dicts ----------------------------------------------------------------------------------

def state_dict_to_torch(state, prefix=""):
    """Our state dict (arrays or Tensors) -> PyTorch's ``{name: torch.Tensor}``.

    Copies every array into a torch tensor (the layouts are the same), adds
    ``num_batches_tracked = 0`` after each ``running_var`` (BatchNorm1d),
    and removes ``prefix`` from every key (``"layers."`` for an ``nn.MLP``).
    """
    torch = _torch()
    out = OrderedDict()
    for key, value in state.items():
        if not key.startswith(prefix):
            raise KeyError(f"state_dict_to_torch: key {key!r} does not start with the prefix {prefix!r}")
        key = key[len(prefix):]
        array = np.asarray(getattr(value, "data", value))
        out[key] = torch.from_numpy(np.array(array, order="C"))     # a copy: the two never share memory
        if key == "running_var" or key.endswith(".running_var"):
            out[key[:-len("running_var")] + "num_batches_tracked"] = torch.tensor(0)
    return out


def state_dict_from_torch(state_dict, prefix=""):
    """PyTorch's state dict -> ours (``{name: ndarray}``), ready for ``load_state_dict``.

    Copies every tensor into an array (the layouts are the same), drops
    ``num_batches_tracked`` (BatchNorm1d), and puts ``prefix`` before every
    key (``"layers."`` to load a ``torch.nn.Sequential``'s state into an
    ``nn.MLP``).
    """
    out = OrderedDict()
    for key, value in state_dict.items():
        if _is_batch_counter(key):
            continue
        array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        out[prefix + key] = np.array(array, order="C")
    return out


# ---- modules ----------------------------------------------------------------------------------

def _numpy_dtype(torch_dtype):
    return _torch().empty(0, dtype=torch_dtype).numpy().dtype


def _torch_dtype(dtype):
    return _torch().from_numpy(np.zeros(0, dtype=dtype)).dtype


def _unsupported(module, direction):
    return TypeError(f"{direction}: {type(module).__name__} has no counterpart; supported are Linear, "
                     f"BatchNorm1d, Dropout, Sequential (and our MLP), and the activations "
                     f"{', '.join(name for _, name, _ in _ACTIVATIONS if name != 'Dropout')}")


def _torch_twin(module):
    """A torch module with the same structure as ``module`` (fresh weights)."""
    torch = _torch()
    if isinstance(module, nn.MLP):
        return _torch_twin(module.layers)
    if isinstance(module, nn.Sequential):
        return torch.nn.Sequential(OrderedDict((name, _torch_twin(m)) for name, m in module.named_children()))
    if isinstance(module, nn.Linear):
        return torch.nn.Linear(module.in_features, module.out_features, bias=module.bias is not None,
                               dtype=_torch_dtype(module.weight.dtype))
    if isinstance(module, nn.BatchNorm1d):
        return torch.nn.BatchNorm1d(module.num_features, eps=module.eps, momentum=module.momentum,
                                    affine=module.affine, dtype=_torch_dtype(module.running_mean.dtype))
    for ours, name, arguments in _ACTIVATIONS:
        if type(module) is ours:
            return getattr(torch.nn, name)(**{theirs: getattr(module, attr) for attr, theirs in arguments.items()})
    raise _unsupported(module, "to_torch")


def _our_twin(module):
    """A chaingrad module with the same structure as the torch ``module`` (fresh weights)."""
    torch = _torch()
    if isinstance(module, torch.nn.Sequential):
        return nn.Sequential(OrderedDict((name, _our_twin(m)) for name, m in module.named_children()))
    if isinstance(module, torch.nn.Linear):
        return nn.Linear(module.in_features, module.out_features, bias=module.bias is not None,
                         dtype=_numpy_dtype(module.weight.dtype))
    if isinstance(module, torch.nn.BatchNorm1d):
        if module.momentum is None or not module.track_running_stats:
            raise TypeError("from_torch: BatchNorm1d with momentum=None or track_running_stats=False has no "
                            "counterpart (chaingrad's running statistics move by a fixed momentum)")
        return nn.BatchNorm1d(module.num_features, eps=module.eps, momentum=module.momentum,
                              affine=module.affine, dtype=_numpy_dtype(module.running_mean.dtype))
    if isinstance(module, torch.nn.Softplus) and (module.beta != 1 or module.threshold != 20):
        raise TypeError(f"from_torch: Softplus(beta={module.beta}, threshold={module.threshold}) has no "
                        f"counterpart (chaingrad's is beta=1)")
    for ours, name, arguments in _ACTIVATIONS:
        if type(module) is getattr(torch.nn, name):
            kwargs = {attr: getattr(module, theirs) for attr, theirs in arguments.items()}
            if kwargs.get("axis", 0) is None:
                raise TypeError(f"from_torch: {name}(dim=None) is deprecated in PyTorch; give dim")
            return ours(**kwargs)
    raise _unsupported(module, "from_torch")


def to_torch(model):
    """A ``torch.nn.Module`` that computes what ``model`` computes, with a copy of its weights.

    ``nn.MLP`` becomes a ``torch.nn.Sequential`` of its layers. The dtype
    and the mode (``training``) are kept. Raises TypeError for a module
    without a PyTorch counterpart (ScaledTanh, Step, your own Modules).
    """
    twin = _torch_twin(model)
    prefix = "layers." if isinstance(model, nn.MLP) else ""
    twin.load_state_dict(state_dict_to_torch(model.state_dict(), prefix))
    return twin.train(model.training)


def from_torch(module):
    """A chaingrad module that computes what the torch ``module`` computes, with a copy of its weights.

    A ``torch.nn.Sequential`` becomes an ``nn.Sequential`` with the same
    child names. The dtype and the mode are kept. Raises TypeError for a
    module without a chaingrad counterpart.
    """
    twin = _our_twin(module)
    twin.load_state_dict(state_dict_from_torch(module.state_dict()))
    return twin.train(module.training)


__all__ = ["to_torch", "from_torch", "state_dict_to_torch", "state_dict_from_torch"]
