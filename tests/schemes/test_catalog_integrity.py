"""The bundled catalog against the code: every reference resolves, every check is used, counts hold."""

from __future__ import annotations

from cybersafe.checks import BUILTIN_CHECKS, builtin_check_ids
from cybersafe.schemes.catalog import default_catalog


def test_every_reference_resolves() -> None:
    default_catalog().validate_references(BUILTIN_CHECKS)


def test_every_builtin_check_is_referenced_by_some_requirement() -> None:
    unused = builtin_check_ids() - default_catalog().referenced_check_ids()
    assert not unused, f"checks no requirement uses: {sorted(unused)}"


def test_check_ids_are_unique_and_well_formed() -> None:
    ids = [check.ID for check in BUILTIN_CHECKS]
    assert len(ids) == len(set(ids))
    for check in BUILTIN_CHECKS:
        family, _, name = check.ID.partition(".")
        assert family in {"declaration", "firmware", "sbom", "network"} and name, check.ID
        assert check.TITLE and check.REMEDIATION and check.REQUIRES


def test_every_scheme_id_has_exactly_one_current_version() -> None:
    catalog = default_catalog()
    for scheme_id in {s.id for s in catalog.schemes.values()}:
        current = [s for s in catalog.schemes.values() if s.id == scheme_id and s.current]
        assert len(current) == 1, scheme_id
    assert sorted(catalog.scheme_ids()) == sorted({s.id for s in catalog.schemes.values()})


def test_every_market_is_decided_by_some_scheme_and_every_market_scheme_is_a_law_or_label() -> None:
    catalog = default_catalog()
    for market in catalog.markets():
        for scheme in catalog.market_schemes(market):
            assert scheme.kind in ("law", "label"), scheme.key


def test_unmodelled_schemes_have_levels_and_sources_but_no_requirements() -> None:
    unmodelled = [s for s in default_catalog().schemes.values() if not s.modelled]
    assert unmodelled
    for scheme in unmodelled:
        assert not scheme.requirements
        assert scheme.levels and scheme.source.document
