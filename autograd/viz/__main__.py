"""``python -m chaingrad.autograd.viz --example out.svg``: draw the README's two-layer network.

``--dot`` writes the DOT source instead (no Graphviz program needed).
"""
import argparse
import sys

from .example import two_layer_example


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m chaingrad.autograd.viz", description=__doc__.splitlines()[0])
    ap.add_argument("--example", metavar="OUT", required=True,
                    help="write the two-layer network's picture here (.svg, or .gv/.dot for DOT source)")
    args = ap.parse_args(argv)
    pic = two_layer_example()
    out = args.example
    text = pic.source if out.endswith((".gv", ".dot")) else pic.svg()
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
