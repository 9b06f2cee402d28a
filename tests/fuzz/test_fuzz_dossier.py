"""Fuzz the dossier loader (``cybersafe.dossier.loader`` over ``cybersafe.yamlio``).

Property: any file loads, or raises ``DossierError`` whose message is one line (file, line, field, why).
"""

from __future__ import annotations

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
    mutated_text,
    scratch_file,
    time_limit,
    yaml_fragments,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from cybersafe.dossier.loader import load_dossier
from cybersafe.dossier.model import Dossier
from cybersafe.errors import DossierError, InputError
from cybersafe.yamlio import parse_yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "smart-camera" / "dossier.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_DATA = yaml.safe_load(EXAMPLE_TEXT)
# files the example names, so a mutated copy is not refused for a missing artefact before anything else
_ARTEFACTS = ("sbom.cdx.json", "vex.openvex.json", "evidence/pentest-summary.txt", "evidence/design-review.txt")
# the checks the example's manual results close (a lab's result for a check the probe could not finish), and one
# more: a check id is only refused when unknown
_CHECK_IDS = {"firmware.weak-key"} | {
    r["id"] for r in EXAMPLE_DATA.get("manual_results", []) if not str(r["id"]).startswith("manual:")
}


def _load(text: str | bytes) -> Dossier | None:
    with scratch_file("dossier.yaml", text) as path:
        for rel in _ARTEFACTS:
            (path.parent / rel).parent.mkdir(parents=True, exist_ok=True)
            (path.parent / rel).write_text("x", encoding="utf-8")
        return clean_call(lambda: load_dossier(path, known_check_ids=_CHECK_IDS), (DossierError,))


def test_example_dossier_loads() -> None:
    # Given the unmodified example, the harness itself must see a successful load
    assert _load(EXAMPLE_TEXT) is not None


@fuzz(150)
@given(st.one_of(st.text(max_size=300), yaml_fragments, st.lists(yaml_fragments, max_size=6).map("\n".join)))
def test_random_text(text: str) -> None:
    _load(text)


@fuzz(80)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _load(data)


@fuzz(80)
@given(mutated_text(EXAMPLE_TEXT, max_mutations=6))
def test_mutated_example_text(text: str) -> None:
    _load(text)


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeError):
        assume(False)
        raise


@fuzz(40)
@given(mutated(EXAMPLE_DATA, max_mutations=4))
def test_mutated_example_structure(data: Any) -> None:
    # When one or more values of a valid dossier are deleted, retyped or replaced by random JSON values
    _load(_dump(data))


@fuzz(30)
@given(st.integers(1, 200), st.sampled_from(["[", "{a: ", "- "]))
def test_nesting_within_reason(depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    if opener == "- ":
        text = "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "x\n"
    else:
        text = opener * depth + "1" + closer * depth
    _load(f"schema: cybersafe/dossier/v1\nproduct: {text}" if opener != "- " else text)


@fuzz(8)
@given(st.integers(50_000, 500_000), st.sampled_from(["a", "é", "\\x00", " "]))
def test_huge_scalar(size: int, char: str) -> None:
    # Given a dossier whose product name is one huge scalar: it must load or fail cleanly, and fast
    text = EXAMPLE_TEXT.replace("name: ", f'name: "{char * (size // len(char))}" #', 1)
    with time_limit(20):
        _load(text)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(16 * 1024 * 1024 + 1)  # sparse: no 16 MiB write needed
    with pytest.raises(DossierError) as info:
        load_dossier(path)
    assert_one_line(info.value)
    assert str(path) in str(info.value)


@fuzz(50)
@given(json_values)
def test_any_json_value_as_the_document(value: Any) -> None:
    _load(_dump(value))


# --- regressions: bugs this fuzzing found in yamlio, fixed while it was written ------------------------------


def _reproduce(text: str) -> None:
    with scratch_file("dossier.yaml", text) as path, pytest.raises(DossierError) as info:
        load_dossier(path)
    assert_one_line(info.value)


@pytest.mark.parametrize("text", [pytest.param("&a [*a]", id="sequence"), pytest.param("&a {x: *a}", id="mapping")])
def test_regression_yaml_alias_cycle(text: str) -> None:
    _reproduce(text)


def test_regression_yaml_deep_nesting() -> None:
    _reproduce("[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    "text", [pytest.param("a: !!int x", id="int"), pytest.param("a: !!timestamp x", id="timestamp")]
)
def test_regression_yaml_bad_scalar_tag(text: str) -> None:
    _reproduce(text)


@pytest.mark.parametrize(
    "text",
    [pytest.param("a: !!binary ZZZ", id="bad-scalar"), pytest.param("a: \x00", id="reader-error")],
)
def test_regression_yaml_multiline(text: str) -> None:
    _reproduce(text)


def test_regression_yaml_alias_bomb() -> None:
    # Given 9 levels of 10 aliases each (about 400 bytes, 10**10 nodes once expanded)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    # Then the loader must refuse it quickly (a loader that builds it takes hours and all memory); the
    # limit separates "refused" from "expanding" with room for a loaded CI machine (it takes ~0.1 s alone)
    with time_limit(20):
        try:
            parse_yaml("\n".join(lines), "bomb.yaml", DossierError)
        except InputError as exc:
            assert_one_line(exc)


def test_regression_field_name_newline() -> None:
    _reproduce('"x\\ny": 1\n' + EXAMPLE_TEXT)
