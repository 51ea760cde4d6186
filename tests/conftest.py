import os

import pytest
from hypothesis import HealthCheck, settings

from optional import MISSING

settings.register_profile(
    "ci", max_examples=int(os.environ.get("CHAINGRAD_EXAMPLES", "30")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow], derandomize=True, print_blob=True)
settings.load_profile("ci")

# CI installs every extra and sets CHAINGRAD_REQUIRE_EXTRAS=1 (.ci/run): there a test skipped
# because a package is missing means a missing install step, so it fails instead.
REQUIRE_EXTRAS = os.environ.get("CHAINGRAD_REQUIRE_EXTRAS") == "1"


def _missing_dependency(report):
    """A skip for a missing package: ours (tests/optional.py) or a plain pytest.importorskip."""
    text = str(report.longrepr)
    return report.skipped and (MISSING in text or "could not import" in text)


def _fail_if_required(report):
    if REQUIRE_EXTRAS and _missing_dependency(report):
        report.outcome = "failed"
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr   # (file, line, reason)
        report.longrepr = (f"{why}\nCHAINGRAD_REQUIRE_EXTRAS=1: a missing dependency is a failure here; "
                           "install every extra (bash .ci/setup)")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    return _fail_if_required((yield))


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    return _fail_if_required((yield))


@pytest.fixture(autouse=True)
def _default_dtype_restored():
    """Every test starts with float64 as the default dtype, whatever the one before changed."""
    from chaingrad import autograd as ag
    before = ag.get_default_dtype()
    yield
    ag.set_default_dtype(before)
