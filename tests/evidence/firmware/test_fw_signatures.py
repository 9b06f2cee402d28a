"""Component signatures on real binaries: a positive and a negative case per product, no cross matches.

The binaries come from real Debian 12 packages (tests/evidence/firmware/debs.py downloads them once into a
git-ignored cache); products Debian does not ship are tested on upstream string samples (string_samples.yaml).
"""

from __future__ import annotations

import codecs
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.evidence.firmware.debs import unpacked

from cybersafe.errors import CatalogError
from cybersafe.evidence.firmware import components as comp
from cybersafe.evidence.firmware.patterns import ByteScanner

DATA = Path(__file__).parent / "data"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "signature_cases.yaml").read_text())
SAMPLES: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "string_samples.yaml").read_text())
ELF_HEAD = b"\x7fELF\x02\x01\x01" + b"\x00" * 57  # an ELF header's first bytes: identify() reads the magic

pytestmark = pytest.mark.slow


@cache
def _scanner() -> ByteScanner:
    return ByteScanner()


def _found(rel: str, data: bytes) -> list[tuple[str, str | None]]:
    hits = [comp.Hit(m.rule.signature, m.groups) for m in _scanner().scan(data) if m.rule.signature is not None]
    return comp.identify(rel, data[:8192], hits)


def _found_in_file(path: Path, rel: str) -> list[tuple[str, str | None]]:
    return _found(rel, path.read_bytes())


def _bytes(text: str) -> bytes:
    return codecs.decode(text, "unicode_escape").encode("latin-1")


def test_every_signature_has_a_positive_and_a_negative_case() -> None:
    ids = {sig.id for sig in comp.catalog().products}
    assert set(CASES) == ids
    for product, case in CASES.items():
        assert case.get("positive"), product
        assert case.get("negative"), product
    assert len(ids) >= 45


@pytest.mark.parametrize("product", sorted(CASES))
def test_positive(product: str) -> None:
    # Given the product's real binary (or its upstream string sample inside an ELF file)
    case = CASES[product]["positive"]
    if "sample" in case:
        sample = SAMPLES[case["sample"]]
        data = ELF_HEAD + b"\x00" + b"\x00".join(_bytes(s) for s in sample["strings"]) + b"\x00"
        rel = sample.get("filename", f"usr/sbin/{product}")
        want = sample["version"]
        # When the catalog reads it
        found = _found(rel, data)
    else:
        path = unpacked(case["package"]) / case["path"]
        want = str(case["version"])
        found = _found_in_file(path, case["path"])
    # Then it names the product with the right version (None: the product shows no version)
    assert (product, None if want is None else str(want)) in found, found


@pytest.mark.parametrize("product", sorted(CASES))
def test_negative(product: str) -> None:
    # Given look-alike strings in an ELF file (compatibility tables, messages, documentation wording)
    for text in CASES[product]["negative"]:
        data = ELF_HEAD + b"\x00" + _bytes(text) + b"\x00"
        # Then they name no version of the product
        assert [f for f in _found(f"usr/bin/{product}-tool", data) if f[0] == product and f[1]] == [], text


def test_no_cross_matches() -> None:
    """Every package's files yield only the products that package ships (its own, or one whose signature
    lists the package), so no signature fires on another product's binary."""
    for product, case in sorted(CASES.items()):
        positive = case["positive"]
        if "package" not in positive:
            continue
        package = positive["package"]
        allowed = {product} | {s.id for s in comp.catalog().products if package in s.packages}
        root = unpacked(package)
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file() or path.stat().st_size == 0:
                continue
            rel = str(path.relative_to(root))
            others = [f for f in _found_in_file(path, rel) if f[0] not in allowed]
            assert not others, (package, rel, others)


def test_documentation_never_yields_a_component() -> None:
    # An OpenSSL banner in a changelog (text) or in any file under /usr/share/doc is not a component
    banner = b"OpenSSL 3.0.22 25 Aug 2026\n"
    assert _found("usr/share/doc/openssl/NEWS.md", b"## " + banner * 3) == []
    assert _found("usr/share/doc/openssl/NEWS.md.gz_extract/NEWS.md", ELF_HEAD + b"\x00" + banner) == []
    assert _found("usr/lib/libcrypto.so.3", b"Changes between " + banner) == []  # text, not ELF
    assert _found("usr/lib/libcrypto.so.3", ELF_HEAD + b"\x00" + banner.replace(b"\n", b"\x00")) == [
        ("openssl", "3.0.22")
    ]


def test_a_program_linking_libcrypto_quotes_a_version_it_does_not_ship() -> None:
    banner = b"\x00OpenSSL 3.0.16 11 Feb 2025\x00"
    assert _found("usr/sbin/hostapd", ELF_HEAD + b"\x00libcrypto.so.3\x00" + banner) == []
    assert _found("usr/lib/libcrypto.so.3", ELF_HEAD + b"\x00libcrypto.so.3\x00" + banner) == [("openssl", "3.0.16")]


def test_version_formats() -> None:
    sigs = comp.signatures()
    assert comp.format_version(sigs["libxml2"], (b"2", b"09", b"14")) == "2.9.14"
    assert comp.format_version(sigs["gstreamer"], ("22", "05")) == "1.22.5"
    assert comp.upstream_version("1:1.35.0-4+deb12u1+b1") == "1.35.0"
    assert comp.upstream_version("1:9.2p1-2+deb12u10") == "9.2p1"
    assert comp.upstream_version("2:4.17.12+dfsg-0+deb12u4") == "4.17.12"
    assert comp.upstream_version("1.2.13.dfsg-1+deb12u1") == "1.2.13.dfsg"
    assert comp.cpe_name(sigs["openssh"], "9.2p1") == "cpe:2.3:a:openbsd:openssh:9.2p1:*:*:*:*:*:*:*"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param("schema: cybersafe/component-signatures/v1\nproducts: [}", None, id="yaml"),
        pytest.param("schema: other\nproducts: []", "schema", id="schema"),
        pytest.param(
            "schema: cybersafe/component-signatures/v1\nproducts:\n- {id: x, supplier: s, cpe: 'a:b', versions: ['x(']}",
            "products.0.versions",
            id="bad-regex",
        ),
        pytest.param(
            "schema: cybersafe/component-signatures/v1\nproducts:\n- {id: x, supplier: s, cpe: 'a:b', versions: ['x']}",
            "products.0.versions",
            id="no-group",
        ),
        pytest.param(
            "schema: cybersafe/component-signatures/v1\nproducts:\n- {id: x, supplier: s, cpe: 'a:b', colour: red}",
            "products.0.colour",
            id="unknown-field",
        ),
    ],
)
def test_a_bad_catalog_is_one_error_naming_the_field(text: str, field: str | None) -> None:
    with pytest.raises(CatalogError) as info:
        comp.load_catalog(text, "sigs.yaml")
    assert "sigs.yaml" in str(info.value)
    if field:
        assert info.value.field is not None and info.value.field.startswith(field), str(info.value)
