"""Fuzz the assessment JSON loader (``cybersafe.results.load_assessment``) and the scheme catalog loader
(``cybersafe.schemes.catalog.load_scheme_file``, crosswalks and arrangements) on mutated copies of real files.

Property: a file loads, or raises ``InputError`` (``CatalogError`` for catalogs) with a one-line message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_support import (
    assert_one_line,
    clean_call,
    fuzz,
    json_values,
    mutated,
    mutated_bytes,
    mutated_text,
    scratch_file,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from cybersafe.errors import CatalogError, InputError
from cybersafe.results import load_assessment
from cybersafe.schemes.catalog import data_dir, load_arrangements_file, load_crosswalk_file, load_scheme_file

REPO = Path(__file__).resolve().parents[2]
ASSESSMENT_TEXT = (REPO / "tests" / "label" / "data" / "assessment.json").read_text(encoding="utf-8")
ASSESSMENT = json.loads(ASSESSMENT_TEXT)
CATALOGS = {
    "real": (data_dir() / "catalogs" / "uk-psti-2023-1007.yaml").read_text(encoding="utf-8"),
    "real-unmodelled": (data_dir() / "catalogs" / "jp-jc-star-2025.yaml").read_text(encoding="utf-8"),
    "test": (REPO / "tests" / "schemes" / "data" / "catalogs" / "etsi.yaml").read_text(encoding="utf-8"),
}
CROSSWALK = (REPO / "tests" / "schemes" / "data" / "crosswalks" / "psti-etsi.yaml").read_text(encoding="utf-8")
ARRANGEMENTS = (REPO / "tests" / "schemes" / "data" / "arrangements.yaml").read_text(encoding="utf-8")


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeError):
        assume(False)
        raise


# --- assessment JSON -------------------------------------------------------------------------------------


def _assessment(data: bytes | str) -> None:
    with scratch_file("assessment.json", data) as path:
        clean_call(lambda: load_assessment(path), (InputError,))


def test_assessment_seed_loads() -> None:
    with scratch_file("assessment.json", ASSESSMENT_TEXT) as path:
        assert load_assessment(path).schemes


@fuzz(150)
@given(mutated(ASSESSMENT, max_mutations=3))
def test_assessment_mutated(doc: Any) -> None:
    _assessment(json.dumps(doc))


@fuzz(100)
@given(st.one_of(st.binary(max_size=300), mutated_bytes(ASSESSMENT_TEXT.encode()[:3000])))
def test_assessment_bytes(data: bytes) -> None:
    _assessment(data)


@fuzz(100)
@given(json_values)
def test_assessment_any_json(value: Any) -> None:
    _assessment(json.dumps(value))


# --- catalogs --------------------------------------------------------------------------------------------


def _catalog(loader: Any, text: str) -> None:
    with scratch_file("catalog.yaml", text) as path:
        clean_call(lambda: loader(path), (CatalogError,))


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_catalog_seeds_load(name: str) -> None:
    with scratch_file("catalog.yaml", CATALOGS[name]) as path:
        scheme = load_scheme_file(path)
    assert scheme.requirements or not scheme.modelled


@fuzz(60)
@given(st.sampled_from(sorted(CATALOGS)).flatmap(lambda n: mutated(yaml.safe_load(CATALOGS[n]), max_mutations=3)))
def test_catalog_mutated_structure(data: Any) -> None:
    _catalog(load_scheme_file, _dump(data))


@fuzz(60)
@given(st.sampled_from(sorted(CATALOGS)).flatmap(lambda n: mutated_text(CATALOGS[n], max_mutations=4)))
def test_catalog_mutated_text(text: str) -> None:
    _catalog(load_scheme_file, text)


@fuzz(12)
@given(st.integers(1, 150))
def test_catalog_nested_verified_by(depth: int) -> None:
    data = yaml.safe_load(CATALOGS["test"])
    node: Any = "firmware.weak-key"
    for i in range(depth):
        node = {"all" if i % 2 else "any": [node, "declaration.secure-boot"]}
    data["requirements"][0]["verified_by"] = node
    _catalog(load_scheme_file, _dump(data))


@fuzz(50)
@given(mutated(yaml.safe_load(CROSSWALK), max_mutations=3))
def test_crosswalk_mutated(data: Any) -> None:
    _catalog(load_crosswalk_file, _dump(data))


@fuzz(50)
@given(mutated(yaml.safe_load(ARRANGEMENTS), max_mutations=3))
def test_arrangements_mutated(data: Any) -> None:
    _catalog(load_arrangements_file, _dump(data))


# --- reproducers of bugs found (strict xfail: remove the marker and the KNOWN_BUGS entry once fixed) --------
# (the ones below are fixed: they run as plain regression tests)


def test_bug_assessment_json_deep(tmp_path: Path) -> None:
    path = tmp_path / "assessment.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_assessment(path)
    assert_one_line(info.value)


def test_bug_field_name_newline(tmp_path: Path) -> None:
    path = tmp_path / "assessment.json"
    path.write_text(json.dumps({**ASSESSMENT, "x\ny": 1}), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_assessment(path)
    assert_one_line(info.value)
