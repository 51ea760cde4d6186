"""Write the student version of the notebooks: every ``# SOLUTION`` block blanked.

The committed notebooks carry a reference solution in each exercise cell, between the lines
``# SOLUTION`` and ``# END SOLUTION``, so that they run (and are tested) as they are. This script
replaces each such block by one line that raises ``NotImplementedError``, clears the outputs, and
writes ``<name>_student.ipynb``; the grading cell after an exercise then reports the answer as wrong
(``ag.check_vjp``, or a ``grade_*`` function of ``notebooks/grade_*.py``, catches the exception)
until the student fills it in. Cells that build on an exercise take the reference solution from
``notebooks/solutions.py``, so the student version runs top to bottom. The graders
(``notebooks/grade_*.py``, their ``grading.py``) and ``solutions.py`` are copied next to the student
notebooks, where their kernels (started in the notebook's folder) import them, and so are the
notebooks' build scripts, under ``build/``: ``solutions.py`` reads the reference solutions from
them (a class handout therefore carries the solutions, in those scripts).

From the repository root:

    .venv/bin/python notebooks/build/student.py --out class/      # one *_student.ipynb per notebook
                                                                  # with exercises (default: a temp dir)
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent
BUILD = NOTEBOOKS / "build"
BEGIN, END = "# SOLUTION", "# END SOLUTION"


def blank(source):
    """The source with every SOLUTION block replaced by a ``raise`` at the block's indentation."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"nested {BEGIN!r} in:\n{source}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("exercise: write this part")')
        elif stripped == END:
            if not inside:
                raise ValueError(f"{END!r} without {BEGIN!r} in:\n{source}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r} in:\n{source}")
    return "\n".join(out)


def is_exercise(cell):
    return cell.cell_type == "code" and any(line.strip() == BEGIN for line in cell.source.splitlines())


def student_version(nb):
    """A copy of ``nb`` with the solutions blanked and no outputs."""
    nb = nbformat.from_dict(nb)       # a deep copy
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.source = blank(cell.source)
        cell.outputs, cell.execution_count = [], None
    return nb


def exercises_with_graders(nb):
    """[(exercise cell, the code cell after it)]: where a solution goes and where it is graded."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [(c, code[i + 1]) for i, c in enumerate(code[:-1]) if is_exercise(c)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "chaingrad_student")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if not any(is_exercise(c) for c in nb.cells):
            continue
        target = args.out / f"{path.stem}_student.ipynb"
        nbformat.write(student_version(nb), target)
        print(f"wrote {target} ({len(exercises_with_graders(nb))} exercises)", file=sys.stderr)
        (args.out / "build").mkdir(exist_ok=True)
        shutil.copy(BUILD / f"nb{path.stem}.py", args.out / "build")     # solutions.py reads it
    for module in sorted(NOTEBOOKS.glob("grade_*.py")) + [NOTEBOOKS / "grading.py", NOTEBOOKS / "solutions.py"]:
        shutil.copy(module, args.out / module.name)
        print(f"wrote {args.out / module.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
