"""Evidence and scheme dates against the assessment date (``--now``): what is dated after it does not count on it."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import dossier

from cybersafe.assess import assess_dossier
from cybersafe.results import RequirementResultOut, SchemeResultOut
from cybersafe.schemes.interface import date_by
from cybersafe.schemes.status import SchemeStatus
from cybersafe.to_wire import to_assessment


def _requirement(now: dt.date, scheme: str, rid: str, **top: object) -> RequirementResultOut:
    at = dt.datetime.combine(now, dt.time(12), tzinfo=dt.UTC)
    run = assess_dossier(dossier(base="example", **top), now=at, scheme_refs=(scheme,), plans=False)
    result = next(s for s in to_assessment(run).schemes if s.scheme == scheme)
    return next(r for r in result.requirements if r.id == rid)


@pytest.mark.parametrize(
    ("scheme", "rid", "recorded"),
    [
        pytest.param("uk-psti", "Statement of compliance", "2026-11-02", id="manual-leaf"),
        pytest.param("us-ctm", "Interface Access Control 2b", "2026-10-20", id="requirement-result"),
        pytest.param("eu-cra", "Annex I Part I (2)(i)", "2026-10-20", id="requirement-result-cra"),
    ],
)
def test_a_manual_result_dated_after_the_assessment_date_does_not_count(scheme: str, rid: str, recorded: str) -> None:
    # Given the example's manual result for the requirement, recorded on `recorded`
    before = dt.date.fromisoformat(recorded) - dt.timedelta(days=1)
    # When the product is assessed the day before, and on the day
    early = _requirement(before, scheme, rid)
    on_the_day = _requirement(dt.date.fromisoformat(recorded), scheme, rid)
    # Then the day before it reads inconclusive and says why; on the day it counts
    assert str(early.verdict) == "inconclusive"
    assert f"{recorded}) is dated after the assessment date ({before.isoformat()}) and does not count" in early.reason
    assert str(on_the_day.verdict) == "pass"


def test_a_grant_dated_after_the_assessment_date_is_pending_and_says_it_is_recorded() -> None:
    # Given a Cyber Trust Mark grant recorded on 2026-12-01
    grants = [{"id": "us-ctm", "by": "Example CLA", "at": "2026-12-01"}]
    # When assessed on 2026-11-29, and on 2026-12-01
    early = _requirement(dt.date(2026, 11, 29), "us-ctm", "8.222(b)(3)", grants=grants)
    granted = _requirement(dt.date(2026, 12, 1), "us-ctm", "8.222(b)(3)", grants=grants)
    # Then it is pending before, naming the later grant (never "no grant recorded"), and passes from its date
    assert str(early.verdict) == "pending"
    assert early.reason == (
        "grant:us-ctm: pending: the us-ctm grant recorded (by Example CLA, 2026-12-01) is dated after the "
        "assessment date (2026-11-29)"
    )
    assert str(granted.verdict) == "pass"


# ------------------------------------------------------------------------------------------------ scheme dates


def _schemes(now: dt.date, *refs: str) -> dict[str, SchemeResultOut]:
    at = dt.datetime.combine(now, dt.time(12), tzinfo=dt.UTC)
    run = assess_dossier(dossier(base="example"), now=at, scheme_refs=refs or None, plans=False)
    return {s.scheme: s for s in to_assessment(run).schemes}


def test_a_scheme_not_yet_in_force_reads_prepare_with_its_date() -> None:
    # Given the Cyber Trust Mark rules in force from 2024-08-29 (catalog dates.in_force; standards.md 2.1)
    # When the product is assessed before that date, and on it
    before = _schemes(dt.date(2024, 1, 1), "us-ctm")["us-ctm"]
    on_the_day = _schemes(dt.date(2024, 8, 29), "us-ctm")["us-ctm"]
    # Then before it nothing applies: prepare, with the date and the status then; on the day it is judged
    assert before.status == SchemeStatus.PREPARE
    assert before.counts == {} and before.highest_level is None
    # (the example without firmware or device: incomplete once judged)
    assert [(lr.date, str(lr.status)) for lr in before.later] == [("2024-08-29", "incomplete")]
    assert {r.applies_from for r in before.requirements} == {"2024-08-29"}
    assert on_the_day.status == SchemeStatus.INCOMPLETE and on_the_day.later == []


def test_a_version_published_in_a_month_applies_from_the_end_of_that_month() -> None:
    # Given CLS Scheme Specifications v1.4 of April 2025 (catalog published: "2025-04", no day)
    during = _schemes(dt.date(2025, 4, 15), "sg-cls")["sg-cls"]
    after = _schemes(dt.date(2025, 5, 1), "sg-cls")["sg-cls"]
    # Then it is never applied before its source says it exists: prepare within April, judged from May
    assert during.status == SchemeStatus.PREPARE and during.highest_level is None and during.levels == []
    assert [lr.date for lr in during.later] == ["2025-04"]
    assert after.status != SchemeStatus.PREPARE


@pytest.mark.parametrize(
    ("now", "version"),
    [
        pytest.param(dt.date(2024, 1, 1), "2.1.1", id="before-v3.1.3"),
        pytest.param(dt.date(2024, 10, 1), "3.1.3", id="after-v3.1.3"),
    ],
)
def test_the_version_current_on_the_assessment_date_is_assessed(now: dt.date, version: str) -> None:
    # Given EN 303 645 V2.1.1 (2020-06) and V3.1.3 (2024-09, marked current)
    # When assessed without a version, by --scheme and with every scheme
    named = _schemes(now, "etsi-en-303-645")["etsi-en-303-645"]
    every = _schemes(now)["etsi-en-303-645"]
    # Then the version current on that date is the one judged
    assert named.version == version and every.version == version
    assert named.status != SchemeStatus.PREPARE


def test_partial_catalog_dates_are_reached_at_the_end_of_their_period() -> None:
    assert date_by("2024-09") == dt.date(2024, 9, 30)
    assert date_by("2024-12") == dt.date(2024, 12, 31)
    assert date_by("2024") == dt.date(2024, 12, 31)
    assert date_by("2024-02-29") == dt.date(2024, 2, 29)


def test_a_decision_answer_dated_after_the_assessment_date_does_not_count() -> None:
    # Given the example's answer to DT.ACM-1.DN-1 (EN 18031-1), recorded on 2026-11-02
    early = _requirement(dt.date(2026, 11, 1), "eu-red-en-18031-1", "ACM-1")
    on_the_day = _requirement(dt.date(2026, 11, 2), "eu-red-en-18031-1", "ACM-1")
    # Then the day before the node is an open question that names the later answer; on the day it is answered
    assert str(early.verdict) == "inconclusive" and "DN-1 unanswered" in early.reason
    dn1 = next(m for m in early.missing if m.startswith("DT.ACM-1.DN-1"))
    assert "dated 2026-11-02, after the assessment date (2026-11-01), and does not count on it" in dn1
    assert "DN-1 no" in on_the_day.reason
