"""The package as a user installs it: the built wheel, in a fresh virtualenv, next to HIPS autograd.

The wheel must install ONE top-level package, ``chaingrad``. Before, it also
installed ``autograd``, ``nn`` and ``optim``: its ``autograd`` overwrote the
package index's ``autograd`` (HIPS autograd, a dependency of other
libraries), and a user's own ``nn.py`` shadowed ours. These tests build the
wheel from a copy of the sources, install it into a clean virtualenv (no
system site-packages) together with ``autograd==1.9.1``, and run both
libraries from a folder that holds a stray ``nn.py``; then they uninstall
each one in turn and check that the other still works.

Everything runs in subprocesses; pip needs its package index (CI has it).
"""
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HIPS = "autograd==1.9.1"

# Run from a folder holding a user's own nn.py: it must never be imported by us.
STRAY_NN = 'raise RuntimeError("the user\'s own nn.py was imported instead of chaingrad.nn")\n'

# HIPS autograd's own imports, as its users write them (kept as a list of strings, so that
# tests/test_namespace.py, which forbids bare `import autograd` in our code, does not see them).
USE_HIPS = "\n".join([
    "import numpy as np",
    "import autograd.numpy as anp",
    "from autograd import grad",
    "assert abs(grad(anp.tanh)(0.5) - (1 - np.tanh(0.5) ** 2)) < 1e-12",
    "import autograd",
    "assert autograd.__file__.endswith('site-packages/autograd/__init__.py'), autograd.__file__",
    "print('hips ok')",
])

USE_CHAINGRAD = """
import numpy as np
import chaingrad
from chaingrad import autograd as ag, nn, optim
assert "site-packages/chaingrad/" in chaingrad.__file__, chaingrad.__file__
x = ag.tensor([1.0, 2.0], requires_grad=True)
(x * x).sum().backward()
assert np.allclose(x.grad.numpy(), [2.0, 4.0])
model = nn.MLP([2, 3, 2])
opt = optim.SGD(model.parameters(), lr=0.1)
nn.CrossEntropyLoss()(model(ag.randn(4, 2)), [0, 1, 1, 0]).backward()
opt.step()
print("chaingrad", chaingrad.__version__, "ok")
"""


def _copy_sources(dest):
    """The repository without its virtualenv, git data, caches and outputs (what an sdist would hold)."""
    ignore = shutil.ignore_patterns(".venv", ".git", "runs", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", "notebooks", "benchmarks", "tests")
    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def _run(cmd, cwd, check=True):
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300,
                            env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, cmd))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """(path of the built wheel, pip's output while building it)."""
    root = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(root / "src")
    result = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", root / "dist", src], cwd=root)
    wheels = list((root / "dist").glob("chaingrad-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], result.stdout + result.stderr


@pytest.fixture(scope="module")
def env(wheel, tmp_path_factory):
    """A clean virtualenv with the wheel and HIPS autograd; ``env.python(code)`` runs code in a folder
    that holds a stray nn.py."""
    root = tmp_path_factory.mktemp("venv")
    venv.create(root / "venv", with_pip=True)        # no system site-packages: only what we install
    work = root / "work"
    work.mkdir()
    (work / "nn.py").write_text(STRAY_NN)

    class Env:
        bin = root / "venv" / "bin"

        def pip(self, *args):
            return _run([self.bin / "python", "-m", "pip", *args], cwd=work)

        def python(self, code, check=True):
            (work / "script.py").write_text(code)      # a script's folder comes first on sys.path
            return _run([self.bin / "python", "script.py"], cwd=work, check=check)

        def site_packages(self):
            return Path(self.python("import sysconfig; print(sysconfig.get_paths()['purelib'])")
                        .stdout.strip())

    e = Env()
    e.pip("install", "-q", wheel[0], HIPS)
    return e


# --- the wheel ------------------------------------------------------------------------------------

def test_wheel_holds_only_the_chaingrad_package_and_the_license(wheel):
    import chaingrad
    with zipfile.ZipFile(wheel[0]) as z:
        names = z.namelist()
        dist_info = f"chaingrad-{chaingrad.__version__}.dist-info"
        assert {n.split("/")[0] for n in names} == {"chaingrad", dist_info}
        assert {"chaingrad/autograd/__init__.py", "chaingrad/nn/__init__.py", "chaingrad/optim/__init__.py",
                "chaingrad/cli.py"} <= set(names)
        assert z.read(f"{dist_info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
        metadata = z.read(f"{dist_info}/METADATA").decode()
    assert "Copyright (c) 2026 the chaingrad authors" in (REPO / "LICENSE").read_text()
    assert re.search(r"^License-Expression: MIT$", metadata, flags=re.M)
    assert re.search(r"^License-File: LICENSE$", metadata, flags=re.M)
    assert re.search(rf"^Version: {re.escape(chaingrad.__version__)}$", metadata, flags=re.M)
    for extra in ("data", "plot", "dev"):
        assert re.search(rf"^Provides-Extra: {extra}$", metadata, flags=re.M)


def test_wheel_builds_without_warnings(wheel):
    """setuptools warns (BuildBackendWarning ... deprecated) about old-style metadata such as a license table.

    pip's own "WARNING: Location ... is ignored" lines are about this machine's pip configuration.
    """
    output = "\n".join(line for line in wheel[1].splitlines() if not line.startswith("WARNING: Location"))
    assert not re.search(r"Warning|deprecat", output), output


def test_extras_of_the_main_job_bring_no_torch_and_no_jupyter():
    """`bash .ci/setup --main` installs the data and plot extras; the tests' extras include them."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]

    def names(requirements):
        return {re.match(r"[A-Za-z0-9_.\-]+", r).group().lower() for r in requirements}
    main = names(project["dependencies"]) | names(extras["data"]) | names(extras["plot"])
    assert {"numpy", "graphviz", "tqdm", "safetensors", "scikit-learn", "mlxtend", "matplotlib"} <= main
    assert not main & {"torch", "jupyter", "ipykernel", "nbclient", "nbformat", "notebook", "pytest"}
    assert "chaingrad[data,plot]" in extras["dev"] and {"torch", "pytest"} <= names(extras["dev"])
    setup = (REPO / ".ci" / "setup").read_text()
    assert "--main) extras=data,plot" in setup
    assert "bash .ci/setup && .venv/bin/python -m pytest" in (REPO / ".ci" / "run").read_text()


def test_setup_refuses_an_unknown_mode_before_doing_anything():
    result = subprocess.run(["bash", str(REPO / ".ci" / "setup"), "--bogus"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and result.stderr.strip() == "usage: bash .ci/setup [--main]"


def test_installed_version_is_the_package_version():
    """The editable install of this checkout reports the version that chaingrad.__version__ holds."""
    from importlib.metadata import version

    import chaingrad
    assert version("chaingrad") == chaingrad.__version__


# --- installed next to HIPS autograd, run beside a stray nn.py -----------------------------------

def test_both_libraries_import_and_work_side_by_side(env):
    assert env.python(USE_HIPS).stdout.strip() == "hips ok"
    assert env.python(USE_CHAINGRAD).stdout.startswith("chaingrad")
    assert "nn.py" in os.listdir(env.python("import os; print(os.getcwd())").stdout.strip())
    # the command line as well (HIPS autograd used to replace our engine: "no attribute 'composite'")
    result = _run([env.bin / "chaingrad", "train", "--dataset", "xor", "--epochs", "1", "--hidden", "4",
                   "--out", "run"], cwd=env.bin.parent.parent / "work")
    assert "done:  test accuracy" in result.stdout, result.stderr


def test_pip_check_is_clean(env):
    result = env.pip("check")
    assert "No broken requirements" in result.stdout


def test_uninstalling_either_leaves_the_other_intact(env, wheel):
    """Runs last in this file: it changes what the shared virtualenv holds."""
    site = env.site_packages()
    env.pip("uninstall", "-y", "-q", "chaingrad")
    assert not (site / "chaingrad").exists()
    assert (site / "autograd" / "__init__.py").exists()
    assert env.python(USE_HIPS).stdout.strip() == "hips ok"

    env.pip("install", "-q", "--no-deps", wheel[0])
    env.pip("uninstall", "-y", "-q", "autograd")
    assert not (site / "autograd").exists()
    assert env.python(USE_CHAINGRAD).stdout.startswith("chaingrad")
    gone = env.python("import autograd", check=False)
    assert gone.returncode != 0 and "No module named 'autograd'" in gone.stderr
