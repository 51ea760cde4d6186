"""chaingrad: a small reverse-mode automatic differentiation engine on numpy.

One import namespace holds the library and its command line::

    from chaingrad import autograd as ag, nn, optim

``chaingrad.autograd`` is the engine, ``chaingrad.nn`` networks built only from
engine ops, ``chaingrad.optim`` the optimizers; ``chaingrad.interop`` trades
models with PyTorch (the only module that imports it). The other modules
directly in this package (``cli``, ``train``, ...) are the ``chaingrad``
command on top of them.
The subpackages are imported on first use, so ``import chaingrad`` stays cheap.
"""
import importlib

# The one place the version is written: pyproject.toml reads it from here
# (setuptools' `attr:`), and `chaingrad --version` and run.json report it.
__version__ = "0.2.0"

__all__ = ["autograd", "nn", "optim"]


def __getattr__(name):
    # `from chaingrad import nn` finds the subpackage by itself; this makes
    # `chaingrad.nn` work after a bare `import chaingrad` too.
    if name in __all__:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'chaingrad' has no attribute {name!r}")
