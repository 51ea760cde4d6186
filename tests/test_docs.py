"""The documentation site builds, documents every public name, and works offline in a browser.

One strict build (``mkdocs build --strict``: a broken link, a missing page or a
docstring mkdocstrings cannot read is an error) into a temporary folder, then
checks on what it wrote:

- every public name of ``chaingrad.autograd`` (the names it exports: it has no
  ``__all__``), ``ag.viz``, ``nn`` and ``optim`` (their ``__all__``) has its
  entry in the API reference;
- no page fetches anything from another host, and the benchmarks page names
  no local folder;
- headless Chromium (Debian's, as in tests/test_explore_browser.py) opens the
  home page and the page with the embedded explorers from ``file://`` and logs
  no error; in the fan-out explorer the "next" button steps through frames.

Skipped, with the reason, when the ``docs`` extra is missing; ``bash .ci/setup``
installs it (it is part of ``dev``).
"""
import importlib.util
import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS_EXTRA = ["mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_jupyter",
              "latex2mathml"]
_missing = [m for m in DOCS_EXTRA if importlib.util.find_spec(m.split(".")[0]) is None]
pytestmark = pytest.mark.skipif(bool(_missing), reason=f"the docs extra is missing ({', '.join(_missing)}): "
                                                       f"pip install -e '.[docs]' (bash .ci/setup installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once for this module, strictly, with no network needed."""
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")     # Material's notice about its successor
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--site-dir", str(out)], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    print(f"site built in {time.perf_counter() - start:.1f} s")
    return out


def anchors(page):
    return set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))


def exported(module):
    """A package's public names: its ``__all__``, or its public attributes that are not modules."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n in dir(module) if not n.startswith("_") and not isinstance(getattr(module, n), types.ModuleType)]


@pytest.mark.parametrize("package, page", [
    ("chaingrad.autograd", "autograd"), ("chaingrad.autograd.viz", "viz"),
    ("chaingrad.nn", "nn"), ("chaingrad.optim", "optim")])
def test_every_public_name_is_in_the_reference(site, package, page):
    module = __import__(package, fromlist=["_"])
    names = exported(module)
    assert len(names) >= 10, names
    ids = anchors(site / "reference" / f"{page}.html")
    missing = [n for n in names if f"{package}.{n}" not in ids]
    assert not missing, f"reference/{page}.html lacks {missing}: add them to docs/reference/{page}.md"


def test_the_reference_has_the_public_namespaces(site):
    ids = anchors(site / "reference" / "autograd.html")
    assert {"chaingrad.autograd.functional", "chaingrad.autograd.functional.hessian",
            "chaingrad.autograd.errors.ShapeError"} <= ids


REMOTE = re.compile(r'<(?:script|link|iframe|img|source|embed)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"', re.I)


def test_no_page_loads_anything_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 25
    fetched = {str(p.relative_to(site)): m for p in pages
               for m in REMOTE.findall(p.read_text(encoding="utf-8"))
               if not m.startswith("<link") or re.search(r'rel="(stylesheet|preload|modulepreload|icon)"', m)}
    assert not fetched, fetched
    assert not re.search(r"fonts\.googleapis|cdnjs|unpkg|jsdelivr", (site / "index.html").read_text())


def test_the_pages_the_site_promises_are_there(site):
    for name in ["index", "getting-started", "concepts", "spellings", "nn", "optim", "pictures", "notebooks",
                 "benchmarks", "security", "adding-an-op", "explorer/fan_out", "explorer/small_mlp",
                 "explorer/batch_norm"]:
        assert (site / f"{name}.html").is_file(), name
    notebooks = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
    assert notebooks and all((site / "notebooks" / f"{n}.html").is_file() for n in notebooks)
    chain_rule = (site / "notebooks" / "01_chain_rule.html").read_text(encoding="utf-8")
    assert "<math" in chain_rule and "data:image/png;base64" in chain_rule    # math drawn, outputs kept
    bench = (site / "benchmarks.html").read_text(encoding="utf-8")
    assert "Workload 1" in bench and not re.search(r"(/work|/home|/tmp|/root)/", bench)


@pytest.fixture(scope="module")
def browser():
    from test_explore_browser import CHROMIUM_ARGS, chromium_path
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, path):
    """A tab on ``path`` (from file://) that keeps every console error and uncaught exception."""
    tab = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(path.as_uri(), wait_until="load")
    return tab, errors


def test_the_home_page_opens_offline_without_errors(site, browser):
    tab, errors = open_page(browser, site / "index.html")
    assert "chaingrad" in tab.title()
    tab.click('a[href="pictures.html"]')                      # a plain .html link works from file://
    tab.wait_for_selector("iframe.explorer-frame")
    assert tab.url.endswith("/pictures.html")
    tab.close()
    assert errors == [], errors


def test_an_embedded_explorer_steps_through_backward(site, browser):
    tab, errors = open_page(browser, site / "pictures.html")
    frames = tab.locator("iframe.explorer-frame")
    assert frames.count() == 3
    frames.first.scroll_into_view_if_needed()                # the iframes load lazily
    explorer = tab.frame_locator("iframe.explorer-frame").first
    count = explorer.locator(".cg-count")
    count.wait_for()
    first = count.inner_text()
    assert first.startswith("frame 1 of ")
    total = int(first.rsplit(" ", 1)[1])
    for k in range(2, total + 1):                              # forward, then backward, one frame each
        explorer.locator('button[data-go="next"]').click()
        assert count.inner_text() == f"frame {k} of {total}"
    assert "a" in explorer.locator(".cg-caption").inner_text()
    tab.close()
    assert errors == [], errors
