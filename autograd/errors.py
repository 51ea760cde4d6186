"""Where did the user call us from?  Used to make error messages point at the user's line."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)
# Frames inside these packages are ours; the first frame outside them is the user's.
_OURS = tuple(os.path.join(_root, pkg) + os.sep for pkg in ("autograd", "nn", "optim"))
_SKIP = ("<frozen ", os.sep + "numpy" + os.sep, os.sep + "contextlib.py")


def is_user_file(fname):
    """True for a source file that is neither chaingrad's nor numpy's (nor Python's plumbing)."""
    return not fname.startswith(_OURS) and not any(s in fname for s in _SKIP)


def user_frame():
    """Return ``"file:line"`` of the innermost frame that is not chaingrad's or numpy's."""
    frame = sys._getframe(1)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def shape_str(shape):
    """A shape as Python writes the tuple: ``(2, 3)``, ``(4,)``, ``()`` (messages and pictures)."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


# Exception classes where numpy's habit and PyTorch's differ: each inherits both,
# so ``pytest.raises(TypeError)`` and ``pytest.raises(RuntimeError)`` both catch it.
class GradDtypeError(TypeError, RuntimeError):
    """``requires_grad`` on integer or bool data (a TypeError; PyTorch raises RuntimeError)."""


class ShapeError(ValueError, RuntimeError):
    """An op got shapes it cannot combine (numpy says ValueError, PyTorch RuntimeError)."""


class AnomalyError(FloatingPointError, RuntimeError):
    """``detect_anomaly`` found a NaN or Inf (PyTorch's anomaly mode raises RuntimeError)."""
