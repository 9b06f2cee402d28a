"""Evidence and scheme dates against the assessment date (``--now``): what is dated after it does not count on it."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import dossier

from cybersafe.assess import assess_dossier
from cybersafe.results import RequirementResultOut
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
