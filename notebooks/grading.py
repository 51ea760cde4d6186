"""What every notebook grader returns: a report that reads as a verdict and is falsy when wrong.

Its first line is ``grade_x(what): correct (what was checked)`` or ``grade_x(what): wrong: the
mistake``, the convention of ``ag.check_vjp`` (see tests/test_notebooks.py); the lines after it
give details (a table of values, the step where two runs part).  Shared by ``grade_engine.py``
(notebook 0) and ``grade_layers.py`` (notebooks 6 and 7).
"""


class Report:
    """A grader's verdict: truthy only when correct (``mistake`` is None); ``str()`` is the
    verdict line and the details, so a grading cell's last value shows the whole report."""

    def __init__(self, grader, what, mistake=None, details=(), summary=""):
        self.ok = mistake is None
        self.mistake = mistake
        self.details = list(details)
        if self.ok:
            self.verdict = f"{grader}({what}): correct ({summary})"
        else:
            self.verdict = f"{grader}({what}): wrong: {mistake}"

    def __bool__(self):
        return self.ok

    def __str__(self):
        return "\n".join([self.verdict] + ["  " + line for line in self.details])

    __repr__ = __str__
