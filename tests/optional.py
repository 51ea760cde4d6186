"""The tests' optional dependencies: a test that needs one skips when it is missing.

The engine's own tests need numpy, pytest and hypothesis alone.  PyTorch (the
reference oracle), the notebooks' runner and the browser driver come with the
``dev`` extra; scikit-learn and mlxtend with ``data``; matplotlib with ``plot``.
A test that needs one of them says so, in one of three ways:

- ``torch = need("torch")`` at the top of a module whose every test needs it
  (the whole module is skipped);
- ``@needs("sklearn")`` on one test of a module that otherwise runs without it;
- ``torch = optional("torch")`` where a module's tables name the package's
  functions at import time (tests/op_registry.py lists torch's): without the
  package this gives a stand-in, so the module still imports, and each test
  that calls torch carries ``@needs("torch")``.

Every such skip's reason starts with ``MISSING``.  In CI, where every extra is
installed, ``CHAINGRAD_REQUIRE_EXTRAS=1`` (set by .ci/run) makes tests/conftest.py
turn those skips into failures: a skip must not hide a missing install step.
"""
import importlib
from functools import cache

import pytest

MISSING = "missing optional dependency"

# The extra of pyproject.toml that brings each package (keyed by its top-level import name).
EXTRA = {"torch": "dev", "nbclient": "dev", "nbformat": "dev", "playwright": "dev",
         "sklearn": "data", "mlxtend": "data", "matplotlib": "plot"}


@cache
def _import(name):
    """The module, or the ImportError that importing it raised."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        return error


def reason(name):
    """The skip reason for a missing ``name``: what is missing and how to install it."""
    extra = EXTRA.get(name.partition(".")[0], "dev")
    return f"{MISSING}: {name} ({_import(name)}); install it with pip install -e '.[{extra}]'"


def have(name):
    """True when ``name`` imports."""
    return not isinstance(_import(name), ImportError)


def need(name):
    """Import ``name`` for a whole test module; skip the module when it is missing."""
    if not have(name):
        pytest.skip(reason(name), allow_module_level=True)
    return _import(name)


def needs(*names):
    """A skip marker for one test that needs the packages ``names``."""
    missing = [n for n in names if not have(n)]
    return pytest.mark.skipif(bool(missing), reason="; ".join(reason(n) for n in missing))


class Absent:
    """Stands in for a missing package while a module builds its tables at import time.

    Any attribute or call gives another stand-in, so ``getattr(torch, "exp")`` or
    ``torch.tensor([1, 2])`` in a table costs nothing; the tests that would use
    the result are skipped by ``@needs``.  Used as a value (a test without its
    marker), it fails and names the package.
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):          # copy, pickle and numpy probe dunder names: not there
            raise AttributeError(attr)
        return Absent(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        return Absent(f"{self._name}(...)")

    def __repr__(self):
        return f"<{self._name}: {MISSING}; mark the test @needs(...)>"

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(f"{self!r} used as a value")

    __bool__ = __iter__ = __len__ = __float__ = __index__ = __array__ = _refuse


def optional(name):
    """Import ``name`` if it is there, else a stand-in (see ``Absent``)."""
    return _import(name) if have(name) else Absent(name)
