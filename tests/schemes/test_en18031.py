"""EN 18031-1/-2/-3 as decision trees: the bundled catalogs, their scope and family applicability by dossier facts,
the restrictions of Implementing Decision (EU) 2025/138, and the example camera's result."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support import NOW, dossier

from cybersafe.assess import assess_dossier
from cybersafe.render._view import presumption_text
from cybersafe.render.html import render_html
from cybersafe.results import SchemeResultOut
from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.interface import Confidence
from cybersafe.schemes.status import SchemeStatus
from cybersafe.to_wire import to_assessment

PARTS = ("eu-red-en-18031-1", "eu-red-en-18031-2", "eu-red-en-18031-3")


def _assess(facts: dict[str, bool | None] | None = None, **auth: Any) -> dict[str, SchemeResultOut]:
    # the example's declarations, facts and decisions only (no firmware, SBOM or device); None removes
    changed = dossier(base="example", patch={"facts": facts or {}, "declarations": {"authentication": auth}})
    run = assess_dossier(changed, now=NOW, scheme_refs=PARTS, plans=False)
    return {s.scheme: s for s in to_assessment(run).schemes}


def _verdicts(result: SchemeResultOut) -> dict[str, str]:
    return {r.id: str(r.verdict) for r in result.requirements}


# ------------------------------------------------------------------------------------------------ catalog data


def test_every_requirement_has_a_tree_or_says_why_not() -> None:
    catalog = default_catalog()
    for scheme_id in PARTS:
        scheme = catalog.scheme(scheme_id)
        assert scheme.markets == () and scheme.kind == "standard"  # the EU market's legal scheme is the RED's
        for req in scheme.requirements:
            tree = req.decision_tree
            if tree is None:
                # Only EN 18031-3 variants whose nodes no public source confirms are left to the assessor
                assert scheme_id == "eu-red-en-18031-3", req.key
                assert "not modelled" in (req.confidence_note or ""), req.key
                continue
            assert tree.id == f"DT.{req.id}"
            assert [n.id for n in tree.nodes] == [f"DN-{i}" for i in range(1, len(tree.nodes) + 1)], req.key
            assert tree.note, req.key
            if any("OPEN" in (n.yes, n.no) for n in tree.nodes):
                assert tree.confidence is Confidence.UNCONFIRMED, req.key


def test_every_fact_a_scope_tree_or_restriction_reads_is_declared_in_its_scheme() -> None:
    # The catalog is the one list of the facts a dossier may state (scheme.conditions); the loader refuses an
    # undeclared one, and this holds it for the facts trees and restrictions read
    for scheme_id in PARTS:
        scheme = default_catalog().scheme(scheme_id)
        used = set(scheme.scope.facts()) if scheme.scope is not None else set()
        for req in scheme.requirements:
            if req.decision_tree is not None:
                used |= req.decision_tree.facts()
        for restriction in scheme.presumption.restrictions if scheme.presumption else ():
            if restriction.when is not None:
                used |= restriction.when.facts()
        assert used and used <= set(scheme.conditions), scheme_id


def test_trees_read_evidence_that_runs() -> None:
    # The leaves a tree reads are its requirement's verified_by, so `assess --scheme eu-red-en-18031-1` runs them
    req = default_catalog().requirement("eu-red-en-18031-1:SCM-2")
    assert req.decision_tree is not None and req.verified_by is not None
    assert "network.tls-weak-cipher" in str(req.verified_by)


# ------------------------------------------------------------------------------------------------ scope, applicability


def test_network_monitoring_and_traffic_control_only_for_network_equipment() -> None:
    # Given the example camera, which declares it is not network equipment
    camera = _verdicts(_assess()["eu-red-en-18031-1"])
    assert camera["NMM-1"] == camera["TCM-1"] == "not_applicable"
    # When it is declared network equipment, the trees apply (DN-1 yes) and DN-2 is an open question
    router = _assess({"network_equipment": True})["eu-red-en-18031-1"]
    nmm = next(r for r in router.requirements if r.id == "NMM-1")
    assert str(nmm.verdict) == "inconclusive" and nmm.missing[0].startswith("DT.NMM-1.DN-2")
    # And when nobody says, NMM and TCM cannot be decided (never guessed away)
    unknown = _assess({"network_equipment": None})["eu-red-en-18031-1"]
    assert _verdicts(unknown)["NMM-1"] == "inconclusive"
    assert "network_equipment" in next(r.reason for r in unknown.requirements if r.id == "NMM-1")


@pytest.mark.parametrize(
    ("facts", "statuses"),
    [
        pytest.param({}, ("incomplete", "incomplete", "out_of_scope"), id="internet-camera-personal-data"),
        pytest.param({"transfers_money": True}, ("incomplete", "incomplete", "incomplete"), id="with-payments"),
        pytest.param({"internet_connected": False}, ("out_of_scope", "out_of_scope", "out_of_scope"), id="offline"),
        pytest.param({"internet_connected": False, "toy": True}, ("out_of_scope", "incomplete", "out_of_scope"),
                     id="offline-toy-with-personal-data"),
        pytest.param({"transfers_money": None}, ("incomplete", "incomplete", "incomplete"), id="payments-undeclared"),
    ],
)  # fmt: skip
def test_parts_apply_by_the_delegated_regulation_conditions(
    facts: dict[str, bool | None], statuses: tuple[str, str, str]
) -> None:
    # RED Art. 3(3)(d): internet connected; (e): personal data and internet connected, childcare, toy or
    # wearable; (f): internet connected and transferring money (Delegated Regulation (EU) 2022/30 Art. 1)
    results = _assess(facts)
    assert tuple(str(results[p].status) for p in PARTS) == statuses


def test_toy_access_control_requirements_apply_only_to_toys() -> None:
    camera = _verdicts(_assess()["eu-red-en-18031-2"])
    assert {camera[r] for r in ("ACM-3", "ACM-4", "ACM-5", "ACM-6")} == {"not_applicable"}
    toy = _verdicts(_assess({"toy": True, "parental_access_control": True})["eu-red-en-18031-2"])
    assert {toy[r] for r in ("ACM-3", "ACM-4", "ACM-5", "ACM-6")} == {"inconclusive"}


# ------------------------------------------------------------------------------------------------ Decision 2025/138


@pytest.mark.parametrize(
    ("password_optional", "expected"),
    [
        pytest.param(True, "lost", id="user-may-skip-the-password"),
        pytest.param(False, None, id="password-enforced"),
        pytest.param(None, "undetermined", id="not-declared"),
    ],
)
def test_no_presumption_when_the_user_may_skip_the_password(
    password_optional: bool | None, expected: str | None
) -> None:
    # Implementing Decision (EU) 2025/138: no presumption of conformity from clauses 6.2.5.1 and 6.2.5.2 where the
    # user may choose not to set or use any password; it applies to all three parts
    results = _assess({"transfers_money": True}, password_optional=password_optional)
    for part in PARTS:
        flags = {p.restriction: p for p in results[part].presumption}
        if expected is None:
            assert "optional-password" not in flags
            continue
        flag = flags["optional-password"]
        assert flag.state == expected
        assert flag.requirements == ["AUM-5-1", "AUM-5-2"] and flag.clauses == "6.2.5.1 and 6.2.5.2"
        assert "2025/138" in flag.act and "notified body" in flag.effect


def test_a_lost_presumption_is_said_beside_the_status_with_the_route_instead() -> None:
    # Given a product whose user may skip setting a password
    optional = dossier(base="example", patch={"declarations": {"authentication": {"password_optional": True}}})
    run = assess_dossier(optional, now=NOW, scheme_refs=PARTS, plans=False)
    assessment = to_assessment(run)
    one = next(s for s in assessment.schemes if s.scheme == "eu-red-en-18031-1")
    # Then the status is the standard's own, and the restriction is said beside it, with what to do instead
    assert one.status == SchemeStatus.INCOMPLETE
    line = presumption_text(one.presumption[0])
    assert line.startswith(
        "No presumption of conformity with RED Art. 3(3)(d) for AUM-5-1, AUM-5-2 (clauses 6.2.5.1 and 6.2.5.2; "
        "Decision (EU) 2025/138): "
    )
    assert "notified body (RED Annex III, modules B and C)" in line
    assert line.replace("'", "&#39;") in render_html(assessment, now=NOW)


def test_toys_without_parental_access_control_lose_the_presumption_of_part_2() -> None:
    flags = _assess({"toy": True, "parental_access_control": False})["eu-red-en-18031-2"].presumption
    toys = next(p for p in flags if p.restriction == "toys-childcare-access-control")
    assert toys.state == "lost" and toys.clauses == "6.1.3 to 6.1.6" and toys.presumes == "RED Art. 3(3)(e)"
    ensured = _assess({"toy": True, "parental_access_control": True})["eu-red-en-18031-2"].presumption
    assert "toys-childcare-access-control" not in {p.restriction for p in ensured}


def test_part_3_secure_update_criteria_never_give_a_presumption() -> None:
    flags = _assess({"transfers_money": True})["eu-red-en-18031-3"].presumption
    update = next(p for p in flags if p.restriction == "secure-update-criteria")
    assert update.state == "lost" and update.requirements == ["SUM-2"] and update.clauses == "6.3.2.4"
    assert update.detail == "SUM-2 applies to this product"


def test_an_out_of_scope_part_flags_nothing() -> None:
    assert _assess()["eu-red-en-18031-3"].presumption == []


# ------------------------------------------------------------------------------------------------ the example


def test_the_example_camera_gets_a_red_verdict_with_its_open_questions() -> None:
    results = _assess()
    one, two, three = (results[p] for p in PARTS)
    # EN 18031-1 and -2 apply to the camera and are incomplete (never met from declarations alone); -3 does not apply
    assert (one.status, two.status, three.status) == (
        SchemeStatus.INCOMPLETE,
        SchemeStatus.INCOMPLETE,
        SchemeStatus.OUT_OF_SCOPE,
    )
    # The open decision-tree questions are listed for the assessor, each with its node and what evidence said
    open_nodes = {m.split(" ", 1)[0] for m in one.missing_evidence if m.startswith("DT.")}
    assert {"DT.GEC-1.DN-1", "DT.ACM-2.DN-1", "DT.SSM-2.DN-1", "DT.GEC-2.DN-1"} <= open_nodes
    gec1 = next(m for m in one.missing_evidence if m.startswith("DT.GEC-1.DN-1"))
    assert "publicly known exploitable vulnerabilities" in gec1 and "sbom.known-exploited-vulnerability" in gec1
    # A path answered by the manufacturer's decisions and declarations still needs functional evidence to pass
    acm1 = next(r for r in one.requirements if r.id == "ACM-1")
    assert "DN-1 no, DN-2 no, DN-3 no, DN-4 yes -> PASS" in acm1.reason and str(acm1.verdict) == "inconclusive"
    # (network.default-credentials is closed by the lab's full-list result in the example's manual_results)
    assert [m.split(":", 1)[0] for m in acm1.missing] == [
        "network.unauthenticated-disclosure",
        "network.login-without-credentials",
    ]
    assert all("no NetworkObservations evidence" in m for m in acm1.missing)
    # The camera enforces its password (password_optional: false): no restriction of Decision 2025/138 bites
    assert one.presumption == [] and two.presumption == []


@pytest.mark.parametrize(
    ("password_optional", "verdict", "said"),
    [
        pytest.param(False, "pass", "EN 18031-1 2024: meets", id="presumption-holds"),
        pytest.param(True, "inconclusive", "gives no presumption of conformity with RED Art. 3(3)(d): optional-password",
                     id="presumption-lost"),
    ],
)  # fmt: skip
def test_the_red_law_is_met_through_en_18031_only_with_its_presumption(
    password_optional: bool, verdict: str, said: str
) -> None:
    # Given EN 18031-1 met in full (the lab records every requirement's outcome by hand)
    manual = [
        {"id": f"eu-red-en-18031-1:{req.id}", "verdict": "pass", "by": "Example Test Lab Ltd", "at": "2026-11-01"}
        for req in default_catalog().scheme("eu-red-en-18031-1").requirements
    ]
    auth = {"password_optional": password_optional}
    lab = dossier(base="example", patch={"declarations": {"authentication": auth}}, manual_results=manual)
    run = assess_dossier(lab, now=NOW, scheme_refs=("eu-red-da",), plans=False)
    red = next(s for s in to_assessment(run).schemes if s.scheme == "eu-red-da")
    art_d = next(r for r in red.requirements if r.id == "Art. 3(3)(d)")
    harmonised = next(e for e in art_d.evidence if e.ref == "scheme:eu-red-en-18031-1")
    # Then RED Art. 3(3)(d) is met through the standard while its presumption holds; when a restriction of
    # Decision (EU) 2025/138 bites, the standard is no route (never met through it) and what is missing names
    # the notified body's certificate
    assert str(art_d.verdict) == verdict
    assert said in (harmonised.detail or "")
    if password_optional:
        assert str(harmonised.verdict) == "inconclusive"
        assert any(m.startswith("grant:eu-red-da.notified-body-certificate") for m in art_d.missing)


def test_the_red_law_lists_the_open_questions_of_its_harmonised_standard() -> None:
    # The EU market's law (eu-red-da) is met through EN 18031: what it still misses is what the parts miss
    run = assess_dossier(dossier(base="example"), now=NOW, scheme_refs=("eu-red-da",), plans=False)
    red = next(s for s in to_assessment(run).schemes if s.scheme == "eu-red-da")
    assert red.status == SchemeStatus.INCOMPLETE
    assert "scheme:eu-red-en-18031-1: EN 18031-1 2024: incomplete" in red.missing_evidence
    assert any(m.startswith("DT.GEC-1.DN-1") for m in red.missing_evidence)


@pytest.mark.parametrize("certificate", [False, True], ids=["no-certificate", "certificate-recorded"])
def test_a_failing_harmonised_standard_fails_the_red_law_whatever_the_route(certificate: bool) -> None:
    # Given the example with a universal default password and unsigned updates: EN 18031-1 and -2 fail on it
    grants = (
        [{"id": "eu-red-da.notified-body-certificate", "by": "Example Notified Body", "at": "2026-11-01"}]
        if certificate
        else []
    )
    patch = {
        "declarations": {"authentication": {"default_password_approach": "universal"}, "update": {"signed": False}}
    }
    run = assess_dossier(dossier(base="example", patch=patch, grants=grants), now=NOW, plans=False)
    schemes = {s.scheme: s for s in to_assessment(run).schemes}
    red = schemes["eu-red-da"]
    art_d = next(r for r in red.requirements if r.id == "Art. 3(3)(d)")
    # When the RED law is judged (the notified body's certificate is its other conformity-assessment route)
    # Then the essential requirements fail on that evidence: an unrecorded certificate never makes the product
    # read pending, and a recorded one does not outweigh failing evidence (it says so)
    assert schemes["eu-red-en-18031-1"].status == SchemeStatus.FAILS
    assert schemes["eu-red-en-18031-2"].status == SchemeStatus.FAILS
    assert red.status == SchemeStatus.FAILS
    assert str(art_d.verdict) == "fail"
    assert art_d.reason.startswith("scheme:eu-red-en-18031-1: EN 18031-1 2024: fails (")
    assert ("does not outweigh failing evidence" in art_d.reason) is certificate
    assert next(m for m in to_assessment(run).markets if m.market == "eu").status == SchemeStatus.FAILS


def test_a_recorded_certificate_closes_what_the_harmonised_standard_leaves_open() -> None:
    # Given the example (EN 18031-1 incomplete: open decision-tree questions, nothing failing) and a notified
    # body's certificate recorded before the assessment date
    grants = [{"id": "eu-red-da.notified-body-certificate", "by": "Example Notified Body", "at": "2026-11-01"}]
    run = assess_dossier(dossier(base="example", grants=grants), now=NOW, scheme_refs=("eu-red-da",), plans=False)
    red = next(s for s in to_assessment(run).schemes if s.scheme == "eu-red-da")
    art_d = next(r for r in red.requirements if r.id == "Art. 3(3)(d)")
    # Then the certificate is the route that meets the essential requirement
    assert str(art_d.verdict) == "pass"
    assert art_d.reason == "grant:eu-red-da.notified-body-certificate: granted by Example Notified Body on 2026-11-01"


def test_the_plan_for_failing_evidence_names_the_evidence_never_the_certificate() -> None:
    # Given the example with a universal default password and unsigned updates, and no certificate recorded
    patch = {
        "declarations": {"authentication": {"default_password_approach": "universal"}, "update": {"signed": False}}
    }
    run = assess_dossier(dossier(base="example", patch=patch), now=NOW, scheme_refs=("eu-red-da",))
    plan = next(p for p in to_assessment(run).plans if p.have is None and p.want.startswith("eu-red-da@"))
    refs = {s.ref for s in plan.steps}
    # Then the marginal plan does not offer the notified body's certificate (it cannot outweigh failing evidence)
    # but the EN 18031 evidence to put right, the failing default-password approach among it
    assert "grant:eu-red-da.notified-body-certificate" not in refs
    assert "declaration.default-password-approach" in refs
    # and without failing evidence the certificate is still the cheapest route offered
    clean = assess_dossier(dossier(base="example"), now=NOW, scheme_refs=("eu-red-da",))
    clean_plan = next(p for p in to_assessment(clean).plans if p.have is None and p.want.startswith("eu-red-da@"))
    assert "grant:eu-red-da.notified-body-certificate" in {s.ref for s in clean_plan.steps}


def test_a_leaf_read_only_to_answer_a_question_is_shown_as_an_answer_not_a_verdict() -> None:
    # Given the example, which declares password_optional: false (the compliant answer: the user must set one)
    run = assess_dossier(dossier(base="example"), now=NOW, scheme_refs=("eu-red-en-18031-1",), plans=False)
    aum = next(
        r for s in to_assessment(run).schemes if s.scheme == "eu-red-en-18031-1" for r in s.requirements
        if r.id == "AUM-5-2"
    )  # fmt: skip
    evidence = {e.ref: e for e in aum.evidence}
    # Then the declaration, which DN-1 reads only as an answer, says what it answered (nothing: it answers 'no'
    # only when the user may skip the password), and the functional check is evidence as before
    declared = evidence["declaration:authentication.password_optional"]
    assert declared.answers == "DT.AUM-5-2.DN-1: gives no answer (it answers 'no' on pass)"
    assert evidence["network.default-credentials"].answers is None
    # and the report shows it as an answer, never as a failed piece of evidence under a passing requirement
    from cybersafe.render.html import render_html

    html = render_html(to_assessment(run), now=NOW)
    assert (
        '<span class="muted">answer</span> <code>declaration:authentication.password_optional</code> '
        '<span class="muted">(DT.AUM-5-2.DN-1: gives no answer (it answers &#39;no&#39; on pass))</span>'
    ) in html
