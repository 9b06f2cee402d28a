"""UK PSTI Schedule 1 para 2 and its deemed-compliance routes (SI 2023/1007 Schedule 2).

Schedule 2 deems para 2 (how to report security issues) met by EN 303 645 provision 5.2-1, or by ISO/IEC
29147 clauses 6.2.2, 6.2.5 and 6.5 with the publication conditions Schedule 2 sets (standards.md 5.1;
crosswalks/uk-psti_deemed-compliance.csv). There is no ISO/IEC 29147 catalog, so that route is a manual
result the assessor records.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.support import dossier as make_dossier

from cybersafe.checks.interface import CheckAttempt, Finding
from cybersafe.dossier.facts import derive_facts
from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.evaluate import Evaluator
from cybersafe.schemes.interface import AnyOf, Leaf, LeafKind
from cybersafe.verdict import AttemptStatus, Severity, Verdict

PARA_2 = "uk-psti@2023-1007:Schedule 1 para 2"
ISO_ROUTE = "psti.iso-29147-disclosure"
DATA = Path(__file__).resolve().parents[2] / "src" / "cybersafe" / "schemes" / "data"


def _evaluate(manual: str | None) -> Any:
    # Given a product whose disclosure policy check fails (so the direct route and EN 303 645 5.2-1 fail)
    recorded = [{"id": f"manual:{ISO_ROUTE}", "verdict": manual, "by": "Lab", "at": "2026-11-01"}]
    dossier = make_dossier(manual_results=None if manual is None else recorded)
    check = "declaration.vulnerability-disclosure-policy"
    finding = Finding(check, Verdict.FAIL, Severity.HIGH, "no policy published")
    attempts = {check: CheckAttempt(check, AttemptStatus.COMPLETED, findings=(finding,))}
    return Evaluator(default_catalog(), attempts, dossier, derive_facts(dossier)).requirement_key(PARA_2)


def test_para_2_has_the_direct_route_and_both_deemed_compliance_routes() -> None:
    routes = default_catalog().requirement(PARA_2).verified_by
    assert isinstance(routes, AnyOf)
    assert set(routes.children) == {
        Leaf(LeafKind.CHECK, "declaration.vulnerability-disclosure-policy"),
        Leaf(LeafKind.REQUIREMENT, "etsi-en-303-645@2.1.1:5.2-1"),
        Leaf(LeafKind.MANUAL, ISO_ROUTE),
    }


@pytest.mark.parametrize(
    ("manual", "expected"),
    [
        pytest.param(None, Verdict.INCONCLUSIVE, id="iso-route-not-assessed"),
        pytest.param("pass", Verdict.PASS, id="iso-route-met"),
        pytest.param("fail", Verdict.FAIL, id="iso-route-not-met"),
        pytest.param("not_applicable", Verdict.FAIL, id="iso-route-not-claimed"),
    ],
)
def test_the_iso_29147_route_decides_para_2_when_the_others_fail(manual: str | None, expected: Verdict) -> None:
    result = _evaluate(manual)
    assert result.verdict is expected
    if manual is None:
        # Then the open route is named, so the assessor knows what would close it
        assert f"manual:{ISO_ROUTE}" in " ".join(result.missing)


def test_no_iso_29147_clause_is_cited_beyond_the_ones_schedule_2_names() -> None:
    # standards.md 5.1 names ISO/IEC 29147 clauses 6.2.2, 6.2.5 and 6.5 only: nothing else may be invented
    texts = [
        (DATA / "catalogs" / "uk-psti-2023-1007.yaml").read_text(encoding="utf-8"),
        (DATA / "crosswalks" / "uk-psti-to-etsi-en-303-645-v2-1-1.yaml").read_text(encoding="utf-8"),
    ]
    cited = {n for text in texts for n in re.findall(r"\b6\.\d+(?:\.\d+)?\b", text)}
    assert cited == {"6.2.2", "6.2.5", "6.5"}


PARA_3 = "uk-psti@2023-1007:Schedule 1 para 3"


@pytest.mark.parametrize(
    ("shown_at_purchase", "expected"),
    [
        pytest.param(True, Verdict.PASS, id="shown-at-purchase"),
        pytest.param(False, Verdict.FAIL, id="not-shown-at-purchase"),
        pytest.param(None, Verdict.INCONCLUSIVE, id="not-declared"),
    ],
)
def test_the_5_3_13_route_to_para_3_stays_subject_to_para_3_3(
    shown_at_purchase: bool | None, expected: Verdict
) -> None:
    # Given a published support period (EN 303 645 5.3-13 passes) and whether it is shown where the product is sold
    period = {
        "end": "2031-12-31",
        "published_at": "https://example.com/support",
        "shown_at_purchase": shown_at_purchase,
    }
    dossier = make_dossier(declarations={"support_period": period})
    check = "declaration.support-period-published"
    attempts = {check: _published_attempt(shown_at_purchase)}
    evaluator = Evaluator(default_catalog(), attempts, dossier, derive_facts(dossier))
    # When para 3 is judged
    result = evaluator.requirement_key(PARA_3)
    # Then 5.3-13 alone is no route: para 3(3) (equal prominence at purchase) decides, on either route
    assert evaluator.requirement_key("etsi-en-303-645@2.1.1:5.3-13").verdict is Verdict.PASS
    assert result.verdict is expected


def _published_attempt(shown: bool | None) -> CheckAttempt:
    check = "declaration.support-period-published"
    verdict = {True: Verdict.PASS, False: Verdict.FAIL, None: Verdict.INCONCLUSIVE}[shown]
    finding = Finding(check, verdict, Severity.MEDIUM, f"shown at purchase: {shown}")
    return CheckAttempt(check, AttemptStatus.COMPLETED, findings=(finding,))


def test_en_303_645_5_3_13_alone_recognises_no_psti_para_3() -> None:
    # Given the deemed-compliance crosswalk: 5.3-13 is sufficient only with para 3(3), (5) and (6)
    crosswalk = next(c for c in default_catalog().crosswalks if c.id == "uk-psti-to-etsi-en-303-645-v2-1-1")
    edge = next(e for e in crosswalk.edges if e.source == "uk-psti@2023-1007:Schedule 1 para 3")
    # Then the edge does not claim sufficiency (recognition follows only equal and superset-of)
    assert str(edge.relationship) == "intersects-with"
    assert "3(3), (5) and (6)" in edge.rationale
