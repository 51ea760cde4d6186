"""Pages and pictures trust no string: names, titles, op names and a custom op's
formulas are text everywhere (issue 17, "Pages and pictures").

Each test here is an attack or an accident a user can cause: a title shaped like a
Graphviz HTML label, a name that opens an HTML comment, a loss that is NaN, a
constant of 1e17, a name of 20,000 characters or with a lone surrogate, a symbolic
link where a page is saved.  The browser half (a page opened in Chromium) is in
test_explore_browser.py.
"""
import base64
import hashlib
import html
import json
import os
import re

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.autograd import viz
from chaingrad.autograd.viz.explore_data import array_summary

from test_viz import svg_texts

# A Graphviz HTML label with a link: passed on as markup, it becomes <a xlink:href="javascript:...">.
LINK_LABEL = '<<TABLE HREF="javascript:alert(1)"><TR><TD>click</TD></TR></TABLE>>'


def square_sum(name="a"):
    """``(a * a).sum()`` with ``a`` named ``name``; ``a`` is returned too (its name lives with it)."""
    a = ag.tensor([1.0, 2.0], requires_grad=True, name=name)
    return a, (a * a).sum()


def data_block(page_html):
    """The text of the page's JSON data element, as the browser's parser cuts it out."""
    return re.search(r'<script type="application/json" id="cg-data">(.*?)</script>', page_html, re.S).group(1)


def strict_json(text):
    """``json.loads`` that refuses NaN and Infinity, as the browser's JSON.parse does."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def svg_part(page_html):
    return page_html[page_html.index("<svg"):page_html.index("</svg>")]


# ---- 1: titles, names and custom ops are text in the picture -------------------------------

def test_a_title_shaped_like_an_html_label_is_text_not_a_link():
    a, loss = square_sum()
    svg = viz.draw(loss, title=LINK_LABEL).svg()
    assert "href" not in svg and "<a " not in svg
    assert LINK_LABEL in svg_texts(svg)
    page = viz.explore(loss, title=LINK_LABEL).html
    assert "href" not in svg_part(page) and "javascript:" not in svg_part(page).replace("javascript:alert", "")
    assert LINK_LABEL in svg_texts(svg_part(page))


def test_a_custom_ops_name_and_formula_are_text_on_the_edges():
    op = ag.primitive(lambda x: x * 2.0, name='<<TABLE HREF="javascript:alert(1)"><TR><TD>')
    op.defvjp(lambda g, ans, x: g * 2.0, formulas=[("</TD></TR></TABLE>>", "2 g")])
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = op(x).sum()
    for view in ("dataflow", "backward"):
        svg = viz.draw(y, formulas=True, view=view).svg()
        assert "href" not in svg, view
        texts = svg_texts(svg)
        assert '<<TABLE HREF="javascript:alert(1)"><TR><TD>' in texts, view           # the op
        if view == "dataflow":                                                      # the edge, cut
            assert '<<TABLE HREF="javascript:alert(1)"><TR><TD>: </TD></TR></TA…' in texts


@pytest.mark.parametrize("title", ["<script>alert(1)</script>", "<loss>", "C:\\runs\\", 'say "hi" \\N \\G',
                                   "a & b < c > d 'e'"])
def test_any_title_shows_as_written(title):
    a, loss = square_sum()
    texts = svg_texts(viz.draw(loss, title=title).svg())      # dot must not fail either
    assert title in texts


def test_module_and_constant_names_are_text():
    a = ag.tensor([1.0, 2.0], requires_grad=True, name="a")
    k = ag.tensor(3.0, name="<k\\>")
    with ag.scope('<<B>x</B>> "q\\', kind="module"):
        y = (a * k).sum()
    texts = svg_texts(viz.draw(y).svg())
    assert '<<B>x</B>> "q\\' in texts and "<k\\> = 3" in texts


def test_rankdir_is_checked():
    a, loss = square_sum()
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(loss, rankdir="<LR>")


# ---- 2: the page's data cannot end or hide its script element ---------------------------------

@pytest.mark.parametrize("name", ["<!--<script>", "</script><script>alert(1)</script>", "a\u2028b\u2029c & <>"])
def test_a_name_cannot_break_out_of_the_pages_data(name):
    a, loss = square_sum(name)
    page = viz.explore(loss)
    block = data_block(page.html)
    assert not set(block) & set("<>&") and block.isascii()
    data = strict_json(block)
    assert name in [p["name"] for p in data["explore"]["panels"]]


def test_the_page_has_a_content_security_policy_that_allows_only_its_own_script_and_style():
    a, loss = square_sum()
    page = viz.explore(loss).html
    policy = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1))
    rules = dict((r.split()[0], r.split()[1:]) for r in policy.split(";") if r.strip())
    assert rules["default-src"] == ["'none'"]                      # no network: no fetch, image, font, frame
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)

    def source(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    assert rules["script-src"] == [source(script)]                 # no 'unsafe-inline': no javascript: URL
    assert rules["style-src"] == [source(style)]
    assert "unsafe" not in policy


# ---- 3: nan and inf are text in the data --------------------------------------------------------

def test_a_nan_or_inf_loss_keeps_the_explorer_data_valid_json():
    a = ag.tensor([1.0, 2.0], requires_grad=True, name="a")
    for bad in (float("nan"), float("inf")):
        loss = (a * bad).sum()
        data = strict_json(data_block(viz.explore(loss).html))
        assert data["explore"]["frames"]


def test_a_nan_loss_keeps_the_playground_data_valid_json():
    rng = np.random.default_rng(0)
    rec = viz.Recorder(rng.normal(size=(20, 2)), np.arange(20) % 2, resolution=4)
    rec.record(1, float("nan"), lambda p: np.zeros(len(p)), accuracy=float("inf"))
    rec.record(2, 0.5, lambda p: np.zeros(len(p)))
    data = strict_json(data_block(viz.playground(rec).html))
    epochs = data["playground"]["epochs"]
    assert [e["loss"] for e in epochs] == ["nan", 0.5] and epochs[0]["accuracy"] == "inf"


# ---- 4 (and complex constants): arrays the panels must summarise without crashing -------------------

@pytest.mark.parametrize("values", [np.full(64, 1e17, np.float32), np.full(64, -1e17),
                                    np.array([-0.0, 1e-323] * 20), np.array([-1e308, 1e308] * 20)])
def test_histograms_of_values_too_close_or_too_far_for_numpy(values):
    s = array_summary(values)
    assert sum(s["hist"]["counts"]) == values.size
    strict_json(json.dumps(s))


def test_explore_a_constant_of_1e17_and_gradients_of_minus_zero_and_1e_323():
    x = ag.tensor(np.ones((8, 8), np.float32), requires_grad=True, name="x")
    loss = (x * ag.tensor(np.full((8, 8), 1e17, np.float32))).sum()
    assert viz.explore(loss).data["explore"]["frames"]
    g = ag.tensor(np.ones(40), requires_grad=True, name="g")
    loss = (g * ag.tensor(np.array([-0.0, 1e-323] * 20))).sum()   # g's gradient: only -0.0 and 1e-323
    panels = viz.explore(loss).data["explore"]["panels"]
    assert sum(next(p for p in panels if p["name"] == "g")["grad"]["hist"]["counts"]) == 40


@pytest.mark.parametrize("values", [np.array([1 + 2j, -3j]), np.full((8, 8), 1 - 1j), np.array(2 + 1j)])
def test_complex_arrays_are_summarised_as_text(values):
    strict_json(json.dumps(array_summary(values)))


# The engine refuses complex tensors that require grad (issue 17, item 12); a complex
# constant still meets a real tensor here, and the engine warns that w's gradient is real.
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
def test_draw_and_explore_complex_constants():
    z = ag.tensor(np.array([1 + 2j, 3j]))
    assert "[1+2j, 0+3j]" in svg_texts(viz.draw(z).svg())
    w = ag.tensor([1.0, 2.0], requires_grad=True, name="w")
    y = w * z * ag.tensor(np.array(2 + 1j))
    assert "2+1j" in svg_texts(viz.draw(y).svg())
    data = strict_json(data_block(viz.explore(y, grad=np.ones(2)).html))
    assert data["explore"]["panels"]
    big = ag.tensor(np.ones((8, 8)), requires_grad=True) * ag.tensor(np.full((8, 8), 1 - 1j))
    viz.draw(big).svg()
    viz.explore(big, grad=np.ones((8, 8)))


# ---- 6: long names are cut in pictures, whole in the panel -----------------------------------------

def test_a_name_of_20000_characters_is_cut_in_the_picture_and_whole_in_the_panel():
    name = "n" * 20000
    a, loss = square_sum(name)
    texts = svg_texts(viz.draw(loss).svg())
    assert "n" * 59 + "…" in texts and not any("n" * 61 in t for t in texts)
    page = viz.explore(loss, title="t" * 5000)
    assert name in [p["name"] for p in page.data["explore"]["panels"]]
    assert all(len(f["text"]) < 400 for f in page.data["explore"]["frames"])    # captions cut names too
    assert not any("t" * 121 in t for t in svg_texts(svg_part(page.html)))


# ---- 7: a lone surrogate (os.listdir's stand-in for an undecodable byte) ------------------------------

def test_a_name_with_a_lone_surrogate_is_shown_escaped(tmp_path):
    name = "run\udcff"
    a, loss = square_sum(name)
    assert "run\\udcff" in svg_texts(viz.draw(loss).svg())
    page = viz.explore(loss, title=name)
    path = page.save(tmp_path / "page.html")
    saved = open(path, encoding="utf-8").read()
    assert name in [p["name"] for p in strict_json(data_block(saved))["explore"]["panels"]]
    assert page.size == len(saved.encode("utf-8"))


# ---- 8: saving a page ---------------------------------------------------------------------------------

def test_page_save_replaces_a_symbolic_link_instead_of_writing_through_it(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "page.html"
    os.symlink(target, link)
    a, loss = square_sum()
    viz.explore(loss).save(link)
    assert target.read_text() == "keep me"
    assert not link.is_symlink() and link.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_page_save_is_atomic(tmp_path, monkeypatch):
    """The page is written to a temporary file in the same folder, then renamed over the
    target: until the rename, readers see the old page whole."""
    path = tmp_path / "page.html"
    path.write_text("old page")
    a, loss = square_sum()
    page = viz.explore(loss)
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append((os.path.dirname(src), open(src, encoding="utf-8").read(), open(dst).read()))
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    page.save(path)
    assert seen == [(str(tmp_path), page.html, "old page")]
    assert path.read_text(encoding="utf-8") == page.html and os.listdir(tmp_path) == ["page.html"]
