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

    def __init__(self, browser, page, tmp_path, name, width=1300, height=900):
        path = page.save(tmp_path / name)
        self.data = page.data
        self.tab = browser.new_page(viewport={"width": width, "height": height})
        self.errors = []
        self.dialogs = []                                 # alert(), confirm()...: none may open
        self.tab.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        self.tab.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.tab.goto(Path(path).as_uri())
        self.tab.wait_for_selector(".cg-count", state="attached")   # hidden in a playground without a graph

    def node(self, vertex):
        return self.tab.locator("g.node", has=self.tab.locator(f"xpath=./*[local-name()='title' and text()='{vertex}']"))

    def text(self, selector):
        return self.tab.inner_text(selector)

    def rect(self, selector_or_locator):
        """The bounding box {x, y, width, height} in CSS pixels of the viewport."""
        loc = self.tab.locator(selector_or_locator) if isinstance(selector_or_locator, str) else selector_or_locator
        return loc.first.bounding_box()

    def close(self):
        self.tab.close()
        assert self.errors == [], self.errors             # the page logged no JavaScript error
        assert self.dialogs == [], self.dialogs


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
    assert "shape (3, 2) float64" in page.text(".cg-panel .cg-shape")       # (out, in)
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


# ---- trust: names and titles are text, the policy allows no other script (issue 17) ----

LINK_TITLE = '<<TABLE HREF="javascript:alert(1)"><TR><TD>click</TD></TR></TABLE>>'
SCRIPT_NAMES = ("<!--<script>", "</script><script>alert(2)</script>")


def test_names_and_titles_shaped_like_markup_stay_text(browser, tmp_path):
    a = ag.tensor(1.0, requires_grad=True, name=SCRIPT_NAMES[0])
    b = ag.tensor(2.0, requires_grad=True, name=SCRIPT_NAMES[1])
    c = a * b
    page = Opened(browser, viz.explore(c, title=LINK_TITLE), tmp_path, "names.html")
    assert page.text(".cg-title") == LINK_TITLE                 # the explorer runs: its script was not cut
    assert page.text(".cg-count") == "frame 1 of %d" % len(page.data["explore"]["frames"])
    page.tab.locator("svg text", has_text="click").first.click()  # the title in the picture: no link
    assert page.tab.locator("svg a").count() == 0
    for name in SCRIPT_NAMES:
        page.node(vertex_named(page.data["explore"], name)).click()
        assert page.text(".cg-panel h2") == name
    page.close()                                                 # no dialog, no console error


def test_the_policy_runs_no_script_but_the_pages_own(browser, tmp_path):
    """Markup that got into a page anyway (here put in by hand) runs nothing and loads nothing."""
    a, c = fan_out()
    page = viz.explore(c)
    page.html = page.html.replace("<body>", '<body><script>window.injected = 1</script>'
                                  '<img src="http://127.0.0.1:9/x.png" onerror="window.injected = 2">'
                                  '<a id="js" href="javascript:window.injected = 3">js</a>', 1)
    opened = Opened(browser, page, tmp_path, "injected.html")
    opened.tab.click("#js")
    assert opened.tab.evaluate("window.injected === undefined")
    assert opened.text(".cg-count") == "frame 1 of 5"              # our own script did run
    blocked, opened.errors = opened.errors, []
    assert blocked and all("Content Security Policy" in e for e in blocked), blocked
    opened.close()


def test_a_nan_loss_shows_as_nan_in_the_playground(browser, tmp_path):
    import numpy as np
    rec = viz.Recorder(np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2, resolution=8)
    rec.record(1, 0.7, lambda p: np.zeros(len(p)), accuracy=0.5)
    rec.record(2, float("nan"), lambda p: np.zeros(len(p)), accuracy=float("nan"))
    page = Opened(browser, viz.playground(rec), tmp_path, "nan.html")
    assert page.text(".cg-epoch-caption") == "epoch 2 (2 of 2): loss nan, accuracy nan"
    page.tab.fill(".cg-epoch-slider", "0")
    assert page.text(".cg-epoch-caption") == "epoch 1 (1 of 2): loss 0.7000, accuracy 50.0%"
    page.close()


# ---- the view: fit, zoom, pan, follow the active node (issue 16, item 5) ----

def mlp_batch():
    """What `chaingrad train --html --dataset moons` draws: an MLP 2-64-32-2 on 32 rows."""
    import numpy as np
    from chaingrad import nn
    ag.manual_seed(0)
    model = nn.MLP([2, 64, 32, 2])
    X = ag.tensor(np.random.default_rng(0).normal(size=(32, 2)), name="X")
    y = np.arange(32) % 2
    return model, nn.CrossEntropyLoss()(model(X), y)


def inside(r, pane, slack=1):
    return (r["x"] >= pane["x"] - slack and r["y"] >= pane["y"] - slack and
            r["x"] + r["width"] <= pane["x"] + pane["width"] + slack and
            r["y"] + r["height"] <= pane["y"] + pane["height"] + slack)


def test_a_big_graph_fits_its_panel_with_the_legend_beside_it(browser, tmp_path):
    model, loss = mlp_batch()
    page = Opened(browser, viz.explore(loss, model=model, title="MLP 2-64-32-2"), tmp_path, "mlp.html",
                  width=1400, height=900)
    pane = page.rect(".cg-graph")
    assert inside(page.rect(".cg-graph svg g.graph"), pane)       # the whole picture, title included
    assert pane["y"] + pane["height"] <= 900                      # and the panel is on the screen
    assert page.tab.locator("g.node", has=page.tab.locator("xpath=./*[local-name()='title' and text()='legend']")).count() == 0
    legend = page.rect(".cg-legend")
    assert legend["x"] >= pane["x"] + pane["width"]               # beside the picture, not over it
    assert "tensor you made that requires grad" in page.text(".cg-legend")
    page.close()


def overlap(r, s):
    """Do two boxes {x, y, width, height} share any area?"""
    return (r["x"] < s["x"] + s["width"] and s["x"] < r["x"] + r["width"] and
            r["y"] < s["y"] + s["height"] and s["y"] < r["y"] + r["height"])


@pytest.mark.parametrize("which", ["fan_out", "mlp"])
def test_the_legend_sits_beside_the_graph_and_no_label_runs_into_it(browser, tmp_path, which):
    """At 1400x900 the legend's box and the picture's panel share no pixel, in every frame, and
    the labels the page writes on the picture (edge notes, gradient badges) stay in the panel."""
    if which == "fan_out":
        page = Opened(browser, viz.explore(fan_out()[1]), tmp_path, "fan.html", width=1400, height=900)
    else:
        model, loss = mlp_batch()
        page = Opened(browser, viz.explore(loss, model=model), tmp_path, "mlp.html", width=1400, height=900)
    notes = 0
    for k in range(len(page.data["explore"]["frames"])):
        if k:
            page.tab.keyboard.press("ArrowRight")
        pane, legend = page.rect(".cg-graph"), page.rect(".cg-legend")
        assert legend["height"] > 50 and not overlap(legend, pane), k
        for label in page.tab.locator("text.cg-note, text.cg-badge").all():
            box = page.rect(label)
            assert inside(box, pane, slack=2) and not overlap(box, legend), (k, label.text_content())
            notes += 1
    assert notes > 3                                  # the fan-out's parts and sums were written
    page.close()


def test_the_playground_opens_at_its_top(browser, tmp_path):
    import numpy as np
    model, loss = mlp_batch()
    rec = viz.Recorder(np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2, resolution=8)
    rec.record(1, 0.5, lambda p: np.zeros(len(p)))
    page = Opened(browser, viz.playground(rec, graph=loss, model=model), tmp_path, "pg.html",
                  width=1400, height=900)
    assert page.tab.evaluate("window.scrollY") == 0
    page.tab.click(".cg-explorer .cg-caption")
    for _ in range(12):                                            # stepping pans the picture, not the page
        page.tab.keyboard.press("ArrowRight")
    assert page.tab.evaluate("window.scrollY") == 0
    page.close()


def test_wheel_buttons_keys_and_drag_zoom_and_pan(browser, tmp_path):
    model, loss = mlp_batch()
    page = Opened(browser, viz.explore(loss, model=model), tmp_path, "mlp.html", width=1400, height=900)
    box = page.tab.locator(".cg-graph svg g.graph")
    fitted = page.rect(box)

    def width():
        return page.rect(box)["width"]
    page.tab.keyboard.press("+")
    assert width() == pytest.approx(1.25 * fitted["width"], rel=0.01)
    page.tab.click(".cg-zoom [data-zoom='+']")
    assert width() == pytest.approx(1.25 ** 2 * fitted["width"], rel=0.01)
    page.tab.click(".cg-zoom [data-zoom='-']")
    page.tab.keyboard.press("-")
    assert width() == pytest.approx(fitted["width"], rel=0.01)
    pane = page.rect(".cg-graph")
    page.tab.mouse.move(pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2)
    page.tab.mouse.wheel(0, -300)                                   # wheel up: zoom in at the pointer
    assert width() > 1.5 * fitted["width"]
    before = page.rect(box)
    page.tab.keyboard.press("Shift+ArrowLeft")                      # the picture moves right
    assert page.rect(box)["x"] > before["x"] + 40
    assert page.text(".cg-count") == "frame 1 of %d" % len(page.data["explore"]["frames"])   # no step
    before = page.rect(box)
    page.tab.mouse.move(pane["x"] + 300, pane["y"] + 300)
    page.tab.mouse.down()
    page.tab.mouse.move(pane["x"] + 200, pane["y"] + 250, steps=5)
    page.tab.mouse.up()
    after = page.rect(box)
    assert (after["x"] - before["x"], after["y"] - before["y"]) == (pytest.approx(-100, abs=2), pytest.approx(-50, abs=2))
    page.tab.click(".cg-zoom [data-zoom='0']")                      # fit again
    assert page.rect(box) == pytest.approx(fitted, abs=1)
    page.close()


def test_stepping_keeps_the_active_node_in_view(browser, tmp_path):
    model, loss = mlp_batch()
    page = Opened(browser, viz.explore(loss, model=model), tmp_path, "mlp.html", width=1400, height=900)
    fitted = page.rect(".cg-graph svg g.graph")["width"]
    for _ in range(6):
        page.tab.keyboard.press("+")                                # 1.25^6: about 4x the fitted size
    assert page.rect(".cg-graph svg g.graph")["width"] > 3.5 * fitted
    pane = page.rect(".cg-graph")
    frames = page.data["explore"]["frames"]
    for k, frame in enumerate(frames):
        if k:
            page.tab.keyboard.press("ArrowRight")
        for v in frame["active"]:
            assert inside(page.rect(page.node(v)), pane), (k, v)
    assert page.tab.evaluate("window.scrollY") == 0 and page.rect(".cg-graph") == pane   # the page stays put
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
