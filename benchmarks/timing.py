"""Timing several implementations of the same step fairly, in one process.

Every sample calls one implementation's step ``number`` times (enough calls
to last ``min_time``) and records the time of every call; the median over
all calls of all samples is robust to the odd call that another process
slowed down (the shortest step here lasts tens of microseconds, far above
the clock's resolution).  Samples alternate between
implementations, rotating the order every repetition, so that a slow phase
of a noisy machine hits all of them alike.  Before every sample, untimed:
``gc.collect()`` (each sample starts from a clean heap; garbage a step makes
while it runs is still collected, and paid for, while it runs) and a pause
of ``pause`` seconds, because BLAS worker threads keep spinning after a
library's last call and would slow down the next library.  After the pause
one call runs untimed: the first call after a rest wakes the library's own
worker threads, which on a busy machine can take longer than the step
(PyTorch: 30-400 ms seen here with other processes running), a cost a
training loop calling step after step never pays (``wake=False`` skips it,
for the scalar workloads, whose steps last seconds and use no threads).

Each call is timed twice: wall time (what a user waits for; the issue's
measure) and this process's CPU time.  On a machine shared with other busy
processes the wall time of a long single-threaded step mostly measures the
scheduler, while its CPU time stays put; for multi-threaded BLAS steps the
CPU time adds up all threads and means little.
"""
import gc
import statistics
import time


class Samples:
    """Seconds per call, one entry per timed call: ``wall`` (perf_counter) and ``cpu`` (process_time)."""

    def __init__(self):
        self.wall, self.cpu = [], []


def measure(steps, reps=5, warmup=1, pause=0.3, min_time=0.1, wake=True, log=None):
    """Time each step function in ``steps`` (name -> callable); return name -> :class:`Samples`."""
    number = {}
    for name, step in steps.items():
        for _ in range(warmup):
            step()
        # Calibrate on a few calls (three, unless they are long), trusting the fastest.
        calls, start = [], time.perf_counter()
        while not calls or (time.perf_counter() - start < max(min_time, 1.0) and len(calls) < 3) \
                or time.perf_counter() - start < min_time:
            t0 = time.perf_counter()
            step()
            calls.append(time.perf_counter() - t0)
        number[name] = max(1, round(min_time / min(calls)))
    samples = {name: Samples() for name in steps}
    names = list(steps)
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            gc.collect()
            time.sleep(pause)
            step, n = steps[name], number[name]
            if wake:
                step()              # untimed: wakes the library's threads after the pause
            out = samples[name]
            for _ in range(n):
                c0, t0 = time.process_time(), time.perf_counter()
                step()
                out.wall.append(time.perf_counter() - t0)
                out.cpu.append(time.process_time() - c0)
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
