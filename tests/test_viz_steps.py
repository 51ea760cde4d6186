"""ag.viz.backward_steps: one frame per node in the engine's own order, the fan-out sums
made visible, .grad untouched, and frames that render as SVG."""
import numpy as np
import pytest

from chaingrad import autograd as ag
from chaingrad.autograd import viz

from test_viz import svg_texts


def fan_out():
    a = ag.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    b.name = "b"
    c = b + b
    c.name = "c"
    return a, b, c


def test_fan_out_frames_show_each_part_and_the_running_sum():
    a, b, c = fan_out()
    steps = list(viz.backward_steps(c))
    assert [s.kind for s in steps] == ["op", "op", "leaf"]
    first, second, last = steps
    assert first.key is c._node and float(first.upstream) == 1.0
    assert [p.name for p in first.parts] == ["b", "b"]
    assert [float(p.grad) for p in first.parts] == [1.0, 1.0]
    assert [float(p.total) for p in first.parts] == [1.0, 2.0]            # the running sum
    assert [(p.received, p.expected) for p in first.parts] == [(1, 2), (2, 2)]
    assert second.key is b._node and float(second.upstream) == 2.0       # b got 1 + 1
    assert [float(p.total) for p in second.parts] == [2.0, 4.0]
    assert last.key is a._node and float(last.upstream) == 4.0 and last.parts == []
    text = "\n".join(str(s) for s in steps)
    assert "b so far 1 (1 of 2 parts, more to come)" in text
    assert "a so far 4 (2 of 2 parts, complete)" in text
    assert "step 3 of 3: leaf a receives 4" in text
    assert a.grad is None                                    # stepping changes no .grad ...
    c.backward()                                             # ... and keeps the graph
    assert float(a.grad.data) == 4.0


def test_fan_out_frame_pictures():
    a, b, c = fan_out()
    steps = list(viz.backward_steps(c))
    texts = svg_texts(steps[1].svg())
    assert "backward step 2 of 3: add -> b, upstream grad 2" in texts
    assert "part 1 of 2" in texts and "part 2 of 2" in texts and "sum 4" in texts
    assert "sum of 2 parts" in texts                          # a's box: its gradient is complete
    src = steps[1].draw().source
    assert src.count("dir=back") == 2 and src.count('fontcolor="#c00000"') == 2   # two red edges
    before = steps[0].draw().source                           # a has no gradient yet in frame 1
    a_line = next(line for line in before.splitlines() if "<B>a</B>" in line)
    assert "not computed" in a_line and "dashed" in a_line
    assert steps[0]._repr_svg_().count("<svg") == 1


def test_order_and_sums_match_the_engine():
    ag.manual_seed(1)
    x = ag.randn(4, 3)
    w = ag.randn(3, 2, requires_grad=True)
    bias = ag.zeros(2, requires_grad=True)
    h = (x @ w + bias).tanh()
    loss = (h * h).mean() + (w * w).sum() * 0.1               # w used twice: fan-out at a leaf
    steps = list(viz.backward_steps(loss))
    with viz.record_grads() as rec:
        loss.backward(retain_graph=True)
    assert [s.key for s in steps] == rec.order                 # the engine's own visiting order
    for s in steps:                                            # each upstream = the engine's gradient
        np.testing.assert_allclose(s.upstream, rec.grads[s.key])
    leaf_steps = {id(s.key): s for s in steps if s.kind == "leaf"}
    np.testing.assert_allclose(leaf_steps[id(w._node)].upstream, w.grad.data)
    np.testing.assert_allclose(leaf_steps[id(bias._node)].upstream, bias.grad.data)
    assert bias.grad.shape == (2,)                             # broadcasting undone in the parts too
    bias_part = next(p for s in steps for p in s.parts if p.key is bias._node)
    assert bias_part.grad.shape == (2,)


def test_non_scalar_root_takes_grad_and_a_freed_graph_is_refused():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 3.0
    steps = list(viz.backward_steps(y, grad=np.array([1.0, -1.0])))
    assert [float(v) for v in steps[-1].upstream] == [3.0, -3.0]
    y.backward(np.array([1.0, 1.0]))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.backward_steps(y)


def test_steps_html_shows_every_frame():
    a, b, c = fan_out()
    page = viz.steps_html(viz.backward_steps(c))
    assert page.count("<svg") == 3 and page.count("<figure") == 3
    assert "step 2 of 3" in page and page._repr_html_() == page
    assert viz.steps_html(c).count("<svg") == 3                # a tensor works too


# ---- issue 17, items 5 and 15 ------------------------------------------------------------------
def _chain(n):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y.sum()


def test_explore_memory_grows_linearly_with_the_graph():
    import tracemalloc

    def peak(n):
        loss = _chain(n)
        tracemalloc.start()
        ag.viz.explore(loss, max_nodes=50)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak
    small, large = peak(500), peak(2000)
    assert large < 6 * small        # quadratic growth would be 16x (it was +26 MB / +85 MB / +321 MB)


def test_steps_share_one_log_of_gradients():
    steps = list(ag.viz.backward_steps(_chain(50)))
    assert steps[0]._shown[0] is steps[-1]._shown[0]           # one log for all steps
    assert len(steps[-1].grads) > len(steps[0].grads)


def test_explore_after_an_ordinary_backward_from_its_recording():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    with ag.viz.record_grads() as rec:
        loss.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="record_grads"):
        ag.viz.explore(loss)                                  # the message names the way
    steps = list(ag.viz.backward_steps(loss, record=rec))
    assert [s.kind for s in steps] == ["op", "op", "leaf"]
    np.testing.assert_array_equal(steps[-1].upstream, [2.0, 4.0])
    page = ag.viz.explore(loss, record=rec)
    assert sum(1 for f in page.data["explore"]["frames"] if "parts" in f) >= 2
