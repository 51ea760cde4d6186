"""One import namespace: nothing in the repository imports a bare ``autograd``, ``nn`` or ``optim``.

The package index's ``autograd`` is HIPS autograd, and a user's own ``nn.py``
would shadow a bare ``nn``; ours install as ``chaingrad.autograd``,
``chaingrad.nn`` and ``chaingrad.optim`` (pyproject.toml maps the folders).
"""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE = re.compile(r"^\s*(import\s+(autograd|nn|optim)\b|from\s+(autograd|nn|optim)(\.|\s))", re.M)
# HIPS autograd's own worker runs in its own venv and means the other project's autograd.
ALLOWED = {Path("benchmarks/hips_worker.py")}


def sources():
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if rel in ALLOWED or rel.parts[0] in {".venv", ".git", "build", "dist", "runs"} \
                or rel.parts[:2] == ("benchmarks", ".peers"):      # the peers' own venvs (run.sh)
            continue
        if path.suffix == ".py":
            yield rel, path.read_text()
        elif path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            yield rel, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        elif path.suffix == ".md":
            blocks = re.findall(r"```python\n(.*?)```", path.read_text(), re.S)
            yield rel, "\n".join(blocks)


def test_the_pattern_catches_bare_imports():
    for bad in ("import autograd as ag", "import nn", "from optim import SGD", "  from nn.data import x"):
        assert BARE.search(bad), bad
    for good in ("from chaingrad import autograd as ag, nn, optim", "import torch.nn as tnn",
                 "from chaingrad.nn import data", "import numpy"):
        assert not BARE.search(good), good


def test_nothing_imports_a_bare_package():
    seen, offenders = 0, []
    for rel, text in sources():
        seen += 1
        offenders += [f"{rel}: {m.group(0).strip()}" for m in BARE.finditer(text)]
    assert seen > 50, f"only {seen} source files found under {ROOT}"
    assert not offenders, "bare imports (use `from chaingrad import ...`):\n" + "\n".join(offenders)


def test_the_subpackages_live_in_chaingrad():
    import chaingrad
    from chaingrad import autograd as ag, nn, optim
    assert ag.__name__ == "chaingrad.autograd" and nn.__name__ == "chaingrad.nn"
    assert optim.__name__ == "chaingrad.optim" and chaingrad.nn is nn
