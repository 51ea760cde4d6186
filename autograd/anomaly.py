"""``ag.detect_anomaly()``: stop at the first NaN or Inf, and say which op made it, and where.

Inside the block every primitive checks its output, every VJP its gradient,
and every node records the stack that created it, so a backward error can
point at the user's forward line.  It is slow; use it to debug.
"""
import functools

from .backend import xp
from .errors import AnomalyError, user_frame
from .graph import _state


class detect_anomaly:
    """Context manager (and decorator): raise FloatingPointError at the first NaN/Inf."""

    def __enter__(self):
        self._saved = _state.anomaly, _state.tracing
        _state.anomaly = _state.tracing = True
        return self

    def __exit__(self, *exc):
        _state.anomaly, _state.tracing = self._saved
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)
        return wrapper


def check_finite(op, arr, what):
    """Under ``detect_anomaly``: raise at the first NaN/Inf, naming the op and the user's line."""
    arr = xp.asarray(arr)
    if arr.dtype.kind in "fc" and not xp.isfinite(arr).all():
        bad = "nan" if xp.isnan(arr).any() else "inf"
        raise AnomalyError(
            f"detect_anomaly: op '{op.name}' produced {bad} in its {what} at {user_frame()}")
