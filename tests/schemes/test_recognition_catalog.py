"""Recognition over the bundled catalog (issue 2, "Must show")."""

from __future__ import annotations

from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.recognition import recognize


def test_cls_level_2_wanting_the_german_bsi_label_is_covered_by_the_arrangement() -> None:
    result = recognize(default_catalog(), "sg-cls:2", "de-bsi")
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
