"""ag.viz: pictures rendered with the real `dot` and checked for what they must teach
(names, values, gradients, clusters, colours, legend); determinism; big graphs; a
missing `dot`; the text views.  Modules here are tiny duck-typed stand-ins that open
ag.scope exactly as nn.Module does (one test also uses the real nn)."""
import gc
import io
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.autograd import viz

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def svg_texts(svg):
    """The text pieces of an SVG, entities decoded (what a reader sees)."""
    import html
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def svg_of(pic):
    svg = pic.svg()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    return svg


# ---- tiny modules (duck typing: the pictures' one protocol, scope like nn.Module) ----

class Module:
    def modules_for_pictures(self):
        """What the pictures ask of a model: (path, module, own parameters) per module."""
        return [(path, m, list(m.params)) for path, m in self.named_modules()]

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self.children:
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self):
        for path, m in self.named_modules():
            for name, p in m.params:
                yield (f"{path}.{name}" if path else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    children = ()
    params = ()

    def __call__(self, x):
        with ag.scope(type(self).__name__, kind="module", obj=self):
            return self.forward(x)


class Linear(Module):
    def __init__(self, w, b):
        self.weight = ag.tensor(w, requires_grad=True)
        self.bias = ag.tensor(b, requires_grad=True)
        self.params = [("weight", self.weight), ("bias", self.bias)]

    def forward(self, x):
        return x @ self.weight + self.bias


class Act(Module):
    def __init__(self, fn):
        self.fn = fn

    def forward(self, x):
        return getattr(x, self.fn)()


class Net(Module):
    def __init__(self, *layers):
        self.layers = layers
        self.children = [(f"layers.{i}", m) for i, m in enumerate(layers)]

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x


@ag.composite("mse_loss")
def mse_loss(pred, target):
    d = pred - target
    return (d * d).mean()


def two_layer(act="tanh"):
    net = Net(Linear([[0.5, -0.2, 0.1], [0.3, 0.8, -0.5]], [0.0, 0.1, -0.1]), Act(act),
              Linear([[1.0], [-1.0], [0.5]], [0.2]))
    x = ag.tensor([[1.0, 2.0], [-1.0, 0.5]], name="x")
    target = ag.tensor([[1.0], [0.0]], name="target")
    return net, x, target


# ------------------------------------------------------------------ the basic picture

def test_values_and_gradients_appear_in_the_rendered_svg():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    with viz.record_grads():
        h = x * x
        y = h.tanh().sum()
        y.backward(retain_graph=True)
    texts = svg_texts(svg_of(viz.draw(y)))
    joined = "\n".join(texts)
    assert "x" in texts and "mul" in texts and "tanh" in texts and "sum" in texts
    assert "[1, 2]" in texts                                  # x's value in full
    expected = 2 * x.data * (1 - np.tanh(x.data ** 2) ** 2)   # d/dx sum tanh(x²)
    assert x.grad is not None and np.allclose(x.grad.data, expected)
    assert f"[{expected[0]:.4g}, {expected[1]:.4g}]" in texts  # x's gradient
    assert "[1, 4]" in texts                                  # the inner tensor x*x ...
    assert f"[{1 - np.tanh(1) ** 2:.4g}, {1 - np.tanh(4.0) ** 2:.4g}]" in texts  # ... and its gradient
    assert "legend" in texts
    assert "(2,) float64" in joined


def test_large_tensors_show_min_mean_max_and_small_ones_in_full():
    x = ag.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="big")
    y = (x * 2).sum()
    y.backward()
    texts = svg_texts(svg_of(viz.draw(y)))
    assert "min 0, mean 5.5, max 11" in texts
    assert "min 2, mean 2, max 2" in texts                    # its gradient
    small = viz.draw(y, max_values=12).source
    assert "[0, 1, 2, 3]" in small and "[8, 9, 10, 11]" in small   # a matrix: one line per row


def test_before_after_backward_and_after_the_graph_was_freed():
    net, x, target = two_layer()
    loss = mse_loss(net(x), target)
    before = viz.draw(loss, model=net, grads=False)
    src = before.source
    assert "not computed" in src and "dashed" in src                   # no gradient yet
    n_ops_before = len(re.findall(r"^\s*op\d+ ", src, re.M))
    loss.backward()                                                    # frees the saved values
    after = viz.draw(loss, model=net, grads=False)
    src = after.source
    assert "freed" in src and "retain_graph=True" in src               # said in the legend
    assert len(re.findall(r"^\s*op\d+ ", src, re.M)) == n_ops_before    # same structure
    texts = svg_texts(svg_of(after))
    w = net.layers[0].weight
    assert "layers.0.weight" in texts
    assert any(t.startswith("[") and f"{w.grad.data[0, 0]:.4g}" in t for t in texts)
    assert "not computed" not in texts                                # every leaf has its .grad now


def test_zero_gradient_looks_different_from_a_never_computed_one():
    a = ag.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = ag.tensor([3.0, 4.0], requires_grad=True, name="b")
    loss = (a * 0.0).sum()
    other = (b * 2.0).sum()
    loss.backward()
    src = viz.draw([loss, other]).source
    a_line = next(line for line in src.splitlines() if "<B>a</B>" in line)
    b_line = next(line for line in src.splitlines() if "<B>b</B>" in line)
    assert "[0, 0]" in a_line and "dashed" not in a_line
    assert "not computed" in b_line and "dashed" in b_line


def test_ops_are_named_as_the_user_knows_them_and_scalars_inline():
    x = ag.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = (x.log_softmax(axis=1) * 0.5).sum(axis=1).mean()
    src = viz.draw(y).source
    for name in ("log_softmax", "sum", "mean", "mul"):
        assert f"<B>{name}</B>" in src
    assert "axis=1" in src                                             # the option it was called with
    assert "[label=<0.5> " in src                                        # a scalar constant as its number


def test_float32_and_leaf_root_and_several_roots():
    x = ag.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True, name="x32")
    y = (x * x).sum()
    assert "(2,) float32" in viz.draw(y).source and "() float32" in viz.draw(y).source
    leaf = viz.draw(x).source                                          # a leaf alone
    assert "x32" in leaf and "->" not in leaf
    with pytest.raises(TypeError):
        viz.draw([x, 3])
    with pytest.raises(ValueError, match="view"):
        viz.draw(y, view="sideways")
    with pytest.raises(ValueError, match="color_by"):
        viz.draw(y, color_by="rainbow")


def test_name_map_and_tensor_names():
    x = ag.tensor([1.0], requires_grad=True)
    h = x * 3.0
    h.name = "hidden"
    y = h.sum()
    src = viz.draw(y, name_map={"input": x}).source
    assert "<B>input</B>" in src and "<B>hidden</B>" in src
    assert "<B>first</B>" in viz.draw(y, name_map={x: "first"}).source


def test_fan_out_shows_two_edges():
    a = ag.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    src = viz.draw(b).source
    t_a = re.search(r"(t\d+) \[label=<<TABLE[^\n]*<B>a</B>", src).group(1)
    assert len(re.findall(rf"\b{t_a} -> op0\b", src)) == 2


# ------------------------------------------------------------------ modules and composites

def test_module_clusters_are_labelled_with_paths_and_parameters_named():
    net, x, target = two_layer()
    with viz.record_grads():
        loss = mse_loss(net(x), target)
        loss.backward(retain_graph=True)
    pic = viz.draw(loss, model=net)
    texts = svg_texts(svg_of(pic))
    for label in ("Net", "layers.0: Linear", "layers.1: Act", "layers.2: Linear",
                  "layers.0.weight", "layers.0.bias", "layers.2.weight", "mse_loss"):
        assert label in texts, label
    assert "composite of 3 ops" in texts                     # mse_loss collapsed by default
    # the parameter sits inside its module's cluster
    src = pic.source
    cluster = src[src.index('label=<layers.0: Linear>'):]
    cluster = cluster[:cluster.index("}")]
    assert "layers.0.weight" in cluster and "layers.2.weight" not in cluster


def test_the_layout_says_where_each_tensor_and_op_is():
    """ag.viz.layout: the picture draw() makes, plus the public table of what is where."""
    net, x, target = two_layer()
    loss = mse_loss(net(x), target)
    lay = viz.layout(loss, model=net, depth=None)
    assert isinstance(lay, viz.Layout) and lay.picture.source == viz.draw(loss, model=net).source
    titles = set(re.findall(r"<title>([^<]*)</title>", svg_of(lay.picture)))
    w = net.layers[0].weight._node
    assert lay.box_of(net.layers[0].weight) == lay.tensor_vertex[w] in titles and lay.names[w] == "layers.0.weight"
    assert lay.module_of(w) == "Net / layers.0: Linear"
    tanh = next(n for n in lay.nodes if n.op.name == "tanh")
    assert lay.vertex_of_op(tanh) == lay.op_vertex[tanh] and lay.op_vertex[tanh] in titles
    assert lay.module_of(tanh) == "Net / layers.1: Act"
    sub = next(n for n in lay.nodes if n.op.name == "sub")          # inside the collapsed mse_loss
    group = lay.group_of[sub]
    assert lay.vertex_of_op(sub) == lay.group_vertex[group] and sub in lay.members[group]
    assert {"param", "op", "composite", "output"} <= lay.legend and not lay.stepping
    assert [lay.scope_labels[c] for c in lay.clusters][:2] == ["Net", "layers.0: Linear"]
    cut = viz.layout(loss, model=net, max_nodes=2)
    first = next(n for n in lay.nodes if n not in cut.nodes)        # an op beyond max_nodes
    assert cut.omitted == len(lay.nodes) - 2 and cut.vertex_of_op(first) == cut.more_vertex == "more"


def test_only_draw_knows_the_builder():
    """legend, the explorer and the steps read the public Layout, never the builder."""
    here = os.path.join(ROOT, "autograd", "viz")
    for name in sorted(os.listdir(here)):
        if name.endswith(".py") and name not in ("draw.py", "groups.py"):
            text = open(os.path.join(here, name), encoding="utf-8").read()
            assert "Builder" not in text, name


def test_expand_composites_opens_the_loss():
    net, x, target = two_layer()
    loss = mse_loss(net(x), target)
    collapsed = viz.draw(loss, model=net).source
    expanded = viz.draw(loss, model=net, expand_composites=True).source
    assert "composite of" in collapsed and "<B>sub</B>" not in collapsed
    assert "<B>sub</B>" in expanded and 'label=<mse_loss>' in expanded and "style=dashed" in expanded


def test_depth_collapses_modules_into_boxes_with_shapes_and_parameter_counts():
    net, x, target = two_layer()
    loss = mse_loss(net(x), target)
    loss.backward(retain_graph=True)
    texts = svg_texts(svg_of(viz.draw(loss, model=net, depth=1)))
    assert "layers.0: Linear" in texts and "in (2, 2) → out (2, 3)" in texts
    assert "9 parameters, 2 ops" in texts and "4 parameters, 2 ops" in texts
    assert "layers.0.weight" not in texts                     # hidden inside its box
    whole = svg_texts(svg_of(viz.draw(loss, model=net, depth=0)))
    assert "Net" in whole and "13 parameters, 5 ops" in whole and "in (2, 2) → out (2, 1)" in whole
    freed = mse_loss(net(x), target)
    freed.backward()                                  # x freed: its shape is unknown now
    assert "in ? → out (2, 3)" in viz.draw(freed, model=net, depth=1).source


def test_without_a_model_clusters_use_class_names_and_a_reused_module_is_numbered():
    lin = Linear([[2.0]], [0.0])
    x = ag.tensor([[1.0]])
    y = lin(lin(x)).sum()                                     # the same module called twice
    src = viz.draw(y).source
    assert 'label=<Linear>' in src
    net = Net(lin)
    src = viz.draw(y, model=net).source
    assert 'label=<layers.0: Linear>' in src and 'label=<layers.0: Linear (call 2)>' in src


def test_with_the_real_nn():
    from chaingrad import nn
    ag.manual_seed(0)
    model = nn.MLP([2, 4, 3])
    with viz.record_grads():
        loss = nn.CrossEntropyLoss()(model(ag.randn(5, 2)), [0, 1, 2, 1, 0])
        loss.backward()
    texts = svg_texts(svg_of(viz.draw(loss, model=model)))
    for label in ("layers.0: Linear", "layers.1: ReLU", "layers.2.weight", "cross_entropy"):
        assert label in texts, label


# ------------------------------------------------------------------ colours, formulas, views

def test_color_by_grad_fills_by_magnitude_with_a_legend():
    a = ag.tensor([1.0, 1.0], requires_grad=True, name="tiny")
    b = ag.tensor([1.0, 1.0], requires_grad=True, name="huge")
    loss = (a * 1e-8).sum() + (b * 1e4).sum()
    loss.backward()
    svg = svg_of(viz.draw(loss, color_by="grad"))
    texts = svg_texts(svg)
    assert "fill: RMS of grad" in texts and "vanishing" in texts and "exploding" in texts
    src = viz.draw(loss, color_by="grad").source
    line = {n: next(ln for ln in src.splitlines() if f"<B>{n}</B>" in ln) for n in ("tiny", "huge")}
    assert 'fillcolor="#4575b4"' in line["tiny"] and 'fillcolor="#d73027"' in line["huge"]
    assert 'fill="#4575b4"' in svg and 'fill="#d73027"' in svg
    ratio = viz.draw(loss, color_by="grad_ratio").source
    assert "|grad| / |value|" in ratio


def test_formulas_on_edges():
    x = ag.tensor([0.5], requires_grad=True)
    y = (x.tanh() * x).sum()
    texts = svg_texts(svg_of(viz.draw(y, formulas=True)))
    assert "tanh: 1 - y²" in texts and "mul ∂/∂a: b" in texts and "sum: 1" in texts


def test_backward_view_like_torchviz():
    net, x, target = two_layer()
    loss = mse_loss(net(x), target)
    loss.backward()
    texts = "\n".join(svg_texts(svg_of(viz.draw(loss, model=net, view="backward"))))
    assert "accumulate into" in texts and "layers.0.weight" in texts and "backward" in texts
    assert "arrows point the way gradients flow" in texts
    src = viz.draw(loss, model=net, view="backward").source
    assert "saved values freed" in src


# ------------------------------------------------------------------ robustness

DETERMINISM_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np
    from chaingrad import autograd as ag
    sys.path.insert(0, {tests!r})
    from test_viz import two_layer, mse_loss
    net, x, target = two_layer()
    with ag.viz.record_grads():
        loss = mse_loss(net(x), target)
        loss.backward(retain_graph=True)
    sys.stdout.write(ag.viz.draw(loss, model=net, formulas=True, color_by="grad").source)
""")


def _picture_source():
    net, x, target = two_layer()
    with viz.record_grads():
        loss = mse_loss(net(x), target)
        loss.backward(retain_graph=True)
    return viz.draw(loss, model=net, formulas=True, color_by="grad").source


def test_identical_code_gives_identical_dot_in_process_and_in_a_subprocess():
    first = _picture_source()
    ag.tensor([1.0], requires_grad=True) * 2      # advance the global node counters
    second = _picture_source()
    assert first == second
    script = DETERMINISM_SCRIPT.format(root=ROOT, tests=os.path.join(ROOT, "tests"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == first


def test_a_100k_node_graph_draws_with_a_cap_and_a_summary():
    x = ag.tensor(0.5, requires_grad=True, name="x")
    y = x
    for i in range(100_000):
        y = y + 1.0
    pic = viz.draw(y, max_nodes=60)
    assert gc.isenabled()                             # the walk pauses the collector, then restores it
    src = pic.source
    assert "99,940 more ops not drawn" in src and "max_nodes=60" in src
    assert len(re.findall(r"^\s*op\d+ \[", src, re.M)) == 60
    texts = svg_texts(svg_of(pic))
    assert any("more ops not drawn" in t for t in texts)
    y.backward()                                      # and after freeing, in the backward view
    assert "more ops not drawn" in viz.draw(y, max_nodes=30, view="backward").source
    buf = io.StringIO()
    viz.print_graph(y, max_nodes=10, file=buf)
    assert "99990 more ops" in buf.getvalue()


def test_missing_dot_says_how_to_install_it(monkeypatch, tmp_path):
    y = (ag.tensor([1.0], requires_grad=True) * 2).sum()
    pic = viz.draw(y)
    monkeypatch.setenv("PATH", str(tmp_path))        # no dot anywhere on PATH
    assert "digraph" in pic.source                   # the DOT source needs no dot
    with pytest.raises(viz.DotNotFoundError, match="apt-get install graphviz") as err:
        pic.svg()
    assert ".ci/setup" in str(err.value) and isinstance(err.value, RuntimeError)
    with pytest.raises(viz.DotNotFoundError):
        pic.render(str(tmp_path / "out"))
    with pytest.raises(viz.DotNotFoundError):
        pic._repr_mimebundle_()                      # what Jupyter calls


def test_notebook_display_is_inline_svg():
    y = (ag.tensor([1.0], requires_grad=True) * 2).sum()
    bundle = viz.draw(y)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_importing_autograd_loads_no_graphviz_and_viz_no_nn():
    code = ("import sys; from chaingrad import autograd as ag; assert 'graphviz' not in sys.modules; "
            "ag.viz; assert 'graphviz' in sys.modules; "
            "assert 'chaingrad.nn' not in sys.modules and 'chaingrad.optim' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


# ------------------------------------------------------------------ text views

def test_print_graph_lists_every_op():
    net, x, target = two_layer()
    loss = mse_loss(net(x), target)
    loss.name = "loss"
    loss.backward(retain_graph=True)
    buf = io.StringIO()
    viz.print_graph(loss, model=net, file=buf)
    text = buf.getvalue()
    assert text.startswith("graph of loss: 8 ops")
    assert "= matmul(x, layers.0.weight)" in text and "[Net / layers.0: Linear]" in text
    assert "layers.0.weight  leaf (requires grad)  (2, 3) float64" in text
    assert "loss = mean(" in text and "<- output" in text and "[mse_loss]" in text
    w = net.layers[0].weight
    assert f"grad {ag.viz.fmt.array_text(w.grad.data)}" in text
    freed = mse_loss(net(x), target)
    freed.backward()
    buf = io.StringIO()
    viz.print_graph(freed, file=buf)
    assert "(freed)" in buf.getvalue() and "= matmul(const0, leaf0)" in buf.getvalue()


def test_explain_fills_in_the_numbers(capsys):
    x = ag.tensor([0.5, 1.0], requires_grad=True, name="x")
    y = x.tanh()
    y.name = "y"
    viz.explain(y, grad=np.array([1.0, 2.0]))
    out = capsys.readouterr().out
    assert "y = tanh(x)    output y (2,) float64" in out and "1 - y²" in out and "g·(1 - y²)" in out
    assert "x = [0.5, 1]    (x, leaf)" in out
    expected = np.array([1.0, 2.0]) * (1 - np.tanh(x.data) ** 2)
    assert f"grad_x = [{expected[0]:.4g}, {expected[1]:.4g}]" in out
    a = ag.tensor([[1.0, 2.0]], requires_grad=True)
    b = ag.tensor([[3.0], [4.0]], requires_grad=True)
    viz.explain(a @ b)                               # no gradient given: ones, and it says so
    out = capsys.readouterr().out
    assert "g @ Bᵀ" in out and "ones" in out and "grad_A = [[3, 4]]" in out and "grad_B = [[1], [2]]" in out
    viz.explain(x)
    assert "leaf" in capsys.readouterr().out


def test_explain_a_user_primitive_shows_its_vjp_source(capsys):
    @ag.primitive
    def cube(x):
        return x ** 3
    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    y = cube(ag.tensor([2.0], requires_grad=True))
    viz.explain(y)
    out = capsys.readouterr().out
    assert "g * 3 * x ** 2" in out and "grad_x = [12]" in out


def test_record_grads_keeps_inner_gradients_without_changing_dot_grad():
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    with viz.record_grads() as rec:
        h = x * 2.0
        loss = (h * h).sum()
        loss.backward()
    assert np.allclose(rec[h], 2 * h.data)                   # d loss / d h = 2h
    assert np.allclose(rec[x], x.grad.data) and np.allclose(x.grad.data, 8 * x.data)
    assert h.grad is None and x.grad is not None             # .grad semantics unchanged
    assert not ag.graph._state.observers                     # the observer is gone with the block
    assert viz.last_record() is rec


def test_grad_report_norms_ratios_and_dead_relus():
    # layer 0 makes unit 0 negative for every example: a dead ReLU (1 of 3 units).
    net = Net(Linear([[-1.0, 1.0, 0.5], [-1.0, 0.5, 1.0]], [-1.0, 0.0, 0.0]), Act("relu"),
              Linear([[1.0], [1.0], [1.0]], [0.0]))
    x = ag.tensor([[1.0, 2.0], [0.5, 0.5], [2.0, 1.0]])
    with viz.record_grads():
        loss = mse_loss(net(x), ag.tensor([[1.0], [0.0], [1.0]]))
        loss.backward()
    report = viz.grad_report(net)
    rows = {r["layer"]: r for r in report.rows}
    assert set(rows) == {"layers.0", "layers.1", "layers.2"}
    assert rows["layers.1"]["dead_relu"] == pytest.approx(1 / 3)
    w, b = net.layers[0].weight, net.layers[0].bias
    gn = np.sqrt((w.grad.data ** 2).sum() + (b.grad.data ** 2).sum())
    assert rows["layers.0"]["grad_norm"] == pytest.approx(gn)
    assert rows["layers.0"]["ratio"] == pytest.approx(gn / np.sqrt((w.data ** 2).sum() + (b.data ** 2).sum()))
    assert rows["layers.0"]["params"] == 9 and rows["layers.0"]["type"] == "Linear"
    text = str(report)
    assert text.splitlines()[0].split() == list(report.COLUMNS)
    assert "33%" in text and "<table>" in report._repr_html_()
    # all units dead: flagged; a parameter without gradient: flagged
    net.layers[0].bias.data = np.array([-10.0, -10.0, -10.0])
    for p in net.parameters():
        p.grad = None
    with viz.record_grads():
        mse_loss(net(x), ag.tensor([[1.0], [0.0], [1.0]])).backward()
    rows = {r["layer"]: r for r in viz.grad_report(net).rows}
    assert rows["layers.1"]["dead_relu"] == 1.0 and "dead" in rows["layers.1"]["flag"]
    assert "vanishing" in rows["layers.0"]["flag"]
    net.layers[2].bias.grad = None
    assert "no grad" in viz.grad_report(net)["layers.2"]["flag"]


# ------------------------------------------------------------------ the README's picture

def test_the_example_command_writes_the_readme_picture(tmp_path):
    out = tmp_path / "graph.svg"
    subprocess.run([sys.executable, "-m", "chaingrad.example", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    texts = svg_texts(out.read_text())
    for label in ("layers.0: Linear", "layers.0.weight", "layers.2.bias", "mse_loss", "loss", "legend"):
        assert label in texts, label
    assert sum(t == "grad" for t in texts) >= 8 and sum(t == "data" for t in texts) >= 8
    committed = os.path.join(ROOT, "notebooks", "figures", "two_layer_graph.svg")
    assert sorted(svg_texts(open(committed, encoding="utf-8").read())) == sorted(texts), \
        "the committed picture is stale: run python -m chaingrad.example notebooks/figures/two_layer_graph.svg"


def test_names_with_markup_characters_are_escaped():
    x = ag.tensor([1.0], requires_grad=True, name='a<b> & "c"')
    y = (x * 2.0).sum()
    texts = svg_texts(svg_of(viz.draw(y, formulas=True, view="dataflow")))
    assert 'a<b> & "c"' in texts
    assert 'a<b> & "c"' in "\n".join(svg_texts(svg_of(viz.draw(y, view="backward"))))


def test_a_parameter_gradient_from_a_plain_backward_is_drawn():
    """nn.Parameter is a Tensor subclass: its .grad must show without record_grads."""
    from chaingrad import nn
    m = nn.Linear(2, 1)
    loss = m(ag.randn(3, 2)).sum()
    loss.backward()
    dot = ag.viz.draw(loss, model=m).source
    weight_line = next(line for line in dot.splitlines() if "<B>weight</B>" in line)
    assert "grad" in weight_line and "not computed" not in weight_line
    assert f"{m.weight.grad.data[0, 0]:.4g}" in weight_line


def test_the_small_helpers_are_defined_once():
    """One is_op, one shape text (errors.shape_str), one gradient table, one VJP source reader."""
    import ast
    defs = {}
    for path in sorted((os.path.join(d, f) for d, _, fs in os.walk(os.path.join(ROOT, "autograd"))
                        for f in fs if f.endswith(".py"))):
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.FunctionDef):
                defs.setdefault(node.name, []).append(os.path.relpath(path, ROOT))
    for name in ("is_op", "shape_str", "grad_table", "source_text"):
        assert len(defs.get(name, [])) == 1, (name, defs.get(name))
    for gone in ("shape_text", "_grad_lookup", "_grad_table", "_vjp_source", "_source"):
        assert gone not in defs, (gone, defs[gone])
    assert defs["grad_of"] == [os.path.join("autograd", "viz", "draw.py")]   # the builder's, over walk.grad


def _viz_sources():
    here = os.path.join(ROOT, "autograd", "viz")
    return {name: open(os.path.join(here, name), encoding="utf-8").read()
            for name in sorted(os.listdir(here)) if name.endswith((".py", ".js", ".html", ".css"))}


def test_the_pictures_name_no_layer_and_call_no_module_method():
    """ag.viz knows a model only through modules_for_pictures(): it names no nn layer class
    and calls no other method of nn.Module (so a layer or method renamed in nn cannot break it)."""
    import inspect
    from chaingrad import nn
    layers = {n for n in nn.__all__ if inspect.isclass(getattr(nn, n)) and issubclass(getattr(nn, n), nn.Module)}
    layers -= {"Module"} | set(viz.__all__)          # the protocol's implementer; viz's own Step
    methods = {n for n, v in vars(nn.Module).items() if callable(v) and not n.startswith("_")}
    methods -= {"modules_for_pictures", "forward"}           # "forward": also the name of a phase of the page
    assert {"Linear", "ReLU", "Tanh", "Sequential"} <= layers and {"named_parameters", "parameters"} <= methods
    found = []
    for name, text in _viz_sources().items():
        found += [(name, w) for w in sorted(layers) if re.search(rf"\b{w}\b", text)]
        if name.endswith(".py"):                       # (the scripts' Math.max.apply is JavaScript's)
            found += [(name, m) for m in sorted(methods) if re.search(rf"\.{m}\(|[\"']{m}[\"']", text)]
    assert found == []


def test_a_model_is_asked_through_one_method():
    from chaingrad import nn
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.Tanh(), shared)                 # one module, called twice
    parts = net.modules_for_pictures()
    assert [p for p, _, _ in parts] == ["", "0", "1"]               # a shared module once
    assert [n for n, _ in parts[1][2]] == ["weight", "bias"] and parts[0][2] == parts[2][2] == []
    loss = net(ag.tensor([[1.0, 2.0]])).sum()
    src = viz.draw(loss, model=net).source
    assert "0.weight" in src and "label=<0: Linear (call 2)>" in src
    # without model=, a collapsed module still counts its parameters through the protocol
    assert "6 parameters" in viz.draw(loss, depth=1).source
    with pytest.raises(TypeError, match=r"draw: model= takes a module that offers modules_for_pictures\(\)"):
        viz.draw(loss, model=object())
    with pytest.raises(TypeError, match=r"grad_report: model= .* not a dict"):
        viz.grad_report({"0.weight": shared.weight})
