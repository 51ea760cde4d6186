"""One `chaingrad train` at a time per folder: a run claims its --out folder while it runs.

Without a claim, two runs started together into one folder both pass the
"holds an earlier run?" check (the folder is still empty) and each writes
some of the files: ``run.json`` from one run, ``model.safetensors`` from the
other. So a run claims the folder before it looks at it, by creating the
marker file ``.chaingrad-run`` with ``O_CREAT | O_EXCL``: the operating
system lets exactly one process create it. The marker says who holds the
claim (process id, host, start time, a random token); the run checks that it
still holds it before writing its results (:meth:`Claim.check`) and removes it
at the end, also after Ctrl-C or an error.

A marker left by a run that died without cleaning up (``kill -9``, a power
cut) names a process that no longer exists on this host: such a stale claim
is taken over. On another host we cannot tell, so the message says which
file to remove if that run is over.
"""
import datetime
import json
import os
import secrets
import socket

from .errors import CLIError

CLAIM_FILE = ".chaingrad-run"


class Claim:
    """A folder this process claimed; :meth:`check` before writing into it, :meth:`release` at the end."""

    def __init__(self, folder, holder):
        self.folder, self.holder = folder, holder
        self.path = os.path.join(folder, CLAIM_FILE)

    def check(self):
        """Raise CLIError unless the marker is still ours (another run took over a claim it found stale)."""
        if _read(self.path).get("token") != self.holder["token"]:
            raise CLIError(f"--out {self.folder} was taken over by another chaingrad train while this run "
                           f"trained; nothing was written (choose another folder)", prog="chaingrad train")

    def release(self):
        """Remove the marker if it is still ours (never another run's)."""
        if _read(self.path).get("token") == self.holder["token"]:
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass


def _read(path):
    """The marker's record, or ``{}`` if it is missing or not ours to understand."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.loads(f.read(4096))
    except (OSError, ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) else {}


def _is_running(holder):
    """False only when the holder is surely gone: a process id that no longer exists on this host."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)                 # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:                     # it exists but belongs to another user
        return True
    return True


def _create(path, holder):
    """Create the marker exclusively; False if it exists already."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(holder))
    return True


def take(folder):
    """Claim ``folder`` for this process, or raise CLIError (status 2) naming the run that holds it."""
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "token": secrets.token_hex(16),
              "started": datetime.datetime.now().isoformat(timespec="seconds")}
    path = os.path.join(folder, CLAIM_FILE)
    for _ in range(3):       # a stale marker is removed once; losing a race to a live run ends the loop
        try:
            if _create(path, holder):
                return Claim(folder, holder)
        except OSError as e:
            raise CLIError(f"cannot write to output directory {folder}: {e.strerror or e}") from None
        other = _read(path)
        if _is_running(other) or not other:
            break
        try:             # stale: its process is gone; if two runs remove it at once, one create wins
            os.remove(path)
        except FileNotFoundError:
            pass
    other = _read(path)
    who = (f"pid {other.get('pid')} on {other.get('host')}, started {other.get('started')}" if other
           else "its marker is being written")
    raise CLIError(f"--out {folder} is in use by another chaingrad train ({who}); wait for it to end or "
                   f"choose another folder (if no run uses it, remove {path})", status=2, prog="chaingrad train")
