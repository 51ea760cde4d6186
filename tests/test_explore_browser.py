"""The explorer and playground pages in a real browser: headless Chromium (Debian's
``chromium``, which .ci/setup installs) driven by the playwright package.

A saved page is opened from disk (no server, no network) and used as a person
would: every frame is reached by pressing the right arrow, a click on a node
opens its panel, a click on a module's name collapses the module, and the page
must log no JavaScript error.  ``python tests/test_explore_browser.py OUT.png``
writes the screenshot shown in the README.
"""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from optional import need  # noqa: E402

sync_playwright = need("playwright.sync_api").sync_playwright   # a dev dependency

from chaingrad import autograd as ag  # noqa: E402
from chaingrad.autograd import viz  # noqa: E402
from test_explore import fan_out, small_net  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def chromium_path():
    """Debian's chromium (CHROMIUM=/path overrides); a missing browser is an error, not a skip."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("the browser test needs Debian's chromium: run `bash .ci/setup` "
                           "(or apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Opened:
    """A page opened in the browser, with every console error and uncaught exception kept."""

    def __init__(self, browser, page, tmp_path, name):
        path = page.save(tmp_path / name)
        self.data = page.data
        self.tab = browser.new_page(viewport={"width": 1300, "height": 900})
        self.errors = []
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        self.tab.goto(Path(path).as_uri())
        self.tab.wait_for_selector(".cg-count")

    def node(self, vertex):
        return self.tab.locator("g.node", has=self.tab.locator(f"xpath=./*[local-name()='title' and text()='{vertex}']"))

    def text(self, selector):
        return self.tab.inner_text(selector)

    def close(self):
        self.tab.close()
        assert self.errors == [], self.errors             # the page logged no JavaScript error


def vertex_named(data, name):
    return next(v for v, info in data["vertices"].items() if data["panels"][info["panel"]]["name"] == name)


def test_arrow_keys_step_through_every_frame(browser, tmp_path):
    a, c = fan_out()
    page = Opened(browser, viz.explore(c), tmp_path, "fan_out.html")
    frames = page.data["explore"]["frames"]
    n = len(frames)
    for k, frame in enumerate(frames):
        assert page.text(".cg-caption") == frame["text"]
        assert page.text(".cg-count") == f"frame {k + 1} of {n}"
        for v in frame["active"]:
            assert "cg-active" in page.node(v).get_attribute("class"), (k, v)
        if frame["phase"] == "forward":           # boxes made later are faded
            later = [v for v, i in page.data["explore"]["vertices"].items() if i["born"] > k]
            assert all("cg-future" in page.node(v).get_attribute("class") for v in later)
        page.tab.keyboard.press("ArrowRight")
    page.tab.keyboard.press("ArrowRight")         # past the end: stays on the last frame
    assert page.text(".cg-count") == f"frame {n} of {n}"
    # The fan-out reads at a glance: a's box says 4 = 2 + 2; the edges carried the parts.
    badges = page.tab.locator("text.cg-badge").all_text_contents()
    assert "grad 4 = 2 + 2" in badges and "grad 2 = 1 + 1" in badges
    page.tab.keyboard.press("ArrowLeft")          # back to the frame where a's parts arrive
    notes = page.tab.locator("text.cg-note").all_text_contents()
    assert notes == ["+2  (part 1 of 2, sum 2)", "+2  (part 2 of 2, sum 4)"]
    assert page.tab.locator("g.edge.cg-flow").count() == 3
    assert "a.grad so far 4 (2 of 2 parts, complete)" in page.text(".cg-lines")
    page.tab.keyboard.press("Home")
    assert page.text(".cg-count") == f"frame 1 of {n}"
    page.tab.fill(".cg-slider", "3")             # the slider reaches any frame
    assert page.text(".cg-caption") == frames[3]["text"]
    page.close()


def test_clicking_a_node_opens_its_panel(browser, tmp_path):
    net, loss = small_net()
    page = Opened(browser, viz.explore(loss, model=net), tmp_path, "net.html")
    data = page.data["explore"]
    page.node(vertex_named(data, "0.weight")).click()
    assert page.text(".cg-panel h2") == "0.weight"
    assert "shape (2, 3) float64" in page.text(".cg-panel .cg-shape")
    assert "0: Linear" in page.text(".cg-panel .cg-module")
    cells = page.tab.locator(".cg-panel .cg-value td").all_text_contents()
    assert [float(x) for x in cells] == pytest.approx(net[0].weight.data.ravel(), rel=1e-3)
    loss.backward(retain_graph=True)
    grads = page.tab.locator(".cg-panel .cg-grad td").all_text_contents()
    assert [float(x) for x in grads] == pytest.approx(net[0].weight.grad.data.ravel(), rel=1e-3, abs=1e-9)
    # An op: the local derivative and the VJP with numbers.
    tanh_out = next(v for v, i in data["vertices"].items()
                    if (data["panels"][i["panel"]]["op"] or {}).get("name") == "tanh" and v.startswith("op"))
    page.node(tanh_out).click()
    assert "∂y/∂x = 1 - y²" in page.text(".cg-panel .cg-formula")
    assert page.text(".cg-panel .cg-vjp").startswith("VJP: grad_x = g·(1 - y²) = ")
    page.tab.locator(".cg-panel .cg-link").first.click()     # follow the input to its own panel
    assert page.text(".cg-panel h2") != ""
    page.close()


def test_a_module_collapses_and_expands(browser, tmp_path):
    net, loss = small_net()
    page = Opened(browser, viz.explore(loss, model=net), tmp_path, "net.html")
    weight = page.node(vertex_named(page.data["explore"], "0.weight"))
    assert weight.is_visible()
    page.tab.locator("g.cluster text", has_text="0: Linear").first.click()
    assert not weight.is_visible()
    overlay = page.tab.locator("rect.cg-collapsed")
    assert overlay.count() == 1
    assert "click to expand" in page.tab.locator("text.cg-collapsed-label").text_content()
    for _ in range(3):                              # stepping with a collapsed module works too
        page.tab.keyboard.press("ArrowRight")
    overlay.click()
    assert weight.is_visible() and page.tab.locator("rect.cg-collapsed").count() == 0
    page.close()


def test_playground_slider_moves_through_epochs(browser, tmp_path):
    import numpy as np
    X = np.random.default_rng(0).normal(size=(60, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    rec = viz.Recorder(X, y, resolution=20)
    for epoch in range(1, 4):
        rec.record(epoch, 1.0 / epoch, lambda p, e=epoch: np.stack([-e * p[:, 0], e * p[:, 0]], axis=1),
                   accuracy=0.5 + 0.1 * epoch)
    a, c = fan_out()
    page = Opened(browser, viz.playground(rec, graph=c), tmp_path, "playground.html")
    assert page.text(".cg-epoch-caption") == "epoch 3 (3 of 3): loss 0.3333, accuracy 80.0%"
    page.tab.fill(".cg-epoch-slider", "0")
    assert page.text(".cg-epoch-caption").startswith("epoch 1 (1 of 3): loss 1.0000")
    # the map was painted: its pixels are not blank
    painted = page.tab.evaluate("""() => {
        const c = document.querySelector('canvas.cg-map');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) n++;
        return n / (c.width * c.height); }""")
    assert painted > 0.99
    page.tab.keyboard.press("ArrowRight")          # the focused epoch slider takes the arrow keys ...
    assert page.text(".cg-epoch-caption").startswith("epoch 2 (2 of 3)")
    assert page.text(".cg-explorer .cg-count") == "frame 1 of 5"
    page.tab.click(".cg-explorer .cg-caption")    # ... elsewhere they step the explorer below
    page.tab.keyboard.press("ArrowRight")
    assert page.text(".cg-explorer .cg-count") == "frame 2 of 5"
    page.close()


def screenshot(out):
    """The README's picture: the fan-out example at the frame where a's two parts arrive."""
    a, c = fan_out()
    page = viz.explore(c, title="b = a + a; c = b + b: backward sums the two parts at a")
    frame = next(k for k, f in enumerate(page.data["explore"]["frames"]) if f.get("parts") and f["parts"][0]["name"] == "a")
    tmp = Path(out).with_suffix(".html")
    page.save(tmp)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            tab = b.new_page(viewport={"width": 1000, "height": 600})
            tab.goto(tmp.resolve().as_uri())
            for _ in range(frame):
                tab.keyboard.press("ArrowRight")
            tab.locator("g.node", has=tab.locator("xpath=./*[local-name()='title' and text()='t0']")).click()
            tab.screenshot(path=str(out))
            b.close()
    finally:
        tmp.unlink()


if __name__ == "__main__":
    screenshot(sys.argv[1])
    print(json.dumps({"wrote": sys.argv[1]}))
