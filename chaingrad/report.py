"""What a run leaves behind: the output directory, curves.png, graph.svg and run.json."""
import datetime
import json
import os
import platform
import tempfile


class OutputError(Exception):
    """The output directory or file cannot be written."""


def versions():
    """``{"chaingrad": ..., "numpy": ..., "python": ...}``: what a run's numbers were made with."""
    import numpy

    from . import __version__
    return {"chaingrad": __version__, "numpy": numpy.__version__, "python": platform.python_version()}


def prepare_dir(path):
    """Create ``path`` if needed and make sure we can write into it, BEFORE training starts."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"cannot use {path} as output directory: it is a file")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise OutputError(f"cannot write to output directory {path}: {e.strerror or e}") from None
    return path


# Every file a run may write (model.npz: by older versions).
RUN_FILES = ("model.safetensors", "model.npz", "graph.svg", "graph.dot", "graph.html", "playground.html",
             "curves.png", "run.json")


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


def default_dir(dataset, root="runs"):
    """``runs/<dataset>-<date>-<time>``, with a suffix if that exists already."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(root, f"{dataset}-{stamp}")
    n = 2
    while os.path.exists(path):
        path, n = os.path.join(root, f"{dataset}-{stamp}-{n}"), n + 1
    return path


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
    from chaingrad.nn.serialization import write_atomically
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
