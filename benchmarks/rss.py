"""Resident memory of this process, in MiB (Linux /proc; shared with hips_worker.py).

The peak is the kernel's high-water mark ``VmHWM``: unlike
``getrusage().ru_maxrss``, it starts afresh in a new process and is not
inherited from the parent that spawned it.
"""
import resource


def _status(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024     # kB -> MiB
    except OSError:
        pass
    return None


def current_mib():
    """Resident memory now."""
    return _status("VmRSS")


def peak_mib():
    """Highest resident memory so far in this process."""
    peak = _status("VmHWM")
    if peak is None:    # not Linux: the rusage maximum (kB on Linux, bytes on macOS)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return peak
