"""Every op, grouped by family.  Each op is declared once, in its family's module:
a numpy forward with its VJPs right below it, defined through the public
``ag.primitive`` mechanism, and its spellings (Tensor method, numpy function,
PyTorch's option names).  The list of public ops, ``__all__``, is read off
those declarations (``dialects.DECLARED``)."""
from .. import dialects
from . import arithmetic, elementwise, linalg, reductions, shape, sorting, torch_extra  # noqa: F401  (declare)
from .elementwise import astype
from .linalg import linear

globals().update(dialects.DECLARED)
__all__ = sorted(dialects.DECLARED) + ["astype", "linear"]
