"""The Optimizer base class: parameter groups, per-parameter state, checkpoints.

An optimizer holds references to the parameter Tensors and, after each
``loss.backward()``, moves them against their gradients::

    opt = optim.SGD([w, b], lr=0.1)
    for x, y in batches:
        opt.zero_grad()                # gradients accumulate: clear them first
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()                # fills w.grad and b.grad
        opt.step()                     # w <- w - lr * w.grad, outside the graph

Why "outside the graph": the update ``w - lr * g`` is not something we want
to differentiate later.  If it were recorded, every step would hang the new
``w`` on a node whose inputs are the old ``w`` and its gradient, and the
graph (with all its saved arrays) would grow for as long as training runs.
So ``step`` runs under ``ag.no_grad()`` and writes into the parameters'
arrays in place: ``w`` stays the same leaf Tensor, only its numbers change.

Parameter groups
----------------
``params`` is either a list of Tensors or a list of dicts, each with a
``"params"`` list and any hyperparameters that differ for that group::

    optim.SGD([{"params": body, "lr": 1e-3},
               {"params": head}], lr=1e-2, momentum=0.9)

Missing hyperparameters come from the constructor's defaults.  Schedulers
and user code change ``opt.param_groups[i]["lr"]`` between steps.

State
-----
``opt.state[p]`` is a dict per parameter (momentum buffer, running averages,
step count), created lazily at the parameter's first update.  All arrays are
numpy arrays with the parameter's dtype.  ``state_dict()`` saves the state
by parameter *index* (its position counting through all groups), so it can
be loaded into a fresh optimizer built over new Tensors of the same shapes.
"""
import copy

import numpy as np

from chaingrad import autograd as ag


class Optimizer:
    """Base class.  Subclasses give ``defaults`` and implement ``_update``.

    ``_update(p, g, state, group)`` receives the parameter Tensor ``p``, its
    gradient as an ndarray ``g`` (never modify it in place: it is
    ``p.grad``'s array), its state dict and its group; it changes ``p.data``
    in place.  Parameters whose ``.grad`` is None are skipped.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, ag.Tensor):
            raise TypeError("params must be an iterable of Tensors or of dicts, not a single Tensor; "
                            "wrap it in a list: [p]")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Append a group (dict with ``"params"``); unset hyperparameters take the defaults.

        Other keys are kept as they are (a ``"name"``, say), as in PyTorch.
        """
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a parameter group must be a dict with a 'params' entry")
        group = dict(group)
        ps = group["params"]
        group["params"] = [ps] if isinstance(ps, ag.Tensor) else list(ps)
        for p in group["params"]:
            if not isinstance(p, ag.Tensor):
                raise TypeError(f"optimizers take autograd Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (it is the result of an op); "
                                 "optimize the leaves it was computed from")
            if not p.requires_grad:
                raise ValueError("can't optimize a Tensor that does not require grad")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in group["params"]}) != len(group["params"]) or \
                any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear more than once (in this group or in an earlier one)")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient (to None, as PyTorch does by default)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = ag.zeros_like(p.grad.detach())

    def step(self, closure=None):
        """Update every parameter that has a gradient.

        ``closure`` (optional) recomputes the loss and its gradients; it is
        called first and its result returned, as in PyTorch.
        """
        loss = None
        if closure is not None:
            with ag.enable_grad():
                loss = closure()
        with ag.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.setdefault(p, {})
                    self._update(p, p.grad.data, state, group)
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    # ---- checkpoints -----------------------------------------------------
    def state_dict(self):
        """A copy of the optimizer's state, holding only numbers and numpy arrays.

        ``{"state": {index: {name: value}}, "param_groups": [{hyper..., "params": [indices]}]}``
        where ``index`` counts parameters through all groups in order.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                saved["params"].append(index[id(p)])
            groups.append(saved)
        state = {index[id(p)]: {k: _copy_value(v) for k, v in s.items()}
                 for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by :meth:`state_dict` (copies, cast to each param's dtype)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the saved state has {len(groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        params = []
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"load_state_dict: group {i} has {len(saved['params'])} parameters in the "
                                 f"saved state but {len(group['params'])} here")
            params.extend(zip(saved["params"], group["params"]))
        by_index = dict(params)
        new_state = {}
        for idx, s in state_dict["state"].items():
            p = by_index[int(idx)]
            loaded = {}
            for k, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.shape != p.shape:
                        raise ValueError(f"load_state_dict: state '{k}' of parameter {idx} has shape "
                                         f"{v.shape}, the parameter has shape {p.shape}")
                    v = np.array(v, dtype=p.dtype)
                loaded[k] = _copy_value(v)
            new_state[p] = loaded
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = copy.deepcopy(v)
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {hyper}")
        return "\n".join(lines) + "\n)"


def _copy_value(v):
    return v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v)
