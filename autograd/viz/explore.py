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
click on a module's name collapses it.  The picture fits its panel when the
page opens (the legend sits beside it); the wheel, a drag, the buttons and the
keys (+ - 0, Shift+arrows) zoom and pan, and stepping pans to the active node.

Everything is in the one file: the picture (SVG), the data (JSON) and a small
script of our own (``explore.js``); no network, no library.  What a page may
contain is stated by its Content-Security-Policy (``<meta>``): nothing from
the network (``default-src 'none'``), no script but ours (``script-src`` with
the SHA-256 hash of our script, so no injected script and no ``javascript:``
URL runs) and no style but ours (``style-src`` with its hash; the script sets
colours through the DOM's style properties, which the policy allows).  Every
string a user wrote reaches the page as text: the picture's labels are
escaped by ``draw``, the data is JSON with ``<``, ``>`` and ``&`` written as
``\\u003c`` etc. (no ``</script>`` or ``<!--`` can end or hide the data
block), everything outside ASCII escaped (U+2028 included), and non-finite
numbers written as the text ``"nan"``, ``"inf"``, ``"-inf"``.
"""
import base64
import hashlib
import html
import json
import math
import os
import re
from importlib import resources

from ..files import write_atomically
from . import fmt
from .explore_data import page_data

IFRAME_HEIGHT = 720


def _asset(name):
    """A file shipped beside this module (the page template, its script and style)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


# Inside <script>, "<" could open "</script>" or "<!--"; "&" and ">" are escaped alike
# for good measure.  They only occur inside JSON strings, where \u003c means "<".
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _finite(obj):
    """JSON-ready data with each nan/inf float replaced by its text ("nan", "inf", "-inf"):
    JSON has no such numbers, and ``JSON.parse`` refuses Python's ``NaN``.  (Recursive:
    the data is our own, a few levels deep.)"""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else fmt.num(obj)
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def json_for_script(obj):
    """``obj`` as JSON that is inert inside an HTML ``<script>`` element (see the module
    docstring): ASCII only, no ``<`` ``>`` ``&``, no NaN or Infinity."""
    text = json.dumps(_finite(obj), separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.translate(_SCRIPT_SAFE)


def _sha256(text):
    """The CSP source that allows exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render_page(title, svg="", before="", data=None, scripts=("explore.js",)):
    """Fill the page template: ``svg`` (the picture), ``before`` (HTML above the explorer,
    e.g. the playground), ``data`` (the JSON object the scripts read)."""
    css = _asset("explore.css")
    js = "\n".join(_asset(s) for s in scripts)
    csp = (f"default-src 'none'; script-src {_sha256(js)}; style-src {_sha256(css)}; "
           "base-uri 'none'; form-action 'none'")
    parts = {"TITLE": html.escape(fmt.clip(title, fmt.TITLE_MAX)), "CSP": csp, "CSS": css, "SVG": svg,
             "BEFORE": before, "DATA": json_for_script(data or {}), "JS": js}
    # One pass over the template, so text put in is never searched for markers again.
    return re.sub(r"__(TITLE|CSP|CSS|SVG|BEFORE|DATA|JS)__", lambda m: parts[m.group(1)],
                  _asset("explore.html"))


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
        """Write the page to ``path`` (UTF-8); returns the path.

        Atomically, as ``nn.save`` writes models: a temporary file in the same
        folder is renamed over ``path``, so a reader never sees half a page, and
        a symbolic link at ``path`` is replaced, never written through.
        """
        path = os.fspath(path)
        write_atomically(path, lambda f: f.write(self._bytes()))
        return path

    def _bytes(self):
        # A page we render is all valid text; a lone surrogate in one made elsewhere
        # becomes its escape instead of an error.
        return self.html.encode("utf-8", errors="backslashreplace")

    @property
    def size(self):
        """Bytes of the page as saved."""
        return len(self._bytes())

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
