"""Adding a check is one class, one catalog line and one case directory: shown on a small new check.

The three places, as the README's "Adding a check" says:

1. the class, listed in its family's tuple (which ``BUILTIN_CHECKS`` spreads); here the test lists it beside them;
2. one catalog line: a requirement's ``verified_by`` names the check (here in a copy of the bundled catalog);
3. one case directory under ``tests/integration/<family>/<check-id>/`` (here in a copy of the case tree).

Nothing else changes: the meta-tests, the case runner, the catalog's integrity check, the assessment and the
README's generated check table all pick the check up. The test shows what it touched: one line of one catalog file,
files in one new case directory, one class in a tuple of its own; the bundled catalog, the real case tree and
``BUILTIN_CHECKS`` are left as they were, so nothing leaks into other tests.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from cybersafe.assess import assess_dossier
from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.docs import check_table
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import Evidence
from cybersafe.schemes.catalog import data_dir, load_catalog
from cybersafe.to_wire import check_feeds
from cybersafe.verdict import Severity, Verdict
from tests.integration.cases import (
    INTEGRATION,
    assert_outcome,
    discover,
    missing_cases,
    problems_with_layout,
    run_case,
    verdicts_by_check,
)
from tests.support import NOW, dossier

NEW_ID = "declaration.hardware-version-declared"


class HardwareVersionDeclaredCheck(Check):
    """The new check: the dossier names the product's hardware version."""

    ID = NEW_ID
    TITLE = "The product's hardware version is declared"
    SEVERITY = Severity.LOW
    REQUIRES = (Dossier,)
    REMEDIATION = "Declare product.hardware_version in the dossier."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        version = evidence.require(Dossier).product.hardware_version
        where = [Location(path="dossier:product.hardware_version")]
        if version:
            return [self.passed(f"hardware version {version} declared", locations=where)]
        return [self.inconclusive("the dossier declares no hardware version", locations=where)]


def _case_tree(root: Path) -> Path:
    """The real case tree, one symlink per check directory, so new case directories can be added beside it."""
    for family in INTEGRATION.iterdir():
        if family.is_dir() and not family.name.startswith("__"):
            (root / family.name).mkdir(parents=True)
            for child in family.iterdir():
                (root / family.name / child.name).symlink_to(child)
    return root


def _name_the_check_in_one_requirement(catalog_dir: Path, check_id: str) -> tuple[str, str]:
    """Edit one line of a copied catalog: the first ``verified_by: <check>`` of a current modelled scheme also
    names ``check_id``.
    Returns the scheme id and the requirement id."""
    for path in sorted((catalog_dir / "catalogs").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        scheme = yaml.safe_load(text)["scheme"]
        found = re.search(r"^- id: (.+)\n(?:  .*\n)*?  verified_by: ([a-z]+\.[a-z-]+)$", text, re.MULTILINE)
        if found and scheme["current"] and scheme["modelled"]:
            line = found.group(0).rsplit("\n", 1)[1]
            path.write_text(text.replace(line, f"  verified_by: [{found.group(2)}, {check_id}]", 1), encoding="utf-8")
            return scheme["id"], yaml.safe_load(found.group(1))
    raise AssertionError("no requirement verified by a single check in the bundled catalogs")


def _changed_lines(original: Path, copy: Path) -> dict[str, list[str]]:
    """Per file of ``copy`` that differs from ``original``: the lines removed (``-``) and added (``+``)."""
    changed: dict[str, list[str]] = {}
    for path in sorted(p for p in copy.rglob("*") if p.is_file()):
        rel = path.relative_to(copy)
        before = (original / rel).read_text(encoding="utf-8").splitlines() if (original / rel).is_file() else []
        diff = difflib.unified_diff(before, path.read_text(encoding="utf-8").splitlines(), lineterm="", n=0)
        lines = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        if lines:
            changed[str(rel)] = lines
    return changed


def _own_files(tree: Path) -> list[str]:
    """Files written into ``tree`` itself, not reached through its symlinks into the real case tree."""
    found = []
    for directory, _, files in os.walk(tree, followlinks=False):
        found.extend(str((Path(directory) / name).relative_to(tree)) for name in files)
    return sorted(found)


def _write_case(directory: Path, patch: dict[str, Any], expected: dict[str, Any]) -> None:
    (directory / "__input__").mkdir(parents=True)
    (directory / "__output__").mkdir()
    (directory / "__input__" / "dossier.patch.yaml").write_text(yaml.safe_dump(patch), encoding="utf-8")
    (directory / "__output__" / "expected.json").write_text(json.dumps(expected), encoding="utf-8")


def test_a_check_is_one_class_one_catalog_line_and_one_case_directory(tmp_path: Path) -> None:
    # Given the new class listed beside the built-in checks
    checks = (*BUILTIN_CHECKS, HardwareVersionDeclaredCheck)
    cases = _case_tree(tmp_path / "integration")
    catalog_dir = tmp_path / "data"
    shutil.copytree(data_dir(), catalog_dir)
    # Then, before anything else, the meta-test and the catalog's integrity test both point at what is missing
    assert missing_cases(checks, cases) == [NEW_ID]
    assert NEW_ID not in load_catalog(catalog_dir).referenced_check_ids()

    # When one catalog line names it
    scheme_id, requirement_id = _name_the_check_in_one_requirement(catalog_dir, NEW_ID)
    catalog = load_catalog(catalog_dir)
    # Then the catalog resolves and every check, the new one included, is used by some requirement
    catalog.validate_references(checks)
    assert not {c.ID for c in checks} - catalog.referenced_check_ids()

    # When one case directory (here a passing and a non-passing case) is added
    where = {"location": "dossier:product.hardware_version"}
    _write_case(
        cases / "declaration" / NEW_ID / "declared",
        {},
        {"verdict": "pass", "findings": [{"verdict": "pass", "severity": "info", **where, "message": "B1 declared"}]},
    )
    _write_case(
        cases / "declaration" / NEW_ID / "not-declared",
        {"product": {"hardware_version": None}},
        {
            "verdict": "inconclusive",
            "findings": [{"verdict": "inconclusive", "severity": "info", **where, "message": "no hardware version"}],
        },
    )
    # Then the meta-tests are satisfied and the runner runs the new cases like any other
    assert missing_cases(checks, cases) == [] and problems_with_layout(cases) == []
    assert verdicts_by_check(discover(cases))[NEW_ID] == {"pass", "inconclusive"}
    new_cases = [case for case in discover(cases) if case.check_id == NEW_ID]
    assert len(new_cases) == 2
    for case in new_cases:
        assert_outcome(run_case(case, checks, tmp_path), case.expected(), case.id)

    # And those three places are all that changed: one line of one catalog file, one new case directory, and the
    # class, known only to this test's tuple (the bundled catalog, the real case tree and BUILTIN_CHECKS are as
    # they were)
    (catalog_file, lines), *others = _changed_lines(data_dir(), catalog_dir).items()
    assert not others and catalog_file.startswith("catalogs/") and len(lines) == 2, lines
    assert lines[0].startswith("-") and lines[1].startswith("+") and lines[1].endswith(f", {NEW_ID}]")
    assert {Path(rel).parts[:2] for rel in _own_files(cases)} == {("declaration", NEW_ID)}
    assert NEW_ID not in {c.ID for c in BUILTIN_CHECKS} and not (INTEGRATION / "declaration" / NEW_ID).exists()
    assert NEW_ID not in load_catalog(data_dir()).referenced_check_ids()

    # And an assessment on that catalog runs the check and feeds the requirement with it
    run = assess_dossier(dossier(base="example"), now=NOW, catalog=catalog, checks=checks, plans=False)
    assert run.attempts[NEW_ID].verdict is Verdict.PASS
    requirement_key = catalog.requirement(f"{scheme_id}:{requirement_id}").key
    assert requirement_key in check_feeds(catalog, run.results)[NEW_ID]
    # and the README's generated check table lists it with that requirement
    row = next(line for line in check_table(checks, catalog).splitlines() if f"`{NEW_ID}`" in line)
    assert f"{scheme_id}: {requirement_id}" in row
