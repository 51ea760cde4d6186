"""The engine examples run as written: the ones in docs/concepts.md and the custom-op ones in
docs/adding-an-op.md (the nn, optim and spellings pages have their own tests)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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

