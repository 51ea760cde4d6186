"""Benchmarks: chaingrad against hand-written numpy, PyTorch, micrograd and HIPS autograd.

Run ``bash benchmarks/run.sh`` (or ``.venv/bin/python -m benchmarks.run``) from
the repository root; ``--help`` lists the options.  The workloads are those of
issue 7; each module ``w*.py`` builds one step of one workload for every
implementation that runs in this process, ``hips_worker.py`` does the same for
HIPS autograd in its own virtualenv, and ``memory.py`` measures peak memory in
fresh processes.
"""
