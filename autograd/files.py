"""Writing a file atomically, for model files (``nn.save``) and pages (``ag.viz``' ``Page.save``).

It lives here, at the bottom of ``autograd``, because ``autograd`` never imports
``nn``; ``nn.serialization`` imports it from here.
"""
import os
import stat
import tempfile


def _new_file_mode(path):
    """The permissions ``path`` should get: its own if it exists, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)         # the only way to read the umask is to set it...
        os.umask(umask)             # ...and put it back
        return 0o666 & ~umask


def write_atomically(path, write):
    """Create ``path`` by calling ``write(f)`` on a temporary file in the same folder, then renaming it.

    The rename is atomic, so readers see the old file or the whole new one,
    never half of it. ``mkstemp`` makes the temporary file private (0600);
    it gets the permissions of :func:`_new_file_mode` before the rename.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())        # the bytes are on disk before the rename makes them visible
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
