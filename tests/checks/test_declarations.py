"""Declaration checks, driven by the integration cases in tests/integration/declaration/<check-id>/."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from cybersafe.checks.declarations import DECLARATION_CHECKS
from cybersafe.checks.interface import run_check
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import AttemptStatus

CASES_DIR = Path(__file__).resolve().parent.parent / "integration" / "declaration"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "smart-camera" / "dossier.yaml"
AS_OF = dt.date(2026, 11, 29)


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = _merge(base.get(key), value)
        return out
    return copy.deepcopy(patch)


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*/cases.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            params.append(pytest.param(data["check"], case, id=f"{data['check']}:{case['name']}"))
    return params


@pytest.mark.parametrize(("check_id", "case"), _cases())
def test_declaration_case(check_id: str, case: dict[str, Any]) -> None:
    # Given the example dossier patched for the case
    base = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    dossier = Dossier.model_validate(_merge(base, case["patch"]))
    check_class = {c.ID: c for c in DECLARATION_CHECKS}[check_id]
    parameters = tuple(sorted(case.get("parameters", {}).items()))
    # When the check runs (with the parameters a requirement would set)
    attempt = run_check(check_class.with_parameters(parameters), Evidence(dossier=dossier, as_of=AS_OF), parameters)
    # Then it completes with the expected verdict and says why
    assert attempt.status is AttemptStatus.COMPLETED, attempt.detail
    assert str(attempt.verdict) == case["expected"]["verdict"], [f.message for f in attempt.findings]
    messages = " | ".join(f.message for f in attempt.findings)
    assert case["expected"]["message_contains"] in messages
    for finding in attempt.findings:
        assert finding.locations, "every finding names where it looked"
        if str(finding.verdict) in ("fail", "error"):
            assert finding.remediation


def test_every_declaration_check_has_a_passing_and_a_non_passing_case() -> None:
    for check in DECLARATION_CHECKS:
        data = yaml.safe_load((CASES_DIR / check.ID / "cases.yaml").read_text(encoding="utf-8"))
        verdicts = {c["expected"]["verdict"] for c in data["cases"]}
        assert "pass" in verdicts and verdicts - {"pass"}, check.ID
