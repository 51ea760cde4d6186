"""What `chaingrad train` checks before it starts: the output folder and the memory the network needs.

Both mistakes would otherwise show up late and badly: an earlier run
silently overwritten, or a run that dies as "MemoryError" (or is killed by
the kernel) after minutes of filling memory.
"""
import os

import numpy as np

from . import report
from .errors import CLIError


def check_memory(sizes, batch_size, dtype, optimizer, available=None):
    """Refuse, before anything is allocated, a network whose training would not fit in memory.

    Counted: the parameters, their gradients and the optimizer's state (up
    to two arrays per parameter), and the activations of the largest batch
    (training batches, or the 1,000-row chunks of the accuracy pass), kept
    for backward a few times over. A rough upper bound, to catch typos such
    as ``--hidden 1000000000``, not to plan memory to the byte.
    """
    available = available if available is not None else _physical_memory()
    parameters = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    copies = 2 + {"sgd": 0, "momentum": 1, "rmsprop": 1, "adadelta": 2, "adam": 2}[optimizer]
    rows = max(batch_size, 1000)
    needed = np.dtype(dtype).itemsize * (copies * parameters + 4 * rows * sum(sizes))
    if available and needed > available:
        raise CLIError(f"argument --hidden: the network {'-'.join(map(str, sizes))} would have {parameters:,} "
                       f"parameters; training it needs about {needed / 2 ** 30:,.1f} GiB in {np.dtype(dtype)}, "
                       f"more than this machine's {available / 2 ** 30:,.1f} GiB of memory", status=2,
                       prog="chaingrad train")


def _physical_memory():
    """Bytes of RAM (0 if the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def check_out(out, force):
    """An --out folder that holds an earlier run is refused unless --force (then its files are replaced)."""
    found = report.run_files_in(out) if out is not None else []
    if found and not force:
        raise CLIError(f"--out {out} holds an earlier run ({', '.join(found)}); choose another folder, "
                       f"or add --force to replace it", status=2, prog="chaingrad train")
