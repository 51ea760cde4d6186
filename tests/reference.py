"""Comparing chaingrad's numbers with a reference: PyTorch, or numpy's own functions.

Why a tolerance, and never bit-for-bit: exp, log, tanh, sqrt and their derivatives
come from a math library (glibc's libm, numpy's SIMD loops, PyTorch's vectorised
kernels), and which code runs depends on the CPU (AVX2 or AVX-512, fused
multiply-add, the order of a vectorised sum).  Two engines, or one engine on two
CPUs, may then differ in the last bits: the suite, written on an AMD EPYC, missed
PyTorch's gradient of sqrt by one unit in the last place on an Intel Xeon.  A
relative tolerance of about 4,500 float64 units in the last place still tells
every convention apart (0 or 1/2 or 1 at a kink), and a tiny absolute one covers
results that should be zero.  Bit-exact checks remain only where chaingrad itself
promises them: the same computation done twice by the engine (plain and
recorded backward, tests/test_engine_core.py).
"""
import numpy as np

TOLERANCE = {np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14),
             np.dtype(np.float32): dict(rtol=1e-6, atol=1e-7)}


def assert_close(ours, theirs, err_msg="", **tolerance):
    """``ours`` equals ``theirs`` up to ``TOLERANCE`` for ``ours``' dtype (or ``rtol``/``atol`` given);
    NaN matches NaN, and the shapes must agree."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{err_msg}: shape {ours.shape}, reference {theirs.shape}"
    tol = tolerance or TOLERANCE.get(ours.dtype, TOLERANCE[np.dtype(np.float64)])
    np.testing.assert_allclose(ours, theirs, err_msg=err_msg, **tol)
