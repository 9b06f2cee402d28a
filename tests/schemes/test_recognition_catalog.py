"""Recognition over the bundled catalog (issue 2, "Must show")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.interface import Confidence
from cybersafe.schemes.recognition import recognize


def test_cls_level_2_wanting_the_german_bsi_label_is_covered_by_the_arrangement() -> None:
    # (for a product type the arrangement does not exclude)
    result = recognize(default_catalog(), "sg-cls:2", "de-bsi", product_types=["security-camera"])
    assert result.covering is not None
    assert (
        result.covering.arrangement.parties == ("sg-cls", "de-bsi") or "de-bsi" in result.covering.arrangement.parties
    )
    assert result.fully_covered


def test_cls_level_3_wanting_the_finnish_label_is_covered_by_the_arrangement() -> None:
    result = recognize(default_catalog(), "sg-cls:3", "fi-traficom")
    assert result.covering is not None
    assert "fi-traficom" in result.covering.arrangement.parties
    assert result.fully_covered


def test_cls_level_1_does_not_reach_the_finnish_label() -> None:
    result = recognize(default_catalog(), "sg-cls:1", "fi-traficom")
    assert result.covering is None
    assert not result.fully_covered, "an unmodelled scheme is never covered without an arrangement"


def test_cls_label_wanting_eu_cra_gets_a_residual_list_with_the_checks_that_close_it() -> None:
    catalog = default_catalog()
    result = recognize(catalog, "sg-cls:2", "eu-cra")
    assert result.residual
    assert not result.fully_covered
    closed = {key for step in result.steps for key in step.closes}
    assert closed == set(result.residual), "every residual requirement has a step that closes it"
    automated = [step for step in result.steps if step.automated]
    assert automated, "the plan names automated checks"
    known = catalog.referenced_check_ids()
    assert all(step.leaf.ref in known for step in automated)


def test_us_eu_arrangement_is_proposed_and_covers_nothing() -> None:
    result = recognize(default_catalog(), "us-ctm", "eu-cra")
    assert result.covering is None
    assert any("proposed" in note for note in result.notes)


def test_unmodelled_target_without_arrangement_is_never_covered() -> None:
    result = recognize(default_catalog(), "us-ctm", "de-bsi")
    assert not result.fully_covered


# ---------------------------------------------------------------------------------- over-claims (issue: route to market)


def _over_claims() -> list[Any]:
    """Every recognition of every arrangement, asking one level above the level it gives (where there is one)."""
    catalog = default_catalog()
    cases = []
    for arrangement in catalog.arrangements:
        for rec in arrangement.recognitions:
            target = catalog.scheme(rec.target)
            ids = [lv.id for lv in target.levels]
            if rec.target_level is None or rec.target_level not in ids or ids.index(rec.target_level) + 1 >= len(ids):
                continue
            above = ids[ids.index(rec.target_level) + 1]
            have = f"{rec.holder}:{rec.holder_level}" if rec.holder_level else rec.holder
            cases.append(
                pytest.param(have, f"{rec.target}:{above}", id=f"{arrangement.id}:{have}->{rec.target}:{above}")
            )
    return cases


@pytest.mark.parametrize(("have", "want"), _over_claims())
def test_recognize_never_claims_a_level_above_what_an_arrangement_gives(have: str, want: str) -> None:
    # Given a label and a target level above the one the arrangement recognises
    result = recognize(default_catalog(), have, want, product_types=["security-camera"], as_of=dt.date(2026, 12, 5))
    # Then it is never fully covered, whether or not the target scheme is modelled
    assert not result.fully_covered, result.notes


def test_every_arrangement_direction_is_tested_for_over_claims() -> None:
    # both directions of the levelled arrangements produce a case (the KR CIC and CLS ones included)
    ids = {p.id for p in _over_claims()}
    assert any("kr-cic" in i.split("->")[0] for i in ids) and any("->kr-cic" in i for i in ids)


def test_the_kr_cic_standard_level_is_not_covered_by_cls_level_4() -> None:
    # CSA-KISA MRA: CLS L3+ counts as CIC Basic, so CIC Standard is not covered
    result = recognize(default_catalog(), "sg-cls:4", "kr-cic:Standard", as_of=dt.date(2026, 12, 5))
    assert not result.fully_covered
    assert any("level Basic" in c and "Standard" in c for c in result.open_conditions)


@pytest.mark.parametrize(
    ("types", "covered"),
    [
        pytest.param(["smart-door-lock"], False, id="door-lock-excluded"),
        pytest.param(["gas-detector"], False, id="gas-detector-excluded"),
        pytest.param(["security-camera"], True, id="camera-covered"),
        pytest.param(None, False, id="type-unknown-stays-open"),
    ],
)
def test_germanys_exclusions_are_checked_against_the_product(types: list[str] | None, covered: bool) -> None:
    # CSA-BSI MRA (2022): smart door locks, fire/gas/water detectors and general computing devices excluded
    result = recognize(default_catalog(), "sg-cls:2", "de-bsi", product_types=types, as_of=dt.date(2026, 12, 5))
    assert result.fully_covered is covered


def test_an_arrangement_does_not_cover_before_it_takes_effect() -> None:
    # CSA-KISA MRA signed 16 Oct 2024, effective 1 Jan 2025
    before = recognize(default_catalog(), "sg-cls:3", "kr-cic", as_of=dt.date(2024, 12, 1))
    after = recognize(default_catalog(), "sg-cls:3", "kr-cic", as_of=dt.date(2025, 1, 1))
    assert not before.fully_covered and any("takes effect on 2025-01-01" in n for n in before.notes)
    assert after.fully_covered


@pytest.mark.parametrize("have", ["jp-jc-star:1", "sg-cls:1"])
def test_psti_deemed_compliance_for_a_label_applies_from_si_2025_1267(have: str) -> None:
    # Given a current JC-STAR STAR-1 or CLS label: SI 2025/1267 (in force 4 Dec 2025, standards.md 5.1) deems it to
    # meet PSTI, whatever the date the JP-UK MRA (signed 5 Nov 2025) or the SG-UK MoU (effective 1 Jan 2026) takes effect
    day_before = recognize(default_catalog(), have, "uk-psti", as_of=dt.date(2025, 12, 3))
    in_force = recognize(default_catalog(), have, "uk-psti", as_of=dt.date(2025, 12, 4))
    # Then nothing is covered by the arrangement before the SI, and everything from its first day
    assert not day_before.fully_covered and day_before.covering is None
    assert any("takes effect on 2025-12-04 (UK SI 2025/1267" in n for n in day_before.notes)
    assert in_force.fully_covered and in_force.covering is not None
    assert in_force.covering.takes_effect == "2025-12-04"
    assert "SI 2025/1267" in (in_force.covering.recognition.effective_source or "")


def test_the_reverse_simplified_route_keeps_the_memorandums_date() -> None:
    # The SG-UK MoU's own direction (PSTI -> a simplified CLS Level 1 application) takes effect on 1 Jan 2026
    arrangement = next(a for a in default_catalog().arrangements if a.id == "sg-uk-psti-mou")
    reverse = next(r for r in arrangement.recognitions if r.holder == "uk-psti")
    assert arrangement.takes_effect(reverse) == "2026-01-01"


def test_coverage_resting_on_our_own_derived_edges_says_so() -> None:
    # Given a Cyber Trust Mark: no official IR 8425 <-> EN 303 645 crosswalk exists (standards.md 6), only our
    # derived edges (Data Protection 1 superset-of 5.4-1, Data Protection 3 superset-of 5.5-7)
    result = recognize(default_catalog(), "us-ctm", "etsi-en-303-645", as_of=dt.date(2026, 12, 5))
    # Then what they cover carries the confidence it rests on: derived, never shown as if confirmed
    assert result.confidence == {
        "etsi-en-303-645@3.1.3:5.4-1": Confidence.DERIVED,
        "etsi-en-303-645@3.1.3:5.5-7": Confidence.DERIVED,
    }
    assert all("derived" in basis for basis in result.covered.values())


def test_coverage_through_an_arrangement_carries_the_arrangements_confidence() -> None:
    # The JP-UK MRA is known from a secondary summary (confidence secondary)
    result = recognize(default_catalog(), "jp-jc-star:1", "uk-psti", as_of=dt.date(2026, 12, 5))
    assert result.fully_covered
    assert set(result.confidence.values()) == {Confidence.SECONDARY}


def test_nist_cswp_33_edges_without_a_stated_relationship_are_not_confirmed() -> None:
    # NIST CSWP 33 gives the IR 8425 -> EN 303 645 5.3-13 references with relationship 'unspecified': the
    # intersects-with recorded is our reading
    crosswalk = next(c for c in default_catalog().crosswalks if c.id == "us-ctm-to-etsi-en-303-645-v2-1-1-nist-cswp33")
    assert {(str(e.relationship), e.confidence) for e in crosswalk.edges} == {("intersects-with", Confidence.DERIVED)}


@pytest.mark.parametrize(("now", "version"), [(dt.date(2024, 5, 1), "2.1.1"), (dt.date(2024, 10, 1), "3.1.3")])
def test_recognize_takes_a_scheme_in_the_version_current_on_the_date(now: dt.date, version: str) -> None:
    # EN 303 645 V3.1.3 was published 2024-09 (standards.md 3.1): before, V2.1.1 is the standard a label is held against
    result = recognize(default_catalog(), "uk-psti", "etsi-en-303-645", as_of=now)
    assert result.want.key == f"etsi-en-303-645@{version}"
