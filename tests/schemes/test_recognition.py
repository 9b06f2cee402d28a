"""Recognition over the small test catalog: arrangements, deemed compliance, marginal plans."""

from __future__ import annotations

import pytest

from cybersafe.errors import UnknownScheme
from cybersafe.schemes.catalog import Catalog
from cybersafe.schemes.recognition import recognize


def test_arrangement_covers_every_requirement_up_to_the_recognised_level(test_catalog: Catalog) -> None:
    # Given a BSI label, recognised as CLS level 2 by an arrangement in force
    result = recognize(test_catalog, "de-bsi:label", "sg-cls")
    # Then every CLS requirement up to level 2 is covered by the arrangement and nothing remains
    assert result.want_level == "2"
    assert result.fully_covered
    assert set(result.covered) == {"sg-cls@test:L1", "sg-cls@test:L2"}
    assert all("arrangement test-de-sg" in basis for basis in result.covered.values())


def test_label_below_the_arrangement_level_is_not_covered(test_catalog: Catalog) -> None:
    result = recognize(test_catalog, "sg-cls:1", "de-bsi")
    assert not result.arrangements
    assert any("not modelled" in note for note in result.notes)


def test_guaranteed_requirements_cover_through_references_and_crosswalk(test_catalog: Catalog) -> None:
    # Given CLS level 2, whose requirements reference baseline A (via L1), B and D (via L2)
    result = recognize(test_catalog, "sg-cls:2", "uk-psti")
    # Then P1 passes on guaranteed A, and P2 is covered because D is a superset of it (crosswalk)
    assert result.fully_covered, result.residual
    assert "uk-psti@test:P2" in result.covered


def test_residual_gets_a_marginal_plan(test_catalog: Catalog) -> None:
    # Given only CLS level 1 (baseline A guaranteed)
    result = recognize(test_catalog, "sg-cls:1", "uk-psti")
    # Then P2 remains, and the plan names the one check that closes it
    assert result.residual == ("uk-psti@test:P2",)
    assert [str(step.leaf) for step in result.steps] == ["declaration.vulnerability-disclosure-policy"]
    assert result.steps[0].automated


def test_proposed_arrangement_is_reported_but_covers_nothing(test_catalog: Catalog) -> None:
    result = recognize(test_catalog, "uk-psti", "de-bsi")
    assert result.arrangements and not result.arrangements[0].in_force
    assert not result.covered
    assert any("proposed" in note for note in result.notes)


def test_unknown_level_is_refused(test_catalog: Catalog) -> None:
    with pytest.raises(UnknownScheme, match="no level '7'"):
        recognize(test_catalog, "sg-cls:7", "uk-psti")
