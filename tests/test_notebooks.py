"""Every teaching notebook in notebooks/ runs top to bottom in a fresh kernel.

Each ``notebooks/*.ipynb`` is executed with nbclient in a new kernel whose
working directory is ``notebooks/``; any cell that raises fails the test
(nbclient's ``allow_errors=False``), as does a cell slower than
``CELL_TIMEOUT`` or a notebook slower than ``NOTEBOOK_BUDGET``.  The kernel is
the ``python3`` kernel spec, which jupyter_client starts with the Python that
runs the tests; ``test_kernel_runs_this_python`` checks that it really does,
so the notebooks see this checkout's ``chaingrad.autograd``, ``nn`` and ``optim``.
The executed copy is thrown away: the committed file keeps its outputs.
"""
import sys
import time
from pathlib import Path

import pytest

from optional import need

nbformat = need("nbformat")               # the dev extra runs the notebooks
NotebookClient = need("nbclient").NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
KERNEL = "python3"
CELL_TIMEOUT = 120        # seconds for one cell
NOTEBOOK_BUDGET = 120     # seconds for a whole notebook (the target is 60 s; leave room for slow CI)


@pytest.fixture(autouse=True)
def one_blas_thread(monkeypatch):
    # The notebooks multiply small matrices; BLAS threads only add overhead there, and on a
    # busy 2-core machine their spinning slows a notebook down several-fold.  The kernel
    # inherits this environment.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")


def execute(nb, folder=NB_DIR):
    """Run ``nb`` in place in a fresh kernel started in ``folder``; return the wall time."""
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL, allow_errors=False,
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NB_DIR}"


def test_kernel_runs_this_python():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, os\nfrom chaingrad import autograd\nprint(sys.prefix)\nprint(os.getcwd())\nprint(autograd.__file__)"))
    execute(nb)
    lines = "".join(o.get("text", "") for o in nb.cells[0].outputs).split()
    # sys.prefix, not the resolved executable: a venv's python is a symlink to the base interpreter
    assert Path(lines[0]).resolve() == Path(sys.prefix).resolve(), lines
    assert Path(lines[1]).resolve() == NB_DIR.resolve(), lines
    assert Path(lines[2]).resolve().is_relative_to(ROOT), lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs(path):
    nb = nbformat.read(path, as_version=4)
    cells = code_cells(nb)
    assert cells, f"{path.name} has no code cells"
    not_run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
               and c.execution_count is None]
    assert not not_run, f"{path.name}: cells {not_run} were never executed; commit it with outputs"
    assert any(c.outputs for c in cells), f"{path.name} has no outputs; commit it executed"
    errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: committed outputs of cells {errors} are errors"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_uses_no_torch(path):
    nb = nbformat.read(path, as_version=4)
    for c in code_cells(nb):
        for line in c.source.splitlines():
            words = line.replace(",", " ").split()
            imported = words[1:] if words[:1] == ["import"] else words[1:2] if words[:1] == ["from"] else []
            assert "torch" not in [w.split(".")[0] for w in imported], f"{path.name} imports PyTorch: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    seconds = execute(nb)
    errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert seconds < NOTEBOOK_BUDGET, f"{path.name} took {seconds:.0f} s (budget {NOTEBOOK_BUDGET} s)"


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    assert "## Notebooks" in readme
    section = readme.split("## Notebooks", 1)[1].split("\n## ", 1)[0]
    missing = [p.name for p in NOTEBOOKS if p.name not in section]
    assert not missing, f"README's Notebooks section does not list {missing}"


# ------------------------------------------------------------------ graded exercises

def _student_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("student", ROOT / "notebooks" / "build" / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_exercises():
    student = _student_module()
    found = [(p, nbformat.read(p, as_version=4)) for p in NOTEBOOKS]
    return student, [(p, nb) for p, nb in found if student.exercises_with_graders(nb)]


# A grading cell calls ag.check_vjp or one of the notebooks' own graders (notebooks/grade_*.py,
# functions named grade_*).  Every grader's report starts with one line, "<grader>(<what>):
# correct (<details>)" or "<grader>(<what>): wrong: <the mistake>", and is falsy when wrong.
GRADER_CALLS = ("check_vjp(", "grade_")


def _text(cell):
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def test_blanking_keeps_the_indentation_and_drops_only_the_solution():
    student = _student_module()
    source = "def f(g):\n    x = 1\n    # SOLUTION\n    return g * x\n    # END SOLUTION\n\nf.done = True"
    assert student.blank(source) == ("def f(g):\n    x = 1\n"
                                     '    raise NotImplementedError("exercise: write this part")\n\nf.done = True')
    with pytest.raises(ValueError, match="without"):
        student.blank("# SOLUTION\nx = 1")


def test_committed_exercises_pass_their_grader():
    student, notebooks = _with_exercises()
    assert len(notebooks) >= 3, [p.name for p, _ in notebooks]
    for path, nb in notebooks:
        for _, grader in student.exercises_with_graders(nb):
            assert any(call in grader.source for call in GRADER_CALLS), \
                f"{path.name}: the cell after an exercise must grade it (call one of {GRADER_CALLS})"
            verdict = _text(grader).splitlines()[0] if _text(grader) else ""
            assert "): correct (" in verdict, f"{path.name}: committed verdict {verdict!r}"


def _notebooks_with_exercises():
    student = _student_module()
    return [p for p in NOTEBOOKS if student.exercises_with_graders(nbformat.read(p, as_version=4))]


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    """The folder ``student.py --out`` writes: the student notebooks and what they import."""
    out = tmp_path_factory.mktemp("class")
    _student_module().main(["--out", str(out)])
    return out


@pytest.mark.parametrize("path", _notebooks_with_exercises(), ids=lambda p: p.name)
def test_student_version_runs_top_to_bottom_on_the_reference(path, handout):
    # The blanked version, as student.py writes it, run from the folder it is written to (a class
    # handout: graders and reference solutions are imported from there), in a fresh kernel: every grader reports its
    # blank as wrong (naming the NotImplementedError) without an error, and only the grading
    # cells see the blanks: a cell that builds on an exercise (a demo, a training run) takes the
    # reference solution (notebooks/solutions.py), so its output never mentions NotImplementedError.
    student = _student_module()
    nb = nbformat.read(path, as_version=4)
    graded = [nb.cells.index(c) for pair in student.exercises_with_graders(nb) for c in pair]
    blanked = nbformat.read(handout / f"{path.stem}_student.ipynb", as_version=4)   # cells in the same order
    assert [c.cell_type for c in blanked.cells] == [c.cell_type for c in nb.cells]
    try:
        execute(blanked, handout)
    except Exception as error:          # nbclient's CellExecutionError: name the notebook
        raise AssertionError(f"the student version of {path.name} fails: {error}") from None
    graders = [nb.cells.index(grader) for _, grader in student.exercises_with_graders(nb)]
    for i in graders:                   # each grader reports the blank as wrong, without an error
        verdict = _text(blanked.cells[i]).splitlines()[:1]
        assert verdict and "): wrong: " in verdict[0] and "NotImplementedError" in _text(blanked.cells[i]), \
            f"{path.name}, cell {i}: a blanked exercise's grader said {verdict!r}"
    for i, cell in enumerate(blanked.cells):     # (indices: nbclient replaces the cell objects)
        if cell.cell_type != "code" or i in graded:
            continue
        shown = _text(cell) + "".join(o.get("ename", "") + o.get("evalue", "") for o in cell.outputs)
        assert "NotImplementedError" not in shown, \
            f"{path.name}, cell {i} runs on a blanked exercise; use solutions.reference:\n{cell.source}"


def test_reference_solutions_come_from_the_build_script_and_leave_the_notebook_alone():
    import importlib.util                 # by path: tests/ has a module of its own called reference
    spec = importlib.util.spec_from_file_location("solutions", NB_DIR / "solutions.py")
    solutions = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solutions)
    import numpy as np
    from chaingrad import autograd as ag

    def blank(g, ans, x):
        raise NotImplementedError
    namespace = {"np": np, "ag": ag, "my_tanh_vjp": blank}
    ref = solutions.reference("nb01_chain_rule", namespace)
    assert namespace["my_tanh_vjp"] is blank and set(namespace) == {"np", "ag", "my_tanh_vjp"}
    assert ref.my_tanh_vjp(2.0, 0.5, None) == 2.0 * (1 - 0.5 ** 2)
    assert ag.check_vjp(ref.my_sigmoid, np.array([-1.0, 0.5]))
    with pytest.raises(FileNotFoundError, match="nb01_chain_rule"):
        solutions.reference("nb1_chain_rule", namespace)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_written_exercises_have_answers_to_open(path):
    # A markdown "**Exercises.** (1) ... (2) ..." is followed by a cell of collapsed answers
    # (nbtools.Notebook.answers), one <details> block per numbered question.
    import re
    cells = nbformat.read(path, as_version=4).cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or "**Exercises.**" not in cell.source:
            continue
        asked = len(set(re.findall(r"\((\d)\)", cell.source.split("**Exercises.**", 1)[1])))
        after = cells[i + 1].source if i + 1 < len(cells) and cells[i + 1].cell_type == "markdown" else ""
        answered = after.count("<details><summary>Answer")
        assert asked and answered == asked == after.count("</details>"), \
            f"{path.name}, cell {i}: {asked} questions, {answered} collapsed answers in the next cell"
