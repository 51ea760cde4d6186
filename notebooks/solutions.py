"""The reference solutions of a notebook's exercises, for the cells that build on them.

Some cells after an exercise use what it asks for: a demo puts one mistake next to VJPs that are
right, a training run uses an update rule. In the student version of a notebook the exercise is
blank (``raise NotImplementedError``), so such a cell takes the *reference* solution instead:

    import solutions
    ref = solutions.reference("nb02_backprop_matrix_form", globals())
    ref.linear_vjp_X          # the reference VJP, whatever state the exercise cell is in

``reference`` reads the notebook's build script (``notebooks/build/<builder>.py``, where each exercise
is written with its solution between ``# SOLUTION`` and ``# END SOLUTION``), runs its exercise cells
in order in a *copy* of the notebook's namespace (so that they see numpy, ``ag`` and what earlier
cells defined) and returns what they define. The notebook's own names, the student's answers among
them, are left as they are, and the graders keep grading the student's answer.

The build script is read, not imported: its cells are the string literals passed to ``nb.code``.
Run the notebooks with ``notebooks/`` as working directory (as the tests and the builders do), or
from the folder ``build/student.py --out`` writes (it copies this file and the build scripts), so
that ``import solutions`` finds this file.
"""
import ast
import textwrap
import types
from pathlib import Path

BUILD = Path(__file__).resolve().parent / "build"
BEGIN = "# SOLUTION"


def exercise_cells(builder):
    """The source of every exercise cell of ``notebooks/build/<builder>.py``, in notebook order."""
    path = BUILD / f"{builder}.py"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in BUILD.glob("nb*.py")))
        raise FileNotFoundError(f"no build script {builder!r} in {BUILD}; give one of: {known}")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = [node for node in ast.walk(tree)           # nb.code("...") with one string literal
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "code" and len(node.args) == 1
             and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    # ast.walk visits breadth first: sort by line to get the notebook's order.
    sources = [textwrap.dedent(c.args[0].value).strip("\n") for c in sorted(calls, key=lambda c: c.lineno)]
    return [s for s in sources if any(line.strip() == BEGIN for line in s.splitlines())]


def reference(builder, namespace):
    """A namespace with what the reference solutions of ``builder``'s exercises define.

    ``namespace`` is the notebook's ``globals()``; it is copied, never changed.
    """
    cells = exercise_cells(builder)
    if not cells:
        raise ValueError(f"the build script {builder!r} has no exercise cell (no {BEGIN!r} line)")
    scope = dict(namespace)
    for i, source in enumerate(cells, 1):
        exec(compile(source, f"<{builder}, exercise cell {i}>", "exec"), scope)
    defined = {name: value for name, value in scope.items()
               if name not in namespace or namespace[name] is not value}
    return types.SimpleNamespace(**defined)
