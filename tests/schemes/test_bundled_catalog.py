"""The bundled catalog is read without JSON-schema validation at run time (it was three quarters of reading it):
this test is where each bundled file is held to its schema, and a bundled file edited into a broken state
still gets the precise error."""

from __future__ import annotations

from pathlib import Path

import pytest

from cybersafe.errors import CatalogError
from cybersafe.schemes import catalog as cat
from cybersafe.yamlio import load_yaml

BUNDLED = [
    *(("catalog", p) for p in sorted((cat.data_dir() / "catalogs").glob("*.yaml"))),
    *(("crosswalk", p) for p in sorted((cat.data_dir() / "crosswalks").glob("*.yaml"))),
    ("arrangements", cat.data_dir() / "arrangements.yaml"),
]


def test_every_bundled_file_is_listed() -> None:
    assert len([p for kind, p in BUNDLED if kind == "catalog"]) >= 10
    assert all(path.is_file() for _, path in BUNDLED)


@pytest.mark.parametrize(("schema", "path"), BUNDLED, ids=[p.name for _, p in BUNDLED])
def test_bundled_file_is_valid_against_its_schema(schema: str, path: Path) -> None:
    cat._validate(load_yaml(path, CatalogError), schema)  # raises CatalogError naming file, line and field


def test_bundled_and_validated_reads_agree() -> None:
    fast = cat.load_catalog()
    checked = cat.load_catalog(cat.data_dir())  # an explicit root: every file validated
    assert fast.schemes == checked.schemes
    assert fast.crosswalks == checked.crosswalks
    assert fast.arrangements == checked.arrangements


def test_a_broken_bundled_file_still_gets_the_precise_error(tmp_path: Path) -> None:
    source = sorted((cat.data_dir() / "catalogs").glob("*.yaml"))[0]
    broken = tmp_path / source.name
    broken.write_text(source.read_text(encoding="utf-8").replace("requirements:", "requirementz:", 1))
    with pytest.raises(CatalogError) as caught:
        cat._read(cat.load_scheme_file, broken, bundled=True)
    assert str(broken) in str(caught.value)
    assert "requirement" in str(caught.value)
