"""What the pictures know of a model, and the one method they ask it through.

A model passed as ``model=`` (to ``draw``, ``print_graph``, ``explore``,
``backward_steps``, ``grad_report``) answers one call::

    model.modules_for_pictures()  ->  [(path, module, [(name, parameter), ...]), ...]

one entry for the model itself (path ``""``) and one per module inside it
(dotted paths: ``layers.0``), each with the parameters the module owns itself
(``weight``, ``bias``); a module or parameter reached twice is listed once.
``nn.Module`` provides it; anything else that does can be drawn too.  The
pictures call no other method of a model, so they need nothing from ``nn``:
the ops a module records run inside ``ag.scope(name, kind="module", obj=module)``,
and the module object ``obj`` is what ties an op to its path here.
"""
from .walk import key_of

PROTOCOL = "modules_for_pictures"


class ModelView:
    """A model as the pictures see it, asked once: ``parts`` (the protocol's entries),
    ``paths`` (``id(module) -> path``; ``id`` is only a lookup key while the model keeps
    its modules alive, it never reaches a picture) and ``param_names`` (``key -> dotted
    name``).  ``ModelView(None)`` is an empty view (no model given)."""

    def __init__(self, model, who="draw"):
        self.parts = [] if model is None else _ask(model, who)
        self.paths = {id(m): path for path, m, _ in self.parts}
        self.param_names = {}
        for path, _, params in self.parts:
            for name, p in params:
                self.param_names.setdefault(key_of(p), f"{path}.{name}" if path else name)


def _ask(model, who):
    ask = getattr(model, PROTOCOL, None)
    if not callable(ask):
        raise TypeError(f"{who}: model= takes a module that offers {PROTOCOL}() (every nn.Module does), "
                        f"not a {type(model).__name__}; or leave model out and the picture uses the "
                        f"module class names")
    return [(path, module, list(params)) for path, module, params in ask()]


def parameter_count(module):
    """How many numbers a module trains (its parameters and its sub-modules'), asked
    through the protocol; None when ``module`` does not offer it."""
    ask = getattr(module, PROTOCOL, None)
    if not callable(ask):
        return None
    return sum(int(p.size) for _, _, params in ask() for _, p in params)
