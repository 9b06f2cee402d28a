"""Verdicts that say what each law asks of this product, on the date asked (DESIGN.md "Verdict rules").

Each test names the clause or rule it implements. The example product's dossier is used with its
declarations only (no collectors), so the rules are seen on their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.support import NOW, TODAY, dossier_data

from cybersafe.assess import AssessmentRun, assess_dossier, market_status
from cybersafe.checks.interface import CheckAttempt, Finding, Location, attempt_key
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.model import Dossier, anonymous_dossier
from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.classification import classify
from cybersafe.schemes.evaluate import Evaluator
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import AttemptStatus, Severity, Verdict

BASE = dossier_data(base="example")
AFTER_CRA = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
HARDENING = "firmware.binary-hardening"
CRA_2K = "eu-cra@2024/2847:Annex I Part I (2)(k)"


def _dossier(**changes: Any) -> Dossier:
    """The example's dossier (the shared builder's) with dotted keys replaced (``None`` removes)."""
    data = dossier_data(base="example")
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return Dossier.model_validate(data)


def _run(dossier: Dossier, now: dt.datetime = NOW) -> AssessmentRun:
    return assess_dossier(dossier, now=now, plans=True)


def _scheme(run: AssessmentRun, scheme_id: str) -> Any:
    return next(r for r in run.results if r.scheme.id == scheme_id)


# ------------------------------------------------------------------------------------------ dates


def test_the_cra_applies_in_parts_reporting_from_2026_09_11_the_rest_from_2027_12_11() -> None:
    # CRA Art. 71: Art. 14 reporting obligations apply from 11 Sep 2026, everything else from 11 Dec 2027.
    today = _scheme(_run(_dossier()), "eu-cra")
    applying = {r.requirement.id for r in today.requirements if r.applies}
    assert applying and all(rid.startswith("Art. 14(") for rid in applying)
    assert [later.date for later in today.later] == ["2027-12-11"]
    # after 11 Dec 2027 every requirement applies and nothing is left for later
    after = _scheme(_run(_dossier(), AFTER_CRA), "eu-cra")
    assert all(r.applies for r in after.requirements) and after.later == ()
    assert after.status is after.summary.status


def test_before_any_of_a_law_applies_it_reads_prepare_never_fails() -> None:
    # A scheme nothing of which applies on the date reads "prepare", with what it would be then.
    run = _run(_dossier(), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    cra = _scheme(run, "eu-cra")
    assert cra.status is SchemeStatus.PREPARE
    assert [later.date for later in cra.later] == ["2026-09-11", "2027-12-11"]


def test_the_eu_market_today_is_the_red_delegated_act_and_the_cra_reporting_part() -> None:
    # Delegated Regulation (EU) 2022/30 applies from 1 Aug 2025; the CRA in parts (above).
    run = _run(_dossier())
    eu = next(m for m in run.markets if m.market == "eu")
    assert {r.scheme.id for r in eu.schemes} == {"eu-red-da", "eu-cra"}
    red = _scheme(run, "eu-red-da")
    assert red.status is not SchemeStatus.PREPARE and all(r.applies for r in red.requirements)
    # and the answers differ before and after 11 Dec 2027
    later = _run(_dossier(), AFTER_CRA)
    assert _scheme(later, "eu-cra").counts != _scheme(run, "eu-cra").counts


def test_market_status_ignores_what_applies_later_and_what_is_out_of_scope() -> None:
    s = SchemeStatus
    assert market_status([s.MEETS, s.PREPARE]) is s.MEETS
    assert market_status([s.PREPARE]) is s.PREPARE
    assert market_status([s.OUT_OF_SCOPE]) is s.OUT_OF_SCOPE
    assert market_status([s.MEETS, s.FAILS, s.PREPARE]) is s.FAILS
    assert market_status([s.MEETS, s.PENDING]) is s.PENDING
    assert market_status([s.NOT_MODELLED]) is s.NOT_MODELLED
    assert market_status([s.MEETS, s.NOT_MODELLED]) is s.INCOMPLETE


# ------------------------------------------------------------------------------------------ scope


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param({"product.wireless": False}, SchemeStatus.OUT_OF_SCOPE, id="wired-only"),
        pytest.param({"facts.fda_regulated_medical_device": True}, SchemeStatus.OUT_OF_SCOPE, id="fda-device"),
        pytest.param({"facts.from_prohibited_source": True}, SchemeStatus.OUT_OF_SCOPE, id="8.204-source"),
    ],
)
def test_the_cyber_trust_mark_scope_is_checked(change: dict[str, Any], status: SchemeStatus) -> None:
    # 47 CFR 8.203 (wireless IoT device definition) and 8.204 (prohibited sources); R&O exclusions.
    result = _scheme(_run(_dossier(**change)), "us-ctm")
    assert result.status is status
    assert result.summary.in_scope is False


def test_an_undeclared_scope_fact_never_reads_as_met() -> None:
    result = _scheme(_run(_dossier(**{"facts.nhtsa_regulated_vehicle_equipment": None})), "us-ctm")
    assert result.status not in (SchemeStatus.MEETS, SchemeStatus.PENDING)
    assert any("nhtsa_regulated_vehicle_equipment" in m for m in result.missing_evidence)


# ------------------------------------------------------------------------------------------ grants


def test_registry_items_set_at_grant_read_pending_until_the_dossier_records_the_grant() -> None:
    # 47 CFR 8.222(b)(3)-(5): authorisation date and status, the CLA, the lab are set when a CLA grants.
    ids = ("8.222(b)(3)", "8.222(b)(4)", "8.222(b)(5)")
    before = _scheme(_run(_dossier()), "us-ctm")
    assert {r.requirement.id: r.verdict for r in before.requirements if r.requirement.id in ids} == dict.fromkeys(
        ids, Verdict.PENDING
    )
    granted = _dossier(grants=[{"id": "us-ctm", "by": "Example CLA", "at": "2026-11-28", "reference": "G-1"}])
    after = _scheme(_run(granted), "us-ctm")
    assert all(r.verdict is not Verdict.PENDING for r in after.requirements if r.requirement.id in ids)
    # a grant dated after the assessment does not count
    future = _dossier(grants=[{"id": "us-ctm", "by": "Example CLA", "at": "2027-01-01"}])
    assert any(r.verdict is Verdict.PENDING for r in _scheme(_run(future), "us-ctm").requirements)


# ------------------------------------------------------------------------------------------ risk decisions


def _hardening_attempt(*paths: str) -> CheckAttempt:
    findings = tuple(
        Finding(HARDENING, Verdict.FAIL, Severity.MEDIUM, f"{p} is not PIE", (Location(path=p),)) for p in paths
    )
    return CheckAttempt(HARDENING, AttemptStatus.COMPLETED, findings=findings)


def _cra_2k(decisions: list[dict[str, Any]], *paths: str, as_of: dt.date = TODAY) -> Any:
    dossier = _dossier(risk_decisions=decisions)
    catalog = default_catalog()
    evaluator = Evaluator(catalog, {HARDENING: _hardening_attempt(*paths)}, dossier, derive_facts(dossier), as_of)
    return evaluator.requirement_key(CRA_2K)


BUSYBOX = {
    "id": "RD-1",
    "requirement": CRA_2K,
    "covers": [{"check": HARDENING, "paths": ["/bin/busybox"]}],
    "risk": "a static busybox without PIE; NX is on and it runs no network service",
    "measure": "no network-facing code in it; rebuilt as PIE in the next release",
    "decided_by": "Product security lead",
    "decided_at": "2026-10-01",
}


def test_a_documented_risk_decision_turns_a_covered_finding_into_justified_never_pass() -> None:
    # CRA Annex I Part I (2): the points apply "on the basis of the cybersecurity risk assessment".
    result = _cra_2k([BUSYBOX], "/bin/busybox")
    assert result.verdict is Verdict.JUSTIFIED
    assert result.justified_by == ("RD-1",)
    assert "RD-1" in result.reason and "Product security lead" in result.reason


def test_a_finding_no_decision_covers_still_fails() -> None:
    assert _cra_2k([BUSYBOX], "/bin/busybox", "/usr/bin/camd").verdict is Verdict.FAIL


def test_a_decision_dated_after_the_assessment_does_not_count() -> None:
    assert _cra_2k([BUSYBOX], "/bin/busybox", as_of=dt.date(2026, 9, 1)).verdict is Verdict.FAIL


def test_a_decision_on_an_unknown_requirement_is_a_dossier_error() -> None:
    from cybersafe.errors import DossierError

    with pytest.raises(DossierError, match=r"risk_decisions\[0\]\.requirement"):
        _cra_2k([{**BUSYBOX, "requirement": "eu-cra:Annex IX"}], "/bin/busybox")


def test_a_justified_requirement_lets_its_scheme_meet_and_says_so() -> None:
    # the status counts justified among met requirements; the counts keep it apart from pass
    from cybersafe.schemes.algebra import level_status

    assert level_status([Verdict.PASS, Verdict.JUSTIFIED]) is SchemeStatus.MEETS


# ------------------------------------------------------------------------------------------ classification


def test_a_security_camera_is_an_important_class_i_product_and_needs_a_notified_body() -> None:
    # CRA Annex III Class I point 17 (security cameras); Art. 32(2): module A only with a harmonised standard
    # applied in full; none is cited yet, so B+C or H (a notified body) remain.
    found = classify(default_catalog().scheme("eu-cra"), _dossier(), TODAY)
    assert found is not None
    assert found.product_class.id == "important-class-i"
    assert [c.id for c, _ in found.matched] == ["annex-iii-class-i-17"]
    routes = {r.id: r for r in found.routes}
    assert routes["module-a"].open is False and "no harmonised standard" in routes["module-a"].why
    assert routes["module-b-c"].open and routes["module-b-c"].notified_body
    assert found.notified_body_required


def test_a_declared_class_below_what_the_product_type_matches_is_reported_and_not_used() -> None:
    found = classify(default_catalog().scheme("eu-cra"), _dossier(**{"product.cra_product_class": "default"}), TODAY)
    assert found is not None and found.product_class.id == "important-class-i"
    assert any("below" in note for note in found.notes)


def test_without_types_or_a_declared_class_the_default_is_said_to_be_by_absence() -> None:
    dossier = _dossier(**{"product.types": [], "product.cra_product_class": None})
    found = classify(default_catalog().scheme("eu-cra"), dossier, TODAY)
    assert found is not None and found.product_class.id == "default"
    assert any("declare product.types" in note for note in found.notes)
    assert not found.notified_body_required  # module A is open for a default product


def test_the_eu_plan_lists_the_route_with_the_notified_body_step() -> None:
    run = _run(_dossier())
    plan = next(p for p in run.plans if p.want.startswith("eu-cra@") and p.have is None)
    assert any(line.startswith("notified body required") for line in plan.route)


def test_an_anonymous_product_is_judged_on_no_market() -> None:
    run = _run(anonymous_dossier("image.bin"))
    assert run.requested and run.markets == []


# ------------------------------------------------------------------------------------------ EN 303 645 5.0-1


def _etsi_501(ics: dict[str, Any], hardening: Verdict) -> Verdict:
    dossier = _dossier(ics=ics)
    finding = Finding(HARDENING, hardening, Severity.MEDIUM, "hardening", (Location(path="/bin/busybox"),))
    nx_only = (("protections", ("nx",)),)  # 5.6-8 runs the check for NX only
    attempts = {
        attempt_key(HARDENING, nx_only): CheckAttempt(
            HARDENING, AttemptStatus.COMPLETED, findings=(finding,), parameters=nx_only
        )
    }
    evaluator = Evaluator(default_catalog(), attempts, dossier, derive_facts(dossier), TODAY)
    return evaluator.requirement_key("etsi-en-303-645@3.1.3:5.0-1").verdict


def test_501_fails_when_a_recommendation_fails_without_an_ics_justification() -> None:
    # EN 303 645 V3.1.3 5.0-1 (V2.1.1 4-1): recommendations not fulfilled are justified.
    ics = {k: v for k, v in BASE["ics"].items() if k != "5.6-8"}
    assert _etsi_501(ics, Verdict.FAIL) is Verdict.FAIL
    justified = {**ics, "5.6-8": {"support": "no", "justification": "NX is used; PIE rebuild planned for 2.5"}}
    assert _etsi_501(justified, Verdict.FAIL) is not Verdict.FAIL
    assert _etsi_501(ics, Verdict.PASS) is not Verdict.FAIL


def test_a_market_none_of_whose_schemes_was_evaluated_reads_not_judged() -> None:
    # Given the example (markets us, eu, uk, sg) assessed for the RED delegated act only (assess --scheme eu-red-da)
    run = assess_dossier(Dossier.model_validate(BASE), now=NOW, scheme_refs=("eu-red-da",), plans=False)
    statuses = {m.market: m.status for m in run.markets}
    # Then the EU market is judged on it, and the others read "not judged", never "out of scope" (which says the
    # market's laws and labels do not cover the product)
    assert statuses["eu"] is not SchemeStatus.NOT_JUDGED
    assert {statuses[m] for m in ("us", "uk", "sg")} == {SchemeStatus.NOT_JUDGED}
    # and the exit code is judged on the scheme asked for only
    assert run.meets_requested is (_scheme(run, "eu-red-da").status in (SchemeStatus.MEETS, SchemeStatus.PENDING))
