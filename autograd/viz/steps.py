"""``backward_steps``: backward as a film, one frame per node in the order backward visits it.

Each frame shows the node backward is at, the gradient arriving from above
(upstream), what its VJP sends to each input, and the running sum at every
tensor that is used more than once (fan-out), until all its parts arrived::

    a = ag.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    c = b + b
    for step in ag.viz.backward_steps(c):
        print(step)
    # step 1 of 3: add -> c ... input 0 (b): +1, b so far 1 (1 of 2 parts) ...
    # step 2 of 3: add -> b, upstream 2 ... a so far 4 (2 of 2 parts)
    # step 3 of 3: leaf a receives 4 (= 2 + 2)

Everything comes from the real engine: it runs a backward pass (keeping the
graph, leaving every ``.grad`` untouched) and records each step as the engine
takes it (``engine.observe``): the order, the gradient after hooks, and
what the step sent to each input.  In a notebook a frame
displays as a picture (``step.svg()``); ``steps_html(steps)`` shows them all.
"""
import numpy as np

from .. import engine
from ..tensor import Tensor
from . import fmt
from .draw import frame_layout
from .model import ModelView
from .walk import Walk, gc_paused, labels, names


class Part:
    """What step sends to one input: ``grad`` (this contribution), ``total`` (the input's
    running sum after adding it), ``received`` of ``expected`` contributions so far."""
    __slots__ = ("index", "key", "name", "grad", "total", "received", "expected")

    def __init__(self, index, key, name, grad, total, received, expected):
        self.index, self.key, self.name, self.grad = index, key, name, grad
        self.total, self.received, self.expected = total, received, expected


class Step:
    """One frame of ``backward_steps``.

    ``kind`` is ``"op"`` (backward applies one op's VJPs) or ``"leaf"`` (a leaf
    receives its summed gradient); ``key`` the Node; ``upstream``
    the gradient arriving (ndarray); ``parts`` one :class:`Part` per input that
    gets a gradient.  ``draw()`` gives the picture of the graph at this moment.
    """

    def __init__(self, number, count, kind, key, name, upstream, parts, grads, walk, opts):
        self.number, self.count, self.kind, self.key, self.name = number, count, kind, key, name
        self.upstream, self.parts = upstream, parts
        self._shown = grads                  # (the pass's log of shown gradients, how far this step got)
        self._walk, self._opts = walk, opts         # the walk is shared by all steps of a pass

    @property
    def grads(self):
        """key -> (gradient so far, note) at this step, for the picture.  Replayed from the
        pass's one log when asked, so n steps keep O(n) arrays, not n copies of the table."""
        log, upto = self._shown
        out = {}
        for key, value in log[:upto]:
            out[key] = value
        return out

    @property
    def op(self):
        return self.key.op.name if self.kind == "op" else None

    @property
    def current(self):
        return self.key

    @property
    def edge_notes(self):
        notes = {}
        for p in self.parts:
            text = "+" + fmt.array_text(p.grad, 4)
            if p.expected > 1:       # fan-out: say which part this is and what the sum is now
                text += f"\npart {p.received} of {p.expected}\nsum {fmt.array_text(p.total, 4)}"
            notes[(self.key, p.index)] = text
        return notes

    @property
    def title(self):
        return f"backward step {self.number} of {self.count}: {self.headline()}"

    def headline(self):
        up = fmt.array_text(self.upstream, 4)
        if self.kind == "leaf":
            return f"leaf {self.name} receives {up}"
        return f"{self.op} -> {self.name}, upstream grad {up}"

    def __str__(self):
        lines = [f"step {self.number} of {self.count}: {self.headline()}"]
        if self.kind == "leaf":
            lines.append(f"  backward adds this into {self.name}.grad")
        for p in self.parts:
            state = "complete" if p.received == p.expected else "more to come"
            lines.append(f"  input {p.index} ({p.name}): +{fmt.array_text(p.grad, 4)}, "
                         f"{p.name} so far {fmt.array_text(p.total, 4)} "
                         f"({p.received} of {p.expected} part{'s' if p.expected > 1 else ''}, {state})")
        return "\n".join(lines)

    __repr__ = __str__

    def draw(self, **opts):
        """The graph at this step (keyword options as for ``ag.viz.draw``)."""
        merged = dict(expand_composites=True, max_nodes=None, grads=False)
        merged.update(self._opts)
        merged.update(opts)
        merged["view"] = "dataflow"
        return frame_layout(self._walk, self, **merged).picture

    def svg(self):
        return self.draw().svg()

    def _repr_svg_(self):
        return self.svg()


def backward_steps(root, grad=None, model=None, name_map=None, record=None, **draw_opts):
    """Yield one :class:`Step` per node backward visits, then one per leaf (see module doc).

    Before ``backward`` (or after ``backward(retain_graph=True)``) the steps come
    from running the engine's backward once more with an observer; ``.grad`` is
    untouched.  After an ordinary backward, pass what ``ag.viz.record_grads``
    recorded of it as ``record``: the steps are read from that recording, and
    the graph need not be built again (its values are gone, its gradients are not).
    """
    with gc_paused():
        walk = Walk(root)
    return walk_steps(walk, grad=grad, model=model, name_map=name_map, record=record, **draw_opts)


def walk_steps(walk, grad=None, model=None, name_map=None, record=None, **draw_opts):
    """As :func:`backward_steps`, for a graph already walked (a page walks its graph once)."""
    named = labels(walk, names(walk, ModelView(model, "backward_steps"), name_map))
    if record is not None:
        visits = _recorded_visits(record, walk)
    else:
        if walk.freed():
            raise RuntimeError(
                "backward_steps: backward already freed the saved values of this graph. To look at an "
                "ordinary backward, record it: `with ag.viz.record_grads() as rec: loss.backward()`, then "
                "pass record=rec (explore(loss, record=rec) too); or call backward(retain_graph=True)")
        visits = []

        def observe(node, g, sends):
            visits.append((node, _copy(g), [(i, parent, _copy(gi)) for i, parent, gi, _ in sends]))

        seeds = [grad] if len(walk.roots) == 1 else list(grad or [None] * len(walk.roots))
        with engine.observe(observe):          # a pass that delivers nothing: every .grad stays as it is
            engine.run_backward(walk.roots, seeds, True, False, lambda node, g, owned: None)
    return _frames(walk, named, visits, dict(draw_opts, model=model, name_map=name_map))


def _recorded_visits(record, walk):
    """The steps of the latest recorded backward through ``walk``'s roots."""
    roots = {r._node for r in walk.roots}
    starts = [k for k, (node, _, _) in enumerate(record.visits) if node in roots]
    if not starts:
        raise RuntimeError("backward_steps: the record holds no backward through this output; record "
                           "the backward itself: `with ag.viz.record_grads() as rec: loss.backward()`")
    kept = set(walk.nodes) | {k for k in walk.leaves if not walk.is_const(k)}
    return [v for v in record.visits[starts[-1]:] if v[0] in kept]


def _copy(g):
    return np.array(g.data if isinstance(g, Tensor) else g)


def _frames(walk, named, visits, opts):
    expected = {k: len(uses) for k, uses in walk.consumers.items()}
    running, received, log = {}, {}, []
    count = len(visits)
    for number, (key, g, sends) in enumerate(visits, 1):
        log.append((key, (g, "")))
        parts = []
        if not key.is_leaf:
            for i, p, gi in sends:
                # += : a tensor used several times gets the sum of the gradients (fan-out),
                # added in the order the engine's steps sent them, as the engine adds them.
                running[p] = running[p] + gi if p in running else gi
                received[p] = received.get(p, 0) + 1
                n = expected.get(p, 1)
                note = (f"so far: {received[p]} of {n} parts" if received[p] < n else
                        f"sum of {n} parts" if n > 1 else "")
                log.append((p, (running[p], note)))
                parts.append(Part(i, p, named.get(p, "?"), gi, running[p], received[p], n))
            kind = "op"
        else:
            kind = "leaf"
        yield Step(number, count, kind, key, named.get(key, "?"), g, parts, (log, len(log)), walk, opts)


class StepsHTML(str):
    """HTML text that Jupyter displays as the frames one after another."""

    def _repr_html_(self):
        return str(self)


def steps_html(steps, **draw_opts):
    """All frames as one HTML page (caption + inline SVG per step), e.g. for a notebook."""
    if isinstance(steps, Tensor):
        steps = backward_steps(steps)
    out = []
    for s in steps:
        svg = s.draw(**draw_opts).svg()
        svg = svg[svg.find("<svg"):]              # drop the XML prologue inside HTML
        caption = fmt.esc(str(s)).replace("\n", "<br/>")
        out.append(f'<figure style="margin:0 0 1em 0"><figcaption style="font-family:monospace">'
                   f'{caption}</figcaption>{svg}</figure>')
    return StepsHTML("\n".join(out))
