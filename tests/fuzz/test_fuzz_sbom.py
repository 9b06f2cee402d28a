"""Fuzz the SBOM reader (``cybersafe.evidence.sbom.parse.load_sbom``): CycloneDX JSON/XML, SPDX JSON/tag-value.

Property: any file parses into an ``SbomDocument`` or raises ``SbomError`` with a one-line message.
Seeds are small valid documents written by cyclonedx-python-lib and spdx-tools themselves.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
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
from hypothesis import given
from hypothesis import strategies as st
from tests._sbom_builders import write_cyclonedx, write_spdx

from cybersafe.errors import SbomError
from cybersafe.evidence.sbom.model import SbomDocument
from cybersafe.evidence.sbom.parse import load_sbom


@functools.cache
def seeds() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="cybersafe-fuzz-sbom-") as tmp:
        root = Path(tmp)
        for spec in ("1.4", "1.6"):
            for fmt in ("json", "xml"):
                out[f"cdx-{spec}.{fmt}"] = write_cyclonedx(root / f"cdx-{spec}.{fmt}", spec, fmt).read_bytes()
        out["spdx.json"] = write_spdx(root / "spdx.json", "json").read_bytes()
        out["spdx.spdx"] = write_spdx(root / "spdx.spdx", "tag-value").read_bytes()
    return out


def _seed_json(name: str) -> Any:
    return json.loads(seeds()[name])


def _load(name: str, data: bytes | str) -> SbomDocument | None:
    with scratch_file(name, data) as path:
        return clean_call(lambda: load_sbom(path), (SbomError,))


@pytest.mark.parametrize(
    "name", ["cdx-1.4.json", "cdx-1.6.json", "cdx-1.4.xml", "cdx-1.6.xml", "spdx.json", "spdx.spdx"]
)
def test_seeds_parse(name: str) -> None:
    # The harness must start from documents that parse, or the mutations test only the first guard
    doc = _load(name, seeds()[name])
    assert doc is not None
    assert len(doc.components) >= 5


@fuzz(200)
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _load("sbom.bin", data)


@fuzz(150)
@given(st.sampled_from([b"{", b"<", b"SPDXVersion: SPDX-2.3\n", b"\xef\xbb\xbf{"]), st.binary(max_size=300))
def test_random_bytes_after_a_format_marker(head: bytes, tail: bytes) -> None:
    _load("sbom.bin", head + tail)


@fuzz(150)
@given(st.sampled_from(["cdx-1.4.json", "cdx-1.6.json"]).flatmap(lambda n: mutated(_seed_json(n), max_mutations=3)))
def test_mutated_cyclonedx_json(doc: Any) -> None:
    _load("bom.cdx.json", json.dumps(doc))


@fuzz(150)
@given(st.just("spdx.json").flatmap(lambda n: mutated(_seed_json(n), max_mutations=3)))
def test_mutated_spdx_json(doc: Any) -> None:
    _load("sbom.spdx.json", json.dumps(doc))


@fuzz(150)
@given(st.sampled_from(["cdx-1.4.xml", "cdx-1.6.xml"]).flatmap(lambda n: mutated_bytes(seeds()[n], max_mutations=4)))
def test_mutated_cyclonedx_xml(data: bytes) -> None:
    _load("bom.xml", data)


@fuzz(150)
@given(st.just("spdx.spdx").flatmap(lambda n: mutated_text(seeds()[n].decode(), max_mutations=4)))
def test_mutated_spdx_tag_value(text: str) -> None:
    _load("sbom.spdx", text)


@fuzz(100)
@given(st.sampled_from(["cdx-1.6.json", "spdx.json"]).flatmap(lambda n: mutated_bytes(seeds()[n], max_mutations=3)))
def test_mutated_json_bytes(data: bytes) -> None:
    _load("sbom.json", data)


@fuzz(100)
@given(json_values)
def test_cyclonedx_components_of_any_shape(components: Any) -> None:
    doc = _seed_json("cdx-1.6.json")
    doc["components"] = components
    _load("bom.cdx.json", json.dumps(doc))


@fuzz(100)
@given(st.text(max_size=80))
def test_any_purl_text(purl: str) -> None:
    # Given a component whose purl is any text (the purl parser is third-party and strict)
    doc = _seed_json("cdx-1.6.json")
    doc["components"][0]["purl"] = purl
    _load("bom.cdx.json", json.dumps(doc))


@fuzz(10)
@given(st.integers(1, 120))
def test_nested_components_within_reason(depth: int) -> None:
    doc = _seed_json("cdx-1.6.json")
    node: dict[str, Any] = {"type": "library", "name": "leaf", "bom-ref": "leaf"}
    for i in range(depth):
        node = {"type": "library", "name": f"c{i}", "bom-ref": f"c{i}", "components": [node]}
    doc["components"] = [node]
    _load("bom.cdx.json", json.dumps(doc))


# --- regression tests of bugs found by fuzzing (fixed; they run as plain tests) -----------------------------


def test_bug_sbom_json_deep(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a":' + "[" * 100_000, encoding="utf-8")
    with pytest.raises(SbomError) as info:
        load_sbom(path)
    assert_one_line(info.value)


def test_bug_spdx_refs_type(tmp_path: Path) -> None:
    doc = _seed_json("spdx.json")
    doc["packages"][0]["externalRefs"] = True
    path = tmp_path / "sbom.spdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SbomError) as info:
        load_sbom(path)
    assert_one_line(info.value)


def test_bug_cdx_hash_content_type(tmp_path: Path) -> None:
    doc = _seed_json("cdx-1.6.json")
    doc["components"][0]["hashes"] = [{"alg": "SHA-256", "content": 5}]
    path = tmp_path / "bom.cdx.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SbomError) as info:
        load_sbom(path)
    assert_one_line(info.value)
