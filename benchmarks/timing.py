"""Timing several implementations of the same step fairly, in one process.

Every sample calls one implementation's step ``number`` times (enough calls
to last ``min_time``, so sub-millisecond steps are not lost in the clock's
resolution) and records the mean time per call.  Samples alternate between
implementations, rotating the order every repetition, so that a slow phase
of a noisy machine hits all of them alike.  Before every sample, untimed:
``gc.collect()`` (each sample starts from a clean heap; garbage a step makes
while it runs is still collected, and paid for, while it runs) and a pause
of ``pause`` seconds, because BLAS worker threads keep spinning after a
library's last call and would slow down the next library.
"""
import gc
import statistics
import time


def measure(steps, reps=5, warmup=1, pause=0.3, min_time=0.05, log=None):
    """Time each step function in ``steps`` (name -> callable); return name -> seconds per call, per sample."""
    number = {}
    for name, step in steps.items():
        for _ in range(warmup):
            step()
        t0 = time.perf_counter()
        step()
        once = time.perf_counter() - t0
        number[name] = max(1, int(min_time / max(once, 1e-9)))
    samples = {name: [] for name in steps}
    names = list(steps)
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            gc.collect()
            time.sleep(pause)
            step, n = steps[name], number[name]
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            samples[name].append((time.perf_counter() - t0) / n)
        if log:
            log(f"  rep {rep + 1}/{reps} done")
    return samples


def median(samples):
    return statistics.median(samples)


def fmt_time(seconds):
    """A duration with a unit that keeps three significant digits."""
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
