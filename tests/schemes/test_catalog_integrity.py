"""The bundled catalog against the code: every reference resolves, every check is used, counts hold."""

from __future__ import annotations

from cybersafe.checks import BUILTIN_CHECKS, builtin_check_ids
from cybersafe.schemes.catalog import SCHEME_IDS, default_catalog


def test_every_reference_resolves() -> None:
    default_catalog().validate_references(builtin_check_ids())


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


def test_every_scheme_id_is_in_the_catalog_with_one_current_version() -> None:
    catalog = default_catalog()
    assert set(catalog.scheme_ids()) == set(SCHEME_IDS)
    for scheme_id in SCHEME_IDS:
        current = [s for s in catalog.schemes.values() if s.id == scheme_id and s.current]
        assert len(current) == 1, scheme_id


def test_unmodelled_schemes_have_levels_and_sources_but_no_requirements() -> None:
    catalog = default_catalog()
    for scheme_id in ("fi-traficom", "de-bsi", "kr-cic", "jp-jc-star"):
        scheme = catalog.scheme(scheme_id)
        assert not scheme.modelled and not scheme.requirements
        assert scheme.levels and scheme.source.document
