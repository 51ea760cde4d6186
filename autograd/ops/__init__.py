"""Every primitive op, grouped by family.  Each op is a numpy forward with its
VJPs right below it, defined through the public ``ag.primitive`` mechanism."""
from .elementwise import (neg, exp, log, log1p, sqrt, abs, sin, cos, tanh, sigmoid, relu,
                          clip, astype)
from .arithmetic import (add, sub, mul, div, pow, maximum, minimum, where,
                         lt, le, gt, ge, eq, ne)
from .reductions import (sum, mean, max, min, var, std, logsumexp, softmax, log_softmax,
                         argmax, argmin)
from .shape import (reshape, flatten, transpose, broadcast_to, squeeze, unsqueeze, getitem, cat, stack,
                    split, pad, flip, _index_arrays)
from .linalg import matmul, linear

__all__ = [
    "neg", "exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
    "clip", "astype", "add", "sub", "mul", "div", "pow", "maximum", "minimum", "where",
    "lt", "le", "gt", "ge", "eq", "ne", "sum", "mean", "max", "min", "var", "std",
    "logsumexp", "softmax", "log_softmax", "argmax", "argmin", "reshape", "flatten", "transpose",
    "broadcast_to", "squeeze", "unsqueeze", "getitem", "cat", "stack", "split", "pad",
    "flip", "matmul", "linear",
]
