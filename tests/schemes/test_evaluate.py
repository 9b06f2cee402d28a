"""Requirement and scheme verdicts over a small test catalog (tests/schemes/data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.support import dossier

from cybersafe.checks.interface import CheckAttempt, Finding
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.model import Dossier
from cybersafe.schemes.catalog import Catalog
from cybersafe.schemes.evaluate import UNMAPPED_REASON, Evaluator, evaluate_condition
from cybersafe.schemes.interface import Condition
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import AttemptStatus, ErrorReason, Severity, Verdict


def _dossier(**declarations: Any) -> Dossier:
    return dossier(declarations=declarations)


def _attempt(check_id: str, verdict: Verdict) -> CheckAttempt:
    finding = Finding(check_id, verdict, Severity.HIGH, f"{check_id} said {verdict}")
    return CheckAttempt(check_id, AttemptStatus.COMPLETED, findings=(finding,))


def _evaluator(catalog: Catalog, dossier: Dossier, *attempts: CheckAttempt) -> Evaluator:
    return Evaluator(catalog, {a.check_id: a for a in attempts}, dossier, derive_facts(dossier))


PASSWORDS = {"uses_passwords": True, "default_password_approach": "user-defined"}


def test_unmapped_requirement_is_inconclusive_never_pass(test_catalog: Catalog) -> None:
    # Given a recommended requirement with nothing that verifies it
    result = _evaluator(test_catalog, _dossier()).requirement_key("etsi-en-303-645@test:C")
    # Then it reads inconclusive with the reason, and it is not required for the status
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.reason == UNMAPPED_REASON
    assert result.missing == ("declaration or manual result for etsi-en-303-645@test:C",)


def test_condition_false_is_not_applicable(test_catalog: Catalog) -> None:
    dossier = _dossier(authentication={"uses_passwords": False, "default_password_approach": "none"})
    result = _evaluator(test_catalog, dossier).requirement_key("etsi-en-303-645@test:B")
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert not result.required


def test_unknown_condition_keeps_requirement_inconclusive(test_catalog: Catalog) -> None:
    # Given no authentication declaration, so uses_passwords is unknown, and a failing check
    evaluator = _evaluator(test_catalog, _dossier(), _attempt("firmware.universal-default-password", Verdict.FAIL))
    result = evaluator.requirement_key("etsi-en-303-645@test:B")
    # Then the requirement cannot fail or pass on a condition nobody declared
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "uses_passwords" in result.reason


@pytest.mark.parametrize(
    ("firmware", "network", "expected"),
    [
        pytest.param(Verdict.PASS, None, Verdict.PASS, id="one-passes"),
        pytest.param(Verdict.FAIL, Verdict.FAIL, Verdict.FAIL, id="both-fail"),
        pytest.param(Verdict.FAIL, None, Verdict.INCONCLUSIVE, id="fail-and-not-run"),
        pytest.param(Verdict.ERROR, Verdict.FAIL, Verdict.ERROR, id="error-blocks-fail"),
    ],
)
def test_any_over_checks(test_catalog: Catalog, firmware: Verdict, network: Verdict | None, expected: Verdict) -> None:
    attempts = [_attempt("firmware.universal-default-password", firmware)]
    if network is not None:
        attempts.append(_attempt("network.default-credentials", network))
    result = _evaluator(test_catalog, _dossier(authentication=PASSWORDS), *attempts).requirement_key(
        "etsi-en-303-645@test:B"
    )
    assert result.verdict is expected


def test_errored_attempt_never_passes(test_catalog: Catalog) -> None:
    crashed = CheckAttempt("declaration.default-password-approach", AttemptStatus.ERROR, reason=ErrorReason.BUG)
    result = _evaluator(test_catalog, _dossier(), crashed).requirement_key("etsi-en-303-645@test:A")
    assert result.verdict is Verdict.ERROR


def test_unreachable_probe_is_inconclusive(test_catalog: Catalog) -> None:
    unreachable = CheckAttempt(
        "network.default-credentials", AttemptStatus.ERROR, reason=ErrorReason.PROBE_UNREACHABLE, detail="timeout"
    )
    failing_fw = _attempt("firmware.universal-default-password", Verdict.FAIL)
    evaluator = _evaluator(test_catalog, _dossier(authentication=PASSWORDS), unreachable, failing_fw)
    result = evaluator.requirement_key("etsi-en-303-645@test:B")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert any("timeout" in m for m in result.missing)


def test_manual_result_closes_a_check_that_could_not_run_but_never_a_fail(test_catalog: Catalog) -> None:
    manual = [{"id": "manual:lab-review", "verdict": "pass", "by": "Lab", "at": "2026-10-01"}]
    declared = {"support_period": {"end": "2031-01-01"}}
    with_manual = dossier(declarations=declared, manual_results=manual)
    assert _evaluator(test_catalog, with_manual).requirement_key("etsi-en-303-645@test:D").verdict is Verdict.PASS

    check_result = [{"id": "declaration.default-password-approach", "verdict": "pass", "by": "Lab", "at": "2026-10-01"}]
    with_check_result = dossier(declarations=declared, manual_results=check_result)
    failing = _attempt("declaration.default-password-approach", Verdict.FAIL)
    evaluator = _evaluator(test_catalog, with_check_result, failing)
    assert evaluator.requirement_key("etsi-en-303-645@test:A").verdict is Verdict.FAIL


def test_requirement_reference_and_levels(test_catalog: Catalog) -> None:
    # Given the baseline A passes but B's checks did not run
    evaluator = _evaluator(
        test_catalog,
        _dossier(authentication=PASSWORDS),
        _attempt("declaration.default-password-approach", Verdict.PASS),
    )
    result = evaluator.scheme(test_catalog.scheme("sg-cls"))
    # Then level 1 is met through the reference to A, level 2 is incomplete, highest level is 1
    assert [(lv.level, lv.status) for lv in result.levels] == [
        ("1", SchemeStatus.MEETS),
        ("2", SchemeStatus.INCOMPLETE),
    ]
    assert result.highest_level == "1"
    assert result.status is SchemeStatus.MEETS
    assert result.missing_evidence


def test_level_fails_when_a_required_requirement_fails(test_catalog: Catalog) -> None:
    evaluator = _evaluator(
        test_catalog,
        _dossier(authentication=PASSWORDS),
        _attempt("declaration.default-password-approach", Verdict.FAIL),
    )
    result = evaluator.scheme(test_catalog.scheme("sg-cls"))
    assert result.status is SchemeStatus.FAILS
    assert result.highest_level is None


def test_unmodelled_scheme_never_reads_as_met(test_catalog: Catalog) -> None:
    result = _evaluator(test_catalog, _dossier()).scheme(test_catalog.scheme("de-bsi"))
    assert result.status is SchemeStatus.NOT_MODELLED
    assert result.highest_level is None


def test_ics_not_applicable_only_for_non_mandatory(test_catalog: Catalog) -> None:
    ics = {"C": {"support": "n/a", "justification": "no such feature"}, "A": {"support": "n/a"}}
    evaluator = _evaluator(test_catalog, dossier(ics=ics))
    assert evaluator.requirement_key("etsi-en-303-645@test:C").verdict is Verdict.NOT_APPLICABLE
    assert evaluator.requirement_key("etsi-en-303-645@test:A").verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param({"a": True, "b": False}, False, id="all-false"),
        pytest.param({"a": True}, None, id="all-unknown"),
        pytest.param({"a": False}, False, id="all-short-circuit"),
    ],
)
def test_three_valued_conditions(facts: dict[str, bool], expected: bool | None) -> None:
    condition = Condition("all", children=(Condition("fact", fact="a"), Condition("fact", fact="b")))
    assert evaluate_condition(condition, facts) is expected
    negated = Condition("not", children=(condition,))
    assert evaluate_condition(negated, facts) is (None if expected is None else not expected)


def test_declaration_leaf_semantics(test_catalog: Catalog) -> None:
    evaluator = _evaluator(test_catalog, _dossier(support_period={"end": dt.date(2031, 1, 1).isoformat()}))
    from cybersafe.schemes.interface import Leaf, LeafKind

    assert evaluator.leaf(Leaf(LeafKind.DECLARATION, "support_period.end")).verdict is Verdict.PASS
    assert evaluator.leaf(Leaf(LeafKind.DECLARATION, "update.signed")).verdict is Verdict.INCONCLUSIVE
