"""Primitives PyTorch has and numpy does not spell as one function.

``clone`` is the identity with a copy: the result owns its memory (so an
in-place change of either tensor leaves the other alone) and stays in the
graph, passing the gradient through unchanged.
"""
from ..backend import xp
from ..primitive import primitive


@primitive(method="clone", numpy=[xp.copy])
def clone(x):
    """A copy with its own memory that stays in the graph (the gradient passes unchanged)."""
    return xp.array(x, copy=True)
clone.defvjp(lambda g, ans, x: g, formulas=[("1", "g")])      # d clone(x) / dx = identity
