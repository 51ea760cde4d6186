"""Pictures of the computation graph that teach: values, gradients, modules, backward step by step.

    from chaingrad import autograd as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    with ag.viz.record_grads():          # keep inner gradients for the picture
        y = (x * x).tanh().sum()
        y.backward()
    ag.viz.draw(y)                       # a graphviz.Digraph; inline SVG in Jupyter
    ag.viz.print_graph(y)                # the same as text, no Graphviz needed

- ``draw(root, ...)``: the picture (see :func:`autograd.viz.draw.draw`).
- ``layout(root, ...)``: the picture and where each tensor and op is in it (a :class:`Layout`).
- ``record_grads()``: context manager keeping every gradient backward computes.
- ``backward_steps(loss)``: one frame per node, in the order backward visits them.
- ``explain(t)``: the VJP of the op that made ``t``, with the numbers filled in.
- ``grad_report(model)``: per layer gradient norm, |grad|/|weight| and units the relu op left dead.
- ``print_graph(root)``: a text listing of the graph.
- ``explore(root)`` / ``playground(recorder)``: interactive HTML pages (step, click, collapse).

Only the rendering (``picture.svg()``, notebooks) needs Graphviz's ``dot``
program; the DOT source (``picture.source``) does not.  A model is asked for
names through one method, ``modules_for_pictures()`` (see :mod:`autograd.viz.model`),
so the pictures never import ``nn``; ``python -m chaingrad.example out.svg``
draws the docs' two-layer network with ``nn``.
"""
from .draw import draw, layout
from .where import Layout
from .record import GradRecord, record_grads, last_record
from .render import DotNotFoundError, Picture
from .steps import Step, backward_steps, steps_html
from .report import explain, grad_report, print_graph
from .explore import Page, explore
from .playground import Recorder, playground

__all__ = ["draw", "layout", "Layout", "record_grads", "GradRecord", "last_record", "backward_steps", "Step",
           "steps_html", "explain", "grad_report", "print_graph", "DotNotFoundError", "Picture",
           "explore", "playground", "Page", "Recorder"]
