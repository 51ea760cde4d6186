"""The ``chaingrad`` command: train a network, evaluate a saved model, redraw its graph.

    chaingrad train                          # digits, MLP 64-32, Adam: about 15 s
    chaingrad train --dataset moons --hidden 16 --epochs 30 --out runs/moons
    chaingrad evaluate runs/moons/model.npz  # accuracy on the test split
    chaingrad draw runs/moons/model.npz      # graph.svg of one batch, next to the model

Every mistake a user can make on the command line ends in ONE line on stderr
and a non-zero exit status (2 for bad arguments, 1 for everything else),
never in a Python traceback. ``CHAINGRAD_DEBUG=1`` shows the traceback of an
unexpected error.
"""
import argparse
import math
import os
import sys

from .datasets import DATASETS, DEFAULT_DATASET

ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "scaled_tanh", "softplus")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adadelta", "adam")
DTYPES = ("float32", "float64")
DEFAULT_HIDDEN = "64,32"


class CLIError(Exception):
    """A mistake of the user's, reported as one line; ``status`` is the exit code."""

    def __init__(self, message, status=1, prog="chaingrad"):
        super().__init__(message)
        self.status, self.prog = status, prog


def one_line(message):
    """Squash a possibly multi-line message (e.g. a list of mismatched keys) into one line."""
    return "; ".join(part.strip() for part in str(message).splitlines() if part.strip())


class _Parser(argparse.ArgumentParser):
    """argparse prints the whole usage block before an error; we print one line instead."""

    def error(self, message):
        raise CLIError(f"{message} (see {self.prog} --help)", status=2, prog=self.prog)


# --- argument types: each turns a string into a value or says, in one line, why not ---

def hidden_sizes(text):
    """``"64,32"`` -> ``[64, 32]``; ``""`` or ``"none"`` -> ``[]`` (no hidden layer: softmax regression)."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"cannot parse {text!r}: give layer widths separated by commas, e.g. 64,32") from None
    if any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return sizes


def _number(kind, low, low_ok, high=None, high_ok=False):
    """An argument type: a number of ``kind`` in the range given by its bounds."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a{'n integer' if kind is int else ' number'}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
        bad_low = value < low or (value == low and not low_ok)
        bad_high = high is not None and (value > high or (value == high and not high_ok))
        if bad_low or bad_high:
            rng = f"{'>=' if low_ok else '>'} {low:g}"
            if high is not None:
                rng += f" and {'<=' if high_ok else '<'} {high:g}"
            raise argparse.ArgumentTypeError(f"must be {rng}, got {text!r}")
        return value
    return parse


def _path(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a path, got an empty string")
    return text


# --- the parser ---

_TRAIN_EXAMPLES = """\
examples:
  chaingrad train
      the default: 8x8 digits, MLP 64-64-32-10 with ReLU, Adam (lr 0.003), 20 epochs
  chaingrad train --dataset moons --hidden 16,16 --epochs 40 --out runs/moons
  chaingrad train --dataset spirals --hidden 64,64 --activation tanh --optimizer rmsprop
  chaingrad train --dataset digits --batchnorm --dropout 0.1 --dtype float64 --seed 1
  chaingrad train --dataset xor --hidden 4 --activation tanh --optimizer sgd --lr 0.2

datasets (split into train / validation / test the same way in every run):
{datasets}

output directory (--out; default runs/<dataset>-<date>-<time>, and runs/latest links to it):
  model.npz   weights and architecture (read by chaingrad evaluate / draw)
  graph.svg   the computation graph of one training batch, grouped by module
  graph.html  with --html: that graph as an interactive page (playground.html too for 2-D data)
  curves.png  loss and accuracy per epoch
  run.json    the settings and the results of the run
"""

_EVALUATE_EXAMPLES = """\
examples:
  chaingrad evaluate runs/latest/model.npz
  chaingrad evaluate runs/moons/model.npz
"""

_DRAW_EXAMPLES = """\
examples:
  chaingrad draw runs/moons/model.npz                 # writes runs/moons/graph.svg
  chaingrad draw runs/moons/model.npz --out moons.svg --depth 2
  chaingrad draw runs/moons/model.npz --html          # also graph.html, the interactive page
"""


def build_parser():
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="chaingrad", formatter_class=fmt,
        description="Train a small feed-forward network with chaingrad's autograd, nn and optim,\n"
                    "evaluate a saved model, or draw its computation graph.",
        epilog="examples:\n  chaingrad train\n  chaingrad train --dataset moons --epochs 30\n"
               "  chaingrad evaluate runs/latest/model.npz\n  chaingrad draw runs/latest/model.npz\n\n"
               "`chaingrad COMMAND --help` tells more about each command.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = sub.add_parser(
        "train", formatter_class=fmt,
        epilog=_TRAIN_EXAMPLES.format(datasets="\n".join(f"  {k:8s}{d.about}" for k, d in DATASETS.items())),
        help="train an MLP on a built-in dataset and write model, graph, curves and report",
        description="Train a multilayer perceptron with softmax cross-entropy on a built-in dataset.\n"
                    "A progress bar shows the running loss; each epoch ends with a line of train loss,\n"
                    "train accuracy and validation accuracy; the run ends with the test accuracy.")
    train.add_argument("--dataset", choices=list(DATASETS), default=None, metavar="NAME",
                       help=f"one of {', '.join(DATASETS)} (default: {DEFAULT_DATASET})")
    train.add_argument("--hidden", type=hidden_sizes, default=hidden_sizes(DEFAULT_HIDDEN), metavar="SIZES",
                       help=f"hidden layer widths separated by commas; 'none' for no hidden layer "
                            f"(default: {DEFAULT_HIDDEN})")
    train.add_argument("--activation", choices=ACTIVATIONS, default="relu", metavar="NAME",
                       help=f"hidden activation: {', '.join(ACTIVATIONS)} (default: relu)")
    train.add_argument("--batchnorm", action="store_true",
                       help="batch normalisation after each hidden linear layer")
    train.add_argument("--dropout", type=_number(float, 0.0, True, 1.0, False), default=0.0,
                       metavar="P", help="drop probability after each hidden activation, 0 <= P < 1 (default: 0)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", metavar="NAME",
                       help=f"{', '.join(OPTIMIZERS)} (default: adam; momentum is SGD with momentum 0.9)")
    train.add_argument("--lr", type=_number(float, 0.0, False), default=None,
                       help="learning rate > 0 (default depends on the optimizer: "
                            "sgd 0.1, momentum 0.05, rmsprop 0.001, adadelta 1.0, adam 0.003)")
    train.add_argument("--epochs", type=_number(int, 1, True), default=None, metavar="N",
                       help="passes over the training split (default depends on the dataset)")
    train.add_argument("--batch-size", type=_number(int, 1, True), default=32,
                       metavar="N", help="rows per step (default: 32)")
    train.add_argument("--seed", type=_number(int, 0, True), default=0, metavar="N",
                       help="seed for initialisation, shuffling and dropout (default: 0); "
                            "the dataset split does not depend on it")
    train.add_argument("--dtype", choices=DTYPES, default="float32", metavar="NAME",
                       help="float32 or float64 for weights and data (default: float32)")
    train.add_argument("--out", type=_path, default=None, metavar="DIR",
                       help="output directory (default: runs/<dataset>-<date>-<time>)")
    # --html: interactive pages (chaingrad/pages.py)
    train.add_argument("--html", action="store_true",
                       help="also write graph.html (step through one batch's graph in a browser) and, "
                            "for 2-D datasets, playground.html (decision regions per epoch)")

    evaluate = sub.add_parser(
        "evaluate", formatter_class=fmt, epilog=_EVALUATE_EXAMPLES,
        help="report a saved model's accuracy on its dataset's test split",
        description="Load a model written by `chaingrad train` and report its accuracy on the test\n"
                    "split of the dataset it was trained on (the split is the same in every run).")
    evaluate.add_argument("model", metavar="MODEL.npz", help="a model.npz written by chaingrad train")

    draw = sub.add_parser(
        "draw", formatter_class=fmt, epilog=_DRAW_EXAMPLES,
        help="redraw the computation graph of a saved model on one batch (SVG)",
        description="Load a model written by `chaingrad train`, run one training batch through it\n"
                    "(forward, loss, backward) and draw the graph with module clusters as SVG.")
    draw.add_argument("model", metavar="MODEL.npz", help="a model.npz written by chaingrad train")
    draw.add_argument("--out", type=_path, default=None, metavar="FILE.svg",
                      help="where to write the picture (default: graph.svg next to the model)")
    draw.add_argument("--depth", type=_number(int, 0, True), default=None, metavar="K",
                      help="module nesting shown as clusters; deeper modules collapse into one box")
    # --html: interactive page (chaingrad/pages.py)
    draw.add_argument("--html", action="store_true",
                      help="also write graph.html beside the picture: step through forward and backward, "
                           "click any node")
    return parser


def main(argv=None):
    """Entry point of the ``chaingrad`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command == "train":
            from .train import run_train
            return run_train(args)
        if args.command == "evaluate":
            from .train import run_evaluate
            return run_evaluate(args)
        from .train import run_draw
        return run_draw(args)
    except CLIError as e:
        print(f"{e.prog}: error: {one_line(e)}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("chaingrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:    # e.g. `chaingrad train | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:   # a bug of ours: still one line, but say how to see the traceback
        if os.environ.get("CHAINGRAD_DEBUG"):
            raise
        print(f"chaingrad: internal error: {type(e).__name__}: {one_line(e)} "
              f"(run with CHAINGRAD_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 1
