"""Numerical derivatives by central differences: the reference both gradient checkers use.

``ag.gradcheck`` (and ``gradgradcheck``) and ``ag.check_vjp`` compare a
gradient with numbers computed here, and only here.  For a scalar function
``phi`` of a float64 array ``x`` and a direction ``d`` of x's shape, the
derivative of phi along d is estimated by the central difference quotient

    (phi(x + h d) - phi(x - h d)) / 2h

with ``d = e_j`` (element j alone) for the partial derivative d phi / d x_j,
or with a random ``d`` to test every element at once with one number (a
direction: pass ``t -> phi(x + t d)`` and a 0-d ``x = 0``).

Its error, with phi computed in float64 (machine epsilon 2.2e-16):

- truncation, O(h^2): in the Taylor series of phi(x + h d) - phi(x - h d)
  the even terms cancel, which leaves ``h^2 / 6 |phi'''|`` (the one-sided
  quotient ``(phi(x + h d) - phi(x)) / h`` is off by ``h / 2 |phi''|``, O(h));
- rounding: phi(x + h d) and phi(x - h d) each carry a relative error of
  about epsilon, and dividing their difference by 2h amplifies it to about
  ``epsilon |phi| / h``.

The sum is smallest near h = epsilon^(1/3), about 6e-6, and is nearly flat
around it.  The step ``STEP = 1e-6`` sits on that flat bottom: its error is
about 2e-10 |phi| + 2e-13 |phi'''|, five orders of magnitude below the
tolerances the checkers allow (1e-5 relative in check_vjp; atol 1e-5 and rtol
1e-3 in gradcheck).  It is also PyTorch's gradcheck step, so ``eps=`` means
the same thing there and here, and a smaller step straddles a kink only when
the kink lies within 1e-6 of x.  The step needs float64: in float32
(epsilon 1.2e-7) the rounding term alone is about 0.1 |phi| at h = 1e-6, so
the checkers evaluate phi in float64 even when they check a float32 gradient.

At a kink (relu at 0, a tie in a max) there is no derivative, and the central
quotient is the average of the two slopes.  The one-sided quotients reuse
phi(x +- h e_j) and cost one more evaluation, phi(x); every right answer (the
derivative where phi is smooth, any subgradient at a kink of one variable)
lies between them, so check_vjp accepts any value in that bracket.
"""
from .backend import xp

STEP = 1e-6     # the step h, for float64 evaluations of phi: see above


def difference_quotients(phi, x, h=STEP, one_sided=True):
    """Difference quotients of the scalar function ``phi`` at array ``x``, element by element.

    For every element j (in C order)::

        central[j] = (phi(x + h e_j) - phi(x - h e_j)) / 2h
        right[j]   = (phi(x + h e_j) - phi(x)) / h
        left[j]    = (phi(x) - phi(x - h e_j)) / h

    Returns ``(central, left, right)``, float64 arrays of x's shape; with
    ``one_sided=False``, ``(central, None, None)`` and phi(x) is not evaluated.
    Costs two evaluations of phi per element (plus one for the one-sided
    quotients).  ``phi`` gets a float64 copy of x with one element moved.
    """
    x = xp.asarray(x, dtype=xp.float64)
    central = xp.zeros(x.shape)
    left, right = (xp.zeros(x.shape), xp.zeros(x.shape)) if one_sided else (None, None)
    base = phi(x) if one_sided else None
    for j in xp.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        f_up, f_down = phi(up), phi(down)
        central[j] = (f_up - f_down) / (2 * h)
        if one_sided:
            right[j], left[j] = (f_up - base) / h, (base - f_down) / h
    return central, left, right


def central_differences(phi, x, h=STEP):
    """The gradient of the scalar function ``phi`` at array ``x`` by central differences,
    an array of x's shape (see :func:`difference_quotients`)."""
    return difference_quotients(phi, x, h, one_sided=False)[0]
