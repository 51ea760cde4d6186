"""The suite's own rules: a missing optional package skips (and fails in CI); references compare
within the last bits a CPU may change, and no further."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reference import assert_close

TESTS = Path(__file__).resolve().parent
ABSENT = "chaingrad_no_such_package"
EXTRAS = ["torch", "sklearn", "mlxtend", "matplotlib", "nbformat", "nbclient", "playwright"]


def _pytest(args, cwd, require=None, block=()):
    """Run pytest in a fresh interpreter; ``block`` makes those packages fail to import there."""
    env = {k: v for k, v in os.environ.items() if k != "CHAINGRAD_REQUIRE_EXTRAS"}
    if require:
        env["CHAINGRAD_REQUIRE_EXTRAS"] = require
    args = ["-o", "addopts=", *args]                     # not the repository's -q -ra
    code = (f"import sys; sys.modules.update(dict.fromkeys({list(block)!r})); "   # None: ImportError
            f"import pytest; sys.exit(pytest.main({list(args)!r}))")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture
def suite_with_a_missing_package(tmp_path):
    """A small suite with our conftest.py and optional.py: each way a test can need ABSENT."""
    for name in ("conftest.py", "optional.py"):
        shutil.copy(TESTS / name, tmp_path / name)
    (tmp_path / "test_some.py").write_text(f"""
import pytest
from optional import needs, optional

absent = optional("{ABSENT}")
table = [absent.function, absent.tensor([1, 2])]      # a table built at import time


@needs("{ABSENT}")
def test_marked():
    absent.function()


def test_importorskip():
    pytest.importorskip("{ABSENT}")


def test_skip_for_another_reason():
    pytest.skip("not about a package")


def test_runs_without_it():
    assert len(table) == 2
""")
    (tmp_path / "test_whole_module.py").write_text(f"""
from optional import need

need("{ABSENT}")


def test_never_runs():
    raise AssertionError("the module should have been skipped")
""")
    return tmp_path


def test_a_missing_package_skips_the_tests_that_need_it(suite_with_a_missing_package):
    result = _pytest(["-q", "-rs", "-p", "no:cacheprovider"], suite_with_a_missing_package)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 4 skipped" in result.stdout, result.stdout
    assert "missing optional dependency: chaingrad_no_such_package" in result.stdout
    assert "install it with pip install -e '.[dev]'" in result.stdout


def test_in_ci_a_skip_for_a_missing_package_fails(suite_with_a_missing_package):
    run = _pytest(["-q", "-ra", "-p", "no:cacheprovider", "test_some.py"], suite_with_a_missing_package, require="1")
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "1 failed, 1 passed, 1 skipped, 1 error" in out, out          # the marker skips in setup: an error
    assert "FAILED test_some.py::test_importorskip" in out and "ERROR test_some.py::test_marked" in out
    assert "CHAINGRAD_REQUIRE_EXTRAS=1: a missing dependency is a failure here" in out
    whole = _pytest(["-q", "-p", "no:cacheprovider", "test_whole_module.py"], suite_with_a_missing_package,
                    require="1")
    assert whole.returncode == 2 and "ERROR collecting test_whole_module.py" in whole.stdout, whole.stdout
    assert "missing optional dependency: chaingrad_no_such_package" in whole.stdout


def test_an_absent_package_used_as_a_value_names_itself():
    sys.path.insert(0, str(TESTS))
    from optional import Absent
    with pytest.raises(RuntimeError, match="torch.tensor"):
        np.asarray(Absent("torch").tensor)
    with pytest.raises(RuntimeError, match=r"torch\.exp\(\.\.\.\)"):
        float(Absent("torch").exp(1.0))


def test_the_suite_collects_and_skips_without_any_extra():
    """Without torch, scikit-learn, mlxtend, matplotlib and the notebook and browser drivers, no
    test module fails to import and the tests of the data extra skip: numpy alone runs the engine's tests."""
    root = TESTS.parent
    collected = _pytest(["--collect-only", "-qq", "-p", "no:cacheprovider", "tests"], root, block=EXTRAS)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr
    counts = dict(line.rsplit(": ", 1) for line in collected.stdout.splitlines() if line.startswith("tests/"))
    assert int(counts["tests/test_ops.py"]) > 100 and int(counts["tests/test_engine_core.py"]) > 20, counts
    assert "tests/test_torch_reference.py" not in counts                    # skipped as a whole
    ran = _pytest(["-q", "-rs", "-p", "no:cacheprovider", "tests/test_nn_data.py", "tests/test_nn_training.py",
                   "tests/test_api_contract.py", "-k", "load_digits or load_mnist or on_digits or packaged"],
                  root, block=EXTRAS)
    assert ran.returncode == 0 and "5 skipped" in ran.stdout, ran.stdout[-3000:] + ran.stderr
    assert "missing optional dependency: sklearn" in ran.stdout


def test_assert_close_allows_the_last_bits_a_cpu_changes():
    x = np.array([0.5, 1.0, np.sqrt(2.0), -3.7e5, 0.0, np.nan])
    one_ulp = np.nextafter(x, np.inf)                   # what another libm or vector width may give
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(x, one_ulp)        # the old bit-exact check
    assert_close(x, one_ulp)
    assert_close(x.astype(np.float32), np.nextafter(x.astype(np.float32), np.float32(np.inf)))


@pytest.mark.parametrize("ours, theirs", [
    ([0.5, 1.0], [1.0, 1.0]),                  # another convention at a kink
    ([1.0], [1.0 + 1e-9]),                     # a real error, far beyond the last bits
    ([1e-10], [0.0]),                          # a small value where zero is expected
    ([1.0, 2.0], [[1.0, 2.0]]),                # another shape
    ([np.nan], [0.0]),
])
def test_assert_close_refuses_anything_more(ours, theirs):
    with pytest.raises(AssertionError):
        assert_close(np.array(ours), np.array(theirs))


def test_assert_close_in_float32_refuses_a_real_error():
    with pytest.raises(AssertionError):
        assert_close(np.float32([1.0]), np.float32([1.0 + 1e-5]))


def test_ci_runs_the_readmes_test_command_and_requires_every_extra():
    root = TESTS.parent
    readme = (root / "README.md").read_text()
    script = (root / ".ci" / "run").read_text().splitlines()
    command = script[-1]
    readme_commands = {line.split("#")[0].strip() for line in readme.splitlines()}
    assert command in readme_commands, f".ci/run runs {command!r}, which the README does not show"
    assert "export CHAINGRAD_REQUIRE_EXTRAS=1" in script[:-1]
