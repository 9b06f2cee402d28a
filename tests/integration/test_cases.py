"""Every integration case of every check family, by one runner; and the meta-tests over the case tree.

The format is described in tests/integration/cases.py; adding a check is one class, one catalog line and one
case directory (test_adding_a_check.py shows it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cybersafe.checks import BUILTIN_CHECKS
from tests.integration.cases import (
    Case,
    assert_outcome,
    discover,
    is_slow,
    missing_cases,
    problems_with_layout,
    run_case,
    verdicts_by_check,
)

CASES = discover()


def _param(case: Case) -> object:
    return pytest.param(case, id=case.id, marks=[pytest.mark.slow] if is_slow(case) else [])


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    # Given the case's input; When its check runs as an assessment would run it
    attempt = run_case(case, BUILTIN_CHECKS, tmp_path)
    # Then the attempt and its findings are the expected ones
    assert_outcome(attempt, case.expected(), case.id)


def test_every_builtin_check_has_an_integration_case() -> None:
    assert not missing_cases(BUILTIN_CHECKS), "checks without a case in tests/integration/<family>/<check-id>/"


def test_every_case_is_of_a_builtin_check() -> None:
    known = {check.ID for check in BUILTIN_CHECKS}
    assert not sorted({case.check_id for case in CASES} - known)


def test_the_case_tree_is_well_formed() -> None:
    assert not problems_with_layout()


def test_every_check_has_a_passing_and_a_non_passing_case() -> None:
    verdicts = verdicts_by_check(CASES)
    lacking = sorted(
        check.ID
        for check in BUILTIN_CHECKS
        if "pass" not in verdicts.get(check.ID, set()) or not verdicts.get(check.ID, set()) - {"pass"}
    )
    assert not lacking, f"checks without both a passing and a non-passing case: {lacking}"
