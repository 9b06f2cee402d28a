"""Generated documentation never drifts: the README's command table, coverage matrix, check table and every count
of checks match the code."""

from __future__ import annotations

import re

from cybersafe.docs import GENERATORS, render
from tests.support import REPO

README = REPO / "README.md"
NUMBER = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty\w*"


def _outside_generated_blocks(text: str) -> str:
    return re.sub(r"<!-- generated:([\w-]+) -->\n.*?<!-- /generated:\1 -->", "", text, flags=re.DOTALL)


def test_readme_generated_blocks_are_current() -> None:
    readme = README.read_text(encoding="utf-8")
    for name in GENERATORS:
        assert f"<!-- generated:{name} -->" in readme, f"README has no generated:{name} block"
    assert render(readme) == readme, "README drifted from the code: run `python -m cybersafe.docs README.md`"


def test_readme_counts_checks_only_in_generated_blocks() -> None:
    # A hand-written "56 checks" or "eleven firmware.* checks" goes stale the day a check is added.
    prose = _outside_generated_blocks(README.read_text(encoding="utf-8"))
    counts = re.findall(rf"\b(?:{NUMBER}) (?:[\w`.*-]+ ){{0,2}}(?:checks|check ids)\b", prose, flags=re.IGNORECASE)
    assert not counts, f"hand-written counts of checks in the README: {counts}"


def test_readme_starts_with_the_two_commands() -> None:
    readme = README.read_text(encoding="utf-8")
    head = readme[: readme.index("## Contents")]
    assert "make demo" in head and "make test" in head


EXTENDING = REPO / "docs" / "extending.md"


def test_the_extension_recipe_is_linked_and_names_only_what_exists() -> None:
    # docs/extending.md is reached from the README, and every file, directory and make target it names is there
    assert "(docs/extending.md)" in README.read_text(encoding="utf-8")
    text = EXTENDING.read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:src|tests|docs)/[\w./<>-]+?)`", text))
    concrete = {p.split("<", 1)[0].rsplit("/", 1)[0] if "<" in p or "*" in p else p for p in paths}
    assert len(concrete) > 10 and not sorted(p for p in concrete if not (REPO / p).exists())
    targets = set(re.findall(r"`make (\w+)", text))
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert targets and not sorted(t for t in targets if not re.search(rf"^{t}:", makefile, flags=re.MULTILINE))
