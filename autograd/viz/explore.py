"""``explore``: the graph as one interactive HTML page that works offline.

    a = ag.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    c = b + b
    page = ag.viz.explore(c)      # displays inline in Jupyter
    page.save("graph.html")       # or open it in any browser, offline

The page shows the picture ``draw`` makes and replays it: forward, one op at a
time in the order the ops were made, then backward, one frame per node in the
order the engine visits them (the frames of ``backward_steps``), with the
gradient each edge carries and the running sum where a tensor is used more
than once (``a`` above gets 2 + 2 = 4).  Buttons, a slider or the arrow keys
step; a click on a box shows its value, gradient, module and, for an op's
output, the op's local derivatives and the VJP with this node's numbers; a
click on a module's name collapses it.

Everything is in the one file: the picture (SVG), the data (JSON) and a small
script of our own (``explore.js``); no network, no library.
"""
import html
import json
import os
import re
from importlib import resources

from .explore_data import page_data

IFRAME_HEIGHT = 720


def _asset(name):
    """A file shipped beside this module (the page template, its script and style)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _json_for_script(obj):
    """JSON that is safe inside <script>: no "</" can close the element early."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def render_page(title, svg="", before="", data=None, scripts=("explore.js",)):
    """Fill the page template: ``svg`` (the picture), ``before`` (HTML above the explorer,
    e.g. the playground), ``data`` (the JSON object the scripts read)."""
    parts = {"TITLE": html.escape(title), "CSS": _asset("explore.css"), "SVG": svg, "BEFORE": before,
             "DATA": _json_for_script(data or {}), "JS": "\n".join(_asset(s) for s in scripts)}
    # One pass over the template, so text put in is never searched for markers again.
    return re.sub(r"__(TITLE|CSS|SVG|BEFORE|DATA|JS)__", lambda m: parts[m.group(1)], _asset("explore.html"))


class Page:
    """An HTML page: ``html`` (the text), ``save(path)``, inline display in Jupyter.

    ``data`` is the JSON object inside the page (``data["explore"]``: frames,
    panels...; ``data["playground"]``: epochs), for tests and for readers who
    want the numbers.
    """

    def __init__(self, html_text, data):
        self.html = html_text
        self.data = data

    def save(self, path):
        """Write the page to ``path`` (UTF-8); returns the path."""
        path = os.fspath(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return path

    @property
    def size(self):
        """Bytes of the page as saved."""
        return len(self.html.encode("utf-8"))

    def _repr_html_(self):
        # An iframe keeps the page's script and styles apart from the notebook's.
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width:100%;height:{IFRAME_HEIGHT}px;border:1px solid #ddd" '
                f'sandbox="allow-scripts"></iframe>')

    def __repr__(self):
        return f"<chaingrad page: {self.size:,} bytes; .save(path) writes it>"


def explore(root, model=None, name_map=None, grad=None, title=None, max_nodes=200, depth=None,
            expand_composites=None, rankdir="TB", record=None):
    """The interactive page of the graph behind ``root`` (see the module docstring).

    Call it before ``backward`` or after ``backward(retain_graph=True)``: the
    frames come from running the engine's backward once more with an observer
    (``.grad`` is left untouched).  After an ordinary backward, pass the
    recording of it: ``with ag.viz.record_grads() as rec: loss.backward()``,
    then ``explore(loss, record=rec)`` (values freed by backward show as such).  ``model``, ``name_map``, ``depth``,
    ``max_nodes`` and ``rankdir`` are as for ``ag.viz.draw``; ``grad`` is the
    output gradient for a non-scalar ``root``.  Above ``max_nodes`` ops the
    picture collapses composite ops into one box each and draws only the
    ``max_nodes`` ops nearest the output, as ``draw`` does
    (``expand_composites`` overrides the first choice).
    """
    data = page_data(root, model=model, name_map=name_map, grad=grad, title=title,
                     max_nodes=max_nodes, depth=depth, expand_composites=expand_composites,
                     rankdir=rankdir, record=record)
    svg = data.pop("svg")
    data = {"explore": data}
    return Page(render_page(data["explore"]["title"], svg=svg, data=data), data)
