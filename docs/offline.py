"""MkDocs hook: the built site loads nothing from the network, and the notebooks' math still shows.

mkdocs-jupyter renders notebooks with nbconvert's template, which loads MathJax
(and mermaid, for diagrams) from a CDN.  This hook, on every page:

1. removes those script blocks;
2. turns the TeX between dollar signs in the notebooks' markdown cells into
   MathML (latex2mathml, at build time), which browsers draw without a script;
3. fails the build if the page would still fetch a script, style, frame or
   image from another host.
"""
import html
import re

from mkdocs.exceptions import PluginError

# nbconvert's blocks, from its own comments to the end of the script that follows them
MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
MERMAID_BLOCK = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>', re.S)
# anything else that would be fetched from another host when the page is shown
REMOTE = re.compile(r'<(script|link|iframe|img|source|embed)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"', re.I)
FETCHED_LINKS = re.compile(r'rel="(?:stylesheet|preload|modulepreload|icon)"')

# a notebook's markdown cell as nbconvert writes it; the math inside is HTML-escaped TeX
MARKDOWN_CELL = re.compile(r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)(.*?)(</div>)', re.S)
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
CODE = re.compile(r"(<code>.*?</code>|<pre>.*?</pre>)", re.S)     # dollars in code stay dollars


def _mathml(match):
    """``$...$`` (inline) or ``$$...$$`` (display) as MathML; TeX it cannot read stays as it was."""
    from latex2mathml.converter import convert

    display = match.group(1) is not None
    tex = html.unescape(match.group(1) if display else match.group(2))
    try:
        return convert(tex, display="block" if display else "inline")
    except Exception:       # latex2mathml raises several types; the reader then sees the TeX
        return match.group(0)


def _cell_math(match):
    opening, body, closing = match.groups()
    parts = CODE.split(body)            # odd parts are code: left alone
    return opening + "".join(p if i % 2 else MATH.sub(_mathml, p) for i, p in enumerate(parts)) + closing


def on_post_page(output, page, config):
    if page.file.src_uri.endswith(".ipynb"):
        output = MERMAID_BLOCK.sub("", MATHJAX_BLOCK.sub("", output))
        output = MARKDOWN_CELL.sub(_cell_math, output)
    for match in REMOTE.finditer(output):
        tag = match.group(0)
        if match.group(1).lower() == "link" and not FETCHED_LINKS.search(tag):
            continue            # <link rel="canonical"> and the like are not fetched
        raise PluginError(f"{page.file.src_uri}: loads from the network: {tag[:200]}")
    return output
