"""The picture object: a ``graphviz.Digraph`` whose rendering explains a missing ``dot``.

The DOT source (``pic.source``) never needs Graphviz's programs.  Rendering
(``pic.svg()``, ``pic.render(...)``, inline display in a notebook) runs
``dot``; when it is missing, :class:`DotNotFoundError` says how to install it.
"""
import graphviz

INSTALL_HINT = (
    "the Graphviz program 'dot' was not found on PATH; it is needed to render pictures "
    "(the DOT source is available without it: picture.source, or ag.viz.print_graph(root) "
    "for text). Install it with `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS), or run `bash .ci/setup` from the repository root.")


class DotNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""

    def __init__(self):
        RuntimeError.__init__(self, INSTALL_HINT)


class Picture(graphviz.Digraph):
    """A ``graphviz.Digraph`` with ``svg()`` and a helpful error when ``dot`` is missing.

    In Jupyter it displays inline as SVG (graphviz's ``_repr_mimebundle_``).
    """

    def pipe(self, *args, **kwargs):
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError() from None

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError() from None

    def svg(self):
        """The picture rendered to SVG text (runs ``dot``)."""
        return self.pipe(format="svg", encoding="utf-8")
