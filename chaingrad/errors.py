"""The command's errors, at the bottom of chaingrad/'s layers: every other module may raise them.

A user's mistake on the command line ends in ONE line on stderr and a
non-zero exit status. The modules that find a mistake (``preflight``,
``train``, ``checkpoint``, ``report``, ...) raise one of these; only
``cli.main`` prints it. Keeping them here, below everything else, lets the
dependencies run one way: ``cli`` -> ``train`` -> ``preflight`` -> ``errors``.
"""


class CLIError(Exception):
    """A mistake of the user's, reported as one line; ``status`` is the exit code."""

    def __init__(self, message, status=1, prog="chaingrad"):
        super().__init__(message)
        self.status, self.prog = status, prog


class ModelFileError(Exception):
    """The file is missing, unreadable, not ours, or does not fit its recorded architecture."""


class OutputError(Exception):
    """The output directory or file cannot be written."""


def one_line(message):
    """Squash a possibly multi-line message (e.g. a list of mismatched keys) into one line.

    Lines become "; "-separated items, except after a line that ends in ":"
    (it introduces what follows): ``"nothing was changed:\\n  missing keys: a"``
    -> ``"nothing was changed: missing keys: a"``.
    """
    text = ""
    for part in (p.strip() for p in str(message).splitlines()):
        if part:
            text += ("" if not text else " " if text.endswith(":") else "; ") + part
    return text
