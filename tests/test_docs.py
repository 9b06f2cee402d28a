"""Generated documentation never drifts: the README's command table and coverage matrix match the code."""

from __future__ import annotations

from cybersafe.docs import render
from tests.conftest import REPO


def test_readme_generated_blocks_are_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "<!-- generated:commands -->" in readme and "<!-- generated:coverage -->" in readme
    assert render(readme) == readme, "README drifted from the code: run `python -m cybersafe.docs README.md`"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    head = readme[: readme.index("## Contents")]
    assert "make demo" in head and "make test" in head
