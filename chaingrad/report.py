"""What a run leaves behind: the output directory, curves.png, graph.svg and run.json."""
import datetime
import json
import os
import platform
import tempfile

import numpy

from . import __version__
from .errors import OutputError

PICTURE_FORMATS = ("svg", "png", "pdf", "dot")


def picture_format(path):
    """The picture format named by ``path``'s extension: ``"svg"``, ``"png"``, ``"pdf"`` or ``"dot"``."""
    return os.path.splitext(path)[1].lower().lstrip(".")


def versions():
    """``{"chaingrad": ..., "numpy": ..., "python": ...}``: what a run's numbers were made with."""
    return {"chaingrad": __version__, "numpy": numpy.__version__, "python": platform.python_version()}


def _missing_folders(path):
    """``path`` and those of its parents that do not exist yet, deepest first."""
    missing, here = [], os.path.abspath(path)
    while not os.path.exists(here) and here != os.path.dirname(here):
        missing.append(here)
        here = os.path.dirname(here)
    return missing


def prepare_dir(path):
    """Create ``path`` if needed and make sure we can write into it, BEFORE training starts.

    Returns the folders it created, deepest first, for :func:`remove_empty`.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"cannot use {path} as output directory: it is a file")
    created = _missing_folders(path)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise OutputError(f"cannot write to output directory {path}: {e.strerror or e}") from None
    return created


def remove_empty(created):
    """Remove the folders :func:`prepare_dir` created, deepest first, as long as they are empty:
    a run that failed leaves no empty folder behind (nor anything that was there before)."""
    for folder in created:
        try:
            os.rmdir(folder)
        except OSError:         # not empty (or gone): keep it and everything above it
            return


# Every file a run may write (model.npz: by older versions).
RUN_FILES = ("model.safetensors", "model.npz", "graph.svg", "graph.dot", "graph.html", "playground.html",
             "curves.png", "run.json", "resume.safetensors")


def run_files_in(path):
    """The files of a run that ``path`` holds (empty if none, or if ``path`` is not a folder)."""
    if not os.path.isdir(path):
        return []
    return [name for name in RUN_FILES if os.path.isfile(os.path.join(path, name))]


def remove_other_run_files(path, written):
    """Remove the run files in ``path`` that this run did not write (left by a run replaced with --force)."""
    for name in run_files_in(path):
        if name not in written:
            os.remove(os.path.join(path, name))


def new_run_dir(dataset, root="runs"):
    """Create ``runs/<dataset>-<date>-<time>`` (with a suffix if taken); returns ``(path, created)``.

    ``os.mkdir`` fails if the folder exists, so two runs started in the same
    second get two folders, never one between them.
    """
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    created = prepare_dir(root)
    for n in range(1, 1000):
        path = os.path.join(root, f"{dataset}-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        except OSError as e:
            raise OutputError(f"cannot create output directory {path}: {e.strerror or e}") from None
        return path, [os.path.abspath(path)] + created
    raise OutputError(f"cannot create a new output directory in {root}: 999 runs of this second exist")


def point_latest(path, root="runs"):
    """Make ``runs/latest`` a symlink to the newest run (best effort: skipped where links fail)."""
    link = os.path.join(root, "latest")
    tmp = link + ".tmp"
    try:
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink(os.path.relpath(path, root), tmp)
        os.replace(tmp, link)      # atomic: `latest` always points somewhere valid
    except OSError:
        pass


def write_text(path, data):
    """Write ``data`` (text or bytes) atomically with the usual permissions, as ``nn.save`` does.

    A crash never leaves half a file; the new file is 0644 under umask 022.
    """
    # nn, imported on first use, on purpose: it takes most of a second, and the parser
    # (`chaingrad --version`) imports this module.
    from chaingrad.nn.serialization import write_atomically  # lazy: see the comment above
    write_atomically(path, lambda f: f.write(data.encode("utf-8") if isinstance(data, str) else data))


def write_json(path, record):
    write_text(path, json.dumps(record, indent=2) + "\n")


def write_curves(path, history, title, test_accuracy=None):
    """Loss (log scale) and accuracy per epoch as a PNG; the final test accuracy as a dotted line.

    Returns False (and writes nothing) when matplotlib is missing.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")          # no display needed: we only write a file
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return False
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    ax_loss.semilogy(epochs, [h["loss"] for h in history], "o-", label="train loss (mean over the epoch)")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.plot(epochs, [100 * h["train_accuracy"] for h in history], "o-", label="train")
    ax_acc.plot(epochs, [100 * h["val_accuracy"] for h in history], "s--", label="validation")
    if test_accuracy is not None:
        ax_acc.axhline(100 * test_accuracy, color="gray", linestyle=":", label="test, after training")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
