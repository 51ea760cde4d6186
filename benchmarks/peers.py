"""The peers that live in scratch virtualenvs (benchmarks/.peers/, see setup_peers.sh)."""
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"


def ensure(name):
    """Install peer ``name`` unless it is there; return None when ready, else the reason it is not."""
    if (PEERS / name / ".ok").exists():
        return None
    done = subprocess.run(["bash", str(HERE / "setup_peers.sh"), name])
    return None if done.returncode == 0 else f"setup_peers.sh {name} failed (exit {done.returncode})"


def python(name):
    return PEERS / name / "bin" / "python"


def import_micrograd():
    """micrograd is pure Python: put its venv's site-packages on our path and import it."""
    problem = ensure("micrograd")
    if problem:
        return None, problem
    for site in glob.glob(str(PEERS / "micrograd" / "lib" / "python*" / "site-packages")):
        if site not in sys.path:
            sys.path.append(site)
    import micrograd.engine
    import micrograd.nn  # noqa: F401
    return micrograd, None


def clean_env(**extra):
    """The environment for a child process: no PYTHONPATH, which could put our packages first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def run_hips(*args, timeout=3600):
    """Run ``hips_worker.py args`` in HIPS autograd's venv; return its JSON answer (or raise).

    The worker runs as a script, so ``sys.path[0]`` is benchmarks/ and the
    ``autograd`` it imports is HIPS's, not ours.
    """
    problem = ensure("hips")
    if problem:
        raise RuntimeError(problem)
    done = subprocess.run([str(python("hips")), str(HERE / "hips_worker.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=str(PEERS), env=clean_env(),
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"hips_worker.py {' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
