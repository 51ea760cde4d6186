"""The engine examples run as written: the ones in docs/concepts.md and the custom-op ones in
docs/adding-an-op.md (the nn, optim and spellings pages have their own tests).  And the README,
now short, still opens with the two fresh-machine commands."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONCEPTS = ROOT / "docs" / "concepts.md"
ADDING_AN_OP = ROOT / "docs" / "adding-an-op.md"


def _section_blocks(path, title=None):
    """The python blocks of a page, or of its section ``## title`` alone."""
    text = path.read_text()
    if title is not None:
        start = text.index(f"\n## {title}\n")
        end = text.find("\n## ", start + 1)
        text = text[start:end if end >= 0 else None]
    return [(path, code) for code in re.findall(r"```python\n(.*?)```", text, flags=re.S)]


# "A built-in op" shows a declaration inside autograd/ops/ (names from that module), not a script.
BLOCKS = (_section_blocks(CONCEPTS) + _section_blocks(ADDING_AN_OP, "Your own primitive")
          + _section_blocks(ADDING_AN_OP, "Grading a VJP: ag.check_vjp"))


def test_the_engine_pages_have_their_examples():
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("path, code", BLOCKS, ids=[f"{p.stem}-block{i}" for i, (p, _) in enumerate(BLOCKS)])
def test_engine_example_runs(path, code, capsys):
    exec(compile(code, str(path), "exec"), {})
    assert capsys.readouterr().out.strip()     # every example prints what it shows


def test_the_readme_opens_with_the_two_fresh_machine_commands():
    """The first screen (30 lines) shows the main job's command, then the tests' command."""
    first_screen = README.read_text().splitlines()[:30]
    commands = [line.split("#")[0].strip() for line in first_screen]
    main_job = "bash .ci/setup --main && .venv/bin/chaingrad train"
    tests = "bash .ci/setup && .venv/bin/python -m pytest"
    assert main_job in commands and tests in commands
    assert commands.index(main_job) < commands.index(tests)


def test_the_readme_stays_short():
    assert len(README.read_text().splitlines()) <= 200


def test_the_readmes_twenty_line_example_runs(tmp_path, monkeypatch, capsys):
    """The README's first example trains, draws and saves the explorer page as it says."""
    code = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    assert len(code.splitlines()) <= 22
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {})
    loss = float(capsys.readouterr().out.split("loss after 100 steps:")[1])
    assert loss < 0.2                                   # it learned the moons
    assert (tmp_path / "mlp.svg").read_text().lstrip().startswith("<?xml")
    assert "<svg" in (tmp_path / "mlp.html").read_text(encoding="utf-8")
