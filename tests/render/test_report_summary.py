"""The report people work in: summary first (status as of the date, why, what next), findings people can filter,
requirements collapsed, no pass in a severity's colour, no Python literals."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from cybersafe.render._summary import market_summary, next_steps, summarise, why
from cybersafe.render._view import build_view, facts_text, human
from cybersafe.render.html import render_html
from cybersafe.results import (
    Assessment,
    CheckAttemptOut,
    ClassificationOut,
    EvidenceOut,
    LaterOut,
    LevelResultOut,
    MarginalPlanOut,
    MarketResultOut,
    PlanStepOut,
    RequirementResultOut,
    RouteOut,
    SchemeResultOut,
)
from tests.render.helpers import REPORT_NOW

AS_OF = dt.date(2026, 12, 5)


def _req(
    rid: str, verdict: str, *, obligation: str = "mandatory", required: bool = True, **extra: Any
) -> RequirementResultOut:
    return RequirementResultOut.model_validate(
        {"id": rid, "title": f"title {rid}", "obligation": obligation, "required": required, "verdict": verdict,
         "reason": f"reason {rid}", "confidence": "confirmed", "source": "test"} | extra
    )  # fmt: skip


def _scheme(status: str, requirements: list[RequirementResultOut], **extra: Any) -> SchemeResultOut:
    return SchemeResultOut.model_validate(
        {"scheme": "x-scheme", "version": "1", "title": "X scheme", "short_title": "X", "jurisdiction": "xx",
         "modelled": True, "status": status, "counts": {}, "requirements": requirements, "as_of": AS_OF} | extra
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------ why


def test_meets_beside_failing_recommendations_says_which_are_not_counted() -> None:
    # Given EN 303 645 as the example has it: every counted provision passes, one recommendation fails and
    # others are inconclusive (ETSI EN 303 645 V3.1.3 clause 4: recommendations do not decide conformance)
    result = _scheme(
        "meets",
        [
            _req("5.1-1", "pass"),
            _req("5.3-13", "pass"),
            _req("5.6-8", "fail", obligation="recommended", required=False),
            _req("5.1-2", "inconclusive", obligation="recommended", required=False),
            _req("5.13-1A", "not_applicable", obligation="conditional", required=False),
        ],
    )
    # Then "why" says the status rests on the counted ones and names the failing recommendation
    text = why(result)
    assert text.startswith("All 2 counted requirements are met")
    assert "recommendations, not counted: 1 fail (5.6-8), 1 inconclusive (5.1-2)" in text
    assert "1 conditional requirement whose condition does not hold" in text
    # and "what next" says nothing is required, then the recommended fix
    steps = next_steps(result, None, {})
    assert steps == (f"nothing as of {AS_OF}",)


def test_fails_names_the_failing_requirements_and_the_fix_of_the_check_behind_them() -> None:
    check = CheckAttemptOut.model_validate(
        {"check_id": "firmware.binary-hardening", "title": "t", "severity": "medium", "status": "completed",
         "verdict": "fail", "remediation": "Build with -fPIE -pie."}
    )  # fmt: skip
    evidence = [EvidenceOut.model_validate({"ref": "firmware.binary-hardening", "kind": "check", "verdict": "fail"})]
    result = _scheme("fails", [_req("L3 binary analysis", "fail", evidence=evidence), _req("L1", "pass")])
    assert why(result) == "2 counted requirements: 1 fail (L3 binary analysis), 1 pass."
    assert next_steps(result, None, {check.key: check}) == ("fix firmware.binary-hardening: Build with -fPIE -pie.",)


def test_a_scheme_that_applies_later_reads_prepare_with_its_date() -> None:
    result = _scheme(
        "prepare", [_req("Annex I", "fail", applies=False, applies_from="2027-12-11")],
        later=[LaterOut.model_validate({"date": "2027-12-11", "status": "fails", "counts": {"fail": 1}})],
    )  # fmt: skip
    summary = summarise(result, None, {})
    assert summary.why == "Nothing of it applies on 2026-12-05; it applies from 2027-12-11."
    assert summary.later == ("from 2027-12-11: fails",)


def test_meets_today_but_fails_later_shows_both_and_the_conformity_route_first() -> None:
    # Given the CRA on 2026-12-05: only Art. 14 applies (met); Annex I from 2027-12-11 fails; Class I product
    # (Annex III) with no harmonised standard cited: a notified body (module B+C or H) is required
    classification = ClassificationOut(
        product_class="important-class-i", title="Important products, Class I", annex="Annex III",
        routes=[RouteOut(id="module-a", title="Module A", notified_body=False, open=False, why="no standard"),
                RouteOut(id="module-b-c", title="Module B+C", notified_body=True, open=True, why="open"),
                RouteOut(id="module-h", title="Module H", notified_body=True, open=True, why="open")],
        notified_body_required=True,
    )  # fmt: skip
    evidence = [EvidenceOut.model_validate({"ref": "firmware.binary-hardening", "kind": "check", "verdict": "fail"})]
    result = _scheme(
        "meets",
        [_req("14", "pass"), _req("(2)(k)", "fail", applies=False, applies_from="2027-12-11", evidence=evidence)],
        later=[LaterOut.model_validate({"date": "2027-12-11", "status": "fails", "counts": {"fail": 1}})],
        classification=classification,
    )
    plan = MarginalPlanOut(
        want="x-scheme@1", covered=[], residual=["x-scheme@1:(2)(k)"],
        steps=[PlanStepOut.model_validate({"ref": "firmware.binary-hardening", "kind": "check",
                                           "closes": ["x-scheme@1:(2)(k)"], "automated": True})],
    )  # fmt: skip
    summary = summarise(result, plan, {})
    assert summary.why == "The 1 counted requirement is met; 1 requirement applies only from 2027-12-11."
    assert summary.later == ("from 2027-12-11: fails",)
    assert summary.next[0] == "Important products, Class I, a notified body is required: Module B+C or Module H"
    assert summary.next[1] == "fix firmware.binary-hardening: see its findings"
    assert len(summary.next) == 2  # the plan's step is the same check: said once


@pytest.mark.parametrize(
    ("status", "extra", "expected"),
    [
        pytest.param("not_modelled", {"modelled": False}, "Its requirements are not modelled", id="not-modelled"),
        pytest.param("out_of_scope", {"scope": "wireless consumer IoT"}, "outside its scope: wireless", id="scope"),
    ],
)
def test_schemes_without_verdicts_say_why(status: str, extra: dict[str, Any], expected: str) -> None:
    assert expected in why(_scheme(status, [], **extra))


def test_pending_names_the_grant_to_record() -> None:
    evidence = [EvidenceOut.model_validate({"ref": "grant:us-ctm", "kind": "grant", "verdict": "pending"})]
    result = _scheme(
        "pending", [_req("8.222(b)(3)", "pending", evidence=evidence), _req("1", "pass")],
        missing_evidence=["grant:us-ctm: pending: no us-ctm grant recorded in the dossier (grants)"],
    )  # fmt: skip
    assert why(result) == "2 counted requirements: 1 pending (8.222(b)(3)), 1 pass."
    assert next_steps(result, None, {}) == (
        "record grant:us-ctm in the dossier once the scheme body has given it "
        "(pending: no us-ctm grant recorded in the dossier (grants))",
    )


def test_levels_are_spelled_out() -> None:
    levels = [
        LevelResultOut.model_validate({"level": "1", "title": "Level 1", "status": "meets", "counts": {}}),
        LevelResultOut.model_validate({"level": "2", "title": "Level 2", "status": "fails", "counts": {}}),
    ]
    result = _scheme("meets", [_req("a", "pass")], levels=levels, highest_level="1")
    assert "levels: Level 1 meets, Level 2 fails" in why(result)


def test_a_market_lists_its_schemes_what_applies_later_and_the_next_steps_of_the_open_ones() -> None:
    market = MarketResultOut.model_validate(
        {"market": "eu", "as_of": AS_OF, "status": "incomplete",
         "schemes": [{"scheme": "a@1", "status": "meets", "applies_from": "2027-12-11",
                      "later": [{"date": "2027-12-11", "status": "fails", "counts": {}}]},
                     {"scheme": "b@1", "status": "incomplete"}]}
    )  # fmt: skip
    a = summarise(_scheme("meets", [_req("x", "pass")]), None, {})
    b = summarise(
        _scheme("incomplete", [_req("y", "inconclusive")], missing_evidence=["manual:y: needs a test"]), None, {}
    )
    summary = market_summary(market, {"a@1": ("A", a), "b@1": ("B", b)})
    assert summary.why == ("A: meets on what applies on 2026-12-05; the rest applies from 2027-12-11; B: incomplete.")
    assert summary.later == ("A from 2027-12-11: fails",)
    assert summary.next == (f"A: nothing as of {AS_OF}", "B: record the manual result manual:y (needs a test)")


# ------------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(None, "not recorded", id="none"),
        pytest.param(True, "yes", id="true"),
        pytest.param(False, "no", id="false"),
        pytest.param(0.020000001, "0.02", id="float"),
        pytest.param(["ssh", "telnet"], "ssh, telnet", id="list"),
        pytest.param([], "none", id="empty-list"),
        pytest.param({"tls_version": "1.2", "ok": True}, "tls version: 1.2; ok: yes", id="dict"),
        pytest.param([None, False], "not recorded, no", id="nested"),
    ],
)
def test_values_read_as_words(value: object, text: str) -> None:
    assert human(value) == text


def test_facts_have_no_python_literals() -> None:
    facts = {"canary": None, "nx": True, "pie": False, "services": ["ssh"], "fixed_delay_s": None, "weak": []}
    assert facts_text(facts) == (
        "canary: not recorded; fixed delay (s): not recorded; nx: yes; pie: no; services: ssh; weak: none"
    )


# ------------------------------------------------------------------------------------------------ page


@pytest.fixture(scope="module")
def page(sample: Assessment) -> str:
    return render_html(sample, now=REPORT_NOW)


def test_summary_comes_first_then_findings_then_requirements(page: str) -> None:
    positions = [page.index(f'id="{section}"') for section in ("summary", "findings", "schemes", "missing", "plans")]
    assert positions == sorted(positions)


def test_requirement_tables_are_collapsed_on_screen_and_open_in_print(sample: Assessment, page: str) -> None:
    modelled = [s for s in sample.schemes if s.requirements]
    assert page.count('<details class="reqs">') == len(modelled)
    assert '<details class="reqs" open' not in page
    printed = render_html(sample, now=REPORT_NOW, print_layout=True)
    assert "<details" not in printed and "<script" not in printed and 'id="filters"' not in printed
    assert printed.count('<table class="reqs">') == len(modelled)


def test_no_pass_is_shown_in_a_severity_colour(page: str) -> None:
    # Every finding row: severity coloured (class sev-<level>) if and only if the finding failed
    rows = re.findall(r'<tr data-v="(\w+)" data-s="(\w+)">\s*<td[^>]*>.*?</td>\s*<td[^>]*><span class="([^"]+)">', page)
    assert rows
    for verdict, severity, css in rows:
        assert css == (f"sev sev-{severity}" if verdict == "fail" else "sev"), (verdict, severity, css)
    # and every check header likewise
    heads = re.findall(r'<span class="v v-(\w+)">.*?</span> · severity <span class="([^"]+)">(\w+)</span>', page)
    assert heads
    for verdict, css, severity in heads:
        assert css == (f"sev sev-{severity}" if verdict == "fail" else "sev")


def test_no_python_literal_reaches_the_page(sample: Assessment) -> None:
    data = sample.model_dump(mode="json", by_alias=True)
    data["checks"][0]["findings"][0]["facts"] = {"canary": None, "pie": False, "nx": True, "libs": ["a", "b"]}
    html = render_html(Assessment.model_validate(data), now=REPORT_NOW)
    facts = " ".join(re.findall(r'<span class="facts">(.*?)</span>', html))
    assert "canary: not recorded; libs: a, b; nx: yes; pie: no" in facts
    for literal in ("None", "True", "False", "['", "{'"):
        assert literal not in facts


def test_filters_offer_every_scheme_verdict_and_severity_with_counts(sample: Assessment) -> None:
    view = build_view(sample, now=REPORT_NOW.isoformat())
    total = sum(max(1, len(c.findings)) for c in sample.checks)
    assert view.filters.total == total
    assert sum(n for _, n in view.filters.verdicts) == total == sum(n for _, n in view.filters.severities)
    fed = {f.partition(":")[0] for c in sample.checks for f in c.feeds}
    assert {key for key, _ in view.filters.schemes} == fed & {f"{s.scheme}@{s.version}" for s in sample.schemes}


def test_missing_items_of_every_shape_read_as_steps() -> None:
    # Leaves ("<kind>:<ref>: <reason>"), an ICS justification and a decision-tree question for the assessor
    question = (
        "DT.ACM-2.DN-1 (each asset ACM-1 requires access control for): Does the access control mechanism let only "
        "authorised entities reach the asset? - answer yes or no with a justification in the dossier's decisions; "
        "evidence so far does not answer it: network.login-without-credentials not_applicable"
    )
    result = _scheme(
        "incomplete", [_req("a", "inconclusive")],
        missing_evidence=["declaration:support_period.end: not declared", "ics:x-scheme@1: no ICS", question],
    )  # fmt: skip
    steps = next_steps(result, None, {})
    assert steps[0] == "declare declaration:support_period.end in the dossier (not declared)"
    assert steps[1] == "justify the failing recommendations in the dossier's ICS (ics:x-scheme@1) (no ICS)"
    assert steps[2].startswith("answer DT.ACM-2.DN-1: Does the access control mechanism let only authorised")
    assert steps[2].endswith(" …") and len(steps[2]) < 200


def test_a_plan_step_whose_check_ran_but_could_not_decide_says_what_it_still_needs() -> None:
    # "run check X" would send the reader to run a check that already ran; its own words say what is missing
    attempt = CheckAttemptOut.model_validate(
        {"check_id": "sbom.known-exploitable-vulnerability", "title": "t", "severity": "high",
         "status": "completed", "verdict": "inconclusive",
         "findings": [{"verdict": "inconclusive", "severity": "info",
                       "message": "busybox@1.35.0 is affected by X-1 and has no VEX statement"}]}
    )  # fmt: skip
    plan = MarginalPlanOut.model_validate(
        {"want": "x-scheme@1", "covered": [], "residual": ["x-scheme@1:(2)(a)"],
         "steps": [{"ref": attempt.check_id, "kind": "check", "closes": ["x-scheme@1:(2)(a)"], "automated": True}]}
    )  # fmt: skip
    result = _scheme("incomplete", [_req("(2)(a)", "inconclusive")])
    assert next_steps(result, plan, {attempt.key: attempt}) == (
        "settle sbom.known-exploitable-vulnerability, which ran but is inconclusive: busybox@1.35.0 is affected "
        "by X-1 and has no VEX statement (closes (2)(a))",
    )
    assert next_steps(result, plan, {})[0].startswith("run check sbom.known-exploitable-vulnerability")


def test_a_version_not_yet_published_says_so_rather_than_that_the_scheme_applies_later() -> None:
    # Given a version whose only date is its publication (CLS Scheme Specifications v1.4, "2025-04"), before it
    dates = {"confidence": "secondary", "published": "2025-04"}
    result = _scheme(
        "prepare", [_req("L1", "pass", applies=False, applies_from="2025-04")],
        dates=dates, version="1.4", as_of=dt.date(2024, 1, 1),
    )  # fmt: skip
    # Then the reason says that version did not exist yet (an earlier one may have applied), not "applies later"
    assert why(result) == (
        "Version 1.4 was not yet published on 2024-01-01: nothing of it applies before 2025-04-30 "
        "(2025-04 given without its day)."
    )
    # and within that month, whose day the source does not give, it says the date it counts from
    within = result.model_copy(update={"as_of": dt.date(2025, 4, 15)})
    assert why(within) == (
        "Version 1.4 was published in 2025-04, its day not recorded, so it counts from 2025-04-30: nothing of it "
        "applies on 2025-04-15."
    )
