"""The ``chaingrad`` command: train a network, evaluate a saved model, redraw its graph.

    chaingrad train                          # digits, MLP 64-32, Adam: about 15 s
    chaingrad train --dataset moons --hidden 16 --epochs 30 --out runs/moons
    chaingrad evaluate runs/moons/model.safetensors  # accuracy on the test split
    chaingrad draw runs/moons/model.safetensors      # graph.svg of one batch, next to the model

Every mistake a user can make on the command line ends in ONE line on stderr
and a non-zero exit status (2 for bad arguments, 1 for everything else),
never in a Python traceback. ``CHAINGRAD_DEBUG=1`` shows the traceback of an
unexpected error.
"""
import argparse
import math
import os
import shlex
import sys

from . import report, train
from .checkpoint import ACTIVATIONS, DTYPES
from .datasets import DATASETS, DEFAULT_DATASET
from .errors import CLIError, one_line
from .report import PICTURE_FORMATS, picture_format
from .train import OPTIMIZERS, RUN_DEFAULTS

DEFAULT_HIDDEN = ",".join(map(str, RUN_DEFAULTS["hidden"]))
COMMANDS = ("train", "evaluate", "draw")


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


def _picture_path(text):
    """A file name whose extension says the picture format; anything else is refused."""
    if picture_format(_path(text)) not in PICTURE_FORMATS:
        raise argparse.ArgumentTypeError(
            f"cannot tell the picture format of {text!r}: end the name in "
            f"{', '.join('.' + f for f in PICTURE_FORMATS[:-1])} or .{PICTURE_FORMATS[-1]}")
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
  chaingrad train --resume runs/moons --epochs 60
      continue runs/moons (stopped by Ctrl-C, or finished) up to epoch 60, as one run would have

datasets (split into train / validation / test the same way in every run):
{datasets}

output directory (--out; default runs/<dataset>-<date>-<time>, and runs/latest links to it):
  model.safetensors  weights and architecture (read by chaingrad evaluate / draw)
  resume.safetensors optimizer state and the rest that --resume needs to go on exactly
  graph.svg          the computation graph of one training batch, grouped by module
  graph.html         with --html: that graph as an interactive page (playground.html too for 2-D data)
  curves.png         loss and accuracy per epoch
  run.json           the settings and the results of the run
"""

_EVALUATE_EXAMPLES = """\
examples:
  chaingrad evaluate runs/latest/model.safetensors
  chaingrad evaluate runs/moons/model.safetensors
"""

_DRAW_EXAMPLES = """\
examples:
  chaingrad draw runs/moons/model.safetensors         # writes runs/moons/graph.svg
  chaingrad draw runs/moons/model.safetensors --out moons.svg --depth 2
  chaingrad draw runs/moons/model.safetensors --out moons.png     # or .pdf, or .dot (Graphviz source)
  chaingrad draw runs/moons/model.safetensors --html  # also graph.html, the interactive page
"""


class _VersionAction(argparse.Action):
    """``--version``: chaingrad's version and the numpy and Python it runs on."""

    def __init__(self, option_strings, dest, help=None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        v = report.versions()
        print(f"chaingrad {v['chaingrad']} (numpy {v['numpy']}, Python {v['python']})")
        parser.exit()


_MODEL_HELP = "a model.safetensors written by chaingrad train (or a model.npz of an older one)"


def build_parser():
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="chaingrad", formatter_class=fmt,
        description="Train a small feed-forward network with chaingrad's autograd, nn and optim,\n"
                    "evaluate a saved model, or draw its computation graph.",
        epilog="examples:\n  chaingrad train\n  chaingrad train --dataset moons --epochs 30\n"
               "  chaingrad evaluate runs/latest/model.safetensors\n  chaingrad draw runs/latest/model.safetensors\n\n"
               "`chaingrad COMMAND --help` tells more about each command.")
    parser.add_argument("--version", action=_VersionAction,
                        help="print the versions of chaingrad, numpy and Python, and exit")
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
    train.add_argument("--hidden", type=hidden_sizes, default=None, metavar="SIZES",
                       help=f"hidden layer widths separated by commas; 'none' for no hidden layer "
                            f"(default: {DEFAULT_HIDDEN})")
    train.add_argument("--activation", choices=ACTIVATIONS, default=None, metavar="NAME",
                       help=f"hidden activation: {', '.join(ACTIVATIONS)} (default: relu)")
    train.add_argument("--batchnorm", action="store_true", default=None,
                       help="batch normalisation after each hidden linear layer")
    train.add_argument("--dropout", type=_number(float, 0.0, True, 1.0, False), default=None,
                       metavar="P", help="drop probability after each hidden activation, 0 <= P < 1 (default: 0)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None, metavar="NAME",
                       help=f"{', '.join(OPTIMIZERS)} (default: adam; momentum is SGD with momentum 0.9)")
    train.add_argument("--lr", type=_number(float, 0.0, False), default=None,
                       help="learning rate > 0 (default depends on the optimizer: "
                            "sgd 0.1, momentum 0.05, rmsprop 0.001, adadelta 1.0, adam 0.003)")
    train.add_argument("--epochs", type=_number(int, 1, True), default=None, metavar="N",
                       help="passes over the training split (default depends on the dataset)")
    train.add_argument("--batch-size", type=_number(int, 1, True), default=None,
                       metavar="N", help="rows per step (default: 32)")
    train.add_argument("--seed", type=_number(int, 0, True), default=None, metavar="N",
                       help="seed for initialisation, shuffling and dropout (default: 0); "
                            "the dataset split does not depend on it")
    train.add_argument("--dtype", choices=DTYPES, default=None, metavar="NAME",
                       help="float32 or float64 for weights and data (default: float32)")
    train.add_argument("--out", type=_path, default=None, metavar="DIR",
                       help="output directory (default: runs/<dataset>-<date>-<time>); "
                            "one that holds an earlier run is refused unless --force, "
                            "one that another run is writing into always")
    train.add_argument("--force", action="store_true",
                       help="let --out replace the files of an earlier run")
    train.add_argument("--resume", type=_path, default=None, metavar="DIR",
                       help="continue the run in DIR from its last finished epoch, with its own settings "
                            "(give --epochs N to train on past the epochs it had)")
    # --html: interactive pages (chaingrad/pages.py)
    train.add_argument("--html", action="store_true",
                       help="also write graph.html (step through one batch's graph in a browser) and, "
                            "for 2-D datasets, playground.html (decision regions per epoch)")

    evaluate = sub.add_parser(
        "evaluate", formatter_class=fmt, epilog=_EVALUATE_EXAMPLES,
        help="report a saved model's accuracy on its dataset's test split",
        description="Load a model written by `chaingrad train` and report its accuracy on the test\n"
                    "split of the dataset it was trained on (the split is the same in every run).")
    evaluate.add_argument("model", metavar="MODEL", help=_MODEL_HELP)

    draw = sub.add_parser(
        "draw", formatter_class=fmt, epilog=_DRAW_EXAMPLES,
        help="redraw the computation graph of a saved model on one batch (SVG, PNG, PDF or DOT)",
        description="Load a model written by `chaingrad train`, run one training batch through it\n"
                    "(forward, loss, backward) and draw the graph with module clusters\n"
                    "(SVG, PNG or PDF, chosen by the extension of --out; .dot writes the Graphviz source).")
    draw.add_argument("model", metavar="MODEL", help=_MODEL_HELP)
    draw.add_argument("--out", type=_picture_path, default=None, metavar="FILE",
                      help="where to write the picture; the extension chooses the format: .svg, .png, .pdf, "
                           "or .dot for the Graphviz source (default: graph.svg next to the model)")
    draw.add_argument("--depth", type=_number(int, 0, True), default=None, metavar="K",
                      help="module nesting shown as clusters; deeper modules collapse into one box")
    # --html: interactive page (chaingrad/pages.py)
    draw.add_argument("--html", action="store_true",
                      help="also write graph.html beside the picture: step through forward and backward, "
                           "click any node")
    return parser


def _missing_command(parser, argv):
    """``chaingrad --dataset moons`` or ``chaingrad runs/x/model.safetensors``: the command was
    forgotten. argparse would say "invalid choice: 'moons'"; say what to type instead."""
    first = next((a for a in argv if a not in ("-h", "--help", "--version")), None)
    if first is None or first in COMMANDS:
        return
    if first.startswith("-"):
        guess = "train"
    elif os.path.splitext(first)[1].lower() in (".safetensors", ".npz"):
        guess = "evaluate"
    else:
        return                      # an unknown command: argparse lists the right ones
    typed = " ".join(shlex.quote(a) for a in argv)
    raise CLIError(f"no command given: did you mean `chaingrad {guess} {typed}`? "
                   f"(commands: {', '.join(COMMANDS)}; see chaingrad --help)", status=2)


def main(argv=None):
    """Entry point of the ``chaingrad`` console script; returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        _missing_command(parser, argv)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return {"train": train.run_train, "evaluate": train.run_evaluate, "draw": train.run_draw}[
            args.command](args)
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
