"""CRA Art. 14 readiness: each obligation rests on what the dossier can show for it, never on a bare string."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.support import dossier

from cybersafe.assess import assess_dossier
from cybersafe.verdict import Verdict

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)  # Art. 14 applies (from 2026-09-11), the rest of the CRA not yet
ART_14 = ("Art. 14(1)", "Art. 14(2)(a)", "Art. 14(2)(b)", "Art. 14(2)(c)", "Art. 14(3)", "Art. 14(4)(a)",
          "Art. 14(4)(b)", "Art. 14(4)(c)", "Art. 14(8)")  # fmt: skip


def _art14(vulnerability_disclosure: dict[str, Any]) -> dict[str, tuple[Verdict, str]]:
    d = dossier(base="example", patch={"declarations": {"vulnerability_disclosure": vulnerability_disclosure}})
    run = assess_dossier(d, now=NOW, scheme_refs=["eu-cra"])
    (cra,) = run.results
    return {r.requirement.id: (r.verdict, r.reason) for r in cra.requirements if r.requirement.id in ART_14}


def test_a_contact_that_names_nobody_passes_no_art_14_obligation() -> None:
    # Given a CRA reporting contact of 'n/a'
    # When the CRA is assessed on 2026-12-05
    verdicts = _art14({"cra_reporting_contact": "n/a"})
    # Then no obligation resting on the contact passes: each is inconclusive and says why
    for rid in ART_14[:-1]:
        verdict, reason = verdicts[rid]
        assert verdict is Verdict.INCONCLUSIVE, rid
        assert "the CRA reporting contact 'n/a' names no e-mail address, URL or telephone number" in reason, rid
    # and informing users (14(8)) rests on the advisories the example publishes, not on the contact
    assert verdicts["Art. 14(8)"][0] is Verdict.PASS


def test_a_reachable_contact_without_a_procedure_shows_readiness_to_notify_not_the_timelines() -> None:
    # Given a reachable contact but no documented reporting procedure
    verdicts = _art14({"cra_reporting_contact": "psirt@acme.example", "cra_reporting_procedure": None})
    # Then 14(1) and 14(3) (notify through the platform) pass, the 24 h / 72 h / final-report paragraphs do not
    assert {rid for rid, (v, _) in verdicts.items() if v is Verdict.PASS} == {"Art. 14(1)", "Art. 14(3)", "Art. 14(8)"}
    verdict, reason = verdicts["Art. 14(2)(a)"]
    assert verdict is Verdict.INCONCLUSIVE
    assert "cra_reporting_procedure" in reason


@pytest.mark.parametrize(
    ("advisories", "expected"),
    [pytest.param(False, Verdict.FAIL, id="no-advisories"), pytest.param(None, Verdict.INCONCLUSIVE, id="unstated")],
)
def test_informing_users_rests_on_advisories(advisories: bool | None, expected: Verdict) -> None:
    # Given a complete reporting declaration but no (or an unstated) way to inform users
    verdicts = _art14({"publishes_advisories": advisories})
    # Then 14(8) fails or is inconclusive, while the reporting obligations pass on the contact and procedure
    assert verdicts["Art. 14(8)"][0] is expected
    assert all(verdicts[rid][0] is Verdict.PASS for rid in ART_14[:-1])


@pytest.mark.parametrize(
    ("procedure", "passes", "named"),
    [
        pytest.param("n/a", False, "the 24-hour early warning, the 72-hour notification, the final report", id="n/a"),
        pytest.param("we report within 24 hours", False, "the 72-hour notification, the final report", id="24h-only"),
        pytest.param(
            "PSIRT PR-14: early warning within 24 h, notification within 72 hours, final report after the fix",
            True, "", id="all-three",
        ),
        pytest.param("PSIRT procedure: https://nordlicht.example/psirt/pr-14", True, "", id="document-url"),
    ],
)  # fmt: skip
def test_the_timelines_rest_on_a_procedure_that_states_them_or_points_at_its_document(
    procedure: str, passes: bool, named: str
) -> None:
    # Given a reachable contact and a reporting procedure of some text
    verdicts = _art14({"cra_reporting_contact": "psirt@acme.example", "cra_reporting_procedure": procedure})
    # Then 14(2) and 14(4) pass only on a procedure that states the 24 h, 72 h and final-report timelines, or gives
    # the URL of its document; any other text is inconclusive and names what it leaves out
    for rid in ("Art. 14(2)(a)", "Art. 14(2)(c)", "Art. 14(4)(a)", "Art. 14(4)(c)"):
        verdict, reason = verdicts[rid]
        assert (verdict is Verdict.PASS) is passes, (rid, reason)
        if not passes:
            assert verdict is Verdict.INCONCLUSIVE
            assert f"states neither {named} nor where the procedure is documented (a URL)" in reason
    assert verdicts["Art. 14(1)"][0] is Verdict.PASS


def test_a_telephone_number_is_a_contact() -> None:
    # Given a CRA reporting contact given as a telephone number and a platform account
    verdicts = _art14({"cra_reporting_contact": "+49 30 1234567 (ENISA single reporting platform account NL-4711)"})
    # Then the contact can be reached: 14(1) passes
    assert verdicts["Art. 14(1)"][0] is Verdict.PASS
