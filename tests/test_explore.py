"""ag.viz.explore and ag.viz.playground: the data the pages are built from, checked against
the engine (frames in backward's own order, panels with the engine's values and gradients,
formulas with the right numbers), the page being self-contained and small, and the
`--html` flags of the command.  The page's script is tested in a real browser in
test_explore_browser.py."""
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad import nn
from chaingrad.autograd import viz
from chaingrad.autograd.viz.explore_data import FULL_MAX, HEAT_LEVELS, HEAT_MAX, array_summary, page_data

from test_viz_steps import fan_out as fan_out_abc

REPO = Path(__file__).resolve().parents[1]


# ---- graphs ------------------------------------------------------------------------------

def fan_out():
    """b = a + a; c = b + b: a gets 2 + 2 = 4, the case the page must make readable."""
    a, _, c = fan_out_abc()
    return a, c


def small_net(seed=0):
    """Linear(2, 3) -> Tanh -> Linear(3, 1), MSE on two rows: module clusters and matrices."""
    ag.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = ag.tensor([[0.5, -1.0], [1.5, 2.0]], name="x")
    target = ag.tensor([[1.0], [-1.0]], name="target")
    loss = nn.MSELoss()(net(x), target)
    loss.name = "loss"
    return net, loss


def block_graph(n_ops, width=8, seed=0):
    """About ``n_ops`` ops: blocks of (mul, add, tanh), each block a module scope."""
    rng = np.random.default_rng(seed)
    h = ag.tensor(rng.normal(size=(4, width)), name="x")
    ops, block = 0, 0
    while ops < n_ops - 2:
        with ag.scope(f"block{block}", kind="module"):
            w = ag.tensor(rng.normal(size=(width,)), requires_grad=True, name=f"w{block}")
            b = ag.tensor(rng.normal(size=(width,)), requires_grad=True, name=f"b{block}")
            h = (h * w + b).tanh()
        ops, block = ops + 3, block + 1
    return (h * h).sum()


def panel_of(data, vertex):
    return data["panels"][data["vertices"][vertex]["panel"]]


def panel_named(data, name):
    hits = [p for p in data["panels"] if p["name"] == name]
    assert len(hits) == 1, [p["name"] for p in data["panels"]]
    return hits[0]


def svg_edges(svg):
    """Edge titles of the picture ("t0->op1"), in document order."""
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    return [g.find(ns + "title").text for g in root.iter(ns + "g") if g.get("class") == "edge"]


def svg_vertices(svg):
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    return {g.find(ns + "title").text for g in root.iter(ns + "g") if g.get("class") == "node"}


# ---- frames ------------------------------------------------------------------------------

def test_fan_out_frames_show_the_parts_and_the_running_sum():
    a, c = fan_out()
    data = page_data(c)
    frames = data["frames"]
    assert data["forward"] == 2
    assert [f["phase"] for f in frames] == ["forward"] * 2 + ["backward"] * 3
    assert frames[0]["text"] == "forward 1 of 2: b = add(a, a) = 2"
    assert frames[1]["text"] == "forward 2 of 2: c = add(b, b) = 4"
    first, second, leaf = frames[2:]
    assert first["text"] == "backward 1 of 3: add -> c, upstream gradient 1"
    assert first["start"]["sum"] == "1"                            # the output's own gradient
    assert [(p["name"], p["add"], p["sum"], p["r"], p["n"]) for p in first["parts"]] == [
        ("b", "1", "1", 1, 2), ("b", "1", "2", 2, 2)]
    assert [(p["name"], p["add"], p["sum"], p["r"], p["n"]) for p in second["parts"]] == [
        ("a", "2", "2", 1, 2), ("a", "2", "4", 2, 2)]
    # The two parts run along the two different edges a -> add (the 1st and the 2nd of them).
    e0, e1 = (p["e"] for p in second["parts"])
    assert e0[:2] == e1[:2] and (e0[2], e1[2]) == (0, 1)
    assert svg_edges(data["svg"]).count(f"{e0[0]}->{e0[1]}") == 2
    assert leaf["leaf"] == "a" and leaf["text"] == "backward 3 of 3: leaf a receives 4"
    assert panel_of(data, leaf["active"][0])["name"] == "a"
    assert a.grad is None                                          # exploring changes no .grad


def test_backward_frames_follow_the_engine_order():
    """A diamond whose engine order is not creation order reversed: the frames must be
    backward_steps' frames, one for one."""
    x = ag.tensor([0.5, -1.0], requires_grad=True, name="x")
    y = x.exp()
    y.name = "y"
    z = (y * x).sum() + (y.tanh() * 3.0).sum()
    z.name = "z"
    steps = list(viz.backward_steps(z))
    data = page_data(z)
    back = data["frames"][data["forward"]:]
    assert len(back) == len(steps)
    for frame, step in zip(back, steps):
        tensor_boxes = [v for v in frame["active"] if panel_of(data, v)["name"] == step.name]
        assert tensor_boxes, (frame["text"], step.name)
        assert frame["text"].startswith(f"backward {step.number} of {step.count}: ")
        assert [p["i"] for p in frame.get("parts", [])] == [p.index for p in step.parts]
    # forward frames: one per op, in the order the ops were made
    ops = [f["text"].split(" = ")[1].split("(")[0] for f in data["frames"][:data["forward"]]]
    assert ops == ["exp", "mul", "sum", "tanh", "mul", "sum", "add"]


def test_every_frame_names_vertices_and_edges_of_the_picture():
    _, loss = small_net()
    data = page_data(loss)
    vertices, edges = svg_vertices(data["svg"]), svg_edges(data["svg"])
    assert set(data["vertices"]) <= vertices
    for f in data["frames"]:
        assert f["active"] and set(f["active"]) <= vertices, f["text"]
        for e in f["edges"] + [p["e"] for p in f.get("parts", [])]:
            assert e is not None and edges.count(f"{e[0]}->{e[1]}") > e[2], (f["text"], e)
    # boxes appear in forward order: an op's output is born in its own frame
    for k, f in enumerate(data["frames"][:data["forward"]]):
        assert all(data["vertices"][v]["born"] == k for v in f["active"])


# ---- panels ------------------------------------------------------------------------------

def test_panels_hold_the_engine_values_and_gradients():
    net, loss = small_net()
    data = page_data(loss, model=net)
    with viz.record_grads() as rec:
        loss.backward(retain_graph=True)
    w = panel_named(data, "0.weight")
    assert w["kind"] == "leaf (requires grad)" and w["shape"] == [3, 2] and w["dtype"] == "float64"   # (out, in)
    assert "0: Linear" in w["module"]
    np.testing.assert_allclose(w["value"]["full"], net[0].weight.data, rtol=1e-3)
    np.testing.assert_allclose(w["grad"]["full"], net[0].weight.grad.data, rtol=1e-3, atol=1e-12)
    # an inner tensor: the tanh output, its gradient as record_grads saw it
    tanh = next(p for p in data["panels"] if p["op"] and p["op"]["name"] == "tanh")
    node = next(k for k in rec.grads if getattr(getattr(k, "op", None), "name", None) == "tanh")
    np.testing.assert_allclose(tanh["grad"]["full"], rec.grads[node], rtol=1e-3, atol=1e-12)
    assert "1: Tanh" in tanh["module"] and tanh["kind"] == "op output"
    assert panel_named(data, "x")["kind"] == "constant" and panel_named(data, "x")["grad"] is None


def test_op_panel_gives_formula_and_vjp_with_this_nodes_numbers():
    a = ag.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = ag.tensor([3.0, -1.0], requires_grad=True, name="b")
    y = a * b
    y.name = "y"
    t = y.tanh()
    t.name = "t"
    loss = t.sum()
    data = page_data(loss)
    mul = panel_named(data, "y")["op"]
    assert mul["name"] == "mul"
    ia, ib = mul["inputs"]
    assert (ia["symbol"], ia["derivative"], ia["vjp"]) == ("a", "b", "g·b")
    assert (ib["symbol"], ib["derivative"], ib["vjp"]) == ("b", "a", "g·a")
    g = 1 - np.tanh(np.array([3.0, -2.0])) ** 2                 # d loss / dy
    assert ia["grad"] == viz.explore_adapter.short(g * np.array([3.0, -1.0]))
    assert ib["grad"] == viz.explore_adapter.short(g * np.array([1.0, 2.0]))
    assert data["panels"][ia["panel"]]["name"] == "a"            # a link to a's own panel
    tanh = panel_named(data, "t")["op"]
    assert tanh["inputs"][0]["derivative"] == "1 - y²"
    assert tanh["inputs"][0]["grad"] == viz.explore_adapter.short(g)


def test_a_primitive_without_a_formula_shows_its_vjp_source():
    @ag.primitive
    def cube(x):
        return x ** 3
    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    x = ag.tensor(2.0, requires_grad=True, name="x")
    y = cube(x)
    y.name = "y"
    inp = panel_named(page_data(y), "y")["op"]["inputs"][0]
    assert inp["derivative"] is None and "g * 3 * x ** 2" in inp["source"]
    assert inp["grad"] == "12"


def test_a_constant_input_is_marked_and_gets_no_gradient():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    c = ag.tensor([5.0, 6.0], name="c")
    y = (x * c).sum()
    mul = next(p for p in page_data(y)["panels"] if p["op"] and p["op"]["name"] == "mul")["op"]
    assert [i["differentiable"] for i in mul["inputs"]] == [True, False]
    assert mul["inputs"][1]["grad"] is None


# ---- arrays ------------------------------------------------------------------------------

def test_small_arrays_are_kept_in_full():
    s = array_summary(np.arange(6.0).reshape(2, 3) / 3)
    assert s == {"shape": [2, 3], "full": [[0.0, 0.3333, 0.6667], [1.0, 1.333, 1.667]]}
    assert array_summary(np.float64(2.5)) == {"shape": [], "full": 2.5}
    assert array_summary(None) is None


def test_large_arrays_become_stats_histogram_and_heat_map():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(40, 50))
    a[0, 0] = np.nan
    s = array_summary(a)
    assert "full" not in s and s["shape"] == [40, 50]
    finite = a[np.isfinite(a)]
    assert s["stats"]["nonfinite"] == 1
    assert s["stats"]["max"] == pytest.approx(finite.max(), rel=1e-3)
    assert s["stats"]["rms"] == pytest.approx(np.sqrt(np.mean(finite ** 2)), rel=1e-3)
    assert sum(s["hist"]["counts"]) == finite.size
    h = s["heat"]
    assert (h["rows"], h["cols"]) == (HEAT_MAX, HEAT_MAX) and len(h["cells"]) == HEAT_MAX ** 2
    assert set(h["cells"]) <= set(HEAT_LEVELS)
    json.dumps(s, allow_nan=False)                              # valid JSON: no NaN literal
    # the heat map keeps the sign pattern: positive top half, negative bottom half
    m = np.vstack([np.ones((16, 50)), -np.ones((16, 50))])      # 16 blocks of 2 rows
    cells = array_summary(m)["heat"]["cells"]
    assert set(cells[:HEAT_MAX * HEAT_MAX // 2]) == {HEAT_LEVELS[-1]}
    assert set(cells[HEAT_MAX * HEAT_MAX // 2:]) == {HEAT_LEVELS[0]}
    assert "heat" not in array_summary(np.arange(FULL_MAX + 1.0))      # 1-D: histogram only


# ---- the page ----------------------------------------------------------------------------

def test_page_is_one_self_contained_file(tmp_path):
    a, c = fan_out()
    page = viz.explore(c, title="fan-out </script> & <b>")
    text = page.html
    assert text.count("<script") == 2                           # the data and our own script
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "@import" not in text and "url(http" not in text
    assert "<title>fan-out &lt;/script&gt; &amp; &lt;b&gt;</title>" in text
    raw = text.split('<script type="application/json" id="cg-data">')[1].split("</script>")[0]
    data = json.loads(raw)                                      # "</" was escaped inside JSON
    assert data["explore"]["title"] == "fan-out </script> & <b>"
    path = page.save(tmp_path / "graph.html")
    assert Path(path).read_text(encoding="utf-8") == text and page.size == len(text.encode())
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;svg" in shown and "<svg" not in shown


def test_explore_needs_the_saved_values():
    a, c = fan_out()
    c.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.explore(c)


@pytest.mark.parametrize("n_ops, limit", [(10, 150_000), (100, 700_000), (200, 1_000_000), (1000, 2_000_000)])
def test_page_size(n_ops, limit):
    """A 200-node page stays under 1 MB (measured: about 70 kB, 445 kB, 860 kB and 1.4 MB
    for 10, 100, 200 and 1,000 ops)."""
    page = viz.explore(block_graph(n_ops))
    assert page.size < limit, f"{n_ops} ops: {page.size:,} bytes"


def test_over_the_node_cap_the_picture_is_cut_as_draw_cuts_it():
    loss = block_graph(300)
    data = page_data(loss, max_nodes=60)
    assert data["ops"] > 60
    cut = [f for f in data["frames"] if f["active"] == ["more"]]
    assert cut and all(f["phase"] == "forward" for f in cut[:5])
    assert len(data["frames"]) == data["forward"] + len(list(viz.backward_steps(loss)))


# ---- the playground ------------------------------------------------------------------------

def test_recorder_keeps_the_decision_map_per_epoch():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    rec = viz.Recorder(X, y, resolution=4)
    rec.record(1, 0.9, lambda p: np.stack([-p[:, 1], p[:, 1]], axis=1))     # class 1 above y = 0
    rec.record(2, 0.5, lambda p: (p[:, 0] > 0.5).astype(int))             # class ids
    first, second = rec.epochs
    rows = [first["classes"][i * 4:(i + 1) * 4] for i in range(4)]
    assert rows[0] == "1111"                                  # the top row is the largest y
    assert rows[-1][0] in "01"
    assert second["classes"][:4] == "0011" and set(second["confidence"]) == {"9"}
    assert rec.data()["points"]["label"] == [0, 1, 1, 0]
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        viz.Recorder(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="predict must return"):
        rec.record(3, 0.1, lambda p: np.zeros((2, 2)))


def test_playground_page_holds_epochs_and_the_graph():
    X = np.random.default_rng(0).normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    rec = viz.Recorder(X, y)
    with pytest.raises(ValueError, match="no epoch"):
        viz.playground(rec)
    for epoch in (1, 2):
        rec.record(epoch, 1.0 / epoch, lambda p: p)
    a, c = fan_out()
    page = viz.playground(rec, graph=c)
    assert page.data["playground"]["epochs"][1]["loss"] == 0.5
    assert page.data["explore"]["forward"] == 2 and "<svg" in page.html
    assert "cg-playground" in page.html and "chaingradPlayground" in page.html


# ---- the command -----------------------------------------------------------------------

def chaingrad(*args, cwd):
    return subprocess.run([sys.executable, "-m", "chaingrad", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_train_and_draw_write_the_html_pages(tmp_path):
    out = tmp_path / "run"
    r = chaingrad("train", "--dataset", "xor", "--epochs", "2", "--hidden", "8", "--html", "--out", out,
                  cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "graph.html" in r.stdout and "playground.html" in r.stdout
    graph = (out / "graph.html").read_text(encoding="utf-8")
    assert "<svg" in graph and "cg-data" in graph
    play = (out / "playground.html").read_text(encoding="utf-8")
    data = json.loads(play.split('id="cg-data">')[1].split("</script>")[0])
    assert [e["epoch"] for e in data["playground"]["epochs"]] == [1, 2]
    assert json.loads((out / "run.json").read_text())["files"][:4] == [
        "model.safetensors", "graph.svg", "graph.html", "playground.html"]
    r = chaingrad("draw", out / "model.safetensors", "--out", tmp_path / "pic.svg", "--html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "pic.html").exists() and f"wrote {tmp_path / 'pic.html'}" in r.stdout


def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exploring a graph in the browser")[1].split("\n## ")[0]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert "<chaingrad page:" in capsys.readouterr().out
    assert (tmp_path / "graph.html").stat().st_size > 1000
    assert (REPO / "notebooks" / "figures" / "explore.png").exists()


def test_a_page_walks_its_graph_once_and_reads_each_nodes_facts_once(monkeypatch):
    """One graph walk per page (steps and picture share it), one fact sheet per node."""
    from collections import Counter
    from chaingrad.autograd.viz import explore_adapter, walk as walk_module
    walks, facts = [], Counter()
    real_init, real_facts = walk_module.Walk.__init__, explore_adapter.node_facts

    def counting_init(self, *args, **kwargs):
        walks.append(args)
        real_init(self, *args, **kwargs)

    def counting_facts(node):
        facts[node] += 1
        return real_facts(node)
    monkeypatch.setattr(walk_module.Walk, "__init__", counting_init)
    monkeypatch.setattr(explore_adapter, "node_facts", counting_facts)
    for max_nodes in (200, 3):                      # the whole graph drawn, and a picture cut short
        walks.clear()
        facts.clear()
        net, loss = small_net()
        data = page_data(loss, model=net, max_nodes=max_nodes)
        assert len(walks) == 1, max_nodes
        assert len(facts) == data["forward"] and set(facts.values()) == {1}, max_nodes
