"""The README's rule table is generated from rules/ and must not drift."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_rule_table_is_current():
    sys.path.insert(0, str(ROOT / "tools"))
    import rule_table

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rule_table.replace_in(text) == text, "run `make lint-rules` to regenerate the README rule table"


def test_readme_quick_start_has_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert "sample_dockerfiles/jupyter-kaggle/Dockerfile" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
